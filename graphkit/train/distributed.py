"""Data-parallel training on torch.distributed: one process per device, launched by torchrun.

``graphkit train ... --nproc N`` re-launches itself under ``torch.distributed.run`` (torchrun) with N
processes on this machine; or run ``torchrun --standalone --nproc_per_node N -m graphkit.cli train ...``
yourself (several machines: torchrun's ``--nnodes`` / ``--rdzv-endpoint``). Every process builds the same
model from the same seed and draws the same batch order; each takes its share of every global batch (graphs,
or seed nodes for neighbour-sampled node tasks), DistributedDataParallel all-reduces the gradients, and
each rank's loss is weighted by its share of the batch so the update equals the single-process update on
the whole batch. Evaluation is sharded and the predictions are gathered, so every rank computes the same
scores and takes the same early-stopping decision; only rank 0 writes logs, checkpoints and results.

A rank that dies makes the others fail instead of waiting forever: collectives time out after
``train.dist_timeout`` seconds, and torchrun stops the remaining processes when one exits with an error
(``GRAPHKIT_FAULT_RANK=r`` makes rank ``r`` exit right after joining, to test exactly that).
"""
from __future__ import annotations

import datetime
import os
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor


def world_size() -> int:
    """Number of data-parallel processes (1 without torch.distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    """This process's rank (0 without torch.distributed)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    """True on rank 0 (and in a single process): the one process that writes files and logs."""
    return rank() == 0


def setup(timeout_s: float = 300.0) -> bool:
    """Join the process group torchrun describes (``WORLD_SIZE`` > 1); False when running alone."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return dist.is_initialized()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    if os.environ.get("GRAPHKIT_FAULT_RANK") == str(rank()):  # fault injection for the failure-path test
        os._exit(17)
    return True


def device_for_rank(device: torch.device) -> torch.device:
    """This rank's GPU (``LOCAL_RANK``) when running data-parallel on CUDA, else ``device``."""
    if device.type == "cuda" and world_size() > 1:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def shard(indices: Tensor) -> Tensor:
    """This rank's share of a global batch: every ``world``-th entry starting at ``rank``."""
    return indices[rank()::world_size()]


def loss_weight(local: int) -> float:
    """Factor that turns this rank's mean loss into its part of the global mean (DDP averages gradients):
    ``local * world / global``. 1 when running alone."""
    if world_size() == 1:
        return 1.0
    total = torch.tensor([float(local)])
    dist.all_reduce(total)
    return local * world_size() / max(float(total), 1.0)


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``DistributedDataParallel(model)`` when running data-parallel, else ``model`` itself."""
    if world_size() == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=False)


def gather(t: Tensor) -> Tensor:
    """Concatenate a tensor whose first dimension differs between ranks, on every rank (rank order)."""
    if world_size() == 1:
        return t
    sizes = [None] * world_size()
    dist.all_gather_object(sizes, t.shape[0])
    longest = max(sizes)
    padded = torch.zeros(longest, *t.shape[1:], dtype=t.dtype, device=t.device)
    padded[: t.shape[0]] = t
    parts = [torch.empty_like(padded) for _ in range(world_size())]
    dist.all_gather(parts, padded)
    return torch.cat([p[:n] for p, n in zip(parts, sizes)])


def barrier() -> None:
    """Wait for every rank (no-op in a single process)."""
    if world_size() > 1:
        dist.barrier()


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (no-op in a single process)."""
    if world_size() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``graphkit <argv>`` in ``nproc`` processes under torchrun (standalone, this machine)."""
    from torch.distributed.run import main as torchrun

    try:
        torchrun(["--standalone", f"--nproc_per_node={nproc}", "-m", "graphkit.cli", *argv])
    except SystemExit as exc:  # torchrun exits through sys.exit
        return int(exc.code or 0)
    except Exception as exc:  # ChildFailedError: a rank died; torchrun has stopped the others
        print(f"graphkit: distributed run failed: {exc.__class__.__name__}: {exc}", flush=True)
        return 1
    return 0
