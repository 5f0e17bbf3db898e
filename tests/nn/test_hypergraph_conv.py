"""Hypergraph layers: PyG parity (HypergraphConv, with and without attention), HGNN's dense formula,
equivariance under node and hyperedge permutations, shapes."""
import pytest
import torch

from graphkit.models import HypergraphNet, HypergraphNetConfig
from graphkit.nn import HypergraphAttentionConv, HypergraphConv
from graphkit.ops import Hypergraph

pyg = pytest.importorskip("torch_geometric.nn")


def hypergraph(n=15, m=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    pairs = {(int(torch.randint(0, n - 1, (1,), generator=g)), int(torch.randint(0, m, (1,), generator=g)))
             for _ in range(40)}
    inc = torch.tensor(sorted(pairs)).t()
    return inc[:, torch.randperm(inc.size(1), generator=g)], n, m


@pytest.mark.parametrize("fin,fout", [(6, 4), (4, 6)])
def test_mean_norm_matches_pyg_hypergraphconv(fin, fout):
    inc, n, m = hypergraph()
    torch.manual_seed(0)
    theirs = pyg.HypergraphConv(fin, fout).double()
    ours = HypergraphConv(fin, fout, norm="mean").double()
    ours.load_state_dict(theirs.state_dict())
    xa = torch.randn(n, fin, dtype=torch.float64, requires_grad=True)
    xb = xa.detach().clone().requires_grad_()
    out, ref = ours(xa, Hypergraph(inc, n, m)), theirs(xb, inc, num_edges=m)
    torch.testing.assert_close(out, ref)
    cot = torch.randn_like(out)
    torch.testing.assert_close(torch.autograd.grad((out * cot).sum(), xa)[0],
                               torch.autograd.grad((ref * cot).sum(), xb)[0])


@pytest.mark.parametrize("heads,concat", [(1, True), (3, True), (2, False)])
@pytest.mark.parametrize("mode", ["node", "edge"])
def test_attention_matches_pyg_given_hyperedge_features(heads, concat, mode):
    inc, n, m = hypergraph(seed=1)
    torch.manual_seed(1)
    theirs = pyg.HypergraphConv(5, 3, use_attention=True, heads=heads, concat=concat,
                                attention_mode=mode).double()
    ours = HypergraphAttentionConv(5, 3, heads=heads, concat=concat, attention_mode=mode).double()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(n, 5, dtype=torch.float64, requires_grad=True)
    e = torch.randn(m, 5, dtype=torch.float64)
    out = ours(x, Hypergraph(inc, n, m), hyperedge_attr=e)
    ref = theirs(x, inc, hyperedge_attr=e, num_edges=m)
    torch.testing.assert_close(out, ref)
    torch.autograd.gradcheck(lambda xx: ours(xx, Hypergraph(inc, n, m), hyperedge_attr=e), (x,))


def test_hgnn_matches_dense_formula():
    inc, n, m = hypergraph(seed=2)
    conv = HypergraphConv(4, 3, norm="sym").double()
    x = torch.randn(n, 4, dtype=torch.float64)
    h = torch.zeros(n, m, dtype=torch.float64)
    h[inc[0], inc[1]] = 1
    dv, de = h.sum(1), h.sum(0)
    dvi = torch.where(dv > 0, dv.clamp_min(1e-12).rsqrt(), 0)
    op = torch.diag(dvi) @ h @ torch.diag(1 / de.clamp_min(1)) @ h.T @ torch.diag(dvi)
    torch.testing.assert_close(conv(x, inc, num_edges=m), op @ x @ conv.lin.weight.T + conv.bias)


@pytest.mark.parametrize("conv", ["hgnn", "hgnn+", "hcha"])
def test_model_equivariant_to_node_and_hyperedge_permutations(conv):
    inc, n, m = hypergraph(seed=3)
    torch.manual_seed(0)
    model = HypergraphNet(HypergraphNetConfig(in_channels=6, out_channels=3, conv=conv, hidden=8, heads=2))
    model = model.double().eval()
    x = torch.randn(n, 6, dtype=torch.float64)
    g = torch.Generator().manual_seed(4)
    pn, pe = torch.randperm(n, generator=g), torch.randperm(m, generator=g)
    inc_p = torch.stack([torch.argsort(pn)[inc[0]], torch.argsort(pe)[inc[1]]])
    out = model(x, Hypergraph(inc, n, m))
    assert out.shape == (n, 3)
    torch.testing.assert_close(model(x[pn], Hypergraph(inc_p, n, m)), out[pn])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="norm must be"):
        HypergraphConv(3, 2, norm="rw")
    with pytest.raises(ValueError, match="attention_mode"):
        HypergraphAttentionConv(3, 2, attention_mode="both")
    with pytest.raises(ValueError, match="conv must be"):
        HypergraphNetConfig(conv="unigcn")
    inc, n, m = hypergraph()
    with pytest.raises(ValueError, match="hyperedge_attr has"):
        HypergraphAttentionConv(3, 2)(torch.randn(n, 3), Hypergraph(inc, n, m), hyperedge_attr=torch.randn(m + 1, 3))
