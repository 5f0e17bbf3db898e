"""NSD layers: learner algebra, shapes, orthogonality, equivariance, and the model end to end."""
import pytest
import torch

from graphkit.models import NSD, NSDConfig
from graphkit.nn import SheafDiffusionLayer, SheafLearner
from graphkit.ops import Adjacency, sheaf_structure

KINDS = ("diag", "orthogonal", "general")


def graph(n=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    pairs = {(a, b) for a in range(n) for b in range(a + 1, n) if torch.rand(1, generator=g).item() < 0.35}
    ei = torch.tensor(sorted(pairs)).t()
    return torch.cat([ei, ei.flip(0)], 1), n


@pytest.mark.parametrize("sparse", [False, True])
def test_learner_equals_linear_on_concatenated_endpoints(sparse):
    d, c, n = 3, 4, 6
    learner = SheafLearner(d, c, 5, act="id", sparse=sparse).double()
    x = torch.randn(n, d * c, dtype=torch.float64)
    row, col = torch.tensor([0, 1, 2, 5]), torch.tensor([1, 0, 5, 2])
    pair = torch.cat([x[row], x[col]], -1)
    if sparse:  # the reference code: reshape the concatenation into d chunks of 2C and sum them
        pair = pair.reshape(-1, d, 2 * c).sum(1)
    torch.testing.assert_close(learner(x, row, col), learner.linear(pair))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("extra", [(False, False), (True, True)])
def test_layer_shapes_and_gradients(kind, extra):
    ei, n = graph()
    layer = SheafDiffusionLayer(4, 3, kind, add_lp=extra[0], add_hp=extra[1], dropout=0.2)
    sd = 3 + sum(extra)
    x = torch.randn(n, sd * 4, requires_grad=True)
    out = layer(x, x, Adjacency.from_edge_index(ei, num_nodes=n))
    assert out.shape == (n, sd * 4)
    out.square().sum().backward()
    assert torch.isfinite(x.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters() if p.grad is not None)
    assert layer.sheaf_learner.linear.weight.grad is not None


@pytest.mark.parametrize("method", ["householder", "matrix_exp", "cayley"])
def test_orthogonal_layer_learns_orthogonal_maps(method):
    ei, n = graph(seed=1)
    layer = SheafDiffusionLayer(3, 4, "orthogonal", orthogonal_map=method, edge_weights=False).eval()
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    lap = layer.laplacian(torch.randn(n, 12), adj, 0.0)
    s = sheaf_structure(adj, n, 4, True)
    # unweighted, normalised: off block = -(F_v^T F_u) / sqrt((d_v + 1)(d_u + 1)) with F orthogonal
    deg = torch.bincount(s.row, minlength=n).float()
    scale = ((deg[s.row] + 1) * (deg[s.col] + 1)).sqrt().view(-1, 1, 1)
    blocks = -lap.off * scale
    eye = torch.eye(4).expand_as(blocks)
    torch.testing.assert_close(blocks @ blocks.transpose(1, 2), eye, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_model_is_permutation_equivariant(kind):
    ei, n = graph(n=12, seed=2)
    torch.manual_seed(0)
    model = NSD(NSDConfig(in_channels=7, out_channels=3, kind=kind, d=3, hidden=4, num_layers=3,
                          add_lp=True, second_linear=True)).double().eval()
    x = torch.randn(n, 7, dtype=torch.float64)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(3))
    inv = torch.argsort(perm)
    out = model(x, ei)
    out_p = model(x[perm], inv[ei])
    torch.testing.assert_close(out_p, out[perm])


def test_training_mode_uses_dropout_and_general_jitter():
    ei, n = graph(seed=4)
    model = NSD(NSDConfig(in_channels=5, out_channels=2, kind="general", d=2, dropout=0.5))
    x = torch.randn(n, 5)
    model.eval()
    torch.testing.assert_close(model(x, ei), model(x, ei))
    model.train()
    torch.manual_seed(0)
    a = model(x, ei)
    torch.manual_seed(1)
    assert not torch.allclose(a, model(x, ei))


def test_sheaf_parameters_are_named_for_their_own_decay():
    model = NSD(NSDConfig(in_channels=5, out_channels=2, kind="orthogonal", d=3, num_layers=2))
    names = [n for n, _ in model.named_parameters() if "sheaf_learner" in n]
    assert len(names) == 2
    assert not any("sheaf_learner" in n for n, _ in model.named_parameters() if "weight_learner" in n)


def test_bad_configurations_are_named():
    with pytest.raises(ValueError, match="needs d >= 2"):
        SheafDiffusionLayer(4, 1, "orthogonal")
    with pytest.raises(ValueError, match="kind must be"):
        SheafDiffusionLayer(4, 2, "bundle")
    with pytest.raises(ValueError, match="sheaf act"):
        SheafDiffusionLayer(4, 2, sheaf_act="relu")
    layer = SheafDiffusionLayer(4, 2)
    ei, n = graph()
    with pytest.raises(ValueError, match=r"\[N, 2 \* 4\]"):
        layer(torch.randn(n, 6), torch.randn(n, 6), ei)
    directed = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="undirected"):
        NSD(NSDConfig(in_channels=3, out_channels=2))(torch.randn(3, 3), directed)
