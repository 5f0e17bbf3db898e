"""One timer for the benchmarks that compare variants in one process: round-robin, medians, device syncs."""
from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


def sync(device: torch.device | str | None) -> None:
    """Wait for a CUDA device's queued work (a no-op elsewhere), so a timing covers the kernels it launched."""
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(fns: dict[str, Callable[[], object]], reps: int, warmup: int = 1,
                device: torch.device | str | None = None) -> dict[str, float]:
    """Median seconds per call of each function, timed round-robin (one call of each per round), so drifts in
    machine load hit every variant alike; ``warmup`` untimed calls each first (caches, lazy state)."""
    for f in fns.values():
        for _ in range(warmup):
            f()
    sync(device)
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            sync(device)
            t = time.perf_counter()
            f()
            sync(device)
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}
