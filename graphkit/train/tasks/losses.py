"""The training loss of each task kind (masked where labels are missing)."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def loss_fn(task: str, kind: str = "auto") -> Callable[[Tensor, Tensor], Tensor]:
    """Training loss for ``multiclass`` (cross entropy), ``binary`` (BCE) or ``regression`` (MSE, or L1 with
    ``kind="l1"``: ZINC's and Peptides-struct's).

    Binary and regression targets may hold NaN for unlabelled entries (OGB's
    multi-task sets); those entries are left out, as OGB's scripts do.
    """
    if kind not in ("auto", "l1"):
        raise ValueError(f"train.loss for {task} tasks must be 'auto' or 'l1', got {kind!r}")
    if kind == "l1" and task != "regression":
        raise ValueError(f"train.loss='l1' is a regression loss; this task is {task}")
    if task == "multiclass":
        return lambda out, y: F.cross_entropy(out, y.reshape(-1).long())

    def masked(out: Tensor, y: Tensor) -> Tensor:
        # Weights instead of a boolean index: the same mean over labelled entries, without the host-device
        # synchronisation a data-dependent shape costs on a GPU.
        y = y.to(out.dtype).reshape(out.shape)
        labelled = y == y
        target = torch.where(labelled, y, torch.zeros((), dtype=y.dtype, device=y.device))
        if task == "binary":
            each = F.binary_cross_entropy_with_logits(out, target, reduction="none")
        elif kind == "l1":
            each = (out - target).abs()
        else:
            each = (out - target).square()
        weight = labelled.to(out.dtype)
        # a batch without any label contributes 0 (and no gradient), not 0/0
        return (each * weight).sum() / weight.sum().clamp(min=1)

    if task not in ("binary", "regression"):
        raise ValueError(f"no loss for task {task!r}")
    return masked
