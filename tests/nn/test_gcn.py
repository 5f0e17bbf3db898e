"""GCNConv: PyG parity (values and gradients), options, equivariance, caching."""
from __future__ import annotations

import pytest
import torch
from conv_helpers import (
    SQUARE,
    TOL,
    check_equivariance,
    check_parity,
    check_sparse_tensor_parity,
    graph_inputs,
    pair,
)

from graphkit.nn import GCNConv
from graphkit.ops import Adjacency


@pytest.mark.parametrize("case", SQUARE)
@pytest.mark.parametrize("fin, fout", [(6, 4), (6, 11)])  # narrowing, and widening (aggregate first)
def test_parity_with_pyg(any_backend, case, fin, fout):
    torch.manual_seed(0)
    ours, theirs = pair("gcn", fin, fout)
    ei, n, x, w, e = graph_inputs(case, 1, fin)
    check_parity(ours, theirs, "gcn", x, ei, w, e)
    check_parity(ours, theirs, "gcn", x, ei, w, e, graph=Adjacency.from_edge_index(ei, num_nodes=n))
    check_parity(ours, theirs, "gcn", x, ei, None, e)  # unweighted (uses the cached coefficients)


@pytest.mark.parametrize("kw", [dict(improved=True), dict(add_self_loops=False), dict(normalize=False),
                                dict(bias=False)])
@pytest.mark.parametrize("fout", [5, 9])
def test_options_match_pyg(any_backend, kw, fout):
    torch.manual_seed(1)
    ours, theirs = pair("gcn", 6, fout, **kw)
    ei, n, x, w, e = graph_inputs("self_loops", 2)
    check_parity(ours, theirs, "gcn", x, ei, w, e)  # weighted: PyG applies `improved` there


def test_improved_unweighted_uses_two_on_the_diagonal():
    # PyG 2.8.1 ignores `improved` when edge_weight is None (its loops get weight
    # 1); graphkit follows the definition A + 2I, which equals PyG given ones.
    ours, theirs = pair("gcn", 6, 5, improved=True)
    ei, n, x, _, _ = graph_inputs("random", 3)
    ones = torch.ones(ei.size(1), dtype=torch.float64)
    torch.testing.assert_close(ours(x, ei), theirs(x, ei, ones), **TOL)


def test_sparse_tensor_input_matches_pyg_sparse(any_backend):
    check_sparse_tensor_parity("gcn")


@pytest.mark.parametrize("case", ["random", "self_loops", "isolated", "hub"])
def test_permutation_equivariance(any_backend, case):
    torch.manual_seed(4)
    check_equivariance(pair("gcn", 6, 4)[0], "gcn", case)


def test_cached_reuses_its_adjacency():
    conv = GCNConv(6, 4, cached=True).double()
    ei, n, x, _, _ = graph_inputs("random", 7)
    first = conv(x, ei)
    cached = conv._cached_adj
    assert isinstance(cached, Adjacency)
    torch.testing.assert_close(conv(x, ei[:, :3]), first)  # later edge_index ignored, as in PyG
    assert conv._cached_adj is cached
    conv.reset_parameters()
    assert conv._cached_adj is None


def test_weighted_adjacency_gradients_flow_to_edge_weights():
    ei, n, x, w, _ = graph_inputs("random", 9)
    w = w.clone().requires_grad_()
    conv = GCNConv(6, 3).double()
    conv(x, Adjacency.from_edge_index(ei, num_nodes=n), w).sum().backward()
    assert w.grad is not None and torch.isfinite(w.grad).all() and w.grad.abs().sum() > 0


def test_float32_and_float64():
    ei, n, x, _, _ = graph_inputs("random", 8)
    for dtype in (torch.float32, torch.float64):
        out = GCNConv(6, 4).to(dtype)(x.to(dtype), ei)
        assert out.dtype == dtype and out.shape == (n, 4) and torch.isfinite(out).all()
