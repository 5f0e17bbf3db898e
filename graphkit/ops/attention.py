r"""Attention aggregation over a graph's edges, per head: the sparse kernels behind GAT and GATv2
(:mod:`graphkit.nn.gat`).

* :func:`attention_aggregate`: ``out[i, k] = sum_j alpha[e, k] h[j, k]`` over edges ``e = j -> i`` and heads
  ``k``. Given an :class:`~graphkit.ops.Adjacency` (built once, reused by every layer and epoch) it is one
  sparse product over a block-diagonal (node, head) structure cached on it; given plain ``src`` / ``dst``
  index vectors it gathers, weights and scatters the messages a chunk of edges at a time. Neither keeps an
  ``E x heads x F`` message tensor for the backward (PyG's message passing keeps one).
* :func:`pair_score`: GATv2's score ``s[e, k] = att[k] . leaky_relu(x_l[src_e, k] + x_r[dst_e, k] (+ w[e, k]))``,
  a chunk of edges at a time, recomputed in the backward instead of kept.

Edges are given in the caller's order (``alpha`` and the scores follow it). Both functions check their inputs
(shapes, index ranges, devices; an Adjacency's edge and node counts, not its edge order); their unchecked twins
in :mod:`graphkit.ops.trusted` serve the layers, which check the graph once. tests/ops/test_attention.py
compares them with dense references, values and gradients, in whole tensors and in chunks of one to three edges.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from graphkit.ops import check
from graphkit.ops.adjacency import Adjacency
from graphkit.ops.scatter import add_rows_
from graphkit.ops.spmm import spmm


def _per_head(adj: Adjacency, heads: int) -> Adjacency:
    """The block-diagonal adjacency over (node, head) pairs: entry ``(i*H + k, j*H + k)`` for each edge
    ``j -> i`` and head ``k``, in CSR order, with edge ``e``'s head ``k`` at position ``e*H + k`` of the
    value order. Built from ``adj``'s CSR by index arithmetic (no sort) and cached on ``adj``: one sparse
    product then aggregates every head at once, without an ``E x heads x F`` message tensor."""
    return adj.cached(("gat-per-head", heads), lambda: _build_per_head(adj, heads))


def _build_per_head(adj: Adjacency, heads: int) -> Adjacency:
    n, e, h = adj.num_dst, adj.num_edges, heads
    dev = adj.col.device
    deg = adj.rowptr[1:] - adj.rowptr[:-1]
    rowptr = torch.zeros(n * h + 1, dtype=torch.long, device=dev)
    torch.cumsum(deg.repeat_interleave(h), 0, out=rowptr[1:])
    # CSR position of (edge at CSR position p, head k): row (i, k) starts at rowptr[i]*H + k*deg(i)
    p = torch.arange(e, device=dev)
    local = p - adj.rowptr[adj.row]
    k = torch.arange(h, device=dev)
    pos = (adj.rowptr[adj.row] * h + local)[:, None] + k[None, :] * deg[adj.row][:, None]      # [E, H]
    col = torch.empty(e * h, dtype=torch.long, device=dev)
    row = torch.empty(e * h, dtype=torch.long, device=dev)
    perm = torch.empty(e * h, dtype=torch.long, device=dev)
    col[pos.reshape(-1)] = (adj.col[:, None] * h + k[None, :]).reshape(-1)
    row[pos.reshape(-1)] = (adj.row[:, None] * h + k[None, :]).reshape(-1)
    perm[pos.reshape(-1)] = (adj.perm[:, None] * h + k[None, :]).reshape(-1)
    return Adjacency(rowptr, check.vouch_range(row, 0, n * h), check.vouch_range(col, 0, adj.num_src * h), perm,
                     None, adj.num_src * h, n * h)


# Largest number of E x heads x F products the attention gradient materialises at once (64 MiB in float32).
_CHUNK = 1 << 24


class _HeadAggregate(torch.autograd.Function):
    """``out[i, k] = sum_j alpha[e, k] h[j, k]`` (edge ``e = j -> i``), all heads in one block-diagonal
    sparse product; backward: ``dh`` by the transposed blocks, ``dalpha[e, k] = <dout[i, k], h[j, k]>`` from
    whole ``heads x F`` rows gathered per edge (in chunks), not from ``F``-wide rows per (edge, head)."""

    @staticmethod
    def forward(ctx, alpha: Tensor, h: Tensor, adj: Adjacency, src: Tensor,  # type: ignore[override]
                dst: Tensor) -> Tensor:
        n, heads, c = h.shape
        ctx.adj = adj
        ctx.save_for_backward(alpha, h, src, dst)
        with torch.no_grad():
            blocks = _per_head(adj, heads).with_value(alpha.reshape(-1))
            return spmm(blocks, h.reshape(n * heads, c)).view(adj.num_dst, heads, c)

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        alpha, h, src, dst = ctx.saved_tensors
        n, heads, c = h.shape
        n_dst = grad_out.size(0)
        grad_alpha = grad_h = None
        if ctx.needs_input_grad[1]:
            t = _transposed(ctx.adj)
            blocks_t = _per_head(t, heads).with_value(alpha.reshape(-1))
            grad_h = spmm(blocks_t, grad_out.reshape(n_dst * heads, c)).view(n, heads, c)
        if ctx.needs_input_grad[0]:
            g, hh = grad_out.reshape(n_dst, heads * c), h.reshape(n, heads * c)
            grad_alpha = alpha.new_empty(alpha.shape)
            step = max(1, _CHUNK // max(heads * c, 1))
            for s in range(0, src.numel(), step):
                rows = (g.index_select(0, dst[s:s + step]) * hh.index_select(0, src[s:s + step]))
                grad_alpha[s:s + step] = rows.view(-1, heads, c).sum(-1)
        return grad_alpha, grad_h, None, None, None


def _transposed(adj: Adjacency) -> Adjacency:
    """``adj``'s transpose as an Adjacency over the same edge order (cached on ``adj``)."""
    def build() -> Adjacency:
        order = adj.perm.argsort()
        return Adjacency.from_edge_index(torch.stack([adj.row[order], adj.col[order]]),
                                         num_nodes=(adj.num_dst, adj.num_src))
    return adj.cached(("gat-transposed",), build)


