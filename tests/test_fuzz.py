"""Fuzz pass over everything that reads user input: dataset files, checkpoints, configs and CLI arguments.

Dataset files are copied from the data root into a temporary root and damaged one at a time (truncated,
emptied, replaced by random bytes, a value turned into NaN / inf / a word, a row cut short). Every load must
either succeed with data that passes the boundary checks, or raise graphkit's own error naming the dataset or
the file; and the data root must be left exactly as it was (no half-written files beside the raw ones).
"""
from __future__ import annotations

import gzip
import json
import random
import shutil
from pathlib import Path

import pytest
import torch
from conftest import data_root
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphkit import cli
from graphkit.catalog import load_dataset
from graphkit.data.checks import check_loaded
from graphkit.data.root import DatasetFormatError, DatasetNotFoundError, UntrustedPickleError
from graphkit.train import io

# dataset name -> (its folder in the data root, the files to damage, relative to that folder)
CASES = {
    "cora": ("planetoid/Cora", ["raw/ind.cora.x", "raw/ind.cora.graph", "raw/ind.cora.test.index",
                                "raw/ind.cora.ally"]),
    "mutag": ("tu/MUTAG", ["raw/MUTAG_A.txt", "raw/MUTAG_graph_indicator.txt", "raw/MUTAG_graph_labels.txt",
                           "raw/MUTAG_node_labels.txt"]),
    "texas": ("heterophily/webkb/texas", ["raw/out1_graph_edges.txt", "raw/out1_node_feature_label.txt",
                                          "raw/texas_split_0.6_0.2_0.npz"]),
    "chameleon-filtered": ("heterophily/heterophilous_graphs/chameleon_filtered", ["raw/chameleon_filtered.npz"]),
    "cocitation-cora": ("hypergraph/cocitation/cora", ["features.pickle", "hypergraph.pickle", "labels.pickle",
                                                      "splits/1.pickle"]),
    "los-loop": ("traffic/los-loop", ["los_speed.csv", "los_adj.csv"]),
    "ogbg-molesol": ("ogb/ogbg_molesol", ["raw/node-feat.csv.gz", "raw/edge.csv.gz", "raw/graph-label.csv.gz",
                                          "raw/num-node-list.csv.gz", "split/scaffold/train.csv.gz"]),
}
BYTE_DAMAGE = ("truncate", "empty", "random-bytes")
TEXT_DAMAGE = ("nan", "inf", "word", "short-row", "negative-id")


def _text(path: Path) -> tuple[str, bool]:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        return gzip.decompress(raw).decode(), True
    return raw.decode(), False


def _is_text(path: Path) -> bool:
    return path.suffix in (".txt", ".csv", ".gz", ".index") or path.name.endswith(".test.index")


def damage(path: Path, how: str, rng: random.Random) -> None:
    """Damage ``path`` in place."""
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
        return
    if how == "empty":
        path.write_bytes(b"")
        return
    if how == "random-bytes":
        path.write_bytes(bytes(rng.randrange(256) for _ in range(max(len(data), 64))))
        return
    text, gz = _text(path)
    lines = text.splitlines()
    body = [i for i, line in enumerate(lines) if any(ch.isdigit() for ch in line)]
    i = body[len(body) // 2]
    sep = "," if lines[i].count(",") >= max(lines[i].count("\t"), lines[i].count(" ")) else (
        "\t" if "\t" in lines[i] else " ")
    tokens = lines[i].split(sep)
    j = next(k for k in range(len(tokens) - 1, -1, -1) if any(ch.isdigit() for ch in tokens[k]))
    if how == "short-row":
        tokens = tokens[:-1] if len(tokens) > 1 else []
    else:
        tokens[j] = {"nan": "nan", "inf": "inf", "word": "abc", "negative-id": "-7"}[how]
    lines[i] = sep.join(tokens)
    out = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(out) if gz else out)


def _snapshot(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if not p.is_dir()) + \
        sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir())


def _copy_case(name: str, tmp: Path) -> tuple[Path, str]:
    src_root = data_root()
    folder, _ = CASES[name]
    if src_root is None or not (Path(src_root) / folder).exists():
        pytest.skip(f"GRAPHKIT_DATA does not hold {folder} (set it to ../shared/data)")
    root = tmp / "data"
    shutil.copytree(Path(src_root) / folder, root / folder)
    return root, folder


def _load(name: str, root: Path):
    return load_dataset(name, str(root))


def _params():
    out = []
    for name, (_, files) in CASES.items():
        for f in files:
            kinds = BYTE_DAMAGE + (TEXT_DAMAGE if _is_text(Path(f)) else ())
            out += [pytest.param(name, f, how, id=f"{name}:{Path(f).name}:{how}") for how in kinds]
    return out


