"""GCN model: shapes, one Adjacency shared by all layers, permutation equivariance."""
from __future__ import annotations

import torch
from conftest import make_graph

from graphkit.models import GCN, GCNConfig
from graphkit.ops import Adjacency


def test_gcn_shapes_and_input_forms():
    ei, n, _ = make_graph("self_loops", 0)
    model = GCN(GCNConfig(in_channels=8, out_channels=3, hidden=16, num_layers=3)).eval()
    x = torch.randn(n, 8)
    out = model(x, ei)
    assert out.shape == (n, 3)
    torch.testing.assert_close(model(x, Adjacency.from_edge_index(ei, num_nodes=n)), out)
    assert len(model.convs) == 3


def test_gcn_is_permutation_equivariant():
    ei, n, _ = make_graph("random", 1)
    model = GCN(GCNConfig(in_channels=5, out_channels=4)).double().eval()
    x = torch.randn(n, 5, dtype=torch.float64)
    perm = torch.randperm(n)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n)
    x2 = torch.empty_like(x)
    x2[inv] = x
    torch.testing.assert_close(model(x2, inv[ei])[inv], model(x, ei))


def test_gcn_trains_on_a_separable_toy_graph():
    # two cliques with opposite labels and noisy features: a working GCN fits them
    g = torch.Generator().manual_seed(0)
    a, b = torch.combinations(torch.arange(10)).t(), torch.combinations(torch.arange(10, 20)).t()
    ei = torch.cat([a, b, a.flip(0), b.flip(0)], dim=1)
    y = torch.cat([torch.zeros(10), torch.ones(10)]).long()
    x = torch.randn(20, 4, generator=g) + y.unsqueeze(-1).float()
    torch.manual_seed(0)
    model = GCN(GCNConfig(4, 2, dropout=0.0))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(50):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x, ei), y)
        loss.backward()
        opt.step()
    assert (model(x, ei).argmax(-1) == y).all()
