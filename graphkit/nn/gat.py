r"""Graph attention layers on graphkit.ops: GAT (Veličković et al. 2018) and GATv2 (Brody et al. 2022).

Both score every edge ``j -> i`` per head, normalise the scores over each node's incoming edges (an edge
softmax, :func:`graphkit.ops.softmax`) and aggregate ``x_j`` with those weights. Given an
:class:`~graphkit.ops.Adjacency` (built once, reused by every layer and epoch) the aggregation is one sparse
product over a block-diagonal (node, head) structure cached on it, so GATConv never builds PyG's
``E x heads x F`` message tensor: its edge tensors are ``E x heads`` (docs/benchmarks.md has the speeds).
Given a plain ``edge_index`` it gathers, weights and scatters the messages a chunk of edges at a time (a
per-call CSR build, a sort, would cost more than it saves), keeping none of them for the backward. GATv2's
score ``att . leaky_relu(W_l x_j + W_r x_i)`` is likewise computed a chunk of edges at a time and recomputed
in the backward, so neither layer holds an ``E x heads x F`` tensor (PyG's keep several for the backward).
Those kernels are :mod:`graphkit.ops.attention`; this module holds the layers, their parameters and checks.

Constructor arguments, parameter names (``lin.weight``, ``att_src``, ``att_dst``, ``bias``; GATv2:
``lin_l``, ``lin_r``, ``att``; with ``edge_dim``: ``lin_edge``, and GAT's ``att_edge``) and the self-loop
rule (existing loops removed, one added per node, its edge features filled by ``fill_value``) are PyG's, so
a PyG state dict loads and the outputs agree (tests/nn/test_gat.py), bipartite inputs included.

Example::

    >>> conv = GATConv(16, 8, heads=4)
    >>> ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    >>> conv(torch.randn(3, 16), ei).shape
    torch.Size([3, 32])
"""
from __future__ import annotations

import math
from typing import Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphkit.ops import Adjacency, check, check_edge_index, check_features, softmax, trusted
from graphkit.ops.adjacency import Graph
from graphkit.ops.check import check_edge_values, check_width

# how a self loop's edge features are made: a reduction of the node's incoming edges', a constant, a tensor
FillValue = Union[str, float, Tensor]


def _glorot(t: Tensor) -> None:
    bound = math.sqrt(6.0 / (t.size(-2) + t.size(-1)))
    nn.init.uniform_(t, -bound, bound)


def _looped(graph: Graph, n_src: int, n_dst: int,
            add_self_loops: bool) -> tuple[Tensor, Tensor, Adjacency | None, Tensor | None]:
    """``(src, dst, adjacency, kept)`` of the graph with its self loops replaced by one loop per node (PyG's
    remove_self_loops + add_self_loops; on a bipartite graph, nodes ``0 .. min(n_src, n_dst) - 1``), in that
    edge order; ``kept``: the original edges that remain, in order (then the loops follow), or None when
    nothing was removed or added. An Adjacency keeps the result in its cache."""
    if isinstance(graph, Adjacency):
        if (graph.num_src, graph.num_dst) != (n_src, n_dst):
            raise ValueError(f"the adjacency has (num_src, num_dst) = ({graph.num_src}, {graph.num_dst}) but the "
                             f"features give ({n_src}, {n_dst}) nodes")

        def build() -> tuple[Tensor, Tensor, Adjacency, Tensor | None]:
            order = graph.perm.argsort()  # the edges in their original order
            src, dst, _, kept = _looped(torch.stack([graph.col[order], graph.row[order]]), n_src, n_dst,
                                        add_self_loops)
            return src, dst, Adjacency.from_edge_index(torch.stack([src, dst]), num_nodes=(n_src, n_dst)), kept
        return graph.cached(("gat-loops", add_self_loops), build)
    if not isinstance(graph, Tensor):
        raise TypeError(f"graph must be an edge_index tensor [2, E] or an Adjacency, got {type(graph).__name__}")
    check_edge_index(graph, n_src, n_dst)
    src, dst = graph[0].long(), graph[1].long()
    kept = None
    if add_self_loops:
        kept = torch.nonzero(src != dst).view(-1)
        loop = torch.arange(min(n_src, n_dst), device=src.device)
        src, dst = torch.cat([src[kept], loop]), torch.cat([dst[kept], loop])
    return src, dst, None, kept


