"""Planetoid loader: real data from the data root, clear errors, nothing written beside raw files."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import data_root, require_data

from graphkit.data import DatasetNotFoundError, load_planetoid
from graphkit.data.root import data_root as resolve_root


def _listing(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.parametrize("name, stats", [
    ("cora", (2708, 10556, 1433, 7, 140)),
    ("CiteSeer", (3327, 9104, 3703, 6, 120)),
])
def test_real_planetoid_matches_published_stats(name, stats):
    root = data_root()
    if root is None or not (Path(root) / "planetoid").exists():
        pytest.skip("GRAPHKIT_DATA does not point at a data root with planetoid/ (set it to ../shared/data)")
    before = _listing(Path(root) / "planetoid")
    d = load_planetoid(name, root)
    n, e, f, c, train = stats
    assert (d.num_nodes, d.num_edges, d.num_features, int(d.y.max()) + 1) == (n, e, f, c)
    assert (int(d.train_mask.sum()), int(d.val_mask.sum()), int(d.test_mask.sum())) == (train, 500, 1000)
    assert _listing(Path(root) / "planetoid") == before, "the loader wrote into the data root"


def test_missing_files_error_names_dataset_dir_and_files(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_planetoid("cora", str(tmp_path), download=False)
    msg = str(info.value)
    for part in ("'Cora'", str(tmp_path), "ind.cora.x", "kimiyoung/planetoid", "GRAPHKIT_DATA"):
        assert part in msg
    assert not (tmp_path / "planetoid").exists(), "nothing half-written"


def test_partial_download_leaves_nothing(tmp_path, monkeypatch):
    import torch_geometric.data as tgd

    def fail(url, folder, log=True):
        raise OSError("network unreachable")

    monkeypatch.setattr(tgd, "download_url", fail)
    with pytest.raises(DatasetNotFoundError, match="network unreachable"):
        load_planetoid("citeseer", str(tmp_path))
    assert _listing(tmp_path) in ([], ["planetoid"], ["planetoid", "planetoid/CiteSeer"])
    assert not (tmp_path / "planetoid" / "CiteSeer" / "raw").exists()


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown Planetoid dataset 'corra'"):
        load_planetoid("corra")


def test_data_root_rule(monkeypatch):
    monkeypatch.setenv("GRAPHKIT_DATA", "/some/where")
    assert resolve_root("explicit") == Path("explicit")
    assert resolve_root() == Path("/some/where")
    monkeypatch.delenv("GRAPHKIT_DATA")
    assert resolve_root() == Path("datasets")


def test_cache_dir_honours_env(monkeypatch, tmp_path):
    from graphkit.data import cache_dir

    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()
    assert os.access(cache_dir(), os.W_OK)


def test_duplicate_test_index_is_named(tmp_path):
    """A repeated node id in ind.<name>.test.index would shrink the test set silently: refused by name."""
    import shutil

    from graphkit.data.planetoid import read_planetoid
    from graphkit.data.root import DatasetFormatError

    src = require_data("planetoid", "Cora")
    raw = tmp_path / "raw"
    shutil.copytree(f"{src}/planetoid/Cora/raw", raw)
    ids = (raw / "ind.cora.test.index").read_text().split()
    (raw / "ind.cora.test.index").write_text("\n".join(ids[:-1] + [ids[0]]) + "\n")
    with pytest.raises(DatasetFormatError, match=f"node id {ids[0]} is listed more than once"):
        read_planetoid(raw, "cora")