class _EdgeAggregate(torch.autograd.Function):
    """:class:`_HeadAggregate` from a plain edge_index: ``out[i, k] = sum_j alpha[e, k] h[j, k]`` by gathering,
    weighting and scattering the ``heads x F`` rows of a chunk of edges at a time, so that no ``E x heads x F``
    message tensor is kept for the backward (PyG keeps one) or built whole; the backward recomputes each
    chunk's gathered rows."""

    @staticmethod
    def forward(ctx, alpha: Tensor, h: Tensor, src: Tensor, dst: Tensor,  # type: ignore[override]
                n_dst: int) -> Tensor:
        ctx.save_for_backward(alpha, h, src, dst)
        out = h.new_zeros(n_dst, *h.shape[1:])
        step = _chunk_edges(h)
        for s in range(0, src.numel(), step):
            msg = h.index_select(0, src[s:s + step])
            msg.mul_(alpha[s:s + step].unsqueeze(-1))
            add_rows_(out, dst[s:s + step], msg)
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        alpha, h, src, dst = ctx.saved_tensors
        want_alpha, want_h = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_alpha = alpha.new_empty(alpha.shape) if want_alpha else None
        grad_h = torch.zeros_like(h) if want_h else None
        grad_out = grad_out.contiguous()
        step = _chunk_edges(h)
        for s in range(0, src.numel(), step):
            g = grad_out.index_select(0, dst[s:s + step])
            if want_alpha:
                grad_alpha[s:s + step] = (g * h.index_select(0, src[s:s + step])).sum(-1)
            if want_h:
                add_rows_(grad_h, src[s:s + step], g.mul_(alpha[s:s + step].unsqueeze(-1)))
        return grad_alpha, grad_h, None, None, None


