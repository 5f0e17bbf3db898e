"""A traffic series as read from any of the field's formats: values, missing mask, calendar, graph."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from graphkit.data.root import DatasetFormatError


class TrafficFormatError(DatasetFormatError):
    """A traffic data file is present but does not have the expected layout."""


@dataclass
class TrafficSeries:
    """One recorded traffic series on a sensor graph, in raw units.

    Attributes:
        name: canonical name (``METR-LA``, ``Los-loop``, ``PEMS04`` ...).
        values: ``[T, N, C]`` float32 readings (channel 0 is the forecast target).
        mask: ``[T, N]`` bool, True where the target reading is observed (not ``null_value``, not NaN).
        adjacency: ``[N, N]`` float32 weights, ``adjacency[i, j]`` = weight of sensor ``i -> j`` (a road
            graph is directed; models read it as given).
        sensor_ids: the ``N`` sensor ids in column order.
        steps_per_day: readings per day (288 at 5 min).
        time_of_day: ``[T]`` float in ``[0, 1)``.
        day_of_week: ``[T]`` int64 in ``0..6`` (Monday = 0), or None where the dates are unknown.
        null_value: the reading that means "missing" (0 for the speed/flow sets).
    """

    name: str
    values: Tensor
    mask: Tensor
    adjacency: Tensor
    sensor_ids: list[str]
    steps_per_day: int
    time_of_day: Tensor
    day_of_week: Tensor | None
    null_value: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_steps(self) -> int:
        """Number of time steps in the series."""
        return self.values.size(0)

    @property
    def num_nodes(self) -> int:
        """Number of sensors."""
        return self.values.size(1)


def calendar(start: str | None, steps: int, steps_per_day: int,
             index: Any = None) -> tuple[Tensor, Tensor | None]:
    """``(time_of_day [T], day_of_week [T] | None)`` from a DatetimeIndex, or from a start date and the step."""
    if index is not None:
        minutes = np.asarray(index.hour * 60 + index.minute, dtype=np.float64)
        tod = torch.from_numpy(minutes / 1440.0).float()
        return tod, torch.from_numpy(np.asarray(index.day_of_week, dtype=np.int64))
    step = torch.arange(steps)
    tod = (step % steps_per_day).float() / steps_per_day
    if start is None:
        return tod, None
    first = dt.date.fromisoformat(start).weekday()
    return tod, (first + step // steps_per_day) % 7


def _series(name: str, values: np.ndarray, adjacency: np.ndarray, ids: list[str], steps_per_day: int,
            start: str | None, index: Any = None, null_value: float = 0.0, **extra) -> TrafficSeries:
    if values.ndim == 2:
        values = values[:, :, None]
    t, n, _ = values.shape
    if adjacency.shape != (n, n):
        raise TrafficFormatError(f"{name}: the adjacency is {adjacency.shape} but the series has {n} sensors")
    if not np.isfinite(adjacency).all():
        raise TrafficFormatError(f"{name}: the adjacency holds NaN or inf")
    vals = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
    if torch.isinf(vals).any():
        raise TrafficFormatError(f"{name}: the series holds inf values")
    target = vals[..., 0]
    mask = ~torch.isnan(target) & (target != null_value)
    tod, dow = calendar(start, t, steps_per_day, index)
    return TrafficSeries(name, vals, mask, torch.from_numpy(adjacency.astype(np.float32)), [str(i) for i in ids],
                         steps_per_day, tod, dow, null_value, dict(extra))
