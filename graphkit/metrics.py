"""Scores: accuracy, and the official OGB evaluators behind one small interface.

A :class:`Metric` is called with ``(y_true, y_pred)`` tensors and returns one
float; it knows its name and whether higher is better, which is all the trainer
needs to select the best validation epoch.

Example::

    >>> m = Accuracy()
    >>> m(torch.tensor([0, 1, 1]), torch.tensor([[2., 1.], [0., 3.], [5., 1.]]))
    0.6666666666666666
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


class Metric:
    """Base: ``name``, ``higher_is_better`` and ``__call__(y_true, y_pred) -> float``."""

    name: str = "metric"
    higher_is_better: bool = True

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> float:
        raise NotImplementedError

    def better(self, a: float, b: float) -> bool:
        """Whether score ``a`` beats ``b`` (NaN never beats anything)."""
        if a != a:
            return False
        if b != b:
            return True
        return a > b if self.higher_is_better else a < b


class Accuracy(Metric):
    """Fraction of correct argmax predictions.

    ``y_true: [N]`` or ``[N, 1]`` class ids; ``y_pred: [N, C]`` scores (or ``[N]``
    predicted ids).
    """

    name = "acc"

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> float:
        y_true = y_true.reshape(-1)
        pred = y_pred.argmax(-1) if y_pred.dim() == 2 else y_pred
        if pred.numel() != y_true.numel():
            raise ValueError(f"accuracy: {pred.numel()} predictions for {y_true.numel()} labels")
        if y_true.numel() == 0:
            return float("nan")
        return (pred.reshape(-1) == y_true).float().mean().item()


class RocAuc(Metric):
    """ROC-AUC of binary targets: ``y_true: [N]``, ``[N, 1]`` or ``[N, T]`` in {0, 1} (NaN = unlabelled),
    ``y_pred``: scores (logits) of the same shape. With several tasks, the mean over the tasks whose
    labelled entries hold both classes (OGB's rule); NaN when no task does (the score is undefined).
    """

    name = "rocauc"

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> float:
        from sklearn.metrics import roc_auc_score

        y_true = y_true.detach().cpu().double()
        y_pred = y_pred.detach().cpu().double()
        if y_pred.numel() != y_true.numel():
            raise ValueError(f"rocauc: {y_pred.numel()} scores for {y_true.numel()} labels")
        y_true = y_true.reshape(y_true.size(0), -1) if y_true.dim() else y_true.reshape(1, 1)
        y_pred = y_pred.reshape(y_true.shape)
        scores = []
        for t in range(y_true.size(1)):
            keep = y_true[:, t] == y_true[:, t]
            labels = y_true[keep, t]
            if len(set(labels.tolist())) == 2:
                scores.append(roc_auc_score(labels.numpy(), y_pred[keep, t].numpy()))
        return float(sum(scores) / len(scores)) if scores else float("nan")


@dataclass
class OGBMetric(Metric):
    """The official ``ogb`` Evaluator for one dataset (``rocauc``, ``ap``, ``rmse``, ``acc``, ``hits@K``).

    Graph and node sets: ``y_true, y_pred: [N, T]`` (node ``acc`` takes class
    scores ``[N, C]`` and passes their argmax, as OGB's scripts do). Link sets:
    ``y_true`` is ignored and ``y_pred`` is the pair ``(pos_scores, neg_scores)``.
    """

    dataset: str

    def __post_init__(self):
        level = self.dataset.split("-")[0]
        if level == "ogbg":
            from ogb.graphproppred import Evaluator
        elif level == "ogbn":
            from ogb.nodeproppred import Evaluator
        elif level == "ogbl":
            from ogb.linkproppred import Evaluator
        else:
            raise ValueError(f"{self.dataset!r} is not an OGB dataset name (ogbg-*, ogbn-*, ogbl-*)")
        self.level = level
        self.evaluator = Evaluator(self.dataset)
        self.name = self.evaluator.eval_metric
        self.higher_is_better = self.name != "rmse"

    def __call__(self, y_true: Tensor | None, y_pred) -> float:
        if self.level == "ogbl":
            pos, neg = y_pred
            out = self.evaluator.eval({"y_pred_pos": pos.detach().cpu(), "y_pred_neg": neg.detach().cpu()})
            return float(out[self.name])
        y_true = y_true.detach().cpu()
        y_pred = y_pred.detach().cpu()
        if self.level == "ogbn" and self.name == "acc":
            y_true = y_true.reshape(-1, 1)
            y_pred = y_pred.argmax(-1, keepdim=True) if y_pred.size(-1) > 1 else y_pred
        if y_true.dim() == 1:
            y_true = y_true.unsqueeze(-1)
        if y_pred.dim() == 1:
            y_pred = y_pred.unsqueeze(-1)
        if self.name in ("rocauc", "ap"):
            # OGB's evaluator skips a task whose labelled entries are all one class;
            # with none left it raises. A tiny split (or batch) can hit that: say so.
            labelled = y_true == y_true
            ok = any(torch.unique(y_true[labelled[:, t], t]).numel() == 2 for t in range(y_true.size(1)))
            if not ok:
                return float("nan")
        return float(self.evaluator.eval({"y_true": y_true, "y_pred": y_pred})[self.name])



# ---------------------------------------------------------------------------- forecasting
def valid_mask(target: Tensor, null_value: float | None = 0.0) -> Tensor:
    """True where ``target`` is observed: not NaN and (when ``null_value`` is not None) not ``null_value``."""
    mask = ~torch.isnan(target)
    if null_value is not None and null_value == null_value:
        mask &= target != null_value
    return mask


def _masked(kind: str, pred: Tensor, target: Tensor, null_value: float | None, dim: int | tuple[int, ...] | None
            ) -> Tensor:
    if pred.shape != target.shape:
        raise ValueError(f"masked_{kind}: pred has shape {tuple(pred.shape)} but target {tuple(target.shape)}")
    mask = valid_mask(target, null_value)
    if kind == "mape":
        mask &= target != 0  # a zero reading has no percentage error
    safe_t = torch.where(mask, target, torch.ones_like(target))
    err = (pred - safe_t).abs()
    if kind == "rmse":
        err = err.square()
    elif kind == "mape":
        err = err / safe_t.abs()
    err = torch.where(mask, err, torch.zeros_like(err))
    dims = tuple(range(pred.dim())) if dim is None else dim
    count = mask.sum(dims).to(err.dtype)
    out = err.sum(dims) / count  # NaN where nothing is observed
    return out.sqrt() if kind == "rmse" else out


def masked_mae(pred: Tensor, target: Tensor, null_value: float | None = 0.0,
               dim: int | tuple[int, ...] | None = None) -> Tensor:
    """Mean absolute error over observed entries (``target`` not NaN and not ``null_value``).

    ``dim``: reduce over these dims only (e.g. ``(0, 2)`` of ``[B, T, N]`` gives one value per horizon);
    default all. A reduction with no observed entry is NaN (there is nothing to score); as a training
    loss use :func:`masked_mae_loss`, which gives 0 there. Gradients flow to ``pred`` only.
    """
    return _masked("mae", pred, target, null_value, dim)


def masked_rmse(pred: Tensor, target: Tensor, null_value: float | None = 0.0,
                dim: int | tuple[int, ...] | None = None) -> Tensor:
    """Root mean squared error over observed entries (see :func:`masked_mae`)."""
    return _masked("rmse", pred, target, null_value, dim)


def masked_mape(pred: Tensor, target: Tensor, null_value: float | None = 0.0,
                dim: int | tuple[int, ...] | None = None) -> Tensor:
    """Mean absolute percentage error (a fraction: 0.07 = 7%) over observed, nonzero targets."""
    return _masked("mape", pred, target, null_value, dim)


def masked_mae_loss(pred: Tensor, target: Tensor, null_value: float | None = 0.0) -> Tensor:
    """:func:`masked_mae` for training: 0 (with zero gradient) when a batch has no observed entry."""
    mask = valid_mask(target, null_value)
    err = torch.where(mask, (pred - torch.where(mask, target, pred.detach())).abs(), torch.zeros_like(pred))
    return err.sum() / mask.sum().clamp_min(1)


class ForecastErrors:
    """Streaming masked MAE / RMSE / MAPE per horizon over a whole split.

    ``update(pred, target)`` with ``[B, T, N]`` de-normalised tensors; ``result()`` gives, per horizon
    ``h`` (1-based) and averaged over horizons (pooled over all entries), ``mae``, ``rmse``, ``mape``.
    """

    def __init__(self, null_value: float | None = 0.0):
        self.null_value = null_value
        self.sums: dict[str, Tensor] = {}

    def update(self, pred: Tensor, target: Tensor) -> None:
        """Add a batch of predictions and targets ``[B, T, ...]`` (T = horizon steps) to the running sums."""
        if pred.shape != target.shape or pred.dim() < 2:
            raise ValueError(f"forecast errors need equal [B, T, ...] shapes, got {tuple(pred.shape)} and "
                             f"{tuple(target.shape)}")
        pred, target = pred.detach().double(), target.detach().double()
        mask = valid_mask(target, self.null_value)
        nz = mask & (target != 0)
        dims = tuple(d for d in range(pred.dim()) if d != 1)
        t = torch.where(mask, target, torch.zeros_like(target))
        err = torch.where(mask, (pred - t).abs(), torch.zeros_like(pred))
        ape = torch.where(nz, err / torch.where(nz, t.abs(), torch.ones_like(t)), torch.zeros_like(pred))
        parts = {"abs": err.sum(dims), "sq": err.square().sum(dims), "ape": ape.sum(dims),
                 "n": mask.sum(dims).double(), "n_nz": nz.sum(dims).double()}
        for k, v in parts.items():
            self.sums[k] = self.sums[k] + v.cpu() if k in self.sums else v.cpu()

    def result(self) -> dict[str, Any]:
        """Masked MAE / RMSE / MAPE per horizon step and averaged over steps, from everything added."""
        if not self.sums:
            raise ValueError("no predictions were added")
        s = self.sums
        per = {"mae": s["abs"] / s["n"], "rmse": (s["sq"] / s["n"]).sqrt(), "mape": s["ape"] / s["n_nz"]}
        out: dict[str, Any] = {
            "mae": float(s["abs"].sum() / s["n"].sum()),
            "rmse": float((s["sq"].sum() / s["n"].sum()).sqrt()),
            "mape": float(s["ape"].sum() / s["n_nz"].sum()),
        }
        for k, v in per.items():
            out[f"{k}_per_horizon"] = [float(x) for x in v]
        return out


def tgcn_metrics(pred: Tensor, target: Tensor) -> dict[str, float]:
    """T-GCN's evaluation over all entries (no masking), as its reference code computes it.

    ``rmse``, ``mae``; ``accuracy = 1 - ||Y - Yhat||_F / ||Y||_F``; ``r2 = 1 - SSE / SST`` (SST about the
    mean of all of ``Y``); ``explained_variance = 1 - Var(Y - Yhat) / Var(Y)``.
    """
    if pred.shape != target.shape:
        raise ValueError(f"tgcn_metrics: pred {tuple(pred.shape)} vs target {tuple(target.shape)}")
    y, p = target.detach().double().reshape(-1), pred.detach().double().reshape(-1)
    diff = y - p
    return {
        "rmse": float(diff.square().mean().sqrt()),
        "mae": float(diff.abs().mean()),
        "accuracy": float(1 - diff.norm() / y.norm()),
        "r2": float(1 - diff.square().sum() / (y - y.mean()).square().sum()),
        "explained_variance": float(1 - diff.var(unbiased=False) / y.var(unbiased=False)),
    }


class ForecastScore(Metric):
    """Selection score of a forecasting run: ``mae`` or ``rmse`` (lower is better), read from the task."""

    higher_is_better = False

    def __init__(self, name: str = "mae"):
        if name not in ("mae", "rmse"):
            raise ValueError(f"forecast score must be 'mae' or 'rmse', got {name!r}")
        self.name = name

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> float:
        fn = masked_mae if self.name == "mae" else masked_rmse
        return float(fn(y_pred, y_true))


class AveragePrecision(Metric):
    """Average precision per binary task, averaged over tasks that have both classes among the labelled
    entries (NaN = unlabelled), as OGB's ``ap`` and LRGB's Peptides-func report it.
    ``y_true, y_pred: [N, T]`` (scores may be logits)."""

    name = "ap"

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> float:
        from sklearn.metrics import average_precision_score

        y_true = y_true.detach().reshape(y_true.size(0), -1).cpu().double()
        y_pred = y_pred.detach().reshape(y_pred.size(0), -1).cpu().double()
        if y_true.shape != y_pred.shape:
            raise ValueError(f"ap: predictions {tuple(y_pred.shape)} vs labels {tuple(y_true.shape)}")
        scores = []
        for t in range(y_true.size(1)):
            keep = y_true[:, t] == y_true[:, t]
            labels = y_true[keep, t]
            if labels.numel() and 0 < float(labels.sum()) < labels.numel():
                scores.append(average_precision_score(labels.numpy(), y_pred[keep, t].numpy()))
        return float(sum(scores) / len(scores)) if scores else float("nan")


class MeanAbsoluteError(Metric):
    """Mean absolute error over all labelled entries (NaN = unlabelled): ZINC, Peptides-struct."""

    name = "mae"
    higher_is_better = False

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> float:
        y_true = y_true.detach().reshape(y_pred.shape).double()
        keep = y_true == y_true
        if not bool(keep.any()):
            return float("nan")
        return float((y_pred.detach().double() - y_true)[keep].abs().mean())
