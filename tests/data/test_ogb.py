"""OGB adapters: real molecule sets from the data root, OGB-layout fixtures through the real ogb code,
missing-file errors, and a cache that is never written beside the raw files or left half-written."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import require_data

from graphkit.data import DatasetNotFoundError, cache_dir, load_ogb
from graphkit.data.ogb import expected_files, meta_info, trusted_ogb_load
from graphkit.data.ogb_fixture import write_link_fixture, write_node_fixture


def _listing(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.parametrize("name,graphs,split,metric", [
    ("ogbg-molesol", 1128, (902, 113, 113), "rmse"),
    ("ogbg-molfreesolv", 642, (513, 64, 65), "rmse"),
])
def test_real_molecule_sets_match_the_manifest(name, graphs, split, metric):
    root = require_data("ogb", name.replace("-", "_"))
    before = _listing(Path(root) / "ogb")
    d = load_ogb(name, root)
    assert len(d.dataset) == graphs
    assert tuple(len(d.split[k]) for k in ("train", "valid", "test")) == split
    assert d.metric.name == metric and d.task == "regression" and d.level == "graph"
    assert d.dataset[0].x.shape[1] == 9 and d.dataset[0].edge_attr.shape[1] == 3
    assert _listing(Path(root) / "ogb") == before, "the loader wrote into the data root"
    # the official Evaluator is wired: a perfect prediction scores 0 RMSE
    y = d.dataset.y[d.split["test"]]
    assert d.metric(y, y) == pytest.approx(0.0)


@pytest.mark.slow
def test_real_molhiv_matches_the_manifest():
    root = require_data("ogb", "ogbg_molhiv")
    d = load_ogb("ogbg-molhiv", root)
    assert len(d.dataset) == 41127
    assert tuple(len(d.split[k]) for k in ("train", "valid", "test")) == (32901, 4113, 4113)
    assert int(d.dataset.y.sum()) == 1443
    assert d.metric.name == "rocauc" and d.task == "binary"


def test_node_fixture_loads_through_ogb_with_official_split_and_evaluator(tmp_path):
    home = write_node_fixture(tmp_path, "ogbn-arxiv", num_nodes=50, num_edges=120)
    assert (home / "raw" / "node_year.csv.gz").exists() and (home / "split" / "time" / "train.csv.gz").exists()
    d = load_ogb("ogbn-arxiv", tmp_path, download=False)
    assert d.level == "node" and d.num_outputs == 40 and d.metric.name == "acc"
    assert d.data.num_nodes == 50 and d.data.edge_index.shape == (2, 120)
    parts = torch.cat([d.split[k] for k in ("train", "valid", "test")])
    assert sorted(parts.tolist()) == list(range(50))
    y = d.data.y
    assert d.metric(y, torch.nn.functional.one_hot(y.view(-1), 40).float()) == 1.0
    assert not (home / "processed").exists(), "processed files belong in the cache"
    assert list((cache_dir() / "ogb").glob("*/ogbn_arxiv/processed"))


def test_cache_is_keyed_by_the_raw_files_not_just_the_name(tmp_path):
    write_node_fixture(tmp_path / "a", "ogbn-arxiv", num_nodes=30, num_edges=60)
    write_node_fixture(tmp_path / "b", "ogbn-arxiv", num_nodes=40, num_edges=60)
    assert load_ogb("ogbn-arxiv", tmp_path / "a", download=False).data.num_nodes == 30
    assert load_ogb("ogbn-arxiv", tmp_path / "b", download=False).data.num_nodes == 40
    write_node_fixture(tmp_path / "a", "ogbn-arxiv", num_nodes=35, num_edges=60, seed=1)  # files replaced
    assert load_ogb("ogbn-arxiv", tmp_path / "a", download=False).data.num_nodes == 35


@pytest.mark.parametrize("name,metric", [("ogbl-ddi", "hits@20"), ("ogbl-collab", "hits@50")])
def test_link_fixture_loads_edge_split_and_hits_evaluator(tmp_path, name, metric):
    write_link_fixture(tmp_path, name, num_nodes=40, num_edges=200)
    d = load_ogb(name, tmp_path, download=False)
    assert d.level == "link" and d.metric.name == metric
    assert d.split["train"]["edge"].shape == (160, 2) and d.split["valid"]["edge_neg"].shape[1] == 2
    pos, neg = torch.ones(20), torch.zeros(200)
    assert d.metric(None, (pos, neg)) == 1.0


def test_missing_files_error_names_dataset_directory_files_and_source(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_ogb("ogbg-molhiv", tmp_path, download=False)
    msg = str(info.value)
    for part in ("ogbg-molhiv", str(tmp_path / "ogb" / "ogbg_molhiv"), "raw/edge.csv.gz",
                 "snap.stanford.edu/ogb/data/graphproppred/csv_mol_download/hiv.zip", "GRAPHKIT_DATA"):
        assert part in msg, part
    assert not (tmp_path / "ogb").exists()


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="ogbg-molhiv"):
        meta_info("ogbg-molhvi")


def test_expected_files_follow_ogb_metadata():
    files = expected_files("ogbg-molhiv")
    assert "raw/edge-feat.csv.gz" in files and "split/scaffold/valid.csv.gz" in files
    assert "split/target/test.pt" in expected_files("ogbl-ddi")


def test_interrupted_processing_leaves_no_cache_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "cache"))
    write_node_fixture(tmp_path, "ogbn-arxiv", num_nodes=30, num_edges=60)
    from ogb.nodeproppred import PygNodePropPredDataset

    def crash(self):
        raise KeyboardInterrupt("killed mid-processing")

    original = PygNodePropPredDataset.process
    monkeypatch.setattr(PygNodePropPredDataset, "process", crash)
    with pytest.raises(KeyboardInterrupt):
        load_ogb("ogbn-arxiv", tmp_path, download=False)
    base = cache_dir() / "ogb"
    assert not list(base.glob("*/ogbn_arxiv/processed"))
    assert not list(base.glob("*/.*")), "scratch folder left behind"
    monkeypatch.setattr(PygNodePropPredDataset, "process", original)
    assert load_ogb("ogbn-arxiv", tmp_path, download=False).data.num_nodes == 30


def test_weights_only_check_stays_on_outside_the_loader(tmp_path):
    from torch_geometric.data import Data

    path = tmp_path / "d.pt"
    torch.save(Data(x=torch.ones(2, 2)), path)
    with pytest.raises(Exception, match="[Ww]eights"):
        torch.load(path)  # torch's default check is not disabled globally
    with trusted_ogb_load():
        assert torch.load(path).x.shape == (2, 2)
