"""train.parallel_runs: seeds / folds in forked one-thread workers give the sequential experiment's numbers."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from graphkit.data.synthetic import graph_classification, node_classification
from graphkit.data.tu import stratified_folds
from graphkit.models import GCN, GIN, GCNConfig, GINConfig
from graphkit.train import ExperimentConfig, TrainConfig, run_experiment
from graphkit.train.parallel_runs import RunFailed, check_parallel_runs, run_forked

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forked workers and PR_SET_PDEATHSIG: Linux")


def _node_experiment(out, parallel, seeds=3, resume=False, build=None, epochs=6):
    loaded = node_classification(seed=1)
    cfg = ExperimentConfig(model="gcn", dataset="synthetic", seeds=seeds,
                           train=TrainConfig(epochs=epochs, threads=1, parallel_runs=parallel))
    build = build or (lambda: GCN(GCNConfig(loaded.num_features, loaded.num_outputs, hidden=16)))
    return run_experiment(cfg, loaded, build, out, resume=resume, progress=False, log=lambda s: None)


def _same_runs(a, b):
    for ra, rb in zip(a["runs"], b["runs"], strict=True):
        assert ra["name"] == rb["name"] and ra["seed"] == rb["seed"]
        assert [h["loss"] for h in ra["history"]] == [h["loss"] for h in rb["history"]]
        assert ra["selected"] == rb["selected"]


def test_parallel_seeds_equal_the_sequential_experiment(tmp_path):
    seq = _node_experiment(tmp_path / "seq", 0)
    par = _node_experiment(tmp_path / "par", 2)
    _same_runs(seq, par)
    assert par["summary"]["test"] == seq["summary"]["test"] and par["summary"]["runs"] == 3
    for k in range(3):  # every run wrote its own folder, as alone
        assert (tmp_path / "par" / f"run-seed{k:02d}" / "results.json").is_file()
    # a finished parallel experiment resumes (sequentially, or in parallel) to the same summary
    again = _node_experiment(tmp_path / "par", 0, resume=True)
    assert again["summary"] == json.loads(json.dumps(par["summary"]))


def test_parallel_folds_equal_the_sequential_experiment(tmp_path):
    loaded = graph_classification(num_graphs=60, seed=2)
    labels = torch.cat([d.y.view(-1) for d in loaded.dataset])
    loaded = dataclasses.replace(loaded, folds=stratified_folds(labels, k=3, seed=0))

    def experiment(out, parallel):
        cfg = ExperimentConfig(model="gin", dataset="synthetic", folds=3,
                               train=TrainConfig(epochs=3, batch_size=16, threads=1, parallel_runs=parallel))
        build = lambda: GIN(GINConfig(loaded.num_features, loaded.num_outputs, hidden=16, num_layers=2))  # noqa
        return run_experiment(cfg, loaded, build, out, progress=False, log=lambda s: None)

    seq, par = experiment(tmp_path / "seq", 0), experiment(tmp_path / "par", 3)
    _same_runs(seq, par)
    assert [r["name"] for r in par["runs"]] == ["run-fold00", "run-fold01", "run-fold02"]
    assert par["summary"]["test"] == seq["summary"]["test"]


class _FailsForSeed1(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        if torch.initial_seed() == 1:
            raise ValueError("seed 1 cannot build its model")
        self.inner = inner

    def forward(self, *a):
        return self.inner(*a)


def test_a_failing_run_names_itself_and_stops_the_others(tmp_path):
    loaded = node_classification(seed=1)
    build = lambda: _FailsForSeed1(GCN(GCNConfig(loaded.num_features, loaded.num_outputs, hidden=16)))  # noqa
    with pytest.raises(RunFailed, match="run-seed01 failed in its worker process") as info:
        _node_experiment(tmp_path / "x", 2, build=build)
    assert isinstance(info.value.__cause__, ValueError)
    assert "seed 1 cannot build its model" in str(info.value)
    assert not (tmp_path / "x" / "results.json").exists()


def _exit_3():
    os._exit(3)


def _double(x):
    return 2 * x


def test_run_forked_orders_results_and_reports_a_dead_worker():
    seen = []
    assert run_forked([(f"job{i}", lambda i=i: _double(i)) for i in range(5)], 2,
                      on_done=lambda i, r: seen.append((i, r))) == [0, 2, 4, 6, 8]
    assert sorted(seen) == [(i, 2 * i) for i in range(5)]  # each reported once, as it finished
    with pytest.raises(RunFailed, match=r"job1: its worker process died \(exit code 3\)"):
        run_forked([("job0", lambda: 1), ("job1", _exit_3)], 2)
    # a result that cannot go back through the pipe is a named failure, not a hang
    with pytest.raises(RunFailed, match="could not be sent back"):
        run_forked([("job0", lambda: (lambda: None))], 2)


def test_workers_die_with_the_experiment(tmp_path):
    """A killed experiment leaves no worker training (a resume would race it for the run's folder)."""
    pids = tmp_path / "pids"
    script = textwrap.dedent(f"""
        import os, time
        from graphkit.train.parallel_runs import run_forked

        def job():
            with open({str(pids)!r}, "a") as f:
                f.write(f"{{os.getpid()}}\\n")
            time.sleep(120)

        run_forked([("a", job), ("b", job)], 2)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 60
    while time.time() < deadline and (not pids.exists() or len(pids.read_text().split()) < 2):
        time.sleep(0.05)
    children = [int(p) for p in pids.read_text().split()]
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    alive = children
    while alive and time.time() < deadline:
        alive = [p for p in alive if os.path.exists(f"/proc/{p}") and
                 "zombie" not in open(f"/proc/{p}/status").read().lower()]
        time.sleep(0.05)
    assert not alive, f"workers {alive} outlived their experiment"


def test_settings_the_workers_cannot_honour_are_named_errors():
    cpu = torch.device("cpu")
    check_parallel_runs(0, 8, cpu)  # off: anything goes
    check_parallel_runs(4, 1, cpu)
    with pytest.raises(ValueError, match="one CPU thread"):
        check_parallel_runs(2, 4, cpu)
    with pytest.raises(ValueError, match="CPU only"):
        check_parallel_runs(2, 0, torch.device("cuda"))
    with pytest.raises(ValueError, match="data-parallel"):
        check_parallel_runs(2, 0, cpu, world_size=2)
    with pytest.raises(ValueError, match="parallel_runs"):
        TrainConfig(parallel_runs=-1)


def test_cli_names_the_setting_before_reading_any_data(tmp_path, capsys):
    from graphkit.cli import main

    code = main(["train", "--model", "gcn", "--dataset", "cora", "--parallel-runs", "2", "--threads", "2",
                 "--data-root", str(tmp_path / "no-data-here"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "train.parallel_runs=2 trains each run on one CPU thread" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
