"""TU datasets: real MUTAG/PROTEINS statistics and stratified 10-fold CV splits."""
import pytest
import torch
from conftest import require_data

from graphkit.data import DatasetNotFoundError, load_tu, stratified_folds


@pytest.mark.parametrize("name,graphs,features,classes", [("MUTAG", 188, 7, (63, 125)),
                                                          ("PROTEINS", 1113, 3, (663, 450))])
def test_real_tu_sets_match_the_manifest(name, graphs, features, classes):
    root = require_data("tu", name)
    d = load_tu(name, root)
    assert len(d.dataset) == graphs and d.num_features == features
    assert tuple(torch.bincount(d.dataset.y).tolist()) == classes
    assert len(d.folds) == 10


def test_folds_partition_the_graphs_and_keep_class_ratios():
    labels = torch.tensor([0] * 30 + [1] * 70)
    folds = stratified_folds(labels, 10, seed=0)
    tests = torch.cat([f["test"] for f in folds])
    assert sorted(tests.tolist()) == list(range(100))
    for f in folds:
        assert set(f["train"].tolist()).isdisjoint(f["test"].tolist())
        assert len(f["train"]) + len(f["test"]) == 100
        assert labels[f["test"]].sum().item() == 7  # 70% positives in every fold
    assert [f["test"].tolist() for f in stratified_folds(labels, 10, 0)] == [f["test"].tolist() for f in folds]


def test_missing_tu_files_error(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="MUTAG_A.txt"):
        load_tu("MUTAG", tmp_path, download=False)


def _write_tu(raw, graphs=((3, [(1, 2), (2, 3)]), (2, [(4, 5)])), labels=(0, 1), node_labels=None):
    """A tiny TU dataset "TOY": graphs as (nodes, 1-based edges), graph labels, optional node labels."""
    raw.mkdir(parents=True, exist_ok=True)
    ind = [g + 1 for g, (n, _) in enumerate(graphs) for _ in range(n)]
    edges = [e for _, es in graphs for e in es]
    (raw / "TOY_graph_indicator.txt").write_text("\n".join(map(str, ind)) + "\n")
    (raw / "TOY_A.txt").write_text("\n".join(f"{a}, {b}" for a, b in edges) + "\n")
    (raw / "TOY_graph_labels.txt").write_text("\n".join(map(str, labels)) + "\n")
    labels_n = node_labels if node_labels is not None else [i % 2 for i in range(len(ind))]
    (raw / "TOY_node_labels.txt").write_text("\n".join(map(str, labels_n)) + "\n")


@pytest.mark.parametrize("damage, match", [
    ("missing graph label", r"graph_labels.txt has 1 rows but .* numbers 2 graphs"),
    ("negative node label", r"node_labels.txt, row 2: negative label"),
    ("edge across graphs", r"A.txt, row 2: edge \[2, 4\] joins two different graphs"),
    ("node out of range", r"A.txt, row 3: node \[5, 9\] outside 1..5"),
    ("short node labels", r"node_labels.txt has 4 rows but the dataset has 5 nodes"),
    ("short A row", r"A.txt, row 2: 1 values where the file has 2"),
    ("unused graph id", r"graph ids must be 1..G"),
])
def test_damaged_tu_files_are_named(tmp_path, damage, match):
    from graphkit.data.root import DatasetFormatError
    from graphkit.data.tu import check_tu_files, load_tu

    raw = tmp_path / "tu" / "TOY" / "raw"
    _write_tu(raw)
    if damage == "missing graph label":
        (raw / "TOY_graph_labels.txt").write_text("0\n")
    elif damage == "negative node label":
        (raw / "TOY_node_labels.txt").write_text("0\n-1\n0\n1\n0\n")
    elif damage == "edge across graphs":
        (raw / "TOY_A.txt").write_text("1, 2\n2, 4\n4, 5\n")
    elif damage == "node out of range":
        (raw / "TOY_A.txt").write_text("1, 2\n2, 3\n5, 9\n")
    elif damage == "short node labels":
        (raw / "TOY_node_labels.txt").write_text("0\n1\n0\n1\n")
    elif damage == "short A row":
        (raw / "TOY_A.txt").write_text("1, 2\n3\n4, 5\n")
    elif damage == "unused graph id":
        (raw / "TOY_graph_indicator.txt").write_text("1\n1\n1\n3\n3\n")
    with pytest.raises(DatasetFormatError, match=match):
        check_tu_files("TOY", raw)
    with pytest.raises(DatasetFormatError, match=match):   # and through the public loader
        load_tu("TOY", tmp_path, download=False, folds=2)


def test_consistent_tu_files_load(tmp_path, monkeypatch):
    from graphkit.data.tu import load_tu

    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "cache"))
    graphs = [(3, [(1, 2), (2, 3)]), (2, [(4, 5)]), (2, [(6, 7)]), (3, [(8, 9), (9, 10)])]
    _write_tu(tmp_path / "tu" / "TOY" / "raw", graphs=graphs, labels=(0, 1, 0, 1))
    loaded = load_tu("TOY", tmp_path, download=False, folds=2)
    assert len(loaded.dataset) == 4 and loaded.num_outputs == 2
