"""Heterophily loaders: the real files in the data root, fixtures in the exact Geom-GCN / Platonov et al.
layouts (for the sets not shipped here), and clear errors for missing or corrupt files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import require_data

from graphkit.data import DatasetNotFoundError
from graphkit.data.heterophily import load_geom_gcn, load_planetoid_geom, load_platonov, random_splits
from graphkit.ops import reverse_edges


def _listing(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def _check_graph(loaded):
    d = loaded.data
    ei = d.edge_index
    assert (ei[0] != ei[1]).all()
    reverse_edges(ei, d.num_nodes)  # undirected, no duplicates (raises otherwise)
    for split in loaded.folds:
        parts = [split[k] for k in ("train", "valid", "test")]
        joined = torch.cat(parts)
        assert joined.unique().numel() == joined.numel(), "splits overlap"


# name -> (nodes, undirected edges as stored after cleaning / 2, features, classes, split-0 sizes)
REAL_GEOM = {
    "texas": (183, 279, 1703, 5, (87, 59, 37)),
    "wisconsin": (251, 450, 1703, 5, (120, 80, 51)),
    "cornell": (183, 277, 1703, 5, (87, 59, 37)),
    "film": (7600, 26659, 932, 5, (3648, 2432, 1520)),
}


@pytest.mark.parametrize("name", list(REAL_GEOM))
def test_real_geom_gcn_sets(name):
    root = require_data("heterophily")
    before = _listing(Path(root) / "heterophily")
    loaded = load_geom_gcn(name, root, download=False)
    n, e, f, c, sizes = REAL_GEOM[name]
    d = loaded.data
    assert (d.num_nodes, d.edge_index.size(1) // 2, d.num_features, loaded.num_outputs) == (n, e, f, c)
    assert len(loaded.folds) == 10
    assert tuple(len(loaded.folds[0][k]) for k in ("train", "valid", "test")) == sizes
    _check_graph(loaded)
    assert _listing(Path(root) / "heterophily") == before, "the loader wrote into the data root"


# MANIFEST.md: chameleon 31,371 undirected edges, squirrel 198,353; filtered 8,854 and 46,998
REAL_PLATONOV = {
    "chameleon": (2277, 31371, 2325, 5, "acc"),
    "squirrel": (5201, 198353, 2089, 5, "acc"),
    "chameleon_filtered": (890, 8854, 2325, 5, "acc"),
    "squirrel_filtered": (2223, 46998, 2089, 5, "acc"),
    "minesweeper": (10000, 39402, 7, 1, "rocauc"),
    "tolokers": (11758, 519000, 10, 1, "rocauc"),
}


@pytest.mark.parametrize("name", list(REAL_PLATONOV))
def test_real_platonov_sets(name):
    root = require_data("heterophily", "heterophilous_graphs", name)
    loaded = load_platonov(name, root, download=False)
    n, e, f, c, metric = REAL_PLATONOV[name]
    d = loaded.data
    assert (d.num_nodes, d.edge_index.size(1) // 2, d.num_features, loaded.num_outputs) == (n, e, f, c)
    assert loaded.metric.name == metric and len(loaded.folds) == 10
    _check_graph(loaded)


def test_chameleon_npz_splits_are_geom_gcn_fractions():
    root = require_data("heterophily", "heterophilous_graphs", "chameleon")
    loaded = load_platonov("chameleon", root, download=False)
    sizes = [tuple(len(s[k]) for k in ("train", "valid", "test")) for s in loaded.folds]
    assert sizes[0] == (1092, 729, 456)  # Geom-GCN's 48/32/20


# ----------------------------------------------------------------------------- fixtures
def write_geom_gcn(raw: Path, name: str, n: int = 12, f: int = 6, id_lists: bool = False, seed: int = 0) -> None:
    """The Geom-GCN layout: tab-separated text with a header line, plus ten split npz files."""
    g = np.random.default_rng(seed)
    raw.mkdir(parents=True, exist_ok=True)
    feats = (g.random((n, f)) < 0.4).astype(int)
    labels = g.integers(0, 3, n)
    with open(raw / "out1_node_feature_label.txt", "w") as fh:
        fh.write("node_id\tfeature(feature_amount:%d)\tlabel\n" % (f - 1) if id_lists else "node_id\tfeature\tlabel\n")
        for v in g.permutation(n):  # rows in any order, as film's are
            cols = ",".join(str(i) for i in np.flatnonzero(feats[v])) if id_lists else ",".join(map(str, feats[v]))
            fh.write(f"{v}\t{cols}\t{labels[v]}\n")
    edges = {(int(a), int(b)) for a, b in g.integers(0, n, (3 * n, 2))}
    with open(raw / "out1_graph_edges.txt", "w") as fh:
        fh.write("node_id\tnode_id\n")
        for a, b in sorted(edges):
            fh.write(f"{a}\t{b}\n")
    for i in range(10):
        perm = g.permutation(n)
        masks = {k: np.zeros(n, dtype=np.uint8) for k in ("train_mask", "val_mask", "test_mask")}
        masks["train_mask"][perm[:6]] = 1
        masks["val_mask"][perm[6:9]] = 1
        masks["test_mask"][perm[9:]] = 1
        np.savez(raw / f"{name}_split_0.6_0.2_{i}.npz", **masks)
    np.save(raw / ".truth.npy", np.concatenate([feats, labels[:, None]], 1))


@pytest.mark.parametrize("name,id_lists", [("washington", False), ("film", True)])
def test_geom_gcn_fixture_round_trip(tmp_path, name, id_lists):
    raw = tmp_path / "heterophily" / ("actor" if name == "film" else f"webkb/{name}") / "raw"
    write_geom_gcn(raw, name, id_lists=id_lists)
    truth = np.load(raw / ".truth.npy")
    loaded = load_geom_gcn(name, str(tmp_path), download=False)
    x = loaded.data.x.numpy()
    assert (x[:, : truth.shape[1] - 1] == truth[:, :-1]).all()
    assert (loaded.data.y.numpy() == truth[:, -1]).all()
    assert [len(loaded.folds[0][k]) for k in ("train", "valid", "test")] == [6, 3, 3]
    _check_graph(loaded)


def test_geom_gcn_corrupt_and_missing_files(tmp_path):
    raw = tmp_path / "heterophily" / "webkb" / "texas" / "raw"
    write_geom_gcn(raw, "texas")
    text = (raw / "out1_node_feature_label.txt").read_text().split("\n")
    (raw / "out1_node_feature_label.txt").write_text("\n".join(text[:4] + ["7\t1,0"] + text[5:]))
    with pytest.raises(ValueError, match=r"out1_node_feature_label.txt: line 5 has 2 tab-separated fields"):
        load_geom_gcn("texas", str(tmp_path), download=False)
    write_geom_gcn(raw, "texas")
    (raw / "texas_split_0.6_0.2_3.npz").write_bytes(b"PK\x03\x04broken")
    with pytest.raises(ValueError, match="texas_split_0.6_0.2_3.npz is not a readable .npz"):
        load_geom_gcn("texas", str(tmp_path), download=False)
    (raw / "texas_split_0.6_0.2_3.npz").unlink()
    with pytest.raises(DatasetNotFoundError, match="texas_split_0.6_0.2_3.npz"):
        load_geom_gcn("texas", str(tmp_path), download=False)
    with pytest.raises(DatasetNotFoundError, match="cornell"):
        load_geom_gcn("cornell", str(tmp_path), download=False)


def write_platonov(raw: Path, name: str, n: int = 20, seed: int = 0, **override) -> None:
    g = np.random.default_rng(seed)
    raw.mkdir(parents=True, exist_ok=True)
    edges = g.integers(0, n, (40, 2))
    masks = np.zeros((3, 10, n), dtype=bool)
    for i in range(10):
        perm = g.permutation(n)
        masks[0, i, perm[:10]] = masks[1, i, perm[10:15]] = masks[2, i, perm[15:]] = True
    arrays = {"node_features": g.standard_normal((n, 4)).astype(np.float32),
              "node_labels": g.integers(0, 2, n), "edges": edges,
              "train_masks": masks[0], "val_masks": masks[1], "test_masks": masks[2]}
    arrays.update(override)
    np.savez(raw / f"{name}.npz", **{k: v for k, v in arrays.items() if v is not None})


@pytest.mark.parametrize("name,metric", [("roman_empire", "acc"), ("questions", "rocauc")])
def test_platonov_fixture(tmp_path, name, metric):
    write_platonov(tmp_path / "heterophily" / "heterophilous_graphs" / name / "raw", name)
    loaded = load_platonov(name.replace("_", "-"), str(tmp_path), download=False)
    assert loaded.metric.name == metric and loaded.data.num_nodes == 20 and len(loaded.folds) == 10
    _check_graph(loaded)
    if metric == "rocauc":
        assert loaded.data.y.shape == (20, 1) and loaded.data.y.dtype == torch.float32


@pytest.mark.parametrize("override,match", [
    ({"test_masks": None}, r"missing array \(test_masks"),
    ({"edges": np.array([[0, 99]])}, "names node 99, out of range for 20 nodes"),
    ({"node_features": np.full((20, 4), np.nan, dtype=np.float32)}, "NaN or inf"),
    ({"node_labels": np.zeros(5, dtype=int)}, "disagree"),
])
def test_platonov_bad_files_are_named(tmp_path, override, match):
    write_platonov(tmp_path / "heterophily" / "heterophilous_graphs" / "tolokers" / "raw", "tolokers", **override)
    with pytest.raises(ValueError, match=match):
        load_platonov("tolokers", str(tmp_path), download=False)


def test_planetoid_geom_splits_fixture(tmp_path):
    root = require_data("planetoid", "Cora")
    raw = tmp_path / "planetoid" / "Cora" / "raw"
    raw.mkdir(parents=True)
    for f in (Path(root) / "planetoid" / "Cora" / "raw").glob("ind.cora.*"):  # Planetoid's files, no splits
        (raw / f.name).symlink_to(f)
    with pytest.raises(DatasetNotFoundError, match="cora_split_0.6_0.2_0.npz"):
        load_planetoid_geom("cora", str(tmp_path), download=False)
    g = np.random.default_rng(0)
    for i in range(10):
        perm = g.permutation(2708)
        m = {k: np.zeros(2708, dtype=bool) for k in ("train_mask", "val_mask", "test_mask")}
        m["train_mask"][perm[:1300]] = m["val_mask"][perm[1300:2166]] = m["test_mask"][perm[2166:]] = True
        np.savez(raw / f"cora_split_0.6_0.2_{i}.npz", **m)
    loaded = load_planetoid_geom("cora", str(tmp_path), download=False)
    assert loaded.split_kind == "geom-gcn"
    assert [len(loaded.folds[9][k]) for k in ("train", "valid", "test")] == [1300, 866, 542]


@pytest.mark.parametrize("name, n", [("cora", 2708), ("citeseer", 3327)])
def test_planetoid_geom_splits_real(name, n):
    """Geom-GCN's own ten 60/20/20 splits (the files PyG's split='geom-gcn' reads), when the data root has them."""
    folder = {"cora": "Cora", "citeseer": "CiteSeer"}[name]
    root = require_data("planetoid", folder, f"raw/{name}_split_0.6_0.2_9.npz")
    loaded = load_planetoid_geom(name, root, download=False)
    assert loaded.split_kind == "geom-gcn" and len(loaded.folds) == 10
    raw = Path(root) / "planetoid" / folder / "raw"
    for i, fold in enumerate(loaded.folds):
        masks = np.load(raw / f"{name}_split_0.6_0.2_{i}.npz")   # read independently of the loader
        for key, mask in (("train", "train_mask"), ("valid", "val_mask"), ("test", "test_mask")):
            assert fold[key].tolist() == np.flatnonzero(masks[mask]).tolist()
        joined = torch.cat([fold[k] for k in ("train", "valid", "test")])
        assert joined.unique().numel() == joined.numel() and int(joined.max()) < n   # disjoint, in range
    # Geom-GCN's files leave some nodes out of every part (Cora split 0: 1192/796/497 of 2,708)
    assert not torch.equal(loaded.folds[0]["train"], loaded.folds[1]["train"])


def test_random_splits_partition_and_are_seeded():
    a, b = random_splits(100), random_splits(100)
    for s, t in zip(a, b):
        assert all(torch.equal(s[k], t[k]) for k in s)
        assert torch.cat([s["train"], s["valid"], s["test"]]).sort().values.tolist() == list(range(100))
        assert (len(s["train"]), len(s["valid"]), len(s["test"])) == (48, 32, 20)
    assert not torch.equal(a[0]["train"], a[1]["train"])
