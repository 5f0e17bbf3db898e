"""The runs of one experiment side by side: each seed or fold in its own worker process, one CPU thread each.

``--train.parallel_runs N`` (``graphkit train/repro ... --parallel-runs N``) trains up to N runs at once. On a
machine with more cores than one small model can use (a molecule baseline on a 300-wide GNN keeps one or two
threads busy), N runs of one thread finish N times sooner than one run after another with N threads each.

Each worker is forked from the experiment's process once the data is loaded, so it shares the dataset and the
prepared task without reloading or copying them. Every run writes its own ``run-*/`` folder and checkpoints as
it would alone, seeds itself, and gives the numbers it gives in a sequential experiment with one thread; the
experiment collects the results in run order. A worker dies with the experiment's process (Linux:
``PR_SET_PDEATHSIG``), so a killed experiment leaves no run training behind for a resume to race with.

Limits, each a named error: one thread per worker (GNU OpenMP, which torch's CPU kernels use, is not
fork-safe: a forked child that starts a parallel region can hang), CPU only (CUDA cannot be used in a forked
process; on a GPU start separate experiments with ``--first-seed`` / ``--seeds`` into separate folders), POSIX
only, and not under ``torchrun``.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import traceback
from typing import Any, Callable

import torch

_PR_SET_PDEATHSIG = 1


class RunFailed(RuntimeError):
    """A worker's run raised, or its process died; the message names the run."""


def check_parallel_runs(workers: int, threads: int, device: torch.device, world_size: int = 1) -> None:
    """Named errors for settings the forked workers cannot honour (see the module's docstring)."""
    if workers <= 1:
        return
    if threads > 1:
        raise ValueError(f"train.parallel_runs={workers} trains each run on one CPU thread (forked workers cannot "
                         f"use more: GNU OpenMP is not fork-safe); drop train.threads={threads} or set it to 1")
    if device.type != "cpu":
        raise ValueError(f"train.parallel_runs={workers} runs on the CPU only (CUDA cannot be used in a forked "
                         f"process), but the device is {device}; on a GPU start separate experiments with "
                         "--first-seed / --seeds into separate --out folders")
    if world_size > 1:
        raise ValueError("train.parallel_runs cannot be combined with data-parallel training (torchrun / --nproc)")
    if "fork" not in multiprocessing.get_all_start_methods():
        raise ValueError(f"train.parallel_runs needs fork(), which {sys.platform} does not have; use 0")


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def _worker(job: Callable[[], Any], conn: multiprocessing.connection.Connection, parent: int) -> None:
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    torch.set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the experiment, which stops the workers
    try:
        payload: tuple[bool, Any] = (True, job())
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the experiment's process
        payload = (False, (exc, traceback.format_exc()))
    try:
        conn.send(payload)
    except (pickle.PicklingError, TypeError, AttributeError):  # an exception or result that does not pickle
        text = payload[1][1] if not payload[0] else "its result could not be sent back to the experiment"
        conn.send((False, (None, text)))
    finally:
        conn.close()


def run_forked(jobs: list[tuple[str, Callable[[], Any]]], workers: int,
               on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
    """Run ``(name, job)`` pairs in up to ``workers`` forked processes of one thread; their results in order.
    ``on_done(i, result)`` is called in this process as each job finishes (in the order they finish).

    The first run that fails stops the others (their checkpoints stay, so ``--resume`` continues them) and
    raises :class:`RunFailed` naming it (the run's own exception is its cause when it could be sent back)."""
    ctx = multiprocessing.get_context("fork")
    results: list[Any] = [None] * len(jobs)
    pending = list(range(len(jobs)))
    running: dict[int, tuple[Any, multiprocessing.connection.Connection]] = {}
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        while pending or running:
            while pending and len(running) < workers:
                i = pending.pop(0)
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_worker, args=(jobs[i][1], send, os.getpid()), name=jobs[i][0])
                proc.start()
                send.close()
                running[i] = (proc, recv)
            ready = multiprocessing.connection.wait([conn for _, conn in running.values()])
            for i in [i for i, (_, conn) in running.items() if conn in ready]:
                proc, conn = running.pop(i)
                try:
                    ok, payload = conn.recv()
                except EOFError:
                    proc.join()
                    raise RunFailed(f"{jobs[i][0]}: its worker process died (exit code {proc.exitcode}); "
                                    "its checkpoint stays, --resume continues it") from None
                finally:
                    conn.close()
                proc.join()
                if not ok:
                    exc, text = payload
                    raise RunFailed(f"{jobs[i][0]} failed in its worker process:\n{text}") from exc
                results[i] = payload
                if on_done is not None:
                    on_done(i, payload)
    finally:
        for proc, conn in running.values():
            proc.terminate()
        for proc, conn in running.values():
            proc.join()
            conn.close()
    return results
