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
    """ROC-AUC of one binary target: ``y_true: [N]`` or ``[N, 1]`` in {0, 1}, ``y_pred``: scores (logits).

    NaN when the labels hold a single class (the score is undefined there).
    """

    name = "rocauc"

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> float:
        from sklearn.metrics import roc_auc_score

        y_true = y_true.detach().reshape(-1).cpu().numpy()
        y_pred = y_pred.detach().reshape(-1).float().cpu().numpy()
        if y_pred.shape != y_true.shape:
            raise ValueError(f"rocauc: {y_pred.size} scores for {y_true.size} labels (one binary target expected)")
        if len(set(y_true.tolist())) < 2:
            return float("nan")
        return float(roc_auc_score(y_true, y_pred))


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

