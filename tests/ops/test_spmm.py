"""spmm, Adjacency and gcn_aggregate against dense matrices, on every backend."""
from __future__ import annotations

import pytest
import torch
from conftest import DTYPES, GRAPH_CASES, make_graph, tol

from graphkit import backend
from graphkit.ops import Adjacency, gcn_aggregate, spmm

REDUCES = ("sum", "mean", "max", "min")


def dense_adj(ei, w, num_src, num_dst):
    a = torch.zeros(num_dst, num_src, dtype=w.dtype)
    return a.index_put((ei[1], ei[0]), w, accumulate=True)


def ref_spmm(ei, w, x, num_dst, reduce):
    if reduce in ("sum", "mean"):
        out = dense_adj(ei, w, x.size(0), num_dst) @ x
        if reduce == "mean":
            cnt = torch.bincount(ei[1], minlength=num_dst).clamp(min=1).to(x.dtype)
            out = out / cnt.unsqueeze(-1)
        return out
    rows = []
    for i in range(num_dst):
        m = ei[1] == i
        if not m.any():
            rows.append((w[:0, None] * x[:0]).sum(0))  # zeros, attached to the graph
            continue
        msg = w[m].unsqueeze(-1) * x[ei[0][m]]
        rows.append(msg.max(0).values if reduce == "max" else msg.min(0).values)
    return torch.stack(rows)


@pytest.mark.parametrize("case", GRAPH_CASES)
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("form", ["edge_index", "adjacency"])
def test_spmm_matches_dense(any_backend, case, reduce, dtype, weighted, form):
    """Both input forms: a small edge_index takes the edge-order path, an Adjacency the CSR kernels."""
    for seed in range(2):
        ei, num_src, num_dst = make_graph(case, seed)
        g = torch.Generator().manual_seed(100 + seed)
        x = torch.randn(num_src, 6, dtype=dtype, generator=g, requires_grad=True)
        w = torch.rand(ei.size(1), dtype=dtype, generator=g) + 0.5
        w = w.requires_grad_(weighted)
        x_ref, w_ref = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_(weighted)
        ew = w if weighted else None
        if form == "adjacency":
            out = spmm(Adjacency.from_edge_index(ei, ew, (num_src, num_dst)), x, reduce)
        else:
            out = spmm(ei, x, reduce, edge_weight=ew, num_nodes=(num_src, num_dst))
        expect = ref_spmm(ei, w_ref if weighted else torch.ones_like(w_ref), x_ref, num_dst, reduce)
        torch.testing.assert_close(out, expect, **tol(dtype))
        cot = torch.randn(out.shape, dtype=dtype, generator=g)
        (out * cot).sum().backward()
        (expect * cot).sum().backward()
        torch.testing.assert_close(x.grad, x_ref.grad, **tol(dtype))
        if weighted:
            torch.testing.assert_close(w.grad, w_ref.grad, **tol(dtype))


def test_adjacency_is_reusable_and_caches_its_transpose(any_backend):
    ei, n, _ = make_graph("random", 0)
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    x = torch.randn(n, 4, dtype=torch.float64, requires_grad=True)
    for _ in range(3):
        spmm(adj, x).sum().backward()
    t1 = adj.transposed()
    spmm(adj, x).sum().backward()
    assert adj.transposed() is t1
    # with_value shares the structure (and so the cached transpose)
    w = torch.rand(ei.size(1), dtype=torch.float64)
    assert adj.with_value(w).transposed() is t1
    torch.testing.assert_close(x.grad, 4 * (dense_adj(ei, torch.ones(ei.size(1), dtype=torch.float64), n, n).t()
                                            @ torch.ones(n, 4, dtype=torch.float64)))


def test_spmm_multihead_trailing_dims(any_backend):
    ei, n, _ = make_graph("random", 1)
    x = torch.randn(n, 3, 5, dtype=torch.float64)
    out = spmm(ei, x)
    torch.testing.assert_close(out, spmm(ei, x.reshape(n, 15)).reshape(n, 3, 5))


def test_spmm_gradcheck(any_backend):
    ei, n, _ = make_graph("self_loops", 2)
    x = torch.randn(n, 3, dtype=torch.float64, requires_grad=True)
    w = torch.rand(ei.size(1), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w: spmm(ei, x, edge_weight=w), (x, w))


def test_sparse_tensor_input_matches_edge_index(any_backend):
    ts = pytest.importorskip("torch_sparse")
    ei, n, _ = make_graph("duplicates", 0)
    x = torch.randn(n, 4, dtype=torch.float64)
    adj_t = ts.SparseTensor(row=ei[1], col=ei[0], sparse_sizes=(n, n))
    torch.testing.assert_close(spmm(adj_t, x), spmm(ei, x))


def dense_gcn(ei, w, n, improved, add_loops):
    """D^-1/2 (A + loops) D^-1/2 from the definition (remaining self loops)."""
    a = torch.zeros(n, n, dtype=w.dtype)
    off = ei[0] != ei[1]
    a = a.index_put((ei[1][off], ei[0][off]), w[off], accumulate=True)
    if add_loops:
        diag = torch.full((n,), 2.0 if improved else 1.0, dtype=w.dtype)
        for e in range(ei.size(1)):  # the last loop of a node wins
            if ei[0, e] == ei[1, e]:
                diag = diag.index_put((ei[0, e:e + 1],), w[e:e + 1])
        a = a + torch.diag(diag)
    else:
        a = a.index_put((ei[1][~off], ei[0][~off]), w[~off], accumulate=True)
    d = a.sum(1).pow(-0.5)
    d[torch.isinf(d)] = 0
    return d[:, None] * a * d[None, :]


