"""Edge-list utilities against dense-matrix definitions."""
from __future__ import annotations

import pytest
import torch
from conftest import DTYPES, GRAPH_CASES, make_graph, tol

from graphkit.ops import (
    add_remaining_self_loops,
    add_self_loops,
    coalesce,
    degree,
    gcn_norm,
    remove_self_loops,
    rw_norm,
    to_undirected,
)

SQUARE = [c for c in GRAPH_CASES if c != "bipartite"]


def dense(ei, w, n):
    return torch.zeros(n, n, dtype=w.dtype).index_put((ei[1], ei[0]), w, accumulate=True)


@pytest.mark.parametrize("case", GRAPH_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_degree(case, dtype):
    ei, _, n = make_graph(case, 0)
    w = torch.rand(ei.size(1), dtype=dtype, requires_grad=True)
    deg = degree(ei[1], n, w)
    torch.testing.assert_close(deg, torch.stack([w[ei[1] == i].sum() for i in range(n)]) if n else deg)
    deg.sum().backward()
    torch.testing.assert_close(w.grad, torch.ones_like(w))
    torch.testing.assert_close(degree(ei[1], n, dtype=dtype), torch.bincount(ei[1], minlength=n).to(dtype))


@pytest.mark.parametrize("case", SQUARE)
def test_coalesce_merges_and_sorts(case):
    ei, n, _ = make_graph(case, 1)
    w = torch.rand(ei.size(1), dtype=torch.float64)
    out, ow = coalesce(ei, n, w)
    torch.testing.assert_close(dense(out, ow, n), dense(ei, w, n))
    key = out[0] * n + out[1]
    assert torch.all(key[1:] > key[:-1]), "sorted by (source, target) without duplicates"
    out_max, w_max = coalesce(ei, n, w, reduce="max")
    for e in range(out_max.size(1)):
        m = (ei[0] == out_max[0, e]) & (ei[1] == out_max[1, e])
        assert w_max[e] == w[m].max()


@pytest.mark.parametrize("case", SQUARE)
def test_to_undirected_is_symmetric(case):
    ei, n, _ = make_graph(case, 2)
    w = torch.rand(ei.size(1), dtype=torch.float64)
    out, ow = to_undirected(ei, n, w)
    a = dense(out, ow, n)
    torch.testing.assert_close(a, a.t())
    torch.testing.assert_close(a, dense(ei, w, n) + dense(ei, w, n).t())


@pytest.mark.parametrize("case", SQUARE)
def test_self_loop_utilities(case):
    ei, n, _ = make_graph(case, 3)
    w = torch.rand(ei.size(1), dtype=torch.float64)
    r, rw = remove_self_loops(ei, w)
    assert not (r[0] == r[1]).any()
    torch.testing.assert_close(dense(r, rw, n), dense(ei, w, n) * (1 - torch.eye(n, dtype=torch.float64)))
    a, aw = add_self_loops(ei, n, w, fill_value=3.0)
    torch.testing.assert_close(dense(a, aw, n), dense(ei, w, n) + 3 * torch.eye(n, dtype=torch.float64))
    rem, remw = add_remaining_self_loops(ei, n, w, fill_value=2.0)
    assert int((rem[0] == rem[1]).sum()) == n, "exactly one loop per node"
    expect_diag = torch.full((n,), 2.0, dtype=torch.float64)
    for e in range(ei.size(1)):  # the last existing loop of a node wins
        if ei[0, e] == ei[1, e]:
            expect_diag[ei[0, e]] = w[e]
    torch.testing.assert_close(torch.diagonal(dense(rem, remw, n)), expect_diag)


def test_add_remaining_self_loops_matches_pyg():
    pyg_utils = pytest.importorskip("torch_geometric.utils")
    ei, n, _ = make_graph("self_loops", 4)
    w = torch.rand(ei.size(1), dtype=torch.float64)
    ours = add_remaining_self_loops(ei, n, w, 2.0)
    theirs = pyg_utils.add_remaining_self_loops(ei, w, 2.0, n)
    assert torch.equal(ours[0], theirs[0])
    torch.testing.assert_close(ours[1], theirs[1])


@pytest.mark.parametrize("case", SQUARE)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gcn_norm_matches_dense(case, dtype):
    ei, n, _ = make_graph(case, 5)
    w = torch.rand(ei.size(1), dtype=dtype) + 0.5
    for improved in (False, True):
        out, ow = gcn_norm(ei, n, w, improved=improved)
        a = dense(out, ow, n)
        raw = dense(*add_remaining_self_loops(ei, n, w, 2.0 if improved else 1.0), n)
        d = raw.sum(1).pow(-0.5)
        d[torch.isinf(d)] = 0
        torch.testing.assert_close(a, d[:, None] * raw * d[None, :], **tol(dtype))


@pytest.mark.parametrize("case", SQUARE)
def test_rw_norm_rows_sum_to_one(case):
    ei, n, _ = make_graph(case, 6)
    out, ow = rw_norm(ei, n, torch.rand(ei.size(1), dtype=torch.float64) + 0.1)
    rows = dense(out, ow, n).sum(1)
    has_in = torch.bincount(ei[1], minlength=n) > 0
    torch.testing.assert_close(rows[has_in], torch.ones(int(has_in.sum()), dtype=torch.float64))
    assert torch.all(rows[~has_in] == 0)
