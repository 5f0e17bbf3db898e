"""SAGEConv against PyG's (same weights), shapes, bipartite input and node-permutation equivariance."""
import pytest
import torch
from conftest import make_graph

from graphkit.nn import SAGEConv
from graphkit.ops import Adjacency

pyg = pytest.importorskip("torch_geometric.nn")


@pytest.mark.parametrize("case", ["random", "isolated", "self_loops", "duplicates", "empty", "hub"])
@pytest.mark.parametrize("fin,fout", [(8, 4), (4, 8)])  # both projection orders
@pytest.mark.parametrize("normalize", [False, True])
def test_matches_pyg_forward_and_backward(case, fin, fout, normalize):
    ei, n, _ = make_graph(case, 0)
    torch.manual_seed(0)
    theirs = pyg.SAGEConv(fin, fout, normalize=normalize).double()
    ours = SAGEConv(fin, fout, normalize=normalize).double()
    ours.load_state_dict(theirs.state_dict())
    xa = torch.randn(n, fin, dtype=torch.float64, requires_grad=True)
    xb = xa.detach().clone().requires_grad_()
    for graph in (ei, Adjacency.from_edge_index(ei, num_nodes=n)):
        out, expect = ours(xa, graph), theirs(xb, ei)
        torch.testing.assert_close(out, expect)
        cot = torch.randn_like(out)
        (ga,) = torch.autograd.grad((out * cot).sum(), xa)
        (gb,) = torch.autograd.grad((expect * cot).sum(), xb)
        torch.testing.assert_close(ga, gb)


def test_bipartite_pair():
    ei, n_src, n_dst = make_graph("bipartite", 0)
    torch.manual_seed(1)
    theirs = pyg.SAGEConv(6, 3).double()
    ours = SAGEConv(6, 3).double()
    ours.load_state_dict(theirs.state_dict())
    xs, xd = torch.randn(n_src, 6, dtype=torch.float64), torch.randn(n_dst, 6, dtype=torch.float64)
    torch.testing.assert_close(ours((xs, xd), ei), theirs((xs, xd), ei))
    assert ours((xs, xd), ei).shape == (n_dst, 3)


def test_permutation_equivariance():
    ei, n, _ = make_graph("random", 2)
    conv = SAGEConv(5, 7).double()
    x = torch.randn(n, 5, dtype=torch.float64)
    p = torch.randperm(n)
    inv = torch.empty_like(p)
    inv[p] = torch.arange(n)
    torch.testing.assert_close(conv(x[p], inv[ei]), conv(x, ei)[p])


def test_wrong_width_is_named():
    with pytest.raises(ValueError, match="in_channels=4"):
        SAGEConv(4, 2)(torch.randn(3, 5), torch.tensor([[0], [1]]))
