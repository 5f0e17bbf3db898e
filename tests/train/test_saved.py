"""Trained models back: best.pt + model.json per run, graphkit.load, `graphkit evaluate` / `predict`."""
import json

import pytest
import torch
from conftest import require_data

import graphkit
from graphkit.cli import main
from graphkit.train.saved import SavedModelError


@pytest.mark.parametrize("model, dataset, extra", [
    ("gcn", "cora", ["--train.epochs", "30"]),
    ("gin", "mutag", ["--train.epochs", "4", "--train.iters_per_epoch", "5"]),
])
def test_loaded_model_reproduces_the_reported_score_exactly(model, dataset, extra, tmp_path, capsys):
    root = require_data(*(("planetoid", "Cora") if dataset == "cora" else ("tu", "MUTAG")))
    out = tmp_path / "exp"
    assert main(["train", "--model", model, "--dataset", dataset, "--data-root", root, "--out", str(out),
                 "--quiet", *extra]) == 0
    run = json.loads((out / "run-seed00" / "results.json").read_text())
    loaded_model = graphkit.load(out)
    assert loaded_model.best_epoch == run["selected_epoch"] and not loaded_model.training
    capsys.readouterr()
    assert main(["evaluate", "--run", str(out), "--data-root", root]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    test = float(line.split("test ")[1].split()[1])
    assert test == pytest.approx(run["selected"]["test"], abs=5e-5)         # printed with 4 decimals
    assert f"(run reported {run['selected']['test']:.4f})" in line
    from graphkit.catalog import saved_run

    task, again, _, _ = saved_run(str(out), root)
    scores = task.evaluate(again)
    for split in ("valid", "test"):
        assert scores.get(split) == run["selected"].get(split)   # exactly the reported scores
    assert main(["predict", "--run", str(out / "run-seed00"), "--data-root", root,
                 "--output", str(tmp_path / "p.pt")]) == 0
    saved = torch.load(tmp_path / "p.pt", weights_only=True)
    assert saved["prediction"].size(0) == saved["ids"].numel() == saved["target"].size(0)


def test_load_refuses_foreign_classes_and_missing_files(tmp_path):
    (tmp_path / "run-seed00").mkdir()
    with pytest.raises(SavedModelError, match="has no best.pt"):
        graphkit.load(tmp_path)
    torch.save({"model": {}, "epoch": 1}, tmp_path / "run-seed00" / "best.pt")
    (tmp_path / "run-seed00" / "model.json").write_text(json.dumps(
        {"module": "os:system", "config_class": "os:system", "config": {}}))
    with pytest.raises(SavedModelError, match="only graphkit.models classes"):
        graphkit.load(tmp_path)
    with pytest.raises(SavedModelError, match="neither a run folder"):
        graphkit.load(tmp_path / "run-seed00" / "nothing")
