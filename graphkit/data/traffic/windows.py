"""Chronological window splits of each lineage (DCRNN, ASTGCN, STGCN, T-GCN)."""
from __future__ import annotations

import torch
from torch import Tensor

PROTOCOLS = {
    "dcrnn": "70/10/20 of the windows, chronological; z-score on the training inputs",
    "astgcn": "60/20/20 of the windows, chronological; z-score on the training inputs",
    "stgcn": "34 train / 5 valid days, the rest test; windows inside one day; z-score on the training days",
    "tgcn": "first 80% of the steps train, rest test (no validation); divide by the series maximum",
}


def window_starts(num_steps: int, t_in: int, t_out: int, protocol: str, steps_per_day: int = 288,
                  train_days: int = 34, valid_days: int = 5) -> dict[str, Tensor]:
    """Start step of every window (inputs ``[s, s + t_in)``, targets ``[s + t_in, s + t_in + t_out)``) per split.

    * ``dcrnn`` / ``astgcn``: all ``T - t_in - t_out + 1`` windows in time order, cut 70/10/20 (60/20/20) by
      count as DCRNN's ``generate_training_data.py`` does (test and train rounded, valid the rest).
    * ``stgcn``: windows that fit inside one day; days ``[0, 34)`` train, ``[34, 39)`` valid, the rest test.
    * ``tgcn``: the series is cut at ``int(0.8 T)``; each part yields ``len - t_in - t_out`` windows (T-GCN's
      loop bound, which leaves out each part's last possible window).
    """
    span = t_in + t_out
    if t_in < 1 or t_out < 1:
        raise ValueError(f"t_in and t_out must be >= 1, got {t_in}, {t_out}")
    if protocol in ("dcrnn", "astgcn"):
        count = num_steps - span + 1
        if count < 3:
            raise ValueError(f"{num_steps} steps give {max(count, 0)} windows of {span} steps; need at least 3")
        test_frac, train_frac = (0.2, 0.7) if protocol == "dcrnn" else (0.2, 0.6)
        n_test, n_train = round(count * test_frac), round(count * train_frac)
        n_valid = count - n_test - n_train
        s = torch.arange(count)
        return {"train": s[:n_train], "valid": s[n_train:n_train + n_valid], "test": s[n_train + n_valid:]}
    if protocol == "stgcn":
        days = num_steps // steps_per_day
        if days <= train_days + valid_days:
            raise ValueError(f"{num_steps} steps hold {days} days; the STGCN split needs more than "
                             f"{train_days + valid_days}")
        per_day = torch.arange(steps_per_day - span + 1)
        if per_day.numel() == 0:
            raise ValueError(f"a window of {span} steps does not fit into a day of {steps_per_day}")

        def days_range(a: int, b: int) -> Tensor:
            return (torch.arange(a, b)[:, None] * steps_per_day + per_day).reshape(-1)
        return {"train": days_range(0, train_days), "valid": days_range(train_days, train_days + valid_days),
                "test": days_range(train_days + valid_days, days)}
    if protocol == "tgcn":
        cut = int(num_steps * 0.8)
        n_train, n_test = cut - span, num_steps - cut - span
        if n_train < 1 or n_test < 1:
            raise ValueError(f"{num_steps} steps are too few for T-GCN's 80/20 split with {span}-step windows")
        return {"train": torch.arange(n_train), "test": cut + torch.arange(n_test)}
    raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
