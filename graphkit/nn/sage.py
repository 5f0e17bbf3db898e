"""SAGEConv (Hamilton et al., 2017) with mean aggregation on graphkit.ops."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphkit.ops import as_adjacency, check_features, check_same_device, spmm
from graphkit.ops.adjacency import Graph


class SAGEConv(nn.Module):
    r"""``x'_i = W_l mean_{j -> i} x_j + b + W_r x_i`` (optionally L2-normalised).

    Same constructor and parameter names (``lin_l`` with bias, ``lin_r``
    without) as ``torch_geometric.nn.SAGEConv`` with ``aggr="mean"``, so PyG
    state dicts load. The mean is one sparse product (no ``E x F`` messages).

    Args:
        in_channels: input feature size.
        out_channels: output feature size.
        normalize: L2-normalise the output rows.
        root_weight: add ``W_r x_i``.
        bias: bias of ``lin_l``.

    Shapes: ``x: [N, F_in]`` or ``([N_src, F_in], [N_dst, F_in])``,
    ``edge_index: [2, E]`` / Adjacency / SparseTensor -> ``[N_dst, F_out]``.

    Example::

        >>> SAGEConv(8, 4)(torch.randn(3, 8), torch.tensor([[0, 1], [1, 2]])).shape
        torch.Size([3, 4])
    """

    def __init__(self, in_channels: int, out_channels: int, normalize: bool = False,
                 root_weight: bool = True, bias: bool = True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.normalize, self.root_weight = normalize, root_weight
        self.lin_l = nn.Linear(in_channels, out_channels, bias=bias)
        self.lin_r = nn.Linear(in_channels, out_channels, bias=False) if root_weight else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin_l.reset_parameters()
        if self.lin_r is not None:
            self.lin_r.reset_parameters()

    def forward(self, x: Tensor | tuple[Tensor, Tensor], edge_index: Graph,
                size: tuple[int, int] | None = None) -> Tensor:
        x_src, x_dst = (x[0], x[1]) if isinstance(x, (tuple, list)) else (x, x)
        check_same_device(("x", x_src), ("x_dst", x_dst), ("edge_index", edge_index), ("SAGEConv's weights", self))
        check_features(x_src, name="x", min_dim=2, max_dim=2)
        if x_src.size(-1) != self.in_channels:
            raise ValueError(f"x has {x_src.size(-1)} features but SAGEConv expects in_channels={self.in_channels}")
        num = size or (x_src.size(0), x_dst.size(0))
        adj = as_adjacency(edge_index, num)
        if self.out_channels < self.in_channels:
            # project first, then average the narrower rows (the mean is linear)
            out = spmm(adj, F.linear(x_src, self.lin_l.weight), "mean")
            if self.lin_l.bias is not None:  # in place into the fresh product unless autocast mixes dtypes
                bias = self.lin_l.bias
                out = out.add_(bias) if out.dtype == bias.dtype else out + bias
        else:
            out = self.lin_l(spmm(adj, x_src, "mean"))
        if self.lin_r is not None:
            # the root term accumulates into the fresh output (no [N, F_out] temporary); autocast needs the
            # out-of-place form, which casts
            if torch.is_autocast_enabled(out.device.type) or out.dtype != x_dst.dtype:
                out = out + self.lin_r(x_dst)
            else:
                out = out.addmm_(x_dst, self.lin_r.weight.t())
        if self.normalize:
            out = F.normalize(out, p=2.0, dim=-1)
        return out

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, aggr='mean'"
