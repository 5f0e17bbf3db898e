"""Masked forecasting metrics against a NumPy reference (missing = null value or NaN, all-missing windows),
the streaming per-horizon accumulator, the training loss, and T-GCN's five metrics."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from graphkit.metrics import (
    ForecastErrors,
    ForecastScore,
    masked_mae,
    masked_mae_loss,
    masked_mape,
    masked_rmse,
    tgcn_metrics,
)


def np_masked(kind, pred, target, null=0.0, axis=None):
    """Reference: select the observed entries explicitly, then average."""
    mask = ~np.isnan(target)
    if null is not None:
        mask &= target != null
    if kind == "mape":
        mask &= target != 0
    err = np.where(mask, np.abs(pred - np.nan_to_num(target)), 0.0)
    if kind == "rmse":
        err = err ** 2
    if kind == "mape":
        err = err / np.where(mask, np.abs(np.nan_to_num(target)), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = err.sum(axis=axis) / mask.sum(axis=axis)
    return np.sqrt(out) if kind == "rmse" else out


def _case(seed=0, b=5, t=4, n=6):
    rng = np.random.default_rng(seed)
    target = rng.uniform(10, 70, (b, t, n))
    target[rng.random(target.shape) < 0.2] = 0.0
    target[rng.random(target.shape) < 0.1] = np.nan
    target[2] = 0.0  # one window with every reading missing
    pred = target + rng.normal(0, 3, target.shape)
    pred = np.nan_to_num(pred, nan=50.0)
    return pred, target


FNS = {"mae": masked_mae, "rmse": masked_rmse, "mape": masked_mape}


@pytest.mark.parametrize("kind", list(FNS))
@pytest.mark.parametrize("null", [0.0, None])
def test_masked_metrics_match_numpy(kind, null):
    pred, target = _case()
    got = FNS[kind](torch.from_numpy(pred), torch.from_numpy(target), null_value=null)
    assert got.item() == pytest.approx(float(np_masked(kind, pred, target, null)), rel=1e-10)
    per_h = FNS[kind](torch.from_numpy(pred), torch.from_numpy(target), null_value=null, dim=(0, 2))
    assert np.allclose(per_h.numpy(), np_masked(kind, pred, target, null, axis=(0, 2)))
    per_window = FNS[kind](torch.from_numpy(pred), torch.from_numpy(target), null_value=null, dim=(1, 2))
    ref = np_masked(kind, pred, target, null, axis=(1, 2))
    assert np.allclose(per_window.numpy(), ref, equal_nan=True)
    if null == 0.0:
        assert torch.isnan(per_window[2])  # the all-missing window has no score, not 0


def test_unmasked_differs_when_zeros_present():
    pred, target = _case()
    masked = masked_mae(torch.from_numpy(pred), torch.from_numpy(target)).item()
    unmasked = masked_mae(torch.from_numpy(pred), torch.from_numpy(np.nan_to_num(target, nan=1.0)),
                          null_value=None).item()
    assert unmasked > masked + 1  # predicting ~50 where the "reading" is 0 costs a lot


def test_masked_loss_gradient_and_all_missing():
    pred, target = _case()
    p = torch.from_numpy(pred).requires_grad_()
    loss = masked_mae_loss(p, torch.from_numpy(target))
    assert loss.item() == pytest.approx(float(np_masked("mae", pred, target)))
    loss.backward()
    mask = ~np.isnan(target) & (target != 0)
    assert torch.all(p.grad[torch.from_numpy(~mask)] == 0)
    assert torch.isfinite(p.grad).all()
    q = torch.ones(2, 3, requires_grad=True)
    empty = masked_mae_loss(q, torch.zeros(2, 3))
    empty.backward()
    assert empty.item() == 0 and torch.all(q.grad == 0)


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match="shape"):
        masked_mae(torch.zeros(2, 3), torch.zeros(3, 2))


def test_forecast_errors_stream_equals_one_shot():
    pred, target = _case(b=12)
    acc = ForecastErrors()
    for i in range(0, 12, 5):
        acc.update(torch.from_numpy(pred[i:i + 5]), torch.from_numpy(target[i:i + 5]))
    res = acc.result()
    for kind in FNS:
        assert res[kind] == pytest.approx(float(np_masked(kind, pred, target)), rel=1e-9)
        assert np.allclose(res[f"{kind}_per_horizon"], np_masked(kind, pred, target, axis=(0, 2)))
    with pytest.raises(ValueError, match="no predictions"):
        ForecastErrors().result()


def test_tgcn_metrics_reference():
    rng = np.random.default_rng(3)
    y = rng.uniform(20, 70, (50, 8))
    p = y + rng.normal(0, 4, y.shape)
    got = tgcn_metrics(torch.from_numpy(p), torch.from_numpy(y))
    assert got["rmse"] == pytest.approx(np.sqrt(np.mean((y - p) ** 2)))
    assert got["mae"] == pytest.approx(np.mean(np.abs(y - p)))
    assert got["accuracy"] == pytest.approx(1 - np.linalg.norm(y - p) / np.linalg.norm(y))
    assert got["r2"] == pytest.approx(1 - ((y - p) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    assert got["explained_variance"] == pytest.approx(1 - np.var(y - p) / np.var(y))
    perfect = tgcn_metrics(torch.from_numpy(y), torch.from_numpy(y))
    assert perfect["accuracy"] == 1 and perfect["r2"] == 1 and perfect["rmse"] == 0


def test_forecast_score():
    m = ForecastScore("mae")
    assert not m.higher_is_better and m.better(1.0, 2.0)
    with pytest.raises(ValueError, match="mae"):
        ForecastScore("acc")
