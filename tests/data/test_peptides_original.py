"""Peptides-func in LRGB's original release (SMILES + labels + split pickle): graphs equal smiles2graph's and
PyG's layout of the same molecules; the split is the official one; bad files get named errors."""
from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from graphkit.data.graph_sets import load_peptides
from graphkit.data.peptides_original import CSV, FOLDER, SPLIT
from graphkit.data.root import DatasetFormatError, UntrustedPickleError

pytest.importorskip("rdkit")  # the test extra installs it; `pip install graphkit[lrgb]` for users
REAL = Path(os.environ.get("GRAPHKIT_DATA", "datasets")) / "lrgb" / FOLDER


def _real_rows(n: int) -> list[str]:
    if not (REAL / CSV).is_file():
        pytest.skip("no Peptides-func in the data root (GRAPHKIT_DATA)")
    with gzip.open(REAL / CSV, "rt") as f:
        return [next(f) for _ in range(n + 1)]  # header + n rows


def _write(root: Path, lines: list[str], split: dict) -> Path:
    home = root / "lrgb" / FOLDER
    (home / "raw").mkdir(parents=True)
    with gzip.open(home / CSV, "wt") as f:
        f.writelines(lines)
    with open(home / SPLIT, "wb") as f:
        pickle.dump(split, f)
    return home


def test_original_layout_equals_smiles2graph_and_pyg_layout(tmp_path, monkeypatch):
    from ogb.utils import smiles2graph

    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "cache"))
    lines = _real_rows(12)
    split = {"train": np.arange(0, 8), "val": np.arange(8, 10), "test": np.arange(10, 12)}
    _write(tmp_path / "a", lines, split)
    loaded = load_peptides("peptides-func", tmp_path / "a", download=False)
    assert len(loaded.dataset) == 12 and loaded.metric.name == "ap" and loaded.num_outputs == 10
    assert [v.tolist() for v in loaded.split.values()] == [list(range(8)), [8, 9], [10, 11]]
    import pandas as pd

    frame = pd.read_csv(tmp_path / "a" / "lrgb" / FOLDER / CSV)
    for i in (0, 5, 11):
        g, ref = loaded.dataset[i], smiles2graph(frame["smiles"][i])
        assert torch.equal(g.x, torch.from_numpy(ref["node_feat"]).long())
        assert torch.equal(g.edge_index, torch.from_numpy(ref["edge_index"]).long())
        assert torch.equal(g.edge_attr, torch.from_numpy(ref["edge_feat"]).long())
        assert g.y.tolist() == [eval(frame["labels"][i])]  # noqa: S307 - the test's own fixture
    # PyG's layout of the same molecules (train.pt / val.pt / test.pt of (x, edge_attr, edge_index, y)) gives
    # the same graphs in the same split
    raw = tmp_path / "b" / "lrgb" / "peptides-func" / "raw"
    raw.mkdir(parents=True)
    for name, idx in (("train", split["train"]), ("val", split["val"]), ("test", split["test"])):
        torch.save([(loaded.dataset[int(i)].x, loaded.dataset[int(i)].edge_attr, loaded.dataset[int(i)].edge_index,
                     loaded.dataset[int(i)].y) for i in idx], raw / f"{name}.pt")
    pyg = load_peptides("peptides-func", tmp_path / "b", download=False)
    for key in ("train", "valid", "test"):
        for i, j in zip(loaded.split[key].tolist(), pyg.split[key].tolist()):
            a, b = loaded.dataset[i], pyg.dataset[j]
            assert all(torch.equal(getattr(a, k), getattr(b, k)) for k in ("x", "edge_index", "edge_attr", "y"))
    # the second load reads the cache (no featurisation): the same tensors
    again = load_peptides("peptides-func", tmp_path / "a", download=False)
    assert torch.equal(again.dataset[7].x, loaded.dataset[7].x)
    assert list((tmp_path / "cache" / "lrgb").rglob("*.pt")) and not list((tmp_path / "a").rglob("*.pt"))


def test_real_split_is_lrgbs():
    """The official split file: 10,873 / 2,331 / 2,331 molecules, disjoint, covering all 15,535."""
    from graphkit.data.peptides_original import read_split

    if not (REAL / SPLIT).is_file():
        pytest.skip("no Peptides-func in the data root (GRAPHKIT_DATA)")
    split = read_split(REAL / SPLIT, 15535)
    assert [len(v) for v in split.values()] == [10873, 2331, 2331]
    assert torch.cat(list(split.values())).unique().numel() == 15535


def test_bad_original_files_get_named_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "cache"))
    lines = _real_rows(3)
    ok = {"train": np.array([0]), "val": np.array([1]), "test": np.array([2])}
    cases = {
        "out of range": (lines, {**ok, "test": np.array([7])}),
        "shares molecules": (lines, {**ok, "test": np.array([0])}),
        "not a list of 10": (lines[:2] + [lines[2].replace('"[', '"oops[', 1)] + lines[3:], ok),
        "expected a dict": (lines, [np.array([0])]),
    }
    for i, (msg, (rows, split)) in enumerate(cases.items()):
        _write(tmp_path / str(i), rows, split)
        with pytest.raises(DatasetFormatError, match=msg):
            load_peptides("peptides-func", tmp_path / str(i), download=False)
    home = _write(tmp_path / "code", lines, ok)
    with open(home / SPLIT, "wb") as f:  # a pickle that would call a function
        f.write(b"cos\nsystem\n(S'true'\ntR.")
    with pytest.raises(UntrustedPickleError, match="os.system"):
        load_peptides("peptides-func", tmp_path / "code", download=False)


def test_missing_rdkit_names_the_extra(tmp_path, monkeypatch):
    import importlib.util

    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "cache"))
    _write(tmp_path, _real_rows(3), {"train": np.array([0]), "val": np.array([1]), "test": np.array([2])})
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "rdkit" else real(name, *a))
    with pytest.raises(ImportError, match=r"graphkit\[lrgb\]"):
        load_peptides("peptides-func", tmp_path, download=False)
