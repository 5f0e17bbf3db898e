"""Trained models back: best.pt + model.json per run, graphkit.load, `graphkit evaluate` / `predict`."""
import json

import pytest
import torch
from conftest import require_data

import graphkit
from graphkit.cli import main
from graphkit.train.saved import SavedModelError


def test_own_data_runs_evaluate_from_anywhere_with_the_same_split(tmp_path, monkeypatch, capsys):
    """A run on a user's file records the file (absolute) and its split options in config.json; evaluate and
    predict from another folder rebuild the same split and reproduce the reported scores exactly."""
    from torch_geometric.data import Data

    from graphkit.inference import evaluate_run, predict_split

    g = torch.Generator().manual_seed(0)
    graphs = [Data(x=torch.randn(6, 3, generator=g), edge_index=torch.randint(0, 6, (2, 12), generator=g),
                   y=torch.tensor([i % 2])) for i in range(50)]
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    torch.save(graphs, "graphs.pt")
    assert main(["train", "--model", "gin", "--dataset", "graphs.pt", "--epochs", "3", "--out", "run", "--quiet",
                 "--split", "0.6,0.2,0.2", "--split-seed", "3"]) == 0
    run = json.loads((tmp_path / "work" / "run" / "run-seed00" / "results.json").read_text())
    saved = json.loads((tmp_path / "work" / "run" / "config.json").read_text())
    assert saved["data"]["own_split"] == [0.6, 0.2, 0.2] and saved["data"]["own_split_seed"] == 3
    monkeypatch.chdir(tmp_path)
    ev = evaluate_run(tmp_path / "work" / "run")
    assert ev.scores == {k: run["selected"][k] for k in ("valid", "test")}
    assert predict_split(tmp_path / "work" / "run", "test").ids.numel() == 10


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


def test_predict_for_the_graphs_of_a_user_file(tmp_path, capsys):
    """Train on own graphs from a file, then `graphkit predict --dataset other.pt`: one row per new graph."""
    from tests.data.test_from_pyg import graphs

    train = tmp_path / "train.pt"
    torch.save(graphs(y=lambda i: torch.tensor([i % 2])), train)
    new = graphs(n=7, seed=5)
    for g in new:
        del g.y                                            # predicting needs no labels
    torch.save(new, tmp_path / "new.pt")
    assert main(["train", "--model", "gin", "--dataset", str(train), "--epochs", "2",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert main(["predict", "--run", str(tmp_path / "run"), "--dataset", str(tmp_path / "new.pt"),
                 "--output", str(tmp_path / "p.csv")]) == 0
    rows = (tmp_path / "p.csv").read_text().strip().splitlines()
    assert rows[0] == "id,out0,out1" and len(rows) == 8
    from torch_geometric.loader import DataLoader

    model = graphkit.load(tmp_path / "run")
    with torch.no_grad():
        expect = model(next(iter(DataLoader(new, batch_size=7))))
    assert [float(v) for v in rows[3].split(",")[1:]] == pytest.approx(expect[2].tolist(), rel=1e-5)