@pytest.mark.parametrize("case", [c for c in GRAPH_CASES if c != "bipartite"])
@pytest.mark.parametrize("improved", [False, True])
@pytest.mark.parametrize("add_loops", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gcn_aggregate_matches_dense(any_backend, case, improved, add_loops, dtype):
    ei, n, _ = make_graph(case, 7)
    g = torch.Generator().manual_seed(7)
    x = torch.randn(n, 5, dtype=dtype, generator=g, requires_grad=True)
    w = (torch.rand(ei.size(1), dtype=dtype, generator=g) + 0.5).requires_grad_()
    out = gcn_aggregate(ei, x, improved, add_loops, edge_weight=w)
    x_ref, w_ref = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
    expect = dense_gcn(ei, w_ref, n, improved, add_loops) @ x_ref
    torch.testing.assert_close(out, expect, **tol(dtype))
    cot = torch.randn(out.shape, dtype=dtype, generator=g)
    (out * cot).sum().backward()
    (expect * cot).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, **tol(dtype))
    torch.testing.assert_close(w.grad, w_ref.grad, **tol(dtype))
    # unweighted graphs: all ones
    ones = torch.ones(ei.size(1), dtype=dtype)
    torch.testing.assert_close(gcn_aggregate(ei, x.detach(), improved, add_loops),
                               dense_gcn(ei, ones, n, improved, add_loops) @ x.detach(), **tol(dtype))


def test_csr_kernel_ignores_garbage_in_its_output_buffer(monkeypatch):
    # _csr_mm writes into torch.empty memory with beta=0; fresh pages are often
    # zero, so make the buffer NaN explicitly, with empty rows in the matrix.
    import importlib

    spmm_mod = importlib.import_module("graphkit.ops.spmm")

    real_new_empty = torch.Tensor.new_empty
    monkeypatch.setattr(torch.Tensor, "new_empty",
                        lambda self, *size, **kw: real_new_empty(self, *size, **kw).fill_(float("nan")))
    ei, n, _ = make_graph("isolated", 0)
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    x = torch.randn(n, 5, dtype=torch.float64)
    out = spmm_mod._csr_mm(adj.rowptr, adj.col, torch.ones(ei.size(1), dtype=torch.float64), (n, n), x)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, dense_adj(ei, torch.ones(ei.size(1), dtype=torch.float64), n, n) @ x)


def test_edge_order_and_csr_paths_agree():
    from graphkit import backend

    ei, n, _ = make_graph("duplicates", 3)
    x = torch.randn(n, 4, dtype=torch.float64)
    w = torch.rand(ei.size(1), dtype=torch.float64)
    assert not backend.spmm_builds_csr(ei.size(1), 4)  # small: edge order
    assert backend.spmm_builds_csr(100_000, 128)       # large: CSR
    for reduce in ("sum", "mean"):
        torch.testing.assert_close(spmm(ei, x, reduce, w), spmm(Adjacency.from_edge_index(ei, w, n), x, reduce))


def test_fixture_forces_spmm_backend(spmm_impl):
    assert backend.spmm_backend(torch.device("cpu"), "sum") == spmm_impl


def test_backward_reuses_transposed_weights_until_they_change_in_place():
    torch.manual_seed(0)
    ei = torch.randint(0, 30, (2, 200))
    weight = torch.rand(200, dtype=torch.float64)
    adj = Adjacency.from_edge_index(ei, weight, num_nodes=30)
    x = torch.randn(30, 4, dtype=torch.float64, requires_grad=True)

    def grad_of_x():
        (g,) = torch.autograd.grad(spmm(adj, x).pow(2).sum(), x)
        return g

    def dense_grad():
        a = torch.zeros(30, 30, dtype=torch.float64).index_put_((ei[1], ei[0]), weight, accumulate=True)
        xd = x.detach().clone().requires_grad_()
        (g,) = torch.autograd.grad((a @ xd).pow(2).sum(), xd)
        return g

    torch.testing.assert_close(grad_of_x(), dense_grad())
    cached = adj.transposed_values(torch.float64)
    assert adj.transposed_values(torch.float64) is cached  # gathered once
    with torch.no_grad():  # weights changed in place (e.g. by an optimiser): the transposed copy follows
        adj.value.mul_(3.0)
        weight.copy_(adj.value[torch.argsort(adj.perm)])
    torch.testing.assert_close(grad_of_x(), dense_grad())
    assert adj.transposed_values(torch.float64) is not cached


def test_gcn_aggregate_keeps_one_normalised_operator_per_structure():
    torch.manual_seed(1)
    adj = Adjacency.from_edge_index(torch.randint(0, 40, (2, 300)), num_nodes=40)
    x = torch.randn(40, 8, requires_grad=True)
    for _ in range(2):
        gcn_aggregate(adj, x).sum().backward()
    gcn_ops = [k for k in adj._cache if k[0] == "gcn-adjacency"]
    assert len(gcn_ops) == 1
    assert list(adj._cache[gcn_ops[0]]._value_t) == [torch.float32]  # backward gathered its weights once
