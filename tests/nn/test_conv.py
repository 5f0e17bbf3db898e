"""GCNConv, GINConv, GINEConv: PyG parity (values and gradients), equivariance, input forms."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from conftest import GRAPH_CASES, make_graph
from graphkit.nn import GCNConv, GINConv, GINEConv
from graphkit.ops import Adjacency

pyg = pytest.importorskip("torch_geometric.nn")
SQUARE = [c for c in GRAPH_CASES if c != "bipartite"]
TOL = {"rtol": 1e-9, "atol": 1e-10}  # float64 throughout


def mlp(i, o):
    return nn.Sequential(nn.Linear(i, 2 * o), nn.ReLU(), nn.Linear(2 * o, o))


def pair(kind, fin, fout, **kw):
    """(ours, PyG's) with identical weights, float64."""
    if kind == "gcn":
        theirs = pyg.GCNConv(fin, fout, **kw).double()
        ours = GCNConv(fin, fout, **kw).double()
    elif kind == "gin":
        theirs = pyg.GINConv(mlp(fin, fout), **kw).double()
        ours = GINConv(mlp(fin, fout), **kw).double()
    else:
        theirs = pyg.GINEConv(mlp(fin, fout), edge_dim=3, **kw).double()
        ours = GINEConv(mlp(fin, fout), edge_dim=3, **kw).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def run(conv, kind, x, graph, w, e):
    if kind == "gcn":
        return conv(x, graph, w)
    if kind == "gin":
        return conv(x, graph)
    return conv(x, graph, e)


def check_parity(ours, theirs, kind, x, ei, w, e, graph=None):
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    wa = None if w is None else w.clone().requires_grad_()
    wb = None if w is None else w.clone().requires_grad_()
    ea, eb = e.clone().requires_grad_(), e.clone().requires_grad_()
    out = run(ours, kind, xa, ei if graph is None else graph, wa, ea)
    expect = run(theirs, kind, xb, ei, wb, eb)
    torch.testing.assert_close(out, expect, **TOL)
    cot = torch.randn_like(out)
    (out * cot).sum().backward()
    (expect * cot).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, **TOL)
    if w is not None and kind == "gcn":
        # A node with several self loops keeps only the last one's weight, so the
        # others have zero gradient (finite differences agree); PyG's index_put
        # backward hands them the kept loop's gradient, so skip them there.
        shadowed = shadowed_loops(ei) if ours.add_self_loops else torch.zeros(ei.size(1), dtype=torch.bool)
        torch.testing.assert_close(wa.grad[~shadowed], wb.grad[~shadowed], **TOL)
        assert torch.all(wa.grad[shadowed].abs() < 1e-12)
    if kind == "gine":
        torch.testing.assert_close(ea.grad, eb.grad, **TOL)
    for (na, pa), (nb, pb) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert na == nb
        torch.testing.assert_close(pa.grad, pb.grad, **TOL, msg=na)
        pa.grad = pb.grad = None


def shadowed_loops(ei):
    """Self loops that a later self loop of the same node replaces."""
    out = torch.zeros(ei.size(1), dtype=torch.bool)
    seen = set()
    for e in reversed(range(ei.size(1))):
        if ei[0, e] == ei[1, e]:
            out[e] = int(ei[0, e]) in seen
            seen.add(int(ei[0, e]))
    return out


def graph_inputs(case, seed, fin=6):
    ei, n, _ = make_graph(case, seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, fin, dtype=torch.float64, generator=g)
    w = torch.rand(ei.size(1), dtype=torch.float64, generator=g) + 0.5
    e = torch.randn(ei.size(1), 3, dtype=torch.float64, generator=g)
    return ei, n, x, w, e


@pytest.mark.parametrize("kind", ["gcn", "gin", "gine"])
@pytest.mark.parametrize("case", SQUARE)
@pytest.mark.parametrize("fin, fout", [(6, 4), (6, 11)])  # narrowing, and widening (aggregate first)
def test_parity_with_pyg(any_backend, kind, case, fin, fout):
    torch.manual_seed(0)
    ours, theirs = pair(kind, fin, fout)
    ei, n, x, w, e = graph_inputs(case, 1, fin)
    check_parity(ours, theirs, kind, x, ei, w if kind == "gcn" else None, e)
    # the same through a prebuilt Adjacency
    check_parity(ours, theirs, kind, x, ei, w if kind == "gcn" else None, e,
                 graph=Adjacency.from_edge_index(ei, num_nodes=n))


@pytest.mark.parametrize("kw", [dict(improved=True), dict(add_self_loops=False), dict(normalize=False),
                                dict(bias=False)])
