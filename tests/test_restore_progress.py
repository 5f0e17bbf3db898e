"""scripts/restore_progress.py: an unfinished experiment rebuilt from its committed progress JSON resumes to the
numbers of an uninterrupted run, training only the runs that had not finished."""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from graphkit.data.synthetic import node_classification
from graphkit.models import GCN, GCNConfig
from graphkit.train import ExperimentConfig, TrainConfig, run_experiment

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
NAME = "cora-gcn"  # any recipe name: restore checks only that it exists


def _load(script: str):
    spec = importlib.util.spec_from_file_location(script, SCRIPTS / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scripts():
    return _load("collect_reproductions"), _load("restore_progress")


def _experiment(out, resume=False, select="valid", builds=None):
    loaded = node_classification(seed=1)
    cfg = ExperimentConfig(model="gcn", dataset="synthetic", seeds=3, train=TrainConfig(epochs=5, threads=1,
                                                                                          select=select))

    def build():
        if builds is not None:
            builds.append(1)
        return GCN(GCNConfig(loaded.num_features, loaded.num_outputs, hidden=16))

    return run_experiment(cfg, loaded, build, out, resume=resume, progress=False, log=lambda s: None)


def _untimed(d: dict) -> dict:
    return {k: v for k, v in d.items() if "seconds" not in k}


def _lost_machine_progress(tmp_path, collect, select="valid") -> tuple[dict, Path]:
    """An uninterrupted experiment, and the progress JSON of the same experiment cut short during its last run."""
    full = _experiment(tmp_path / "full", select=select)
    cut = tmp_path / "cut"
    shutil.copytree(tmp_path / "full", cut)
    (cut / "results.json").unlink()
    (cut / "run-seed02" / "results.json").unlink()  # seed 2 was in flight: its log survives, not its result
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / f"{NAME}.partial.json").write_text(json.dumps(collect.partial(cut, False)))
    return full, docs


def test_restored_progress_resumes_to_the_uninterrupted_numbers_training_only_the_unfinished_run(tmp_path, scripts):
    collect, restore = scripts
    full, docs = _lost_machine_progress(tmp_path, collect)
    runs = restore.restore(NAME, tmp_path / "new", docs=docs)
    assert runs == ["run-seed00", "run-seed01"]
    builds: list[int] = []
    again = _experiment(tmp_path / "new", resume=True, builds=builds)
    assert len(builds) == 1  # only seed 2 trained again
    assert _untimed(again["summary"]) == _untimed(json.loads(json.dumps(full["summary"])))
    for a, b in zip(again["runs"], full["runs"], strict=True):
        assert [_untimed(h) for h in a["history"]] == [_untimed(h) for h in json.loads(json.dumps(b["history"]))]
    assert (tmp_path / "new" / "run-seed00" / "log.csv").read_text() == \
        (tmp_path / "full" / "run-seed00" / "log.csv").read_text()


def test_progress_that_kept_only_the_selected_epoch_restores_the_scores_and_says_so(tmp_path, scripts):
    collect, restore = scripts
    full, docs = _lost_machine_progress(tmp_path, collect)
    path = docs / f"{NAME}.partial.json"
    old = json.loads(path.read_text())
    for entry in old["finished_runs"]:  # the format committed before whole results were kept
        del entry["result"]
    path.write_text(json.dumps(old))
    restore.restore(NAME, tmp_path / "new", docs=docs)
    again = _experiment(tmp_path / "new", resume=True)
    s, f = again["summary"], full["summary"]
    assert s["test"]["values"] == f["test"]["values"] and s["valid"]["values"] == f["valid"]["values"]
    assert s["restored_runs"] == ["run-seed00", "run-seed01"] and "restored_runs" not in f
    first = again["runs"][0]
    assert first["history"] == [] and "per-epoch history" in first["restored"]
    assert first["seed"] == 0 and again["runs"][1]["seed"] == 1
    assert first["selected_epoch"] == full["runs"][0]["selected_epoch"]
    assert s["train_seconds_per_epoch"] == again["runs"][2]["train_seconds_per_epoch"]  # the one that knows it


def test_a_restore_never_writes_over_a_run_and_names_what_it_cannot_do(tmp_path, scripts):
    collect, restore = scripts
    _, docs = _lost_machine_progress(tmp_path, collect)
    with pytest.raises(SystemExit, match="not empty"):
        restore.restore(NAME, tmp_path / "full", docs=docs)
    with pytest.raises(SystemExit, match="unknown recipe"):
        restore.restore("no-such-recipe", tmp_path / "x", docs=docs)
    with pytest.raises(SystemExit, match="no committed progress"):
        restore.restore("citeseer-gcn", tmp_path / "x", docs=docs)
    (docs / f"{NAME}.json").write_text("{}")
    with pytest.raises(SystemExit, match="is finished"):
        restore.restore(NAME, tmp_path / "x", docs=docs)
    assert not (tmp_path / "x").exists()


def test_a_mean_curve_recipe_needs_every_curve(tmp_path, scripts):
    collect, restore = scripts
    _, docs = _lost_machine_progress(tmp_path, collect, select="mean-curve")
    path = docs / f"{NAME}.partial.json"
    old = json.loads(path.read_text())
    del old["finished_runs"][0]["result"]
    path.write_text(json.dumps(old))
    with pytest.raises(SystemExit, match="mean curve"):
        restore.restore(NAME, tmp_path / "new", docs=docs)
    assert not (tmp_path / "new").exists()
