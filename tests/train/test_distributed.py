"""Data-parallel training with torch.distributed (gloo on CPU, launched through torchrun by `--nproc`):
two processes reach the single-process weights for the same global batch and seed, only rank 0 writes,
and a rank that dies fails the job quickly instead of hanging."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch
from conftest import require_data

from graphkit.train.io import load_checkpoint

ARGS = ["train", "--model", "gps", "--dataset", "mutag", "--folds", "1", "--epochs", "2", "--batch-size", "32",
        "--model.mixer", "none", "--model.local", "gin", "--model.norm", "layer", "--model.dropout", "0",
        "--model.hidden", "16", "--model.num_layers", "2", "--threads", "1", "--quiet"]


def _run(args, root, out, env_extra=None, timeout=600):
    env = {**os.environ, "GRAPHKIT_DATA": root, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    env.pop("WORLD_SIZE", None)
    return subprocess.run([sys.executable, "-m", "graphkit.cli", *args, "--out", str(out)], capture_output=True,
                          text=True, env=env, timeout=timeout)


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path):
    root = require_data("tu", "MUTAG")
    one = _run(ARGS, root, tmp_path / "one")
    assert one.returncode == 0, one.stderr[-2000:]
    two = _run(ARGS + ["--nproc", "2"], root, tmp_path / "two")
    assert two.returncode == 0, two.stderr[-2000:]
    a = load_checkpoint(tmp_path / "one" / "run-fold00" / "checkpoint.pt")["model"]
    b = load_checkpoint(tmp_path / "two" / "run-fold00" / "checkpoint.pt")["model"]
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-5, msg=k)
    # rank 0 alone wrote the run directory; the summary line is printed once
    assert (tmp_path / "two" / "results.json").exists()
    assert two.stdout.count("MUTAG gps: test acc") == 1


@pytest.mark.slow
def test_a_dead_rank_fails_the_job_quickly(tmp_path):
    root = require_data("tu", "MUTAG")
    t = time.monotonic()
    proc = _run(ARGS + ["--nproc", "2", "--train.dist_timeout", "30"], root, tmp_path / "dead",
                {"GRAPHKIT_FAULT_RANK": "1"}, timeout=300)
    assert proc.returncode != 0
    assert time.monotonic() - t < 240
    assert "failed" in (proc.stdout + proc.stderr).lower()
