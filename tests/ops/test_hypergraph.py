"""Hypergraph propagation against dense incidence-matrix formulas; conversions; equivariance; errors."""
import pytest
import torch

from graphkit.ops import (
    Hypergraph,
    clique_expansion,
    graph_to_hypergraph,
    hypergraph_propagate,
    hypergraph_self_loops,
)


def random_hypergraph(n=12, m=7, seed=0, empty_edge=True):
    g = torch.Generator().manual_seed(seed)
    pairs = {(int(torch.randint(0, n - 2, (1,), generator=g)), int(torch.randint(0, m - 1, (1,), generator=g)))
             for _ in range(30)}
    if not empty_edge:
        pairs.add((n - 1, m - 1))
    inc = torch.tensor(sorted(pairs)).t()
    return inc[:, torch.randperm(inc.size(1), generator=g)], n, m  # nodes n-2, n-1 isolated (maybe)


def dense(inc, n, m, dtype=torch.float64):
    h = torch.zeros(n, m, dtype=dtype)
    h[inc[0], inc[1]] = 1
    return h


def safe_pow(t, p):
    return torch.where(t > 0, t.clamp_min(1e-300).pow(p), torch.zeros_like(t))


@pytest.mark.parametrize("norm", ["sym", "mean"])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_dense_formula(norm, weighted):
    inc, n, m = random_hypergraph()
    h = dense(inc, n, m)
    w = torch.rand(m, dtype=torch.float64) + 0.5 if weighted else torch.ones(m, dtype=torch.float64)
    dv = h @ w
    de = h.sum(0)
    x = torch.randn(n, 5, dtype=torch.float64, requires_grad=True)
    if norm == "sym":
        s = torch.diag(safe_pow(dv, -0.5))
        op = s @ h @ torch.diag(w * safe_pow(de, -1)) @ h.T @ s
    else:
        op = torch.diag(safe_pow(dv, -1)) @ h @ torch.diag(w * safe_pow(de, -1)) @ h.T
    hg = Hypergraph(inc, n, m, w if weighted else None)
    out = hypergraph_propagate(hg, x, norm)
    ref = op @ x
    torch.testing.assert_close(out, ref)
    cot = torch.randn_like(out)
    torch.testing.assert_close(torch.autograd.grad((out * cot).sum(), x)[0],
                               torch.autograd.grad((ref * cot).sum(), x)[0])
    # the raw incidence tensor works too, and edge weights can be passed per call
    w_arg = w if weighted else None
    torch.testing.assert_close(hypergraph_propagate(inc, x, norm, edge_weight=w_arg, num_edges=m), ref)


def test_edge_weight_gradient():
    inc, n, m = random_hypergraph(seed=3)
    w = (torch.rand(m, dtype=torch.float64) + 0.5).requires_grad_()
    x = torch.randn(n, 3, dtype=torch.float64)
    torch.autograd.gradcheck(lambda ww: hypergraph_propagate(Hypergraph(inc, n, m), x, "sym", edge_weight=ww), (w,))


@pytest.mark.parametrize("norm", ["sym", "mean"])
def test_permuting_nodes_and_hyperedges(norm):
    inc, n, m = random_hypergraph(seed=1)
    x = torch.randn(n, 4, dtype=torch.float64)
    g = torch.Generator().manual_seed(2)
    pn, pe = torch.randperm(n, generator=g), torch.randperm(m, generator=g)
    inv_n, inv_e = torch.argsort(pn), torch.argsort(pe)
    out = hypergraph_propagate(Hypergraph(inc, n, m), x, norm)
    inc_p = torch.stack([inv_n[inc[0]], inv_e[inc[1]]])
    out_p = hypergraph_propagate(Hypergraph(inc_p, n, m), x[pn], norm)
    torch.testing.assert_close(out_p, out[pn])


def test_isolated_nodes_and_empty_hyperedges_give_zeros_not_nan():
    inc, n, m = random_hypergraph(seed=4)
    out = hypergraph_propagate(Hypergraph(inc, n, m), torch.randn(n, 3))
    assert torch.isfinite(out).all()
    assert (out[n - 1] == 0).all()


def test_clique_expansion_matches_h_ht():
    inc, n, m = random_hypergraph(seed=5)
    h = dense(inc, n, m)
    a = ((h @ h.T) > 0).double()
    a.fill_diagonal_(0)
    ei = clique_expansion(Hypergraph(inc, n, m))
    got = torch.zeros(n, n, dtype=torch.float64)
    got[ei[0], ei[1]] = 1
    torch.testing.assert_close(got, a)
    assert ei.size(1) == int(a.sum())  # no duplicates


def test_graph_to_hypergraph():
    # a triangle 0-1-2 with a tail 2-3 and an isolated node 4
    ei = torch.tensor([[0, 1, 1, 2, 0, 2, 2, 3], [1, 0, 2, 1, 2, 0, 3, 2]])
    cl = graph_to_hypergraph(ei, 5, "cliques")
    members = sorted(sorted(cl.incidence[0, cl.incidence[1] == e].tolist()) for e in range(cl.num_edges))
    assert members == [[0, 1, 2], [2, 3], [4]]
    nb = graph_to_hypergraph(ei, 5, "neighbourhood")
    assert nb.num_edges == 5
    assert sorted(nb.incidence[0, nb.incidence[1] == 2].tolist()) == [0, 1, 2, 3]
    ed = graph_to_hypergraph(ei, 5, "edges")
    assert ed.num_edges == 4 and (ed.edge_size() == 2).all()
    # round trip: the clique expansion of the clique hypergraph is the graph itself
    back = clique_expansion(cl)
    assert sorted(map(tuple, back.t().tolist())) == sorted(map(tuple, ei.t().tolist()))
    with pytest.raises(ValueError, match="kind must be"):
        graph_to_hypergraph(ei, 5, "stars")


def test_self_loops_added_once():
    inc = torch.tensor([[0, 1, 2, 3], [0, 0, 1, 2]])  # nodes 2 and 3 already have singleton hyperedges
    hg = hypergraph_self_loops(Hypergraph(inc, 5, 3))
    assert hg.num_edges == 3 + 3
    sizes = hg.edge_size(torch.long)
    singles = sorted(hg.incidence[0][sizes[hg.incidence[1]] == 1].tolist())
    assert singles == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("inc,n,m,match", [
    (torch.tensor([[0, 1, 2]]), 3, 2, r"shape \[2, nnz\]"),
    (torch.tensor([[0, 5], [0, 1]]), 3, 2, "index 5, out of range for 3 nodes"),
    (torch.tensor([[0, 1], [0, 4]]), 3, 2, "index 4, out of range for 2 hyperedges"),
    (torch.tensor([[0, -1], [0, 1]]), 3, 2, "negative"),
])
def test_bad_incidence_is_named(inc, n, m, match):
    with pytest.raises(ValueError, match=match):
        Hypergraph(inc, n, m)


def test_bad_inputs_are_named():
    inc, n, m = random_hypergraph()
    with pytest.raises(ValueError, match="norm must be"):
        hypergraph_propagate(Hypergraph(inc, n, m), torch.randn(n, 2), "rw")
    with pytest.raises(ValueError, match="features have 3 rows"):
        hypergraph_propagate(Hypergraph(inc, n, m), torch.randn(3, 2))
    with pytest.raises(ValueError, match="one per hyperedge"):
        hypergraph_propagate(Hypergraph(inc, n, m), torch.randn(n, 2), edge_weight=torch.ones(m + 1))
    with pytest.raises(TypeError, match="Hypergraph or an incidence"):
        hypergraph_propagate([[0], [0]], torch.randn(n, 2))
