"""The command line: list, train, repro, overrides, and the errors a user sees."""
from __future__ import annotations

import json

import pytest
from conftest import require_data

from graphkit.catalog import build_experiment
from graphkit.cli import main, parse_overrides
from graphkit.data.ogb_fixture import write_node_fixture
from graphkit.recipes import RECIPES


def test_list_shows_models_datasets_and_recipes(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("gin-vn", "ogbg-molhiv", "mutag", "cora", "ogbg-molhiv-gin-vn", "proteins-gin"):
        assert word in out


def test_train_on_fixture_prints_summary_last_and_writes_results(tmp_path, capsys):
    write_node_fixture(tmp_path / "data", "ogbn-arxiv", num_nodes=60, num_edges=150)
    out = tmp_path / "run"
    code = main(["train", "--model", "SAGE", "--dataset", "OGBN-Arxiv", "--epochs", "3", "--seeds", "2",
                 "--data-root", str(tmp_path / "data"), "--out", str(out), "--model.hidden", "8",
                 "--train.to_undirected", "true", "--quiet"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("ogbn-arxiv sage: test acc") and "over 2 run(s)" in lines[-1]
    saved = json.loads((out / "results.json").read_text())
    assert saved["config"]["model_cfg"] == {"hidden": 8} and saved["config"]["train"]["epochs"] == 3
    # --resume on a finished experiment reads it back and prints the same line
    assert main(["train", "--model", "sage", "--dataset", "ogbn-arxiv", "--epochs", "3", "--seeds", "2",
                 "--data-root", str(tmp_path / "data"), "--out", str(out), "--model.hidden", "8",
                 "--train.to_undirected", "true", "--quiet", "--resume"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == lines[-1]


@pytest.mark.parametrize("argv,message", [
    (["train", "--model", "gni", "--dataset", "cora"], "'gin' or 'gcn'?"),
    (["train", "--model", "gcn", "--dataset", "coar"], "Did you mean 'cora'"),
    (["train", "--model", "gcn", "--dataset", "cora", "--optim.lr", "fast"], "--optim.lr expects float"),
    (["train", "--model", "gcn", "--dataset", "cora", "--train.epoch", "3"], "Did you mean 'train.epochs'"),
    (["train", "--model", "gcn", "--dataset", "cora", "--train.select", "best"], "train.select must be"),
    (["train", "--model", "gcn", "--dataset", "cora", "--otpim.lr", "1"], "unknown setting group"),
    (["train", "--model", "gcn", "--dataset", "cora", "--epochs"], "--epochs needs a value"),
    (["repro", "cora-gnc"], "Did you mean 'cora-gcn'"),
])
def test_bad_input_gets_a_named_error(argv, message, capsys, tmp_path):
    assert main(argv + ["--data-root", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_missing_data_error_reaches_the_user(tmp_path, capsys):
    write_node_fixture(tmp_path / "elsewhere", "ogbn-arxiv", num_nodes=20, num_edges=40)
    assert main(["train", "--model", "gcn", "--dataset", "mutag", "--data-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "MUTAG" in err and str(tmp_path) in err and "MUTAG_A.txt" in err


def test_model_settings_are_checked_against_the_model_config(tmp_path):
    write_node_fixture(tmp_path, "ogbn-arxiv", num_nodes=20, num_edges=40)
    with pytest.raises(ValueError, match="model.hidden"):
        build_experiment("gcn", "ogbn-arxiv", [("model.hiden", "3")], str(tmp_path))
    with pytest.raises(ValueError, match="set by the dataset"):
        build_experiment("gcn", "ogbn-arxiv", [("model.in_channels", "3")], str(tmp_path))
    with pytest.raises(ValueError, match="does not apply to ogbn-arxiv"):
        build_experiment("gin-vn", "ogbn-arxiv", [], str(tmp_path))


def test_parse_overrides_forms():
    assert parse_overrides(["--lr", "0.1", "--model.hidden=8", "--epochs", "-1"]) == [
        ("optim.lr", "0.1"), ("model.hidden", "8"), ("train.epochs", "-1")]
    with pytest.raises(ValueError, match="unexpected argument"):
        parse_overrides(["hidden", "3"])


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_is_valid_for_its_model(name, monkeypatch):
    """Recipe settings parse against the model's config (no data needed: a stand-in of the right level)."""
    import torch

    import graphkit.catalog as cli
    from graphkit.data import ForecastShape, Loaded
    from graphkit.metrics import Accuracy
    from graphkit.ops import Hypergraph

    r = RECIPES[name]
    level = "graph" if r.dataset.startswith(("ogbg", "peptides", "zinc")) or r.dataset in cli.TU else "node"
    if r.dataset in cli.TRAFFIC_SETS:
        level = "forecast"
    mol = r.dataset.startswith(("ogbg-mol", "peptides"))
    hyper = r.dataset.startswith(("cocitation", "coauthorship"))
    seen = {}

    def fake_load(n, root, data=None):
        seen["data"] = data
        facts = {"molecules": mol, "hypergraph": Hypergraph.from_incidence(torch.tensor([[0], [0]])) if hyper else None}
        if r.dataset == "zinc":
            facts.update(atom_types=28, bond_types=4)
        if level == "forecast":
            facts["forecast"] = ForecastShape(data.window_in, data.window_out, 5, "dcrnn", "stand-in")
        return Loaded(r.dataset, level, "multiclass", 4, 2, Accuracy(), **facts)

    monkeypatch.setattr(cli, "load_dataset", fake_load)
    monkeypatch.setattr(cli, "with_encodings", lambda loaded, *a: loaded)  # no graphs in the stand-in
    pairs = list(r.settings.items()) + list(r.runs.items())
    cfg, loaded, build = build_experiment(r.model, r.dataset, pairs, None)
    model = build()
    assert sum(p.numel() for p in model.parameters()) > 0
    assert r.metric in ("rocauc", "ap", "rmse", "acc", "mae")
    if level == "forecast":
        assert seen["data"].protocol in ("dcrnn", "tgcn")


def test_forecast_training_through_the_cli_on_a_dcrnn_fixture(tmp_path, capsys):
    """METR-LA's exact file format (fixture): per-horizon masked metrics in the results, resume is identical."""
    import json

    from data.test_traffic import write_dcrnn

    write_dcrnn(tmp_path / "data" / "traffic" / "metr-la", t=400)
    args = ["train", "--model", "stgcn", "--dataset", "metr-la", "--epochs", "3", "--data-root",
            str(tmp_path / "data"), "--model.channels", "8,4,8", "--batch-size", "16", "--train.clip_grad", "5",
            "--quiet"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    res = json.loads((tmp_path / "a" / "results.json").read_text())
    sel = res["runs"][0]["selected"]
    assert len(sel["test_mae_per_horizon"]) == 12 and set(sel["test_tgcn"]) >= {"accuracy", "r2"}
    assert sel["test"] == sel["test_mae"] and res["summary"]["metric"] == "mae"
    assert len(res["summary"]["details"]["test_rmse_per_horizon"]) == 12
    # an interrupted run (checkpoint after epoch 1) continues to the same numbers, also when it goes on scoring
    # the test split only at newly selected epochs
    assert main(args[:6] + ["1"] + args[7:] + ["--out", str(tmp_path / "b")]) == 0
    (tmp_path / "b" / "results.json").unlink()
    (tmp_path / "b" / "run-seed00" / "results.json").unlink()
    cfg = json.loads((tmp_path / "b" / "config.json").read_text())
    cfg["train"]["epochs"] = 3
    (tmp_path / "b" / "config.json").write_text(json.dumps(cfg))
    assert main(args + ["--out", str(tmp_path / "b"), "--resume", "--train.eval_test", "selected"]) == 0
    res_b = json.loads((tmp_path / "b" / "results.json").read_text())
    assert [h["loss"] for h in res_b["runs"][0]["history"]] == [h["loss"] for h in res["runs"][0]["history"]]
    assert res_b["runs"][0]["selected"] == res["runs"][0]["selected"]
    hist = res_b["runs"][0]["history"]  # test scored where the validation MAE hit a new low (epoch 1: every)
    assert [("test_mae" in h) for h in hist] == [i == 0 or h["valid"] < min(g["valid"] for g in hist[:i])
                                                 for i, h in enumerate(hist)]
    assert main(["train", "--model", "tgcn", "--dataset", "metr-la", "--data-root", str(tmp_path / "data"),
                 "--train.protocol", "lstm", "--out", str(tmp_path / "c")]) == 2
    assert "train.protocol must be one of" in capsys.readouterr().err and not (tmp_path / "c").exists()


def test_graph_transformers_train_on_real_data_through_the_cli(tmp_path, capsys, monkeypatch):
    """Graph-Mamba with RWSE on MUTAG folds, GPS (linear attention) on a filtered heterophily set."""
    root = require_data("tu", "MUTAG")
    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "cache"))
    assert main(["train", "--model", "graph-mamba", "--dataset", "mutag", "--folds", "1", "--epochs", "2",
                 "--model.hidden", "16", "--model.num_layers", "2", "--model.encoding", "rwse", "--model.pe_dim", "4",
                 "--model.rwse_k", "8", "--data-root", root, "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert "MUTAG graph-mamba: test acc" in capsys.readouterr().out.strip().splitlines()[-1]
    assert list((tmp_path / "cache" / "encodings").glob("mutag-*.pt"))
    root = require_data("heterophily", "heterophilous_graphs", "chameleon_filtered")
    assert main(["repro", "gps-chameleon-filtered", "--folds", "1", "--epochs", "2", "--model.hidden", "16",
                 "--data-root", root, "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert "gps" in capsys.readouterr().out.strip().splitlines()[-1]


def test_neighbour_sampled_training_on_cora(tmp_path, capsys):
    root = require_data("planetoid", "Cora")
    assert main(["train", "--model", "sage", "--dataset", "cora", "--train.fanouts", "10,5", "--batch-size", "32",
                 "--epochs", "3", "--model.num_layers", "2", "--data-root", root, "--out", str(tmp_path / "sage"),
                 "--quiet"]) == 0
    import json

    hist = json.loads((tmp_path / "sage" / "results.json").read_text())["runs"][0]["history"]
    assert hist[-1]["loss"] < hist[0]["loss"]
    assert main(["train", "--model", "hgnn", "--dataset", "cocitation-cora", "--train.fanouts", "5",
                 "--data-root", root, "--out", str(tmp_path / "h")]) == 2
    assert "hypergraphs" in capsys.readouterr().err


@pytest.mark.slow
def test_repro_cora_runs_end_to_end(tmp_path, capsys):
    root = require_data("planetoid", "Cora")
    assert main(["repro", "cora-gcn", "--seeds", "2", "--data-root", root, "--out", str(tmp_path), "--quiet"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("cora-gcn: test acc") and "published 0.815" in last
    acc = json.loads((tmp_path / "results.json").read_text())["summary"]["test"]["mean"]
    assert acc > 0.78


def test_sheaf_and_hypergraph_recipes_train_on_real_data(tmp_path, capsys):
    root = require_data("heterophily", "webkb", "texas")
    assert main(["repro", "nsd-gen-texas", "--folds", "2", "--epochs", "3", "--data-root", root,
                 "--out", str(tmp_path / "nsd"), "--quiet"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("nsd-gen-texas: test acc") and "over 2 run(s)" in last and "published 0.8297" in last
    root = require_data("hypergraph", "cocitation", "cora")
    assert main(["repro", "hcha-cocitation-cora", "--folds", "1", "--epochs", "2", "--model.hidden", "16",
                 "--data-root", root, "--out", str(tmp_path / "hg"), "--quiet"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("hcha-cocitation-cora: test acc")
    with pytest.raises(ValueError, match="does not apply to Cora-CC.*hgnn"):
        build_experiment("gcn", "cocitation-cora", [], root)


def test_real_molecule_regression_trains_through_the_cli(tmp_path, capsys):
    root = require_data("ogb", "ogbg_molfreesolv")
    assert main(["repro", "ogbg-molfreesolv-gin-vn", "--seeds", "1", "--epochs", "2", "--model.hidden", "32",
                 "--data-root", root, "--out", str(tmp_path), "--quiet"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("ogbg-molfreesolv-gin-vn: test rmse")
    rmse = json.loads((tmp_path / "results.json").read_text())["summary"]["test"]["mean"]
    assert 0 < rmse < 20


def test_real_tu_cross_validation_through_the_cli(tmp_path, capsys):
    root = require_data("tu", "MUTAG")
    assert main(["repro", "mutag-gin", "--folds", "2", "--epochs", "2", "--train.iters_per_epoch", "3",
                 "--data-root", root, "--out", str(tmp_path), "--quiet"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "over 2 run(s)" in last and "(mean-curve)" in last


def test_link_prediction_trains_on_an_ogbl_fixture(tmp_path, capsys):
    from graphkit.data.ogb_fixture import write_link_fixture

    write_link_fixture(tmp_path / "data", "ogbl-collab", num_nodes=60, num_edges=300)
    assert main(["train", "--model", "gcn", "--dataset", "ogbl-collab", "--epochs", "2", "--batch-size", "64",
                 "--model.hidden", "16", "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "r"),
                 "--quiet"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("ogbl-collab gcn: test hits@50")


def test_progress_bars_stay_quiet_when_output_is_not_a_terminal(tmp_path, capsys):
    write_node_fixture(tmp_path / "data", "ogbn-arxiv", num_nodes=30, num_edges=60)
    assert main(["train", "--model", "gcn", "--dataset", "ogbn-arxiv", "--epochs", "2",
                 "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "r")]) == 0
    captured = capsys.readouterr()
    assert "it/s" not in captured.err and "%|" not in captured.err
    assert "run-seed00: epoch" in captured.out  # per-run lines still printed


@pytest.mark.parametrize("argv, env, code, says", [
    (["--device", "foo"], {}, 2, "is not a device"),
    (["--nproc", "0"], {}, 2, "--nproc must be >= 1"),
    ([], {"GRAPHKIT_BACKEND": "bogus"}, 2, "GRAPHKIT_BACKEND='bogus' is not a backend"),
])
def test_bad_run_settings_are_one_line(argv, env, code, says, tmp_path, monkeypatch, capsys):
    root = require_data("planetoid", "Cora")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main(["train", "--model", "gcn", "--dataset", "cora", "--epochs", "1", "--data-root", root,
                 "--out", str(tmp_path / "r"), *argv]) == code
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("raised, code, says", [
    (KeyboardInterrupt(), 130, "run the same command with --resume"),
    (OSError(28, "No space left on device", "/x/results.json"), 1, "the disk is full (writing /x/results.json)"),
    (OSError(30, "Read-only file system", "/ro/run"), 1, "cannot write /ro/run"),
    (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 TB"), 1, "out of memory"),
    (RuntimeError("something unexpected"), 1, "RuntimeError: something unexpected (GRAPHKIT_DEBUG=1"),
])
def test_run_failures_are_one_line(raised, code, says, tmp_path, monkeypatch, capsys):
    """Whatever stops a run (Ctrl-C, a full disk, a read-only folder, memory, a bug) is one line, no traceback."""
    import graphkit.cli as cli

    root = require_data("planetoid", "Cora")

    def fail(*args, **kwargs):
        raise raised

    monkeypatch.setattr(cli, "run_experiment", fail)
    assert main(["train", "--model", "gcn", "--dataset", "cora", "--data-root", root,
                 "--out", str(tmp_path / "r")]) == code
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
