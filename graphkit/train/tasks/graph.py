"""Mini-batch graph-level prediction."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphkit.data.bundle import Loaded
from graphkit.data.checks import split_indices
from graphkit.train import distributed
from graphkit.train.batches import RandomBatches, Sharded, ShuffledBatches, StoreBatches, device_store
from graphkit.train.config import TrainConfig
from graphkit.train.tasks.losses import loss_fn
from graphkit.train.tasks.precision import Precision
from graphkit.train.tasks.progress import batch_progress
from graphkit.train.tasks.scoring import TestNeeded, splits_to_score


class GraphTask:
    """Mini-batch graph-level prediction (classification or regression)."""

    def __init__(self, loaded: Loaded, split: dict[str, Tensor], cfg: TrainConfig, device: torch.device):
        self.dataset = loaded.dataset
        self.split = split_indices(split, len(self.dataset), f"{loaded.name} split")
        self.cfg = cfg
        self.precision = Precision(cfg.amp, device)
        self.device = device
        self.metric = loaded.metric
        self.task = loaded.task
        self.loss = loss_fn(loaded.task, cfg.loss)
        self._eval_loaders: dict[str, Any] = {}
        self.store = device_store(self.dataset, device) if cfg.collate == "auto" and cfg.num_workers == 0 else None

    def _loader(self, idx: Tensor, generator: torch.Generator | None, batch_size: int, iters: int = 0):
        """Batches of the graphs ``idx``: shuffled with ``generator`` (training), else in order. Assembled on
        the device by the :class:`GraphStore` when there is one, else by PyG's DataLoader; both give the same
        batches in the same order, drawing the same random numbers."""
        if self.store is not None:
            return StoreBatches(self.store, idx, generator, batch_size, iters)
        from torch_geometric.loader import DataLoader

        subset = self.dataset[idx]
        if iters > 0:
            batches = Sharded(RandomBatches(len(subset), batch_size, iters, generator))
            return DataLoader(subset, batch_sampler=batches, num_workers=self.cfg.num_workers, generator=generator)
        if generator is not None:
            batches = Sharded(ShuffledBatches(len(subset), batch_size, generator))
            return DataLoader(subset, batch_sampler=batches, num_workers=self.cfg.num_workers, generator=generator)
        if distributed.world_size() > 1:  # evaluation: this rank's share; predictions are gathered
            subset = self.dataset[distributed.shard(idx)]
        return DataLoader(subset, batch_size=batch_size, shuffle=False, num_workers=self.cfg.num_workers)

    def _targets(self, batch) -> Tensor:
        return batch.y.reshape(-1) if self.task == "multiclass" else batch.y.reshape(batch.num_graphs, -1)

    def train_epoch(self, model, optimizer, generator: torch.Generator, progress: bool = False) -> float:
        """One pass over shuffled training batches (or ``iters_per_epoch`` random ones); returns the mean loss."""
        model.train()
        loader = self._loader(self.split["train"], generator, self.cfg.batch_size, self.cfg.iters_per_epoch)
        total, count = 0.0, 0
        for batch in batch_progress(loader, len(loader), "batches", progress):
            batch = batch.to(self.device)
            with self.precision.autocast():
                loss = self.loss(model(batch).float(), self._targets(batch))
            weight = distributed.loss_weight(batch.num_graphs)  # 1 alone; this rank's share of the batch in DDP
            self.precision.step(loss * weight, model, optimizer, self.cfg.clip_grad)
            total += loss.detach() * batch.num_graphs
            count += batch.num_graphs
        return float(total) / max(count, 1)  # read once per epoch, not once per step

    @torch.no_grad()
    def predict(self, model, name: str, progress: bool = False) -> tuple[Tensor, Tensor]:
        """``(y_true, y_pred)`` over split ``name``, in dataset order."""
        model.eval()
        if name not in self._eval_loaders:
            # Larger batches only speed evaluation up: BatchNorm uses running stats here.
            self._eval_loaders[name] = self._loader(self.split[name], None, max(self.cfg.batch_size, 256))
        loader = self._eval_loaders[name]
        ys, outs = [], []
        for batch in batch_progress(loader, len(loader), f"eval {name}", progress):
            batch = batch.to(self.device)
            outs.append(model(batch).float().cpu())
            ys.append(self._targets(batch).cpu())
        return distributed.gather(torch.cat(ys)), distributed.gather(torch.cat(outs))

    def evaluate(self, model, progress: bool = False,
                 test_needed: TestNeeded | None = None) -> dict[str, float]:
        """Scores on every split (and the validation loss); under DDP, gathered from all ranks. With
        ``test_needed``, the test split is scored last and only when ``test_needed(scores so far)`` says so."""
        scores: dict[str, float] = {}
        for name in splits_to_score(self.split, self.cfg.eval_train, scores, test_needed):
            y, out = self.predict(model, name, progress)
            scores[name] = self.metric(y, out)
            if name == "valid":
                scores["valid_loss"] = self.loss(out, y).item()
        return scores