class _PairScore(torch.autograd.Function):
    """GATv2's score ``s[e, k] = sum_c att[k, c] leaky_relu(x_l[src_e, k, c] + x_r[dst_e, k, c] (+ w[e, k, c]))``
    a chunk of edges at a time: the ``E x heads x F`` pre-activations are never held whole, and the backward
    recomputes each chunk's instead of keeping them (PyG keeps three such tensors for its backward)."""

    @staticmethod
    def forward(ctx, x_l: Tensor, x_r: Tensor, edge_term: Tensor | None, att: Tensor,  # type: ignore[override]
                src: Tensor, dst: Tensor, slope: float) -> Tensor:
        ctx.save_for_backward(x_l, x_r, edge_term, att, src, dst)
        ctx.slope = slope
        # the score in the promoted type of the features and att (float32 for bfloat16 features under autocast)
        score = x_l.new_empty(src.numel(), x_l.size(1), dtype=torch.promote_types(x_l.dtype, att.dtype))
        step = _chunk_edges(x_l)
        for s in range(0, src.numel(), step):
            pre = _pre(x_l, x_r, edge_term, src, dst, s, step)
            score[s:s + step] = (F.leaky_relu(pre, slope, inplace=True) * att).sum(-1)
        return score

    @staticmethod
    def backward(ctx, grad_score: Tensor):  # type: ignore[override]
        x_l, x_r, edge_term, att, src, dst = ctx.saved_tensors
        need = ctx.needs_input_grad
        grad_l = torch.zeros_like(x_l) if need[0] else None
        grad_r = torch.zeros_like(x_r) if need[1] else None
        grad_e = torch.empty_like(edge_term) if edge_term is not None and need[2] else None
        grad_att = torch.zeros_like(att, dtype=grad_score.dtype) if need[3] else None
        step = _chunk_edges(x_l)
        for s in range(0, src.numel(), step):
            pre = _pre(x_l, x_r, edge_term, src, dst, s, step)
            g = grad_score[s:s + step].unsqueeze(-1)
            # d score / d pre = g * att * (1 if pre > 0 else slope), in the features' type (as autograd casts it)
            d = torch.ops.aten.leaky_relu_backward((g * att).to(pre.dtype), pre, ctx.slope, False)
            if grad_att is not None:
                grad_att += (F.leaky_relu(pre, ctx.slope, inplace=True) * g).sum(0, keepdim=True)
            if grad_l is not None:
                add_rows_(grad_l, src[s:s + step], d.to(grad_l.dtype))
            if grad_r is not None:
                add_rows_(grad_r, dst[s:s + step], d.to(grad_r.dtype))
            if grad_e is not None:
                grad_e[s:s + step] = d
        return grad_l, grad_r, grad_e, None if grad_att is None else grad_att.to(att.dtype), None, None, None


def _pre(x_l: Tensor, x_r: Tensor, edge_term: Tensor | None, src: Tensor, dst: Tensor, s: int,
         step: int) -> Tensor:
    """``x_l[src] + x_r[dst] (+ edge_term)`` for edges ``s .. s + step - 1``: ``[chunk, heads, F]``."""
    pre = x_l.index_select(0, src[s:s + step]).add_(x_r.index_select(0, dst[s:s + step]))
    return pre if edge_term is None else pre.add_(edge_term[s:s + step])


# Numbers per chunk of ``heads x F`` edge rows in the edge_index paths (16 MiB in float32): at ogbn-arxiv's scale
# chunks of 2^18 .. 2^26 numbers ran within 5% of each other on 2 CPU threads, all faster than whole tensors.
_EDGE_CHUNK = 1 << 22