def _loop_edge_attr(edge_attr: Tensor, kept: Tensor | None, dst: Tensor, n: int, n_dst: int,
                    fill_value: FillValue) -> Tensor:
    # n: the number of added loops (nodes 0 .. n - 1); n_dst: the number of target nodes
    """Edge features for :func:`_looped`'s edges: the kept edges' own, then one row per added self loop filled
    as PyG's ``add_self_loops`` does (``"mean"``/``"add"``/``"max"``/``"min"`` of the node's incoming edges'
    features, or a constant / a tensor)."""
    if kept is None:
        return edge_attr
    ea = edge_attr.index_select(0, kept)
    if isinstance(fill_value, str):
        reduce = {"add": "sum", "sum": "sum", "mean": "mean", "max": "max", "min": "min"}.get(fill_value)
        if reduce is None:
            raise ValueError(f"fill_value must be 'mean', 'add', 'max', 'min', a number or a tensor, "
                             f"got {fill_value!r}")
        loops = trusted.scatter(ea, dst[:kept.numel()], n_dst, reduce)[:n]
    elif isinstance(fill_value, Tensor):
        loops = fill_value.to(ea).expand(n, *ea.shape[1:])
    else:
        loops = ea.new_full((n, *ea.shape[1:]), float(fill_value))
    return torch.cat([ea, loops])



class _AttentionBase(nn.Module):
    def __init__(self, in_channels: int | tuple[int, int], out_channels: int, heads: int, concat: bool,
                 negative_slope: float, dropout: float, add_self_loops: bool, edge_dim: int | None, bias: bool,
                 residual: bool):
        super().__init__()
        pair = isinstance(in_channels, (tuple, list))
        if pair:
            if len(in_channels) != 2 or not all(isinstance(c, int) and c >= 1 for c in in_channels):
                raise ValueError(f"in_channels must be an int or a (source, target) pair of ints >= 1, "
                                 f"got {in_channels!r}")
            in_channels = (int(in_channels[0]), int(in_channels[1]))
        if heads < 1 or out_channels < 1:
            raise ValueError(f"heads and out_channels must be >= 1, got {heads} and {out_channels}")
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.add_self_loops, self.edge_dim, self.residual = add_self_loops, edge_dim, residual
        total = out_channels * (heads if concat else 1)
        # edge features enter the attention score through their own map (PyG's lin_edge)
        self.lin_edge = nn.Linear(edge_dim, heads * out_channels, bias=False) if edge_dim is not None else None
        in_dst = in_channels[1] if pair else in_channels
        self.res = nn.Linear(in_dst, total, bias=False) if residual else None
        self.bias = nn.Parameter(torch.empty(total)) if bias else None

    def _inputs(self, x: Tensor | tuple[Tensor, Tensor], edge_index: Graph,
                edge_attr: Tensor | None) -> tuple[Tensor, Tensor]:
        """``(x_src, x_dst)`` after the checks: one tensor is both; a pair is a bipartite graph's sources and
        targets (``edge_index[0]`` indexes ``x_src``, ``edge_index[1]`` ``x_dst``)."""
        if isinstance(x, (tuple, list)):
            if len(x) != 2 or not all(isinstance(t, Tensor) for t in x):
                raise ValueError(f"{type(self).__name__} takes x as a tensor or a (x_src, x_dst) pair of tensors")
            x_src, x_dst = x
        else:
            x_src = x_dst = x
        widths = self.in_channels if isinstance(self.in_channels, tuple) else (self.in_channels,) * 2
        for name, t, width in (("x_src", x_src, widths[0]), ("x_dst", x_dst, widths[1])):
            check.check_same_device((name, t), ("edge_index", edge_index), ("edge_attr", edge_attr),
                                    (f"{type(self).__name__}'s weights", self))
            check_features(t, name=name if x_src is not x_dst else "x", min_dim=2, max_dim=2)
            check_width(t, width, name if x_src is not x_dst else "x", "in_channels")
        self._check(edge_index, edge_attr)
        return x_src, x_dst

    def _check(self, edge_index: Graph, edge_attr: Tensor | None) -> None:
        if (edge_attr is None) != (self.lin_edge is None):
            raise ValueError(f"{type(self).__name__} was built with edge_dim={self.edge_dim} but edge_attr is "
                             f"{'missing' if edge_attr is None else 'given'}; pass edge_attr [E, edge_dim] "
                             "exactly when edge_dim is set")
        if edge_attr is not None:
            num_edges = edge_index.size(1) if isinstance(edge_index, Tensor) else edge_index.num_edges
            check_edge_values(edge_attr, num_edges, name="edge_attr", dim=None)
            if (edge_attr.size(-1) if edge_attr.dim() > 1 else 1) != self.edge_dim:
                raise ValueError(f"edge_attr has {edge_attr.size(-1) if edge_attr.dim() > 1 else 1} features "
                                 f"but edge_dim is {self.edge_dim}")

    def _edge_term(self, edge_attr: Tensor | None, kept: Tensor | None, dst: Tensor, n_src: int,
                   n_dst: int) -> Tensor | None:
        """``lin_edge`` of the looped edges' features, ``[E', heads, out_channels]`` (None without edge_attr)."""
        if edge_attr is None:
            return None
        ea = _loop_edge_attr(edge_attr.view(-1, 1) if edge_attr.dim() == 1 else edge_attr, kept, dst,
                             min(n_src, n_dst), n_dst, self.fill_value)
        return self.lin_edge(ea.to(self.lin_edge.weight.dtype)).view(-1, self.heads, self.out_channels)

    def _heads(self, out: Tensor) -> Tensor:
        """``[N, heads, F]`` -> the heads concatenated ``[N, heads * F]`` or averaged ``[N, F]``."""
        return out.reshape(out.size(0), -1) if self.concat else out.mean(dim=1)

    def _finish(self, out: Tensor, x_dst: Tensor) -> Tensor:
        if self.res is not None:
            out = out + self.res(x_dst)
        return out if self.bias is None else out + self.bias

    def _reset_common(self) -> None:
        if self.lin_edge is not None:
            _glorot(self.lin_edge.weight)
        if self.res is not None:
            _glorot(self.res.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}"


