"""Metrics: accuracy and the OGB Evaluator wrapper (wiring, shapes, degenerate splits)."""
import math

import pytest
import torch

from graphkit.metrics import Accuracy, OGBMetric

pytest.importorskip("ogb")


def test_accuracy():
    m = Accuracy()
    assert m(torch.tensor([0, 1, 2]), torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 1, 0]])) == pytest.approx(2 / 3)
    assert m.better(0.5, 0.4) and not m.better(float("nan"), 0.1) and m.better(0.1, float("nan"))
    with pytest.raises(ValueError, match="predictions"):
        m(torch.tensor([0, 1]), torch.tensor([0]))


def test_rocauc_matches_sklearn_and_ignores_unlabelled():
    from sklearn.metrics import roc_auc_score

    torch.manual_seed(0)
    y = torch.randint(0, 2, (50, 1)).float()
    p = torch.randn(50, 1)
    m = OGBMetric("ogbg-molhiv")
    assert m.name == "rocauc" and m.higher_is_better
    assert m(y, p) == pytest.approx(roc_auc_score(y.numpy(), p.numpy()))
    y_nan = y.clone()
    y_nan[:5] = float("nan")
    assert m(y_nan, p) == pytest.approx(roc_auc_score(y[5:].numpy(), p[5:].numpy()))


def test_single_class_split_gives_nan_not_a_crash():
    assert math.isnan(OGBMetric("ogbg-molhiv")(torch.zeros(4, 1), torch.randn(4, 1)))
    assert math.isnan(OGBMetric("ogbg-molpcba")(torch.full((4, 2), float("nan")), torch.randn(4, 2)))


def test_node_accuracy_takes_class_scores():
    m = OGBMetric("ogbn-arxiv")
    y = torch.tensor([[1], [2]])
    assert m(y, torch.tensor([[0.0, 5, 0], [0, 0, 3]])) == 1.0


def test_rmse_lower_is_better_and_link_hits():
    m = OGBMetric("ogbg-molesol")
    assert not m.higher_is_better and m.better(0.5, 1.0)
    assert m(torch.tensor([[1.0], [3.0]]), torch.tensor([[1.0], [1.0]])) == pytest.approx(2 ** 0.5)
    hits = OGBMetric("ogbl-ddi")
    assert hits(None, (torch.tensor([1.0, -1.0]), torch.zeros(100))) == 0.5


def test_non_ogb_name():
    with pytest.raises(ValueError, match="not an OGB dataset"):
        OGBMetric("cora")
