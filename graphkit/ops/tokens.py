"""GMN's neighbourhood tokens (Behrouz & Hashemi 2024): per node, hop aggregates or random-walk endpoints."""
from __future__ import annotations

import torch
from torch import Tensor

from graphkit.ops import check
from graphkit.ops.adjacency import Graph, as_adjacency
from graphkit.ops.spmm import spmm


def hop_tokens(x: Tensor, graph: Graph, num_nodes: int, hops: int, walks: int = 0,
               generator: torch.Generator | None = None) -> Tensor:
    """``[N, hops + 1, C]``: token ``t`` of node ``v`` summarises its neighbourhood ``hops - t`` steps away.

    ``walks == 0``: the exact expectation over random walks, ``(D^-1 A)^k x`` (mean over in-neighbours,
    repeated); ``walks > 0``: the mean features of the endpoints of ``walks`` sampled walks of ``k`` steps.
    Isolated nodes keep their own features. ``graph``: an :class:`Adjacency` (reused, as GMN does in every
    layer) or an ``edge_index: [2, E]``.
    """
    check.check_features(x, num_nodes, name="x", min_dim=2, max_dim=2)
    adj = as_adjacency(graph, num_nodes)
    deg = adj.in_degree(x.dtype)
    tokens = [x]
    if walks <= 0:
        h = x
        for _ in range(hops):
            h = torch.where(deg[:, None] > 0, spmm(adj, h, reduce="mean"), h)
            tokens.append(h)
    else:
        rowptr, col = adj.rowptr, adj.col
        start = torch.arange(num_nodes, device=x.device).repeat_interleave(walks)
        pos = start
        for _ in range(hops):
            d = (rowptr[pos + 1] - rowptr[pos])
            r = torch.rand(pos.numel(), generator=generator, device="cpu").to(x.device)
            step = rowptr[pos] + (r * d.clamp_min(1)).long().clamp_max((d - 1).clamp_min(0))
            pos = torch.where(d > 0, col[step.clamp_max(max(col.numel() - 1, 0))], pos)
            tokens.append(x[pos].view(num_nodes, walks, -1).mean(1))
    return torch.stack(tokens[::-1], dim=1)