@pytest.mark.parametrize("name, file, how", _params())
def test_damaged_dataset_file_gives_a_named_error_or_valid_data(name, file, how, tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "cache"))
    root, folder = _copy_case(name, tmp_path)
    target = root / folder / file
    damage(target, how, random.Random(f"{name}{file}{how}"))
    before = _snapshot(root)
    try:
        loaded = _load(name, root)
    except (DatasetFormatError, DatasetNotFoundError) as exc:
        msg = str(exc)
        assert name.split("-")[-1] in msg.lower() or target.name in msg or str(target.parent) in msg, msg
        assert "Traceback" not in msg
    else:
        check_loaded(loaded, name)  # damage that still parses must give data the model can use
        nan_is_missing = name == "los-loop" or "label" in file  # traffic / OGB targets: NaN = missing by design
        if how == "inf" or (how == "nan" and not nan_is_missing):
            pytest.fail(f"{how} written into {file} was loaded without an error")
    assert _snapshot(root) == before, "the loader wrote into the data root"


def test_cli_reports_a_damaged_file_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "cache"))
    root, folder = _copy_case("mutag", tmp_path)
    damage(root / folder / "raw/MUTAG_A.txt", "word", random.Random(0))
    code = cli.main(["train", "--model", "gin", "--dataset", "mutag", "--data-root", str(root), "--epochs", "1",
                     "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "error:" in err and "MUTAG" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists(), "nothing may be written for a run that could not start"


def test_planetoid_pickle_that_runs_code_is_refused(tmp_path):
    import pickle

    root, folder = _copy_case("cora", tmp_path)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (root / folder / "raw/ind.cora.graph").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(UntrustedPickleError, match="builtins.print"):
        _load("cora", root)


# ------------------------------------------------------------------------------------------------ checkpoints
def _tiny_run(tmp_path: Path, hidden: int = 8, epochs: int = 2, resume: bool = False) -> Path:
    from graphkit.data.synthetic import graph_classification
    from graphkit.models import GIN, GINConfig
    from graphkit.train import ExperimentConfig, run_experiment

    loaded = graph_classification(num_graphs=40, seed=0)
    cfg = ExperimentConfig(model="gin", dataset="synthetic", seeds=1)
    cfg.train.epochs = epochs
    out = tmp_path / f"run{hidden}"
    run_experiment(cfg, loaded, lambda: GIN(GINConfig(loaded.num_features, 2, hidden=hidden, num_layers=2)), out,
                   progress=False, log=lambda s: None, resume=resume)
    return out / "run-seed00" / "checkpoint.pt"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return _tiny_run(tmp_path_factory.mktemp("ckpt"))


@pytest.mark.parametrize("how", BYTE_DAMAGE)
def test_damaged_checkpoint_is_named(checkpoint, tmp_path, how):
    bad = tmp_path / "checkpoint.pt"
    shutil.copy(checkpoint, bad)
    damage(bad, how, random.Random(how))
    with pytest.raises(io.CheckpointError, match="checkpoint .*checkpoint.pt.*(truncated|not a)"):
        io.load_checkpoint(bad)


def test_checkpoint_of_another_model_is_named(checkpoint, tmp_path):
    from graphkit.models import GIN, GINConfig

    other = GIN(GINConfig(7, 2, hidden=16, num_layers=3))
    with pytest.raises(io.CheckpointError, match="different model or configuration.*size mismatch|Missing"):
        io.load_model_state(other, io.load_checkpoint(checkpoint)["model"], checkpoint)


def test_checkpoint_from_a_newer_format_is_refused(checkpoint, tmp_path):
    state = io.load_checkpoint(checkpoint)
    state["format"], state["graphkit"] = 99, "9.0"
    bad = tmp_path / "newer.pt"
    torch.save(state, bad)
    with pytest.raises(io.CheckpointError, match="format 99 \\(graphkit 9.0\\).*reads formats 1, 2"):
        io.load_checkpoint(bad)


def test_checkpoint_with_foreign_objects_needs_opt_in(checkpoint, tmp_path, monkeypatch):
    state = io.load_checkpoint(checkpoint)
    state["history"] = [Path("a")]  # any object beyond tensors and plain values
    bad = tmp_path / "foreign.pt"
    torch.save(state, bad)
    with pytest.raises(io.CheckpointError, match="refusing to unpickle.*GRAPHKIT_TRUST_CHECKPOINTS=1"):
        io.load_checkpoint(bad)
    monkeypatch.setenv("GRAPHKIT_TRUST_CHECKPOINTS", "1")
    assert io.load_checkpoint(bad)["history"] == [Path("a")]


def test_resume_from_a_truncated_checkpoint_names_it(tmp_path):
    ckpt = _tiny_run(tmp_path, epochs=2)
    for p in ckpt.parent.parent.rglob("results.json"):
        p.unlink()
    damage(ckpt, "truncate", random.Random(0))
    with pytest.raises(io.CheckpointError, match="truncated"):
        _tiny_run(tmp_path, epochs=2, resume=True)


# ------------------------------------------------------------------------------------------ configs and CLI
_WORDS = st.sampled_from(["--model", "--dataset", "--epochs", "--lr", "--seeds", "--optim.lr", "--train.patience",
                          "--model.hidden", "--model.virtual_node", "--train.fanouts", "--nope", "--model.nope",
                          "--optim", "--train.", "gin", "gcn", "mutag", "cora", "-1", "0", "1e9", "nan", "abc",
                          "true", "[1,2]", "", "--", "--train.amp", "--train.select", "--device", "cuda:7"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_WORDS, max_size=8))
def test_random_train_arguments_never_crash(capsys, words):
    """Random flag soup: argparse's usage error (exit 2) or graphkit's one-line error, never a traceback."""
    argv = ["train", "--data-root", "/nonexistent-graphkit-root", "--out", "/nonexistent-graphkit-out/x"] + words
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse: usage message already printed
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, (argv, err)
    assert "Traceback" not in err and err.strip(), (argv, err)


@pytest.mark.parametrize("flag, value, expect", [
    ("--optim.lr", "abc", "optim.lr"),
    ("--train.epochs", "-3", "train.epochs"),
    ("--train.epochs", "1.5", "train.epochs"),
    ("--optim.lr", "nan", "optim.lr"),
    ("--optim.weight_decay", "-1", "optim.weight_decay"),
    ("--train.amp", "fp8", "train.amp"),
    ("--train.fanouts", "15,x", "train.fanouts"),
    ("--train.fanouts", "15,0", "train.fanouts"),
    ("--train.protocol", "mine", "train.protocol"),
    ("--seeds", "0", "seeds"),
    ("--model.nope", "1", "model.nope"),
])
def test_bad_config_values_fail_before_the_data_is_read(flag, value, expect, capsys, tmp_path):
    code = cli.main(["train", "--model", "gin", "--dataset", "mutag", "--data-root", str(tmp_path), flag, value,
                     "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and expect in err and "Traceback" not in err and "missing" not in err, err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("flag, value, expect", [
    ("--model.hidden", "0", "size"), ("--model.num_layers", "-2", "size"), ("--model.dropout", "1.5", "probability"),
    ("--model.hidden", "inf", "model.hidden"),
])
def test_bad_model_values_are_named(flag, value, expect, capsys, tmp_path):
    from conftest import require_data

    root = require_data("tu", "MUTAG")
    code = cli.main(["train", "--model", "gin", "--dataset", "mutag", "--data-root", root, flag, value,
                     "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and flag[2:] in err and expect in err and "Traceback" not in err, err
    assert not (tmp_path / "run").exists()


def test_config_json_from_elsewhere_is_checked(tmp_path):
    from graphkit.train import ExperimentConfig

    good = ExperimentConfig(model="gin", dataset="mutag").to_dict()
    good["optim"]["lr"] = "fast"
    with pytest.raises(ValueError, match="optim.lr"):
        ExperimentConfig.from_dict(json.loads(json.dumps(good)))


@pytest.mark.parametrize("make", ["gcn", "gin", "gine", "sage", "edge_gcn", "gated_gcn"])
def test_dense_batched_input_is_named(make):
    """PyG's dense batched layout x: [B, N, F] is refused by name (it would be read as B nodes of N x F)."""
    from graphkit.nn import EdgeGCNConv, GatedGCNConv, GCNConv, GINConv, GINEConv, SAGEConv

    x = torch.randn(2, 5, 8)
    ei = torch.tensor([[0, 1], [1, 0]])
    e = torch.randn(2, 8)
    layer, args = {"gcn": (GCNConv(8, 4), ()), "gin": (GINConv(torch.nn.Linear(8, 4)), ()),
                   "gine": (GINEConv(torch.nn.Linear(8, 4)), (e,)), "sage": (SAGEConv(8, 4), ()),
                   "edge_gcn": (EdgeGCNConv(8), (e,)), "gated_gcn": (GatedGCNConv(8), (e,))}[make]
    with pytest.raises(ValueError, match=r"dense batch \[B, N, F\]"):
        layer(x, ei, *args)
