"""Tasks: what one epoch of training and one evaluation mean for each problem level.

A task owns the data (moved to the device once) and knows its loss; the loop in
:mod:`graphkit.train.loop` only calls ``train_epoch`` and ``evaluate``:

* :class:`NodeTask`: full-batch node classification (Planetoid, ogbn-*).
* :class:`GraphTask`: mini-batch graph classification / regression (ogbg-*, TU).
* :class:`LinkTask`: link prediction with random negatives (ogbl-* with Hits@K).

Models follow one calling convention per level: node ``model(x, adj) -> [N, C]``,
graph ``model(batch) -> [B, T]``, link ``model.encode(x, adj)`` and
``model.score(z, pairs: [2, P]) -> [P]``.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from graphkit.data.bundle import Loaded
from graphkit.data.checks import split_indices
from graphkit.ops import Hypergraph, as_adjacency, to_undirected
from graphkit.train import distributed, io
from graphkit.train.batches import RandomBatches, Sharded, ShuffledBatches, StoreBatches, device_store
from graphkit.train.config import TrainConfig


class Precision:
    """Mixed precision for a task's forward passes: ``with precision.autocast(): ...`` and
    ``precision.step(loss, model, optimizer, clip)`` (backward, loss scaling for fp16 on CUDA, clipping, step).

    ``amp``: ``"none"``, ``"bf16"`` (CPU or CUDA autocast, no scaling needed) or ``"fp16"`` (CUDA only, with
    a gradient scaler).
    """

    def __init__(self, amp: str, device: torch.device):
        if amp not in ("none", "bf16", "fp16"):
            raise ValueError(f"train.amp must be 'none', 'bf16' or 'fp16', got {amp!r}")
        if amp == "fp16" and device.type != "cuda":
            raise ValueError("train.amp='fp16' needs CUDA (loss scaling for half precision); use 'bf16' on CPU")
        self.amp, self.device = amp, device
        self.scaler = torch.amp.GradScaler("cuda") if amp == "fp16" else None

    def autocast(self):
        """The autocast context for forward passes (a no-op context for ``amp='none'``)."""
        import contextlib

        if self.amp == "none":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.amp == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def step(self, loss: Tensor, model, optimizer, clip: float = 0.0) -> None:
        """Backward (scaled for fp16), optional gradient clipping, optimizer step."""
        optimizer.zero_grad()
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if clip > 0:
                self.scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            self.scaler.step(optimizer)
            self.scaler.update()
            return
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()


def _bar(iterable, total: int, desc: str, enabled: bool):
    return io.progress(iterable, 2, desc, total) if enabled else iterable


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


class NodeTask:
    """Full-batch node classification on one graph or hypergraph.

    The model receives ``(x, graph)``: an :class:`~graphkit.ops.Adjacency`, or a
    :class:`~graphkit.ops.Hypergraph` when the data carries ``incidence``.
    """

    def __init__(self, loaded: Loaded, split: dict[str, Tensor], cfg: TrainConfig, device: torch.device):
        data = loaded.data
        if data.x is None:
            raise NotImplementedError(f"{loaded.name} has no node features; graphkit's node models need x "
                                      "(edge-feature-only sets such as ogbn-proteins are not supported yet)")
        edge_index = data.edge_index
        if cfg.to_undirected:
            edge_index, _ = to_undirected(edge_index, data.num_nodes)
        from graphkit.data.memmap import MemmapFeatures

        if isinstance(data.x, MemmapFeatures):  # out of core: rows are read per mini-batch, in file order
            if not cfg.fanouts or cfg.normalize_features:
                raise ValueError("memory-mapped features need neighbour-sampled batches (train.fanouts) and "
                                 "no train.normalize_features")
            self.x = data.x
        else:
            x = data.x.float()
            if cfg.normalize_features:
                x = x / x.sum(-1, keepdim=True).clamp_min(1e-12)
            self.x = x.to(device)
        self.y = data.y.to(device)
        if loaded.task == "multiclass":
            self.y = self.y.reshape(-1)
        if "incidence" in data:
            self.adj = Hypergraph(data.incidence.to(device), data.num_nodes, int(data.num_hyperedges))
        else:
            self.adj = as_adjacency(edge_index.to(device), data.num_nodes)  # built once, reused every step
        self.split = {k: v.to(device) for k, v in split_indices(split, data.num_nodes, f"{loaded.name} split").items()}
        self.metric = loaded.metric
        self.loss = loss_fn(loaded.task)
        self.eval_train = cfg.eval_train
        self.cfg = cfg
        self.precision = Precision(cfg.amp, device)
        self.fanouts = [int(f) for f in cfg.fanouts.split(",")] if cfg.fanouts else []
        if self.fanouts and isinstance(self.adj, Hypergraph):
            raise ValueError("train.fanouts (neighbour sampling) applies to graphs, not hypergraphs")

    def train_epoch(self, model, optimizer, generator: torch.Generator, progress: bool = False) -> float:
        """One epoch (a full-batch step, or sampled mini-batches with ``train.fanouts``); returns the mean loss."""
        model.train()
        if self.fanouts:
            return self._train_sampled(model, optimizer, generator, progress)
        idx = self.split["train"]
        with self.precision.autocast():
            loss = self.loss(model(self.x, self.adj)[idx].float(), self.y[idx])
        self.precision.step(loss, model, optimizer, self.cfg.clip_grad)
        return loss.item()

    def _train_sampled(self, model, optimizer, generator: torch.Generator, progress: bool) -> float:
        """GraphSAGE's mini-batches: shuffled training seeds, ``fanouts`` neighbours per hop, the model run on
        each sampled subgraph and scored on its seeds (the first ``batch_size`` nodes)."""
        from graphkit.ops.sample import neighbor_sample

        idx = self.split["train"]
        order = idx[torch.randperm(idx.numel(), generator=generator).to(idx.device)]
        chunks = order.split(self.cfg.batch_size)
        total, count = 0.0, 0
        # sampling draws a different number of random numbers on each rank: give it its own stream, so the
        # shared generator (batch order) stays in step across ranks
        sampler_gen = torch.Generator().manual_seed(
            int(torch.randint(0, 2**62, (1,), generator=generator)) + distributed.rank())
        for batch_seeds in _bar(chunks, len(chunks), "batches", progress):
            seeds = distributed.shard(batch_seeds)  # each rank samples around its share of the seeds
            sub = neighbor_sample(self.adj, seeds, self.fanouts, generator=sampler_gen)
            feats = self.x[sub.n_id].to(self.y.device)
            with self.precision.autocast():
                out = model(feats, sub.adjacency())[:sub.batch_size]
                loss = self.loss(out.float(), self.y[seeds])
            self.precision.step(loss * distributed.loss_weight(seeds.numel()), model, optimizer, self.cfg.clip_grad)
            total += loss.detach() * seeds.numel()
            count += seeds.numel()
        return float(total) / max(count, 1)  # read once per epoch, not once per step

    @torch.no_grad()
    def _sampled_outputs(self, model, idx: Tensor) -> Tensor:
        """Outputs for ``idx`` from sampled subgraphs (fan-outs as in training, a fixed seed): what an
        out-of-core graph allows; in-memory graphs are evaluated on the full graph instead."""
        from graphkit.ops.sample import neighbor_sample

        gen = torch.Generator().manual_seed(0)
        outs = []
        for seeds in idx.split(max(self.cfg.batch_size, 1024)):
            sub = neighbor_sample(self.adj, seeds, self.fanouts, generator=gen)
            outs.append(model(self.x[sub.n_id].to(self.y.device), sub.adjacency())[:sub.batch_size])
        return torch.cat(outs)

    @torch.no_grad()
    def evaluate(self, model, progress: bool = False) -> dict[str, float]:
        """Scores (and losses) on every split, full graph, no gradients."""
        model.eval()
        if not isinstance(self.x, Tensor):
            scores = {}
            for name, idx in self.split.items():
                if name == "train" and not self.eval_train:
                    continue
                out = self._sampled_outputs(model, idx)
                scores[name] = self.metric(self.y[idx], out)
                if name == "valid":
                    scores["valid_loss"] = self.loss(out, self.y[idx]).item()
            return scores
        out = model(self.x, self.adj)
        scores = {}
        for name, idx in self.split.items():
            if name == "train" and not self.eval_train:
                continue
            scores[name] = self.metric(self.y[idx], out[idx])
            if name == "valid":
                scores["valid_loss"] = self.loss(out[idx], self.y[idx]).item()
        return scores


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
        for batch in _bar(loader, len(loader), "batches", progress):
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
        for batch in _bar(loader, len(loader), f"eval {name}", progress):
            batch = batch.to(self.device)
            outs.append(model(batch).float().cpu())
            ys.append(self._targets(batch).cpu())
        return distributed.gather(torch.cat(ys)), distributed.gather(torch.cat(outs))

    def evaluate(self, model, progress: bool = False) -> dict[str, float]:
        """Scores on every split (and the validation loss); under DDP, gathered from all ranks."""
        scores = {}
        for name in self.split:
            if name == "train" and not self.cfg.eval_train:
                continue
            y, out = self.predict(model, name, progress)
            scores[name] = self.metric(y, out)
            if name == "valid":
                scores["valid_loss"] = self.loss(out, y).item()
        return scores


class LinkTask:
    """Link prediction: full-graph encoder, pair scorer, random negatives, Hits@K."""

    def __init__(self, loaded: Loaded, split: dict[str, Any], cfg: TrainConfig, device: torch.device):
        data = loaded.data
        for part in ("train", "valid", "test"):
            if "edge" not in split.get(part, {}):
                raise NotImplementedError(f"{loaded.name}: link split without 'edge' pairs "
                                          "(MRR-style datasets) is not supported yet")
        n = data.num_nodes
        self.num_nodes = n
        self.x = (data.x.float() if data.x is not None else torch.ones(n, 1)).to(device)
        self.adj = as_adjacency(to_undirected(data.edge_index, n)[0].to(device), n)
        self.pos = {k: split[k]["edge"].t().long().to(device) for k in ("train", "valid", "test")}
        self.neg = {k: split[k]["edge_neg"].t().long().to(device) for k in ("valid", "test")}
        self.cfg = cfg
        self.precision = Precision(cfg.amp, device)
        self.metric = loaded.metric
        self.device = device

    def train_epoch(self, model, optimizer, generator: torch.Generator, progress: bool = False) -> float:
        """One pass over the training edges with fresh random negatives; returns the mean loss."""
        model.train()
        pos = self.pos["train"]
        perm = torch.randperm(pos.size(1), generator=generator).to(self.device)
        chunks = perm.split(self.cfg.batch_size)
        total, count = 0.0, 0
        for chunk in _bar(chunks, len(chunks), "batches", progress):
            p = pos[:, chunk]
            neg = torch.randint(0, self.num_nodes, (2, p.size(1) * self.cfg.negatives),
                                generator=generator).to(self.device)
            with self.precision.autocast():
                z = model.encode(self.x, self.adj)
                pos_out, neg_out = model.score(z, p).float(), model.score(z, neg).float()
            loss = (F.binary_cross_entropy_with_logits(pos_out, torch.ones_like(pos_out))
                    + F.binary_cross_entropy_with_logits(neg_out, torch.zeros_like(neg_out)))
            self.precision.step(loss, model, optimizer, self.cfg.clip_grad)
            total += loss.detach() * p.size(1)
            count += p.size(1)
        return float(total) / max(count, 1)

    @torch.no_grad()
    def evaluate(self, model, progress: bool = False) -> dict[str, float]:
        """The official link metric (e.g. Hits@K) on every split."""
        model.eval()
        z = model.encode(self.x, self.adj)
        names = ("train", "valid", "test") if self.cfg.eval_train else ("valid", "test")
        scores = {}
        for name in names:
            neg = self.neg.get(name, self.neg["valid"])
            scores[name] = self.metric(None, (model.score(z, self.pos[name]), model.score(z, neg)))
        return scores


class ForecastTask:
    """Spatio-temporal forecasting on one sensor series (:class:`~graphkit.data.traffic.ForecastData`).

    Windows are gathered per batch from the series tensor. The model's scaled outputs are de-normalised
    (``scaler.inverse``) before the loss: masked MAE (missing = NaN or the null value) by default, or
    T-GCN's MSE (``train.loss="mse"``). Every evaluation reports, per split, masked MAE / RMSE / MAPE per
    horizon and averaged (``valid`` / ``test`` hold the selection score), and T-GCN's five metrics
    (``<split>_tgcn``) on the pooled horizons.
    """

    def __init__(self, loaded: Loaded, split: dict[str, Tensor], cfg: TrainConfig, device: torch.device):
        from graphkit.nn.temporal import SensorGraph

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
        for chunk in _bar(chunks, len(chunks), "batches", progress):
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
        for chunk in _bar(chunks, len(chunks), f"eval {name}", progress):
            x, y = self.data.windows(chunk)
            preds.append(self.data.scaler.inverse(model(x, self.graph)).float().cpu())
            ys.append(y.cpu())
        return torch.cat(ys), torch.cat(preds)

    def evaluate(self, model, progress: bool = False) -> dict[str, Any]:
        """Masked MAE / RMSE / MAPE per horizon in original units (and T-GCN's metrics) per split."""
        from graphkit.metrics import ForecastErrors, tgcn_metrics

        scores: dict[str, Any] = {}
        for name in self.split:
            if name == "train" and not self.cfg.eval_train:
                continue
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
