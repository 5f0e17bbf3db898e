"""Link prediction with random negatives and Hits@K."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from graphkit.data.bundle import Loaded
from graphkit.ops import as_adjacency, to_undirected
from graphkit.train.config import TrainConfig
from graphkit.train.tasks.precision import Precision
from graphkit.train.tasks.progress import batch_progress
from graphkit.train.tasks.scoring import TestNeeded


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
        for chunk in batch_progress(chunks, len(chunks), "batches", progress):
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
    def evaluate(self, model, progress: bool = False, test_needed: TestNeeded | None = None) -> dict[str, float]:
        """The official link metric (e.g. Hits@K) on every split (test too: scoring it is one ``score`` call on
        embeddings computed once, so ``test_needed`` is not consulted)."""
        model.eval()
        z = model.encode(self.x, self.adj)
        names = ("train", "valid", "test") if self.cfg.eval_train else ("valid", "test")
        scores = {}
        for name in names:
            neg = self.neg.get(name, self.neg["valid"])
            scores[name] = self.metric(None, (model.score(z, self.pos[name]), model.score(z, neg)))
        return scores
