"""Hypergraph convolutions on graphkit.ops: HGNN, HGNN+ and hyperedge attention (HCHA)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphkit.nn.dropout import dropout
from graphkit.ops import (
    Hypergraph,
    as_hypergraph,
    check_features,
    check_same_device,
    hypergraph_propagate,
    scatter,
    softmax,
    spmm,
)
from graphkit.ops.check import check_width


class HypergraphConv(nn.Module):
    r"""Hypergraph convolution ``x' = P x W + b`` with ``P`` one node -> hyperedge -> node pass.

    * ``norm="sym"``: HGNN (Feng et al., AAAI 2019),
      ``P = D_v^-1/2 H W_e D_e^-1 H^T D_v^-1/2``;
    * ``norm="mean"``: HGNN+ (Gao et al., TPAMI 2022), two-stage mean
      ``P = D_v^-1 H W_e D_e^-1 H^T``. Without hyperedge weights this equals
      ``torch_geometric.nn.HypergraphConv`` (same parameter names, so a PyG state
      dict loads); with weights PyG uses them only in ``D_v``, graphkit in both
      places, as the HGNN+ paper defines.

    Shapes:
        ``x: [N, F_in]``, ``graph``: :class:`~graphkit.ops.Hypergraph` or
        ``incidence: [2, nnz]``, ``edge_weight: [M]`` -> ``[N, F_out]``.
    """

    def __init__(self, in_channels: int, out_channels: int, norm: str = "sym", bias: bool = True):
        super().__init__()
        if norm not in ("sym", "mean"):
            raise ValueError(f"norm must be 'sym' (HGNN) or 'mean' (HGNN+), got {norm!r}")
        self.in_channels, self.out_channels, self.norm = in_channels, out_channels, norm
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, graph: Hypergraph | Tensor, edge_weight: Tensor | None = None,
                num_edges: int | None = None) -> Tensor:
        check_same_device(("x", x), ("graph", graph), ("edge_weight", edge_weight), ("HypergraphConv's weights", self))
        check_features(x, name="x", min_dim=2, max_dim=2)
        check_width(x, self.in_channels, "x", "in_channels")
        hg = as_hypergraph(graph, x.size(0), num_edges)
        # propagate on the narrower side of the linear map
        if self.out_channels <= self.in_channels:
            out = hypergraph_propagate(hg, self.lin(x), self.norm, edge_weight)
        else:
            out = self.lin(hypergraph_propagate(hg, x, self.norm, edge_weight))
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, norm={self.norm!r}"


class HypergraphAttentionConv(nn.Module):
    r"""Hypergraph convolution with hyperedge attention (HCHA, Bai et al., Pattern Recognition 2021).

    Each incidence ``(v, e)`` gets a score
    ``a_ve = LeakyReLU(att^T [x_v W || h_e W])`` normalised by a softmax over the
    nodes of each hyperedge (``attention_mode="node"``) or over the hyperedges
    of each node (``"edge"``); then ``x'_v = D_v^-1 sum_e a_ve D_e^-1 sum_u a_ue x_u W``
    per head. Hyperedge features ``h_e`` default to the mean of their nodes'
    input features. Given ``hyperedge_attr`` it equals
    ``torch_geometric.nn.HypergraphConv(use_attention=True)`` (same parameters).

    Shapes:
        ``x: [N, F_in]``, ``graph``: Hypergraph or ``[2, nnz]``,
        ``hyperedge_attr: [M, F_in]`` -> ``[N, heads * F_out]`` (``concat``) or ``[N, F_out]``.
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0.0, attention_mode: str = "node",
                 bias: bool = True):
        super().__init__()
        if attention_mode not in ("node", "edge"):
            raise ValueError(f"attention_mode must be 'node' or 'edge', got {attention_mode!r}")
        self.in_channels, self.out_channels, self.heads, self.concat = in_channels, out_channels, heads, concat
        self.negative_slope, self.dropout, self.attention_mode = negative_slope, dropout, attention_mode
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att = nn.Parameter(torch.empty(1, heads, 2 * out_channels))
        self.bias = nn.Parameter(torch.empty(heads * out_channels if concat else out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin.weight)
        nn.init.xavier_uniform_(self.att)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, graph: Hypergraph | Tensor, hyperedge_attr: Tensor | None = None,
                edge_weight: Tensor | None = None, num_edges: int | None = None) -> Tensor:
        check_same_device(("x", x), ("graph", graph), ("hyperedge_attr", hyperedge_attr), ("edge_weight", edge_weight),
                          ("the layer's weights", self))
        check_features(x, name="x", min_dim=2, max_dim=2)
        hg = as_hypergraph(graph, x.size(0), num_edges)
        n, m, h, f = hg.num_nodes, hg.num_edges, self.heads, self.out_channels
        node, edge = hg.incidence[0], hg.incidence[1]
        if hyperedge_attr is None:
            hyperedge_attr = spmm(hg.node_to_edge(), x, reduce="mean")
        else:
            check_features(hyperedge_attr, m, "hyperedge_attr")
        xs = self.lin(x).view(n, h, f)
        es = self.lin(hyperedge_attr).view(m, h, f)
        score_v = (xs * self.att[..., :f]).sum(-1)  # [N, H]
        score_e = (es * self.att[..., f:]).sum(-1)  # [M, H]
        alpha = F.leaky_relu(score_v.index_select(0, node) + score_e.index_select(0, edge), self.negative_slope)
        if self.attention_mode == "node":
            alpha = softmax(alpha, edge, m)
        else:
            alpha = softmax(alpha, node, n)
        alpha = dropout(alpha, self.dropout, self.training).unsqueeze(-1)  # [nnz, H, 1]
        w = hg.edge_weight if edge_weight is None else edge_weight
        dv = hg.node_degree(x.dtype, w)
        dv_inv = torch.where(dv > 0, 1.0 / dv.clamp_min(1e-30), torch.zeros_like(dv))
        de = hg.edge_size(x.dtype)
        de_inv = torch.where(de > 0, 1.0 / de.clamp_min(1), torch.zeros_like(de))
        msg = scatter(alpha * xs.index_select(0, node), edge, m) * de_inv.view(-1, 1, 1)
        out = scatter(alpha * msg.index_select(0, edge), node, n) * dv_inv.view(-1, 1, 1)
        out = out.reshape(n, h * f) if self.concat else out.mean(1)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}, mode={self.attention_mode!r}"
