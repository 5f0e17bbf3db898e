"""GMN (Behrouz & Hashemi 2024): every node's neighbourhood as a sequence of hop tokens, read by Mamba.

:class:`GMN` tokenises every node's neighbourhood into a sequence of hop tokens (``A_rw^k X`` for
``k = hops .. 0``: the expected features ``k`` random-walk steps away; or sampled walks), runs a bidirectional
Mamba over each node's token sequence, and adds a local MPNN. Graph level ``model(batch) -> [B, out]``, node
level ``model(x, adj) -> [N, out]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from graphkit.models.inputs import InputSpec, edge_encoder, encode_edges, encode_nodes, node_encoder
from graphkit.models.local_layer import LOCALS, local_layer
from graphkit.nn import Mamba, global_pool
from graphkit.ops import as_adjacency, hop_tokens
from graphkit.ops.adjacency import Graph

if TYPE_CHECKING:
    from torch_geometric.data import Batch


@dataclass
class GMNConfig:
    """GMN: hop tokens per node -> bidirectional Mamba over each node's tokens -> plus a local MPNN."""

    in_channels: int = 9
    out_channels: int = 1
    level: str = "graph"
    mol: bool = False
    node_vocab: int = 0
    edge_vocab: int = 0
    hidden: int = 64
    num_layers: int = 4
    hops: int = 4  # tokens per node: hops .. 0 (the node itself last)
    tokens: str = "hops"  # "hops": exact random-walk averages A_rw^k X; "walks": sampled walk endpoints
    walks: int = 4  # sampled walks per node and hop (tokens="walks")
    d_state: int = 16
    local: str = "auto"  # GINE with edge features, else GIN
    dropout: float = 0.0
    pooling: str = "mean"

    def __post_init__(self):
        if self.local == "none" or self.local not in LOCALS:
            raise ValueError(f"GMNConfig.local must be one of {LOCALS[:-1]}, got {self.local!r}")
        if self.tokens not in ("hops", "walks"):
            raise ValueError(f"GMNConfig.tokens must be 'hops' or 'walks', got {self.tokens!r}")
        if self.hops < 1:
            raise ValueError("GMNConfig.hops must be >= 1")
        if self.level not in ("graph", "node"):
            raise ValueError(f"GMNConfig.level must be 'graph' or 'node', got {self.level!r}")

    @property
    def inputs(self) -> InputSpec:
        """How the model reads raw node and edge features."""
        return InputSpec(self.in_channels, self.mol, self.node_vocab, self.edge_vocab)


class GMN(nn.Module):
    """GMN (Behrouz & Hashemi 2024): each node's neighbourhood as a sequence of tokens, read by Mamba.

    Tokens are hop aggregates (exact random-walk averages for hops 1..k) or sampled random walks; a
    bidirectional Mamba reads each node's token sequence (far to near), and its output joins a local MPNN
    layer's. Graph level: ``model(batch)`` -> ``[B, out_channels]``; node level: ``model(x, edge_index)``.
    """
    def __init__(self, cfg: GMNConfig):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.node_encoder = node_encoder(cfg.inputs, h)
        self.edge_encoders = nn.ModuleList(edge_encoder(cfg.inputs, h) for _ in range(cfg.num_layers)) \
            if edge_encoder(cfg.inputs, h) is not None else None
        self.fwd = nn.ModuleList(Mamba(h, d_state=cfg.d_state) for _ in range(cfg.num_layers))
        self.bwd = nn.ModuleList(Mamba(h, d_state=cfg.d_state) for _ in range(cfg.num_layers))
        has_edges = self.edge_encoders is not None
        kind = ("gine" if has_edges else "gin") if cfg.local == "auto" else cfg.local
        self.locals = nn.ModuleList(local_layer(kind, h, cfg.dropout, has_edges, gated_residual=False)
                                    for _ in range(cfg.num_layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(h) for _ in range(cfg.num_layers))
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, cfg.out_channels))

    def embed(self, x: Tensor, graph: Graph, edge_attr: Tensor | None) -> Tensor:
        """Node embeddings ``[N, hidden]`` from the token sequences plus the local layer."""
        h = encode_nodes(self.cfg.inputs, self.node_encoder, x)
        n = h.size(0)
        adj = as_adjacency(graph, n)  # built once: every layer's tokens and local layer reuse it
        # edge features are in edge_index's order: an edge-featured local layer reads the edge list itself
        edge_index = graph if isinstance(graph, Tensor) else torch.stack([adj.col, adj.row])
        walks = self.cfg.walks if self.cfg.tokens == "walks" else 0
        mask = torch.ones(n, self.cfg.hops + 1, dtype=torch.bool, device=h.device)
        for i in range(self.cfg.num_layers):
            seq = hop_tokens(h, adj, n, self.cfg.hops, walks)  # [N, hops + 1, C], the node last
            # forwards: farthest hop first, the node last; backwards: the node first, farthest last
            glob = self.fwd[i](seq, mask)[:, -1] + self.bwd[i](seq.flip(1), mask)[:, -1]
            if self.edge_encoders is not None:
                loc = self.locals[i](h, edge_index, encode_edges(self.cfg.inputs, self.edge_encoders[i], edge_attr))
            else:
                loc = self.locals[i](h, adj)
            if isinstance(loc, tuple):  # a GatedGCN also updates edge features; GMN keeps its inputs'
                loc = loc[0]
            h = h + self.dropout(torch.relu(self.norms[i](glob + loc)))
        return h

    def forward(self, data: Tensor | Batch, graph: Graph | None = None) -> Tensor:
        if self.cfg.level == "node":  # model(x, graph): one graph, its Adjacency kept for every layer
            if graph is None:
                raise ValueError("a node-level GMN is called as model(x, edge_index_or_adjacency)")
            return self.head(self.embed(data, graph, None))
        h = self.embed(data.x, data.edge_index, getattr(data, "edge_attr", None))
        return self.head(global_pool(h, data.batch, data.num_graphs, self.cfg.pooling))