def _chunk_edges(h: Tensor) -> int:
    """Edges per chunk so that a chunk's ``heads x F`` rows stay near :data:`_EDGE_CHUNK` numbers."""
    return max(1, _EDGE_CHUNK // max(h[0].numel(), 1))


def attention_aggregate(alpha: Tensor, h: Tensor, src: Tensor, dst: Tensor, n_dst: int,
                        adj: Adjacency | None = None) -> Tensor:
    """``out[i, k] = sum_j alpha[e, k] h[j, k]`` over the edges ``e = (src[e] -> dst[e])``, ``[n_dst, heads, F]``;
    ``alpha: [E, heads]``, ``h: [N_src, heads, F]``, ``src`` / ``dst``: ``[E]`` node indices.

    ``adj``, when given, must be ``Adjacency.from_edge_index(stack([src, dst]))`` (same edges, same order),
    built once and reused over layers and epochs: the aggregation is then one block-diagonal sparse product
    (its structure cached on ``adj``). Without it, a chunked gather-scatter of the messages, which needs no sort
    per call (building the CSR would cost more than the product saves)."""
    n_dst = check.check_size(n_dst, "n_dst")
    check.check_same_device(("alpha", alpha), ("h", h), ("src", src), ("dst", dst), ("adj", adj))
    check.check_features(h, name="h", min_dim=3, max_dim=3)
    _check_edges(src, dst, h.size(0), n_dst)
    check.check_features(alpha, src.numel(), name="alpha", min_dim=2, max_dim=2)
    if alpha.size(1) != h.size(1):
        raise ValueError(f"alpha has {alpha.size(1)} heads (columns) but h has {h.size(1)} (h is [N, heads, F])")
    if adj is not None:
        if not isinstance(adj, Adjacency):
            raise TypeError(f"adj must be an Adjacency or None, got {type(adj).__name__}")
        if (adj.num_edges, adj.num_src, adj.num_dst) != (src.numel(), h.size(0), n_dst):
            raise ValueError(f"adj has {adj.num_edges} edges over {adj.num_src} -> {adj.num_dst} nodes but src/dst/h "
                             f"give {src.numel()} edges over {h.size(0)} -> {n_dst}; pass the Adjacency of exactly "
                             "these edges")
    return attention_aggregate_trusted(alpha, h, src, dst, n_dst, adj)


def attention_aggregate_trusted(alpha: Tensor, h: Tensor, src: Tensor, dst: Tensor, n_dst: int,
                                adj: Adjacency | None = None) -> Tensor:
    """:func:`attention_aggregate` without its input checks (graphkit.ops.trusted)."""
    if adj is None:
        return _EdgeAggregate.apply(alpha, h, src, dst, n_dst)
    return _HeadAggregate.apply(alpha, h, adj, src, dst)


def pair_score(x_l: Tensor, x_r: Tensor, edge_term: Tensor | None, att: Tensor, src: Tensor, dst: Tensor,
               negative_slope: float) -> Tensor:
    """GATv2's score per edge and head, ``[E, heads]``: ``sum_c att[0, k, c] * leaky_relu(x_l[src_e, k, c] +
    x_r[dst_e, k, c] (+ edge_term[e, k, c]))``; ``x_l: [N_src, heads, F]``, ``x_r: [N_dst, heads, F]``,
    ``edge_term: [E, heads, F]`` or None, ``att: [1, heads, F]``. The score is in the promoted type of the
    features and ``att`` (float32 for bfloat16 features under autocast)."""
    check.check_same_device(("x_l", x_l), ("x_r", x_r), ("edge_term", edge_term), ("att", att), ("src", src),
                            ("dst", dst))
    for name, t in (("x_l", x_l), ("x_r", x_r), ("att", att)):
        check.check_features(t, name=name, min_dim=3, max_dim=3)
    if x_r.shape[1:] != x_l.shape[1:] or att.shape != (1, *x_l.shape[1:]):
        raise ValueError(f"x_l {list(x_l.shape)}, x_r {list(x_r.shape)} and att {list(att.shape)} must be "
                         "[N_src, heads, F], [N_dst, heads, F] and [1, heads, F]")
    _check_edges(src, dst, x_l.size(0), x_r.size(0))
    if edge_term is not None:
        check.check_features(edge_term, src.numel(), name="edge_term", min_dim=3, max_dim=3)
        if edge_term.shape[1:] != x_l.shape[1:]:
            raise ValueError(f"edge_term has shape {list(edge_term.shape)}; it must be [E, heads, F] = "
                             f"[{src.numel()}, {x_l.size(1)}, {x_l.size(2)}]")
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
        raise TypeError(f"negative_slope must be a number, got {type(negative_slope).__name__}")
    return pair_score_trusted(x_l, x_r, edge_term, att, src, dst, float(negative_slope))


def pair_score_trusted(x_l: Tensor, x_r: Tensor, edge_term: Tensor | None, att: Tensor, src: Tensor, dst: Tensor,
                       negative_slope: float) -> Tensor:
    """:func:`pair_score` without its input checks (graphkit.ops.trusted)."""
    return _PairScore.apply(x_l, x_r, edge_term, att, src, dst, negative_slope)


def _check_edges(src: Tensor, dst: Tensor, n_src: int, n_dst: int) -> None:
    check.check_index(src, n_src, name="src")
    check.check_index(dst, n_dst, length=src.numel() if isinstance(src, Tensor) else None, name="dst")