class GATConv(_AttentionBase):
    r"""Graph attention (GAT): ``x'_i = sum_j alpha_ij W x_j`` per head with
    ``alpha_ij = softmax_j(leaky_relu(a_src . W x_j + a_dst . W x_i))`` over ``i``'s incoming edges and a
    self loop. Heads are concatenated (``concat=True``) or averaged.

    Shapes: ``x: [N, in_channels]``, ``edge_index: [2, E]`` or an Adjacency -> ``[N, heads * out_channels]``
    (``[N, out_channels]`` when ``concat=False``). Bipartite graphs: ``in_channels=(F_src, F_dst)`` (separate
    ``lin_src`` / ``lin_dst`` maps, PyG's parameter names) and ``x=(x_src: [N_src, F_src], x_dst: [N_dst,
    F_dst])`` -> ``[N_dst, ...]``; self loops then join nodes ``0 .. min(N_src, N_dst) - 1``, as in PyG.
    """

    def __init__(self, in_channels: int | tuple[int, int], out_channels: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0.0, add_self_loops: bool = True,
                 edge_dim: int | None = None, fill_value: FillValue = "mean", bias: bool = True,
                 residual: bool = False):
        super().__init__(in_channels, out_channels, heads, concat, negative_slope, dropout, add_self_loops,
                         edge_dim, bias, residual)
        self.fill_value = fill_value
        self.lin = self.lin_src = self.lin_dst = None
        if isinstance(self.in_channels, tuple):
            self.lin_src = nn.Linear(self.in_channels[0], heads * out_channels, bias=False)
            self.lin_dst = nn.Linear(self.in_channels[1], heads * out_channels, bias=False)
        else:
            self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_edge = nn.Parameter(torch.empty(1, heads, out_channels)) if edge_dim is not None else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.lin, self.lin_src, self.lin_dst):
            if lin is not None:
                _glorot(lin.weight)
        _glorot(self.att_src)
        _glorot(self.att_dst)
        if self.att_edge is not None:
            _glorot(self.att_edge)
        self._reset_common()

    def forward(self, x: Tensor, edge_index: Graph, edge_attr: Tensor | None = None) -> Tensor:
        """``edge_attr: [E, edge_dim]`` (in ``edge_index``'s order) when built with ``edge_dim``: each edge's
        features add ``a_edge . W_e e_ji`` to its score (self loops get ``fill_value``'s features)."""
        x_src, x_dst = self._inputs(x, edge_index, edge_attr)
        n_src, n_dst, heads, c = x_src.size(0), x_dst.size(0), self.heads, self.out_channels
        src, dst, adj, kept = _looped(edge_index, n_src, n_dst, self.add_self_loops)
        if self.lin is not None:
            h_src = self.lin(x_src).view(n_src, heads, c)
            h_dst = h_src if x_dst is x_src else self.lin(x_dst).view(n_dst, heads, c)
        else:
            h_src = self.lin_src(x_src).view(n_src, heads, c)
            h_dst = self.lin_dst(x_dst).view(n_dst, heads, c)
        # index_select, not [src]: its backward is an index_add_, advanced indexing's a slower index_put_
        score = ((h_src * self.att_src).sum(-1).index_select(0, src)
                 + (h_dst * self.att_dst).sum(-1).index_select(0, dst))                      # [E, heads]
        e = self._edge_term(edge_attr, kept, dst, n_src, n_dst)
        if e is not None:
            score = score + (e * self.att_edge).sum(-1)
        alpha = softmax(F.leaky_relu(score, self.negative_slope), dst, n_dst)
        alpha = F.dropout(alpha, self.dropout, self.training)
        return self._finish(self._heads(trusted.attention_aggregate(alpha, h_src, src, dst, n_dst, adj)), x_dst)


