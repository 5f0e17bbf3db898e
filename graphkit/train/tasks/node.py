"""Full-batch node classification on one graph or hypergraph."""
from __future__ import annotations

import torch
from torch import Tensor

from graphkit.data.bundle import Loaded
from graphkit.data.checks import split_indices
from graphkit.ops import Hypergraph, as_adjacency
from graphkit.train import distributed
from graphkit.train.config import TrainConfig
from graphkit.train.tasks.losses import loss_fn
from graphkit.train.tasks.precision import Precision
from graphkit.train.tasks.progress import batch_progress
from graphkit.train.tasks.scoring import TestNeeded, splits_to_score


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
        edge_index = data.edge_index  # prepared (symmetrised, features normalised) by data.prepare_graph
        from graphkit.data.memmap import MemmapFeatures

        if isinstance(data.x, MemmapFeatures):  # out of core: rows are read per mini-batch, in file order
            if not cfg.fanouts:
                raise ValueError("memory-mapped features need neighbour-sampled batches (train.fanouts)")
            self.x = data.x
        else:
            self.x = data.x.float().to(device)
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
        self.fanouts = list(cfg.fanouts)
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
        for batch_seeds in batch_progress(chunks, len(chunks), "batches", progress):
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
    def evaluate(self, model, progress: bool = False, test_needed: TestNeeded | None = None) -> dict[str, float]:
        """Scores (and losses) on every split, full graph, no gradients. ``test_needed`` (the test split only
        when it says so) applies to sampled evaluation; one full-graph forward pass scores every split anyway."""
        model.eval()
        if not isinstance(self.x, Tensor):
            scores: dict[str, float] = {}
            for name in splits_to_score(self.split, self.eval_train, scores, test_needed):
                idx = self.split[name]
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
