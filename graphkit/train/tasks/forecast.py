"""Spatio-temporal forecasting on one sensor series."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphkit.data.bundle import Loaded
from graphkit.train.config import TrainConfig
from graphkit.train.tasks.precision import Precision
from graphkit.train.tasks.progress import batch_progress
from graphkit.train.tasks.scoring import TestNeeded, splits_to_score


class ForecastTask:
    """Spatio-temporal forecasting on one sensor series (:class:`~graphkit.data.traffic.ForecastData`).

    Windows are gathered per batch from the series tensor. The model's scaled outputs are de-normalised
    (``scaler.inverse``) before the loss: masked MAE (missing = NaN or the null value) by default, or
    T-GCN's MSE (``train.loss="mse"``). Every evaluation reports, per split, masked MAE / RMSE / MAPE per
    horizon and averaged (``valid`` / ``test`` hold the selection score), and T-GCN's five metrics
    (``<split>_tgcn``) on the pooled horizons.
    """

    def __init__(self, loaded: Loaded, split: dict[str, Tensor], cfg: TrainConfig, device: torch.device):
        from graphkit.ops import SensorGraph

        self.data = loaded.data.to(device)
        self.graph = SensorGraph(self.data.series.adjacency.to(device))
        self.split = split
        self.cfg = cfg
        self.precision = Precision(cfg.amp, device)
        self.device = device
        self.metric = loaded.metric
        self.null = self.data.series.null_value
        if cfg.loss not in ("auto", "masked-mae", "sse"):
            raise ValueError(f"train.loss for forecasting must be 'auto', 'masked-mae' or 'sse', got {cfg.loss!r}")
        self.loss_name = "masked-mae" if cfg.loss == "auto" else cfg.loss

    def _loss(self, out: Tensor, y: Tensor) -> Tensor:
        """Loss of scaled model outputs ``out`` against raw targets ``y``."""
        from graphkit.metrics import masked_mae_loss

        if self.loss_name == "sse":
            return 0.5 * (out - self.data.scaler.transform(y)).square().sum()
        return masked_mae_loss(self.data.scaler.inverse(out), y, self.null)

    def train_epoch(self, model, optimizer, generator: torch.Generator, progress: bool = False) -> float:
        """One pass over shuffled training windows; returns the mean training loss."""
        model.train()
        starts = self.split["train"]
        order = starts[torch.randperm(starts.numel(), generator=generator)]
        chunks = order.split(self.cfg.batch_size)
        total, count = 0.0, 0
        for chunk in batch_progress(chunks, len(chunks), "batches", progress):
            x, y = self.data.windows(chunk)
            with self.precision.autocast():
                out = model(x, self.graph)
            loss = self._loss(out.float(), y)
            self.precision.step(loss, model, optimizer, self.cfg.clip_grad)
            total += loss.detach() * chunk.numel()
            count += chunk.numel()
        return float(total) / max(count, 1)

    @torch.no_grad()
    def predict(self, model, name: str, progress: bool = False) -> tuple[Tensor, Tensor]:
        """``(target, prediction)``, both ``[S, t_out, N]`` in raw units, for every window of split ``name``."""
        model.eval()
        ys, preds = [], []
        chunks = self.split[name].split(max(self.cfg.batch_size, 64))
        for chunk in batch_progress(chunks, len(chunks), f"eval {name}", progress):
            x, y = self.data.windows(chunk)
            preds.append(self.data.scaler.inverse(model(x, self.graph)).float().cpu())
            ys.append(y.cpu())
        return torch.cat(ys), torch.cat(preds)

    def evaluate(self, model, progress: bool = False,
                 test_needed: TestNeeded | None = None) -> dict[str, Any]:
        """Masked MAE / RMSE / MAPE per horizon in original units (and T-GCN's metrics) per split; with
        ``test_needed``, the test split only when ``test_needed(scores so far)`` says so."""
        from graphkit.metrics import ForecastErrors, tgcn_metrics

        scores: dict[str, Any] = {}
        for name in splits_to_score(self.split, self.cfg.eval_train, scores, test_needed):
            y, pred = self.predict(model, name, progress)
            errors = ForecastErrors(self.null)
            errors.update(pred, y)
            res = errors.result()
            scores[name] = res[self.metric.name]
            for k, v in res.items():
                scores[f"{name}_{k}"] = v
            scores[f"{name}_tgcn"] = tgcn_metrics(pred, y)
            if name == "valid":
                scores["valid_loss"] = float(self._loss(self.data.scaler.transform(pred), y))
        return scores
