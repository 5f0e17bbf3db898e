"""The only ``A @ X`` in graphkit: sparse adjacency times dense features.

``spmm(adj, x)[i] = reduce_j A[i, j] * x[j]`` on an :class:`~graphkit.ops.adjacency.Adjacency`
(or an ``edge_index`` it is built from). The backward pass reuses the
Adjacency's cached transpose. Sum and mean never materialise an ``E x F``
message tensor; max/min do on the pure-torch path (torch has no CSR max
product). :func:`gcn_aggregate` is the GCN product with its normalisation as
per-entry values on the same structure.

Example::

    >>> edge_index = torch.tensor([[0, 1, 1], [1, 0, 2]])
    >>> adj = Adjacency.from_edge_index(edge_index, num_nodes=3)
    >>> spmm(adj, torch.eye(3))            # row i sums the features of i's in-neighbours
    tensor([[0., 1., 0.],
            [1., 0., 0.],
            [0., 1., 0.]])
"""
from __future__ import annotations

import warnings

import torch
from torch import Tensor

from graphkit import backend
from graphkit.ops import check
from graphkit.ops.adjacency import Adjacency, Graph, as_adjacency
from graphkit.ops.scatter import scatter_trusted

SPMM_REDUCTIONS = ("sum", "mean", "max", "min")

# torch warns once that CSR support is "beta"; the CSR x dense product used here
# is the stable, tested part of it.
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")

# Largest number of entries a chunk of the SDDMM (edge-weight gradient) may
# materialise; bounds its extra memory at 64 MiB in float32.
_SDDMM_CHUNK = 1 << 24


# ---------------------------------------------------------------------------
# Pure-torch kernels

def _csr_mm(rowptr: Tensor, col: Tensor, value: Tensor, shape: tuple[int, int], x: Tensor) -> Tensor:
    if col.numel() == 0:
        return x.new_zeros(shape[0], x.size(1))
    a = torch.sparse_csr_tensor(rowptr, col, value, size=shape, check_invariants=False)
    # addmm with beta=0 into an uninitialised output skips the zero fill and
    # copy that torch.sparse.mm does (0.137 s vs 0.198 s at arxiv scale, F=128);
    # beta=0 is documented to ignore the input, NaN included (tested).
    out = x.new_empty(shape[0], x.size(1))
    return torch.addmm(out, a, x.contiguous(), beta=0, out=out)


