"""A diverged run is an outcome, never a score: it stops, says so, and a NaN checkpoint does not resume silently."""
import json

import pytest
import torch

from graphkit.data.synthetic import node_classification
from graphkit.models import MLP, MLPConfig
from graphkit.train import ExperimentConfig, format_summary, run_experiment
from graphkit.train import io as run_io
from graphkit.train.loop import RESUME_NONFINITE_ENV


def _run(out, lr, resume=False, epochs=6):
    loaded = node_classification(num_nodes=80)
    cfg = ExperimentConfig(model="mlp", dataset="synthetic", seeds=2)
    cfg.optim.lr, cfg.train.epochs = lr, epochs
    build = lambda: MLP(MLPConfig(in_channels=loaded.num_features, out_channels=loaded.num_outputs))  # noqa: E731
    return run_experiment(cfg, loaded, build, out, resume=resume, progress=False, log=lambda s: None)


def test_diverged_run_reports_no_score(tmp_path):
    report = _run(tmp_path / "exp", lr=1e30)
    s = report["summary"]
    assert s["status"] == "diverged" and "test" not in s and "valid" not in s
    assert [d["run"] for d in s["diverged"]] == ["run-seed00", "run-seed01"]
    assert all(d["epoch"] < 6 for d in s["diverged"])            # stopped, not trained to the end
    assert "DIVERGED in 2 of 2 run(s)" in report["summary_line"] and "no score" in report["summary_line"]
    run = json.loads((tmp_path / "exp" / "run-seed00" / "results.json").read_text())
    assert run["status"] == "diverged" and run["selected"] == {} and run["selected_epoch"] is None
    assert _run(tmp_path / "exp", lr=1e30, resume=True)["summary"]["status"] == "diverged"   # finished: kept


def test_healthy_run_is_ok(tmp_path):
    s = _run(tmp_path / "exp", lr=1e-2, epochs=2)["summary"]
    assert s["status"] == "ok" and "test" in s and "DIVERGED" not in format_summary("x", s)


def test_nonfinite_checkpoint_is_not_resumed_unless_asked(tmp_path, monkeypatch):
    out = tmp_path / "exp"
    _run(out, lr=1e-2, epochs=2)
    run = out / "run-seed00"
    state = run_io.load_checkpoint(run / "checkpoint.pt")
    first = next(iter(state["model"]))
    state["model"][first] = torch.full_like(state["model"][first], float("nan"))
    state["history"] = state["history"][:1]  # as if killed after epoch 1: epoch 2 is still to train
    run_io.save_checkpoint(run / "checkpoint.pt", state)
    (run / "results.json").unlink()
    with pytest.raises(run_io.CheckpointError, match="non-finite"):
        _run(out, lr=1e-2, epochs=2, resume=True)
    monkeypatch.setenv(RESUME_NONFINITE_ENV, "1")
    assert _run(out, lr=1e-2, epochs=2, resume=True)["summary"]["status"] == "diverged"
