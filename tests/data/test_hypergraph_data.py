"""HyperGCN-layout hypergraph sets: real data, fixtures for the sets not shipped (PubMed, DBLP), AllSet
splits, and the restricted unpickler."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import require_data

from graphkit.data import DatasetNotFoundError
from graphkit.data.hypergraph import allset_splits, load_hypergraph
from graphkit.data.root import UntrustedPickleError, load_data_pickle

# HyperGCN / AllSet statistics: nodes, hyperedges (before self loops), features, classes
REAL = {("cocitation", "cora"): (2708, 1579, 1433, 7), ("cocitation", "citeseer"): (3312, 1079, 3703, 6),
        ("coauthorship", "cora"): (2708, 1072, 1433, 7)}


@pytest.mark.parametrize("kind,name", list(REAL))
def test_real_sets_match_published_statistics(kind, name):
    root = require_data("hypergraph", kind, name)
    before = sorted(p.name for p in (Path(root) / "hypergraph").rglob("*"))
    raw = load_hypergraph(kind, name, root, self_loops=False, download=False)
    n, m, f, c = REAL[kind, name]
    hg = raw.hypergraph
    assert (raw.data.num_nodes, hg.num_edges, raw.num_features, raw.num_outputs) == (n, m, f, c)
    looped = load_hypergraph(kind, name, root, download=False)
    assert looped.hypergraph.num_edges > m
    hyper = load_hypergraph(kind, name, root, split="hypergcn", download=False)
    assert len(hyper.folds) == 10 and "valid" not in hyper.folds[0]
    assert sorted(p.name for p in (Path(root) / "hypergraph").rglob("*")) == before


def write_hypergcn(folder: Path, n: int = 30, f: int = 8, seed: int = 0) -> None:
    """HyperGCN's files: scipy CSR features, dict hyperedge -> set of numpy int ids, list labels, splits."""
    import scipy.sparse as sp

    g = np.random.default_rng(seed)
    (folder / "splits").mkdir(parents=True, exist_ok=True)
    with open(folder / "features.pickle", "wb") as fh:
        pickle.dump(sp.csr_matrix((g.random((n, f)) < 0.3).astype(np.float32)), fh)
    edges = {f"author{i}": {np.int32(v) for v in g.choice(n, g.integers(2, 5), replace=False)} for i in range(12)}
    with open(folder / "hypergraph.pickle", "wb") as fh:
        pickle.dump(edges, fh)
    with open(folder / "labels.pickle", "wb") as fh:
        pickle.dump([int(v) for v in g.integers(0, 3, n)], fh)
    for i in range(1, 11):
        perm = g.permutation(n)
        with open(folder / "splits" / f"{i}.pickle", "wb") as fh:
            pickle.dump({"train": [int(v) for v in perm[:5]], "test": [int(v) for v in perm[5:]]}, fh)


@pytest.mark.parametrize("kind,name", [("coauthorship", "dblp"), ("cocitation", "pubmed")])
def test_fixture_in_hypergcn_layout(tmp_path, kind, name):
    write_hypergcn(tmp_path / "hypergraph" / kind / name)
    loaded = load_hypergraph(kind, name, str(tmp_path), self_loops=False, download=False)
    hg = loaded.hypergraph
    assert (loaded.data.num_nodes, hg.num_edges, loaded.num_features) == (30, 12, 8)
    assert torch.equal(loaded.data.incidence, hg.incidence)
    assert [len(loaded.folds[0][k]) for k in ("train", "valid", "test")] == [15, 7, 8]


def test_missing_files_are_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="features.pickle"):
        load_hypergraph("cocitation", "pubmed", str(tmp_path), download=False)
    with pytest.raises(ValueError, match="unknown hypergraph dataset"):
        load_hypergraph("cocitation", "dblp", str(tmp_path), download=False)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_untrusted_pickles_are_refused(tmp_path):
    folder = tmp_path / "hypergraph" / "cocitation" / "pubmed"
    write_hypergcn(folder)
    with open(folder / "labels.pickle", "wb") as fh:
        pickle.dump(_Evil(), fh)
    with pytest.raises(UntrustedPickleError, match="posix.system|os.system|nt.system"):
        load_hypergraph("cocitation", "pubmed", str(tmp_path), download=False)
    (folder / "features.pickle").write_bytes(b"\x80\x04\x95truncated")
    with pytest.raises(ValueError, match="not a readable pickle"):
        load_data_pickle(folder / "features.pickle")


def test_allset_splits():
    splits = allset_splits(101)
    assert len(splits) == 10
    for s in splits:
        assert (len(s["train"]), len(s["valid"]), len(s["test"])) == (50, 25, 26)
        assert torch.cat(list(s.values())).sort().values.tolist() == list(range(101))
    assert torch.equal(allset_splits(101)[3]["test"], splits[3]["test"])
