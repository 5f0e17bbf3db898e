"""scripts/collect_reproductions.py --recipe: one recipe's JSON and table row, every other row left as it is."""
from __future__ import annotations

import importlib.util
import json
import statistics
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "collect_reproductions.py"

HEADER = ("| recipe | ours (test, mean ± std) | published | within 1 std | runs | epochs | s/epoch | wall min "
          "| hardware | status |\n|---|---|---|---|---|---|---|---|---|---|\n")
REPORT = """# Reproductions

<!-- table:start -->
""" + HEADER + """\
| cora-gcn | 0.8000 ± 0.0100 | 0.815 | no | 10 | 100 | 0.06 | 1.0 | X, 1 thr | complete |
| citeseer-gcn | 0.7 | 0.703 | hand-written status | 10 | 100 | 0.2 | 5.0 | X, 1 thr | complete |
<!-- table:end -->

Text after the table.
"""


@pytest.fixture()
def collect(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("collect_reproductions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "DOCS", tmp_path / "docs")
    monkeypatch.setattr(module, "REPORT", tmp_path / "reproductions.md")
    (tmp_path / "docs").mkdir()
    module.REPORT.write_text(REPORT)
    return module


def _finished(exp: Path, values: list[float]) -> dict:
    exp.mkdir(parents=True)
    (exp / "config.json").write_text(json.dumps({"train": {"epochs": 200, "select": "last"}, "seeds": 10,
                                                 "folds": 0}))
    rep = {"summary": {"test": {"values": values, "mean": statistics.fmean(values), "std": statistics.stdev(values)},
                       "runs": len(values), "epochs": [150, 170], "seconds_per_epoch": 0.0612},
           "wall_seconds": 90.0, "environment": {"hardware": "AMD EPYC (2 cores)", "threads": 1}}
    (exp / "results.json").write_text(json.dumps(rep))
    return rep


def test_one_finished_recipe_replaces_its_row_only(collect, tmp_path):
    rep = _finished(tmp_path / "elsewhere" / "cora-gcn", [0.808, 0.818])
    row = collect.collect_one("cora-gcn", tmp_path / "elsewhere" / "cora-gcn")
    assert row == ("| cora-gcn | 0.8130 ± 0.0071 | 0.815 | yes | 2 | 150-170 | 0.06 | 1.5 | "
                   "AMD EPYC (2 cores), 1 thr | complete |")
    text = collect.REPORT.read_text()
    assert text == REPORT.replace(REPORT.splitlines()[5], row)       # the other row and the prose untouched
    assert json.loads((tmp_path / "docs" / "cora-gcn.json").read_text()) == rep


def test_a_recipe_without_a_row_is_appended_and_a_partial_run_reports_its_progress(collect, tmp_path):
    exp = tmp_path / "runs" / "mutag-gin"
    (exp / "run-fold00").mkdir(parents=True)
    (exp / "config.json").write_text(json.dumps({"train": {"epochs": 350, "select": "mean-curve"}, "seeds": 1,
                                                 "folds": 10}))
    (exp / "run-fold00" / "log.csv").write_text("epoch,loss,valid,test,train_seconds,epoch_seconds\n"
                                                "1,0.7,0.6,0.6,0.5,0.7\n2,0.6,0.8,0.7,0.5,0.7\n3,0.5,0.7,0.7,0.5,0.7\n")
    row = collect.collect_one("mutag-gin", exp)
    assert row.startswith("| mutag-gin | - | 0.894 ± 0.056 | - | 0 of 10 | - | 0.70 |")
    assert row.endswith("**partial**: run-fold00 at epoch 3/350 (best valid so far 0.8000) |")
    lines = collect.REPORT.read_text().splitlines()
    assert lines[7] == row and lines[8] == "<!-- table:end -->"
    assert (tmp_path / "docs" / "mutag-gin.partial.json").exists()


def test_a_partial_experiment_between_runs_counts_its_finished_runs(collect, tmp_path):
    exp = tmp_path / "runs" / "cora-gcn"
    exp.mkdir(parents=True)
    (exp / "config.json").write_text(json.dumps({"train": {"epochs": 200, "select": "valid"}, "seeds": 10,
                                                 "folds": 0}))
    for k, (test, epochs) in enumerate([(0.80, 100), (0.82, 140)]):
        (exp / f"run-seed0{k}").mkdir()
        (exp / f"run-seed0{k}" / "results.json").write_text(json.dumps(
            {"selected": {"epoch": 50, "valid": 0.8, "test": test}, "epochs_run": epochs, "seconds_per_epoch": 0.5}))
    row = collect.collect_one("cora-gcn", exp)
    assert row == ("| cora-gcn | 0.8100 ± 0.0141 | 0.815 | - | 2 of 10 | 100-140 | 0.50 | - | - | "
                   "**partial**: run-seed00 test 0.8000 at epoch 50 (valid 0.8000), 0.5 s/epoch (machine not "
                   "recorded); run-seed01 test 0.8200 at epoch 50 (valid 0.8000), 0.5 s/epoch (machine not "
                   "recorded); 2 of 10 finished, none in progress |")


def test_runs_made_on_different_machines_report_each_machines_speed(collect, tmp_path):
    """A campaign spans sessions and machines: the row gives each run's speed per machine (its ``segments``)
    and the range of speeds, never one mean over machines that differ."""
    exp = tmp_path / "runs" / "cora-gcn"
    exp.mkdir(parents=True)
    (exp / "config.json").write_text(json.dumps({"train": {"epochs": 4, "select": "valid"}, "seeds": 10,
                                                 "folds": 0}))
    fast, slow = {"hardware": "CPU A (2 cores, AVX-512)", "threads": 2}, {"hardware": "CPU B (2 cores)", "threads": 2}
    runs = {"run-seed00": ([slow | {"from_epoch": 1}, fast | {"from_epoch": 3}], [100.0, 110.0, 70.0, 72.0]),
            "run-seed01": ([fast | {"from_epoch": 1}], [70.0, 70.0, 71.0, 71.0]),
            "run-seed02": ([fast | {"from_epoch": 3}], [100.0, 100.0, 72.0, 72.0])}
    for name, (segments, secs) in runs.items():
        (exp / name).mkdir()
        history = [{"epoch": e + 1, "epoch_seconds": s} for e, s in enumerate(secs)]
        (exp / name / "results.json").write_text(json.dumps(
            {"selected": {"epoch": 4, "valid": 0.8, "test": 0.81}, "epochs_run": 4, "history": history,
             "seconds_per_epoch": statistics.fmean(secs), "segments": segments}))
    row = collect.collect_one("cora-gcn", exp)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[6] == "70.50-105.00"  # per machine stretch, more than 25% apart: the range, not a mean
    assert cells[8] == "CPU B (2 cores), 2 thr; CPU A (2 cores, AVX-512), 2 thr"
    assert cells[9] == ("**partial**: run-seed00 test 0.8100 at epoch 4 (valid 0.8000), epochs 1-2 105.0 s/epoch "
                        "on CPU B (2 cores), 2 thr, then epochs 3-4 71.0 s/epoch on CPU A (2 cores, AVX-512), 2 thr; "
                        "run-seed01 test 0.8100 at epoch 4 (valid 0.8000), 70.5 s/epoch on CPU A (2 cores, AVX-512), "
                        "2 thr; run-seed02 test 0.8100 at epoch 4 (valid 0.8000), epochs 1-2 machine not recorded, "
                        "then epochs 3-4 72.0 s/epoch on CPU A (2 cores, AVX-512), 2 thr; 3 of 10 finished, none in "
                        "progress")


def test_unknown_recipe_and_empty_folder_are_named(collect, tmp_path):
    with pytest.raises(SystemExit, match="unknown recipe 'no-such'"):
        collect.collect_one("no-such", tmp_path)
    with pytest.raises(SystemExit, match="no config.json"):
        collect.collect_one("cora-gcn", tmp_path)
    assert collect.REPORT.read_text() == REPORT