def sddmm(row: Tensor, col: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Sampled dense-dense product: ``out[e] = <a[row[e]], b[col[e]]>`` for ``a: [M, F]``, ``b: [N, F]``.

    Works in chunks of edges so that at most ~2**24 products are live at once.
    """
    num_edges, feat = row.numel(), max(a.size(1), 1)
    out = a.new_empty(num_edges)
    step = max(1, _SDDMM_CHUNK // feat)
    for s in range(0, num_edges, step):
        r, c = row[s:s + step], col[s:s + step]
        out[s:s + step] = (a.index_select(0, r) * b.index_select(0, c)).sum(-1)
    return out


class _SpMMSum(torch.autograd.Function):
    """``A @ x`` through torch.sparse CSR with a backward that reuses the cached transpose."""

    @staticmethod
    def forward(ctx, value: Tensor, x: Tensor, adj: Adjacency) -> Tensor:  # type: ignore[override]
        ctx.adj = adj
        ctx.save_for_backward(value, x)
        return _csr_mm(adj.rowptr, adj.col, value, (adj.num_dst, adj.num_src), x)

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        value, x = ctx.saved_tensors
        adj: Adjacency = ctx.adj
        grad_value = grad_x = None
        if ctx.needs_input_grad[1]:
            colptr, row_t, csr2csc = adj.transposed()
            reuse = (adj.value is None or value is adj.value) and not torch.is_grad_enabled()
            value_t = adj.transposed_values(value.dtype) if reuse else value[csr2csc]
            grad_x = _csr_mm(colptr, row_t, value_t, (adj.num_src, adj.num_dst), grad_out)
        if ctx.needs_input_grad[0]:
            grad_value = sddmm(adj.row, adj.col, grad_out, x)
        return grad_value, grad_x, None


def _spmm_torch(adj: Adjacency, x: Tensor, value: Tensor, reduce: str) -> Tensor:
    if reduce in ("sum", "mean") and torch.compiler.is_compiling():
        # dynamo cannot build sparse CSR tensors: gather + index_add, which it compiles into one fused loop
        out = torch.zeros(adj.num_dst, x.size(1), dtype=x.dtype, device=x.device).index_add_(
            0, adj.row, x.index_select(0, adj.col) * value.unsqueeze(-1))
        if reduce == "mean":
            out = out / adj.in_degree(x.dtype).clamp(min=1).unsqueeze(-1)
        return out
    if reduce in ("sum", "mean"):
        out = _SpMMSum.apply(value, x, adj)
        if reduce == "mean":
            out = out / adj.in_degree(x.dtype).clamp(min=1).unsqueeze(-1)
        return out
    msg = x.index_select(0, adj.col) * value.unsqueeze(-1)
    return scatter_trusted(msg, adj.row, adj.num_dst, reduce)


def _spmm_torch_sparse(adj: Adjacency, x: Tensor, value: Tensor | None, reduce: str) -> Tensor:
    backend.require("torch_sparse")
    ops = torch.ops.torch_sparse
    if reduce in ("max", "min"):
        fn = ops.spmm_max if reduce == "max" else ops.spmm_min
        return fn(adj.rowptr, adj.col, value, x)[0]
    colptr = csr2csc = None
    if x.requires_grad:
        colptr, _, csr2csc = adj.transposed()
    if reduce == "sum":
        return ops.spmm_sum(adj.row, adj.rowptr, adj.col, value, colptr, csr2csc, x)
    rowcount = adj.rowptr[1:] - adj.rowptr[:-1]
    return ops.spmm_mean(adj.row, adj.rowptr, adj.col, value, rowcount, colptr, csr2csc, x)


def _check_operands(x: Tensor, num_src: int, value: Tensor | None) -> None:
    if not check.enabled():
        return
    if x.size(0) != num_src:
        raise ValueError(f"x has {x.size(0)} rows but the adjacency has {num_src} source nodes")
    if value is not None and value.dim() != 1:
        raise ValueError(f"spmm needs one scalar weight per edge, got edge weights of shape {list(value.shape)}")


def _spmm_edge_order(edge_index: Tensor, x: Tensor, reduce: str, edge_weight: Tensor | None,
                     num_nodes: int | tuple[int, int]) -> Tensor:
    """Gather + scatter in edge order, for small E x F where sorting costs more than it saves."""
    num_src, num_dst = num_nodes if isinstance(num_nodes, tuple) else (num_nodes, num_nodes)
    check.check_edge_index(edge_index, num_src, num_dst)
    check.check_edge_values(edge_weight, edge_index.size(1))
    _check_operands(x, num_src, edge_weight)
    msg = x.index_select(0, edge_index[0])
    if edge_weight is not None:
        msg = msg * edge_weight.to(x.dtype).unsqueeze(-1)
    return scatter_trusted(msg, edge_index[1], num_dst, reduce)


def spmm(graph: Graph, x: Tensor, reduce: str = "sum", edge_weight: Tensor | None = None,
         num_nodes: int | tuple[int, int] | None = None) -> Tensor:
    """Sparse-dense product ``out[i] = reduce_{j -> i} w_ji * x[j]``.

    Args:
        graph: :class:`Adjacency`, ``edge_index: [2, E]`` or torch_sparse ``SparseTensor``.
        x: ``[num_src, F]`` or ``[num_src, *]`` features (trailing dims are flattened).
        reduce: ``"sum"``, ``"mean"`` (weighted sum / number of in-edges), ``"max"`` or ``"min"``.
        edge_weight: ``[E]`` weights in the original edge order (override the adjacency's).
        num_nodes: ``N`` or ``(num_src, num_dst)``; default ``x.size(0)`` for both.

    Returns:
        ``[num_dst, *]``; rows without in-edges are 0.
    """
    check.check_reduce(reduce, SPMM_REDUCTIONS)
    check.check_features(x, name="x")
    check.check_same_device(("x", x), ("graph", graph), ("edge_weight", edge_weight))
    if num_nodes is None:
        num_nodes = x.size(0) if not isinstance(graph, Adjacency) else None
    if (isinstance(graph, Tensor) and reduce in ("sum", "mean") and x.dim() == 2
            and not backend.spmm_builds_csr(graph.size(-1), x.size(1))):
        return _spmm_edge_order(graph, x, reduce, edge_weight, num_nodes)
    adj = as_adjacency(graph, num_nodes, edge_weight)
    _check_operands(x, adj.num_src, adj.value)
    return spmm_trusted(adj, x, reduce)


def spmm_trusted(adj: Adjacency, x: Tensor, reduce: str = "sum") -> Tensor:
    """:func:`spmm` on an :class:`Adjacency` without the input checks, for callers that checked ``x`` against
    ``adj`` themselves (or built both)."""
    trailing = x.shape[1:]
    x2 = x.reshape(x.size(0), -1) if x.dim() != 2 else x
    if adj.num_edges == 0:
        # No entries: all-zero output, still attached to x (and the weights) so
        # that gradients are defined; torch_sparse's max/min kernels fail here.
        out = x2.new_zeros(adj.num_dst, x2.size(1)) + x2[:0].sum(0, keepdim=True)
        if adj.value is not None:
            out = out + adj.value[:0].sum()
    elif backend.spmm_backend(x.device, reduce) == "torch_sparse":
        value = None if adj.value is None else adj.value.to(x.dtype)
        out = _spmm_torch_sparse(adj, x2, value, reduce)
    elif reduce == "mean" and not torch.compiler.is_compiling():
        # the mean is a sum with each entry divided by its row's count: no division pass over [N, F]
        return spmm_trusted(_mean_operator(adj, torch.float32 if x2.dtype in _HALF else x2.dtype), x, "sum")
    elif x2.dtype in _HALF and x2.device.type == "cpu":
        # torch's CPU CSR product has no half-precision kernel (bf16 autocast): accumulate in float32
        out = _spmm_torch(adj, x2.float(), adj.values(torch.float32), reduce).to(x2.dtype)
    else:
        out = _spmm_torch(adj, x2, adj.values(x.dtype), reduce)
    return out.reshape(adj.num_dst, *trailing) if x.dim() != 2 else out


_HALF = (torch.bfloat16, torch.float16)


def _mean_operator(adj: Adjacency, dtype: torch.dtype) -> Adjacency:
    """``adj`` with each entry divided by its row's number of entries (rows without entries stay empty)."""
    def scaled(value: Tensor) -> Tensor:
        return value / adj.in_degree(dtype).clamp(min=1).index_select(0, adj.row)
    if adj.value is None:  # a function of the structure: one instance per dtype, reused
        return adj.cached(("spmm-mean", dtype), lambda: adj.with_csr_value(scaled(adj.values(dtype))))
    return adj.with_csr_value(scaled(adj.values(dtype)))


def gcn_coefficients(adj: Adjacency, dtype: torch.dtype, improved: bool = False,
                     add_self_loops: bool = True) -> tuple[Tensor, Tensor | None]:
    """Edge values and self-loop diagonal of ``D^-1/2 (A + I) D^-1/2`` on ``adj``'s structure.

    Returns ``(value: [E], diag: [N] | None)`` such that the normalised product
    is ``spmm(adj.with CSR values value, x) + diag * x``. Self loops follow PyG's
    ``add_remaining_self_loops``: a node that already has a self loop keeps its
    weight (the last one in edge order; the others get coefficient 0), every
    other node gets ``2`` if ``improved`` else ``1``. Degrees are in-degrees.
    For an unweighted Adjacency the result is cached on it (E + N numbers), so
    every layer and epoch that shares the Adjacency reuses it.
    """
    if adj.value is None:  # unweighted: a function of the structure alone
        return adj.cached(("gcn", dtype, improved, add_self_loops),
                          lambda: _gcn_coefficients(adj, dtype, improved, add_self_loops))
    return _gcn_coefficients(adj, dtype, improved, add_self_loops)


def _gcn_coefficients(adj: Adjacency, dtype: torch.dtype, improved: bool,
                      add_self_loops: bool) -> tuple[Tensor, Tensor | None]:
    w = adj.values(dtype)
    if adj.value is None:
        rowsum = adj.in_degree(dtype)
    else:
        rowsum = torch.zeros(adj.num_dst, dtype=dtype, device=w.device).index_add_(0, adj.row, w)
    diag = None
    if add_self_loops:
        pos, node, last_pos, last_node = adj.self_loops()
        fill = 2.0 if improved else 1.0
        loop_sum = torch.zeros_like(rowsum).index_add_(0, node, w[pos])
        loop_w = torch.full_like(rowsum, fill).index_put((last_node,), w[last_pos])
        deg = rowsum - loop_sum + loop_w
        diag_w = loop_w - loop_sum  # replaces the stored loops' total by the kept loop weight
    else:
        deg = rowsum
    d = deg.pow(-0.5)
    d = d.masked_fill(torch.isinf(d), 0.0)
    value = w * d.index_select(0, adj.row) * d.index_select(0, adj.col)
    if add_self_loops:
        diag = diag_w * d * d
    return value, diag


def gcn_aggregate(graph: Graph, x: Tensor, improved: bool = False, add_self_loops: bool = True,
                  edge_weight: Tensor | None = None) -> Tensor:
    """``D^-1/2 (A + I) D^-1/2 x`` without building a new edge list.

    The normalisation becomes per-entry values on the Adjacency's own CSR
    structure plus a diagonal term (:func:`gcn_coefficients`): one sparse
    product and one fused multiply-add, no re-sort, no self-loop concatenation.

    Args:
        graph: :class:`Adjacency` or ``edge_index: [2, E]`` (square, ``N`` nodes).
        x: ``[N, F]``.
        improved: as in :func:`graphkit.ops.gcn_norm`.
        add_self_loops: as in :func:`graphkit.ops.gcn_norm`.
        edge_weight: ``[E]`` weights in edge order (override the adjacency's).

    Returns:
        ``[N, F]``.
    """
    check.check_features(x, name="x", min_dim=2)
    check.check_same_device(("x", x), ("graph", graph), ("edge_weight", edge_weight))
    adj = as_adjacency(graph, x.size(0), edge_weight)
    check.check_features(x, adj.num_src, name="x")
    value, diag = gcn_coefficients(adj, x.dtype, improved, add_self_loops)
    if adj.value is None:  # the normalised operator is a function of the structure: one instance, reused
        normalised = adj.cached(("gcn-adjacency", x.dtype, improved, add_self_loops),
                                lambda: adj.with_csr_value(value))
    else:
        normalised = adj.with_csr_value(value)
    out = spmm_trusted(normalised, x)
    # out is a fresh tensor that no backward saved: accumulate in place
    return out if diag is None else out.addcmul_(diag.unsqueeze(-1), x)