class GATv2Conv(_AttentionBase):
    r"""GATv2: ``alpha_ij = softmax_j(a . leaky_relu(W_l x_j + W_r x_i))`` (the attention is applied after
    the non-linearity, so the ranking of neighbours can depend on the target), ``x'_i = sum_j alpha_ij
    W_l x_j`` per head. ``share_weights=True`` uses one matrix for ``W_l`` and ``W_r``.

    Shapes: as :class:`GATConv`; on a bipartite graph ``W_l`` maps the sources and ``W_r`` the targets.
    """

    def __init__(self, in_channels: int | tuple[int, int], out_channels: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0.0, add_self_loops: bool = True,
                 edge_dim: int | None = None, fill_value: FillValue = "mean", bias: bool = True,
                 share_weights: bool = False, residual: bool = False):
        super().__init__(in_channels, out_channels, heads, concat, negative_slope, dropout, add_self_loops,
                         edge_dim, bias, residual)
        self.fill_value, self.share_weights = fill_value, share_weights
        f_src, f_dst = self.in_channels if isinstance(self.in_channels, tuple) else (self.in_channels,) * 2
        if share_weights and f_src != f_dst:
            raise ValueError(f"share_weights=True needs equal source and target widths, got {self.in_channels}")
        self.lin_l = nn.Linear(f_src, heads * out_channels, bias=bias)
        self.lin_r = self.lin_l if share_weights else nn.Linear(f_dst, heads * out_channels, bias=bias)
        self.att = nn.Parameter(torch.empty(1, heads, out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.lin_l, self.lin_r):
            _glorot(lin.weight)
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)
        _glorot(self.att)
        self._reset_common()

    def forward(self, x: Tensor, edge_index: Graph, edge_attr: Tensor | None = None) -> Tensor:
        """``edge_attr: [E, edge_dim]`` when built with ``edge_dim``: ``W_e e_ji`` joins ``W_l x_j + W_r x_i``
        inside the non-linearity (self loops get ``fill_value``'s features)."""
        x_src, x_dst = self._inputs(x, edge_index, edge_attr)
        n_src, n_dst, heads, c = x_src.size(0), x_dst.size(0), self.heads, self.out_channels
        src, dst, adj, kept = _looped(edge_index, n_src, n_dst, self.add_self_loops)
        x_l = self.lin_l(x_src).view(n_src, heads, c)
        x_r = x_l if self.share_weights and x_dst is x_src else self.lin_r(x_dst).view(n_dst, heads, c)
        e = self._edge_term(edge_attr, kept, dst, n_src, n_dst)
        score = trusted.pair_score(x_l, x_r, e, self.att, src, dst, self.negative_slope)   # [E, heads]
        alpha = F.dropout(softmax(score, dst, n_dst), self.dropout, self.training)
        return self._finish(self._heads(trusted.attention_aggregate(alpha, x_l, src, dst, n_dst, adj)), x_dst)
