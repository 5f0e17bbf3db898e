"""GINConv and GINEConv: PyG parity (values and gradients), equivariance, bipartite input."""
from __future__ import annotations

import copy

import pytest
import torch
from conftest import make_graph
from conv_helpers import (
    SQUARE,
    TOL,
    check_equivariance,
    check_parity,
    check_sparse_tensor_parity,
    graph_inputs,
    mlp,
    pair,
    run,
)

from graphkit.nn import GINConv, GINEConv
from graphkit.ops import Adjacency


@pytest.mark.parametrize("kind", ["gin", "gine"])
@pytest.mark.parametrize("case", SQUARE)
def test_parity_with_pyg(any_backend, kind, case):
    torch.manual_seed(0)
    ours, theirs = pair(kind, 6, 4)
    ei, n, x, w, e = graph_inputs(case, 1)
    check_parity(ours, theirs, kind, x, ei, None, e)
    check_parity(ours, theirs, kind, x, ei, None, e, graph=Adjacency.from_edge_index(ei, num_nodes=n))


@pytest.mark.parametrize("kind", ["gin", "gine"])
def test_train_eps_matches_pyg(any_backend, kind):
    torch.manual_seed(2)
    ours, theirs = pair(kind, 6, 4, eps=0.3, train_eps=True)
    ei, n, x, w, e = graph_inputs("hub", 4)
    check_parity(ours, theirs, kind, x, ei, None, e)


def test_gine_without_edge_dim_matches_pyg(any_backend):
    pyg = pytest.importorskip("torch_geometric.nn")
    torch.manual_seed(3)
    theirs = pyg.GINEConv(mlp(6, 4)).double()
    ours = GINEConv(mlp(6, 4)).double()
    ours.load_state_dict(theirs.state_dict())
    ei, n, x, _, _ = graph_inputs("random", 3)
    e = torch.randn(ei.size(1), 6, dtype=torch.float64)
    torch.testing.assert_close(ours(x, ei, e), theirs(x, ei, e), **TOL)


def test_sparse_tensor_input_matches_pyg_sparse(any_backend):
    check_sparse_tensor_parity("gin")


@pytest.mark.parametrize("kind", ["gin", "gine"])
@pytest.mark.parametrize("case", ["random", "self_loops", "isolated", "hub"])
def test_permutation_equivariance(any_backend, kind, case):
    torch.manual_seed(4)
    check_equivariance(pair(kind, 6, 4)[0], kind, case)


def test_bipartite_matches_pyg(any_backend):
    torch.manual_seed(5)
    ei, ns, nd = make_graph("bipartite", 0)
    xs, xd = torch.randn(ns, 6, dtype=torch.float64), torch.randn(nd, 6, dtype=torch.float64)
    e = torch.randn(ei.size(1), 3, dtype=torch.float64)
    for kind in ("gin", "gine"):
        ours, theirs = pair(kind, 6, 4)
        args = () if kind == "gin" else (e,)
        torch.testing.assert_close(ours((xs, xd), ei, *args), theirs((xs, xd), ei, *args), **TOL)


def test_reset_parameters_reinitialises():
    conv = GINEConv(mlp(6, 4), edge_dim=3, train_eps=True, eps=0.5)
    before = copy.deepcopy(conv.state_dict())
    with torch.no_grad():
        conv.eps.fill_(2.0)
    conv.reset_parameters()
    assert conv.eps.item() == 0.5
    assert not torch.equal(before["nn.0.weight"], conv.state_dict()["nn.0.weight"])


def test_float32_and_float64():
    ei, n, x, w, e = graph_inputs("random", 8)
    for dtype in (torch.float32, torch.float64):
        for kind, conv in (("gin", GINConv(mlp(6, 4))), ("gine", GINEConv(mlp(6, 4), edge_dim=3))):
            out = run(conv.to(dtype), kind, x.to(dtype), ei, None, e.to(dtype))
            assert out.dtype == dtype and out.shape == (n, 4) and torch.isfinite(out).all()