def test_gcn_options_match_pyg(any_backend, kw):
    torch.manual_seed(1)
    ours, theirs = pair("gcn", 6, 5, **kw)
    ei, n, x, w, e = graph_inputs("self_loops", 2)
    check_parity(ours, theirs, "gcn", x, ei, w, e)  # weighted: PyG applies `improved` there


def test_gcn_improved_unweighted_uses_two_on_the_diagonal():
    # PyG 2.8.1 ignores `improved` when edge_weight is None (its loops get weight
    # 1); graphkit follows the definition A + 2I, which equals PyG given ones.
    ours, theirs = pair("gcn", 6, 5, improved=True)
    ei, n, x, _, _ = graph_inputs("random", 3)
    ones = torch.ones(ei.size(1), dtype=torch.float64)
    torch.testing.assert_close(ours(x, ei), theirs(x, ei, ones), **TOL)


@pytest.mark.parametrize("kind", ["gin", "gine"])
def test_train_eps_matches_pyg(any_backend, kind):
    torch.manual_seed(2)
    ours, theirs = pair(kind, 6, 4, eps=0.3, train_eps=True)
    ei, n, x, w, e = graph_inputs("hub", 4)
    check_parity(ours, theirs, kind, x, ei, None, e)


def test_sparse_tensor_input_matches_pyg_sparse(any_backend):
    ts = pytest.importorskip("torch_sparse")
    torch.manual_seed(3)
    ei, n, x, w, e = graph_inputs("duplicates", 5)
    adj_t = ts.SparseTensor(row=ei[1], col=ei[0], sparse_sizes=(n, n))
    for kind in ("gcn", "gin"):
        ours, theirs = pair(kind, 6, 4)
        torch.testing.assert_close(run(ours, kind, x, adj_t, None, e), run(theirs, kind, x, adj_t, None, e), **TOL)


@pytest.mark.parametrize("kind", ["gcn", "gin", "gine"])
@pytest.mark.parametrize("case", ["random", "self_loops", "isolated", "hub"])
def test_permutation_equivariance(any_backend, kind, case):
    torch.manual_seed(4)
    ours, _ = pair(kind, 6, 4)
    ei, n, x, w, e = graph_inputs(case, 6)
    perm = torch.randperm(n)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n)
    # node perm[k] of the new graph is node k of the old one: relabel old -> new with inv
    edge_perm = torch.randperm(ei.size(1))  # edge order must not matter either
    ei2 = inv[ei][:, edge_perm]
    x2 = torch.empty_like(x)
    x2[inv] = x
    out = run(ours, kind, x, ei, w, e)
    out2 = run(ours, kind, x2, ei2, w[edge_perm], e[edge_perm])
    torch.testing.assert_close(out2[inv], out, **TOL)


def test_bipartite_gin_matches_pyg(any_backend):
    torch.manual_seed(5)
    ei, ns, nd = make_graph("bipartite", 0)
    xs, xd = torch.randn(ns, 6, dtype=torch.float64), torch.randn(nd, 6, dtype=torch.float64)
    e = torch.randn(ei.size(1), 3, dtype=torch.float64)
    for kind in ("gin", "gine"):
        ours, theirs = pair(kind, 6, 4)
        args = () if kind == "gin" else (e,)
        torch.testing.assert_close(ours((xs, xd), ei, *args), theirs((xs, xd), ei, *args), **TOL)


def test_cached_gcn_reuses_its_adjacency():
    conv = GCNConv(6, 4, cached=True).double()
    ei, n, x, _, _ = graph_inputs("random", 7)
    first = conv(x, ei)
    cached = conv._cached_adj
    assert isinstance(cached, Adjacency)
    torch.testing.assert_close(conv(x, ei[:, :3]), first)  # later edge_index ignored, as in PyG
    assert conv._cached_adj is cached
    conv.reset_parameters()
    assert conv._cached_adj is None


def test_reset_parameters_reinitialises():
    conv = GINEConv(mlp(6, 4), edge_dim=3, train_eps=True, eps=0.5)
    before = copy.deepcopy(conv.state_dict())
    with torch.no_grad():
        conv.eps.fill_(2.0)
    conv.reset_parameters()
    assert conv.eps.item() == 0.5
    assert not torch.equal(before["nn.0.weight"], conv.state_dict()["nn.0.weight"])


def test_float32_and_float64_both_work():
    ei, n, x, w, e = graph_inputs("random", 8)
    for dtype in (torch.float32, torch.float64):
        for conv in (GCNConv(6, 4), GINConv(mlp(6, 4)), GINEConv(mlp(6, 4), edge_dim=3)):
            conv = conv.to(dtype)
            out = conv(x.to(dtype), ei, e.to(dtype)) if isinstance(conv, GINEConv) else conv(x.to(dtype), ei)
            assert out.dtype == dtype and out.shape == (n, 4) and torch.isfinite(out).all()
