"""The batches of graph-level training: which graphs form each batch, and how a batch is assembled.

* :class:`ShuffledBatches` / :class:`RandomBatches`: the graph ids of each batch, drawn exactly as PyG's
  ``DataLoader(shuffle=True, generator=g)`` draws them (or GIN's random batches);
* :class:`Sharded`: this rank's share of every batch under data parallelism;
* :class:`StoreBatches`: the batches assembled on the device from a
  :class:`~graphkit.data.graph_store.GraphStore` (:func:`device_store`), equal to the DataLoader's.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from graphkit.train import distributed


class RandomBatches(torch.utils.data.Sampler):
    """``iters`` batches, each an independent random subset (GIN's reference training loop)."""

    def __init__(self, n: int, batch_size: int, iters: int, generator: torch.Generator):
        self.n, self.batch_size, self.iters, self.generator = n, batch_size, iters, generator

    def __iter__(self):
        for _ in range(self.iters):
            yield torch.randperm(self.n, generator=self.generator)[: self.batch_size].tolist()

    def __len__(self) -> int:
        return self.iters


class ShuffledBatches(torch.utils.data.Sampler):
    """One shuffled pass in batches, the permutation drawn exactly as ``RandomSampler`` draws it
    (so the batches equal ``DataLoader(shuffle=True, generator=g)``'s), except that a trailing batch
    of one graph joins the previous batch: BatchNorm over graphs (the virtual node's MLP) cannot
    train on a single sample, and dropping it would discard data every epoch.
    """

    def __init__(self, n: int, batch_size: int, generator: torch.Generator):
        self.n, self.batch_size, self.generator = n, batch_size, generator

    def __iter__(self):
        # The DataLoader (given the same generator) has already drawn its worker base seed from it.
        perm = torch.randperm(self.n, generator=self.generator).tolist()
        batches = [perm[i:i + self.batch_size] for i in range(0, self.n, self.batch_size)]
        if len(batches) > 1 and len(batches[-1]) == 1:
            batches[-2] += batches.pop()
        yield from batches  # lazy, like RandomSampler: runs after the DataLoader's seed draw

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest > 1 or (rest == 1 and full == 0) else 0)


class Sharded(torch.utils.data.Sampler):
    """This rank's share of every batch of ``inner`` (all of it when running alone)."""

    def __init__(self, inner):
        self.inner = inner

    def __iter__(self):
        for b in self.inner:
            yield b[distributed.rank()::distributed.world_size()]

    def __len__(self) -> int:
        return len(self.inner)


def device_store(dataset, device: torch.device):
    """A :class:`~graphkit.data.graph_store.GraphStore` of ``dataset`` when it can hold it exactly and it
    takes at most half the device's free memory (on the CPU: always), else None."""
    from graphkit.data.graph_store import GraphStore

    store = GraphStore.from_dataset(dataset, torch.device("cpu"))
    if store is None or device.type == "cpu":
        return store
    if device.type == "cuda" and store.nbytes() > torch.cuda.mem_get_info(device)[0] // 2:
        return None
    return GraphStore.from_dataset(dataset, device)


class StoreBatches:
    """Iterable of device-assembled batches over positions ``idx`` of the store's dataset, in the order the
    DataLoader path would give them (:class:`ShuffledBatches`, :class:`RandomBatches`, sequential)."""

    def __init__(self, store, idx: Tensor, generator: torch.Generator | None, batch_size: int, iters: int):
        self.store, self.idx = store, idx.cpu().numpy()
        self.generator, self.batch_size, self.iters = generator, batch_size, iters
        if generator is None:
            if distributed.world_size() > 1:  # evaluation: this rank's share; predictions are gathered
                self.idx = distributed.shard(idx.cpu()).numpy()
            n = len(self.idx)
            self.sampler = [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
        elif iters > 0:
            self.sampler = Sharded(RandomBatches(len(self.idx), batch_size, iters, generator))
        else:
            self.sampler = Sharded(ShuffledBatches(len(self.idx), batch_size, generator))

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self):
        if self.generator is not None:
            # the DataLoader draws its workers' base seed from the generator before the first batch: draw it
            # too, so that both paths leave the generator (and every later epoch) in the same state
            torch.empty((), dtype=torch.int64).random_(generator=self.generator)
        batches = [self.idx[b] for b in self.sampler]
        if not batches:
            return
        order = self.store.device_ids(np.concatenate(batches))  # one copy to the device per epoch
        at = 0
        for b in batches:
            yield self.store.batch(b, order[at:at + len(b)])
            at += len(b)
