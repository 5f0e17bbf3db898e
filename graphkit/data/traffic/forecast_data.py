"""A series prepared for training (:class:`ForecastData`) and as a trainer-ready data set
(:func:`forecast_task`)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from graphkit.data.bundle import ForecastShape
from graphkit.data.checks import checked_loader
from graphkit.data.traffic.scalers import MaxScaler, StandardScaler
from graphkit.data.traffic.series import TrafficSeries
from graphkit.data.traffic.sets import SERIES, load_series
from graphkit.data.traffic.windows import window_starts


@dataclass
class ForecastData:
    """A traffic series prepared for training: model inputs, targets, windows, scaler.

    Attributes:
        series: the raw :class:`TrafficSeries`.
        inputs: ``[T, N, F]`` float32 model inputs: the scaled target channel, then the covariates
            (time of day in ``[0, 1)``; day of week one-hot when asked for).
        target: ``[T, N]`` raw target values (``series.values[..., 0]``), for losses and metrics.
        starts: per split, the start step of each window.
        t_in, t_out: input and output lengths.
        scaler: maps raw values to model scale and back (:meth:`StandardScaler.inverse` is exact).
        protocol: the lineage name (see :data:`PROTOCOLS`).
    """

    series: TrafficSeries
    inputs: Tensor
    target: Tensor
    starts: dict[str, Tensor]
    t_in: int
    t_out: int
    scaler: StandardScaler | MaxScaler
    protocol: str

    @property
    def num_nodes(self) -> int:
        """Number of sensors."""
        return self.series.num_nodes

    @property
    def num_features(self) -> int:
        """Input channels per sensor and step (the signal plus any time covariates)."""
        return self.inputs.size(-1)

    def windows(self, starts: Tensor) -> tuple[Tensor, Tensor]:
        """``(x [B, t_in, N, F], y [B, t_out, N])`` for windows starting at ``starts: [B]`` (gathered now)."""
        starts = starts.reshape(-1, 1).to(self.inputs.device)
        x = self.inputs[starts + torch.arange(self.t_in, device=starts.device)]
        y = self.target[starts + self.t_in + torch.arange(self.t_out, device=starts.device)]
        return x, y

    def to(self, device: torch.device | str) -> "ForecastData":
        return ForecastData(self.series, self.inputs.to(device), self.target.to(device),
                            self.starts, self.t_in, self.t_out, self.scaler, self.protocol)


def prepare(series: TrafficSeries, protocol: str = "dcrnn", t_in: int = 12, t_out: int = 12,
            time_of_day: bool = True, day_of_week: bool = False, scale_missing: bool = True) -> ForecastData:
    """Splits, scaler and inputs for ``series`` under ``protocol`` (see :func:`window_starts`).

    The scaler is fitted on the steps the training windows read as inputs (DCRNN fits on ``x_train``,
    missing zeros included; ``scale_missing=False`` leaves them out). T-GCN's protocol divides by the
    series maximum and uses no covariates unless asked.
    """
    starts = window_starts(series.num_steps, t_in, t_out, protocol, series.steps_per_day)
    target = series.values[..., 0]
    if protocol == "tgcn":
        scaler: StandardScaler | MaxScaler = MaxScaler(float(torch.nan_to_num(target, nan=0.0).max()))
        if not scaler.max > 0:
            raise ValueError(f"{series.name}: the series maximum is {scaler.max}; cannot scale by it")
    else:
        seen = torch.zeros(series.num_steps, dtype=torch.bool)
        tr = starts["train"]
        seen[(tr[:, None] + torch.arange(t_in)).reshape(-1)] = True
        vals = target[seen]
        keep = ~torch.isnan(vals)
        if not scale_missing:
            keep &= series.mask[seen]
        vals = vals[keep].double()
        if vals.numel() < 2:
            raise ValueError(f"{series.name}: fewer than 2 observed training values; cannot fit the scaler")
        std = float(vals.std(unbiased=False))
        scaler = StandardScaler(float(vals.mean()), std if std > 0 else 1.0)
    scaled = scaler.transform(torch.nan_to_num(target, nan=series.null_value))
    feats = [scaled.unsqueeze(-1)]
    n = series.num_nodes
    if time_of_day:
        feats.append(series.time_of_day.view(-1, 1, 1).expand(-1, n, 1))
    if day_of_week:
        if series.day_of_week is None:
            raise ValueError(f"{series.name} has no dates, so no day-of-week covariate")
        onehot = torch.nn.functional.one_hot(series.day_of_week, 7).float()
        feats.append(onehot.view(-1, 1, 7).expand(-1, n, 7))
    inputs = torch.cat(feats, dim=-1).contiguous()
    return ForecastData(series, inputs, target.contiguous(), starts, t_in, t_out, scaler, protocol)


def describe(data: ForecastData) -> str:
    """One line describing prepared forecasting data: sensors, steps, windows per split, missing share."""
    s = data.series
    sizes = "/".join(str(len(v)) for v in data.starts.values())
    missing = 1.0 - float(s.mask.float().mean())
    return (f"{s.name}: {s.num_steps} steps x {s.num_nodes} sensors, {data.num_features} input features, "
            f"{data.t_in} -> {data.t_out} steps, protocol {data.protocol}, windows {sizes}, "
            f"{missing:.2%} missing, {int((s.adjacency != 0).sum())} graph entries")


@checked_loader
def forecast_task(name: str, root: str | Path | None = None, protocol: str = "auto", t_in: int = 12,
                  t_out: int = 12, covariates: str = "auto"):
    """A traffic set as a :class:`~graphkit.data.Loaded` of level ``forecast`` for the trainer.

    ``protocol="auto"`` takes the set's lineage (METR-LA/PEMS-BAY ``dcrnn``, PEMS0X ``astgcn``, PeMSD7(M)
    ``stgcn``, Los-loop/SZ-taxi ``tgcn``). The selection score is masked MAE on the validation windows,
    or test RMSE under the ``tgcn`` protocol (which has no validation split).
    """
    from graphkit.data.bundle import Loaded
    from graphkit.metrics import ForecastScore

    key = name.lower()
    series = load_series(key, root)
    protocol = SERIES[key].lineage if protocol == "auto" else protocol
    if covariates == "auto":
        covariates = "none" if protocol == "tgcn" else "tod"
    data = prepare(series, protocol, t_in, t_out, time_of_day=covariates != "none", day_of_week="dow" in covariates)
    metric = ForecastScore("rmse" if protocol == "tgcn" else "mae")
    return Loaded(name=series.name, level="forecast", task="regression", num_features=data.num_features,
                  num_outputs=t_out, metric=metric, data=data, split=dict(data.starts),
                  forecast=ForecastShape(t_in, t_out, series.num_nodes, protocol, describe(data)))
