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
