"""Bad input raises a clear error that names the argument and the problem."""
from __future__ import annotations

import pytest
import torch

from graphkit import backend
from graphkit.nn import GCNConv, GINConv, GINEConv
from graphkit.ops import Adjacency, degree, gather, scatter, segment, spmm

X = torch.randn(5, 4)
EI = torch.tensor([[0, 1, 2], [1, 2, 3]])


@pytest.mark.parametrize("call, err, words", [
    (lambda: spmm(EI.float(), X), TypeError, ["edge_index", "int64"]),
    (lambda: spmm(EI[:1], X), ValueError, ["edge_index", "[2, E]"]),
    (lambda: spmm(torch.tensor([[0, 7], [1, 2]]), X), ValueError, ["edge_index[0]", "7", "5 nodes"]),
    (lambda: spmm(torch.tensor([[0, 1], [1, 9]]), X), ValueError, ["edge_index[1]", "9"]),
    (lambda: spmm(torch.tensor([[0, -1], [1, 2]]), X), ValueError, ["negative"]),
    (lambda: spmm(EI, X, edge_weight=torch.ones(4)), ValueError, ["edge_weight", "3 edges"]),
    (lambda: spmm(EI, X, edge_weight=torch.ones(3, dtype=torch.long)), TypeError, ["edge_weight", "floating"]),
    (lambda: spmm(EI, X.long()), TypeError, ["x", "floating"]),
    (lambda: spmm(EI, X, reduce="median"), ValueError, ["median"]),
    (lambda: spmm([[0, 1], [1, 2]], X), TypeError, ["edge_index", "list"]),
    (lambda: spmm(Adjacency.from_edge_index(EI, num_nodes=4), X), ValueError, ["x has 5 rows", "4 source nodes"]),
    (lambda: scatter(X, torch.tensor([0, 1, 2]), 3), ValueError, ["index", "3 entries", "5"]),
    (lambda: scatter(X, torch.tensor([0, 1, 2, 3, 4]), 3), ValueError, ["index", "4", "output size 3"]),
    (lambda: scatter(X, torch.arange(5), -1), ValueError, ["num_out"]),
    (lambda: scatter(X, torch.arange(5), 5.0), TypeError, ["num_out", "int"]),
    (lambda: segment(X, torch.tensor([0, 2, 4])), ValueError, ["ptr", "end at 5"]),
    (lambda: gather(X, torch.tensor([5])), ValueError, ["index", "5"]),
    (lambda: degree(torch.tensor([0, 6]), 5), ValueError, ["index", "6"]),
    (lambda: GCNConv(4, 2)(torch.randn(3, 4), EI), ValueError, ["edge_index", "3 nodes"]),
    (lambda: GCNConv(4, 2)(torch.randn(5, 3), EI), ValueError, ["in_channels=4"]),
    (lambda: GCNConv(4, 2)(torch.randn(5, 4), EI, torch.ones(2)), ValueError, ["edge_weight"]),
    (lambda: GINConv(torch.nn.Identity())(torch.randn(5), EI), ValueError, ["x", "at least 2 dims"]),
    (lambda: GINEConv(torch.nn.Linear(4, 4))(X, EI), ValueError, ["edge_attr"]),
    (lambda: GINEConv(torch.nn.Linear(4, 4))(X, EI, torch.randn(3, 2)), ValueError, ["edge_attr", "edge_dim"]),
    (lambda: GINEConv(torch.nn.Linear(4, 4), edge_dim=2)(X, EI, torch.randn(2, 2)), ValueError,
     ["edge_attr", "3 edges"]),
])
def test_bad_input_is_named(call, err, words):
    with pytest.raises(err) as info:
        call()
    for w in words:
        assert w in str(info.value), f"{w!r} not in {info.value!s}"


def test_nan_check_only_when_requested():
    x = X.clone()
    x[2, 1] = float("nan")
    x[0, 0] = float("inf")
    spmm(EI, x)  # default level 'shapes' lets it through (the check costs a pass over x)
    with backend.validation("full"), pytest.raises(ValueError, match=r"x contains non-finite values \(1 NaN, 1 inf\)"):
        spmm(EI, x)
    with backend.validation("full"), pytest.raises(ValueError, match="edge_weight contains non-finite"):
        spmm(EI, X, edge_weight=torch.tensor([1.0, float("nan"), 1.0]))


def test_validation_off_skips_checks(monkeypatch):
    monkeypatch.setenv("GRAPHKIT_VALIDATE", "off")
    assert backend.validation_level() == "off"
    # still correct on good input
    torch.testing.assert_close(spmm(EI, X), spmm(EI, X))
    monkeypatch.setenv("GRAPHKIT_VALIDATE", "everything")
    with pytest.raises(ValueError, match="GRAPHKIT_VALIDATE"):
        backend.validation_level()
