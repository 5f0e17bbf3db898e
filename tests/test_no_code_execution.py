"""No file graphkit reads can run code: a payload planted in each kind of file is refused, and never runs.

The payload is a pickle whose loading would create a marker file. Every reader must refuse it with a
named error (and, for caches, say to delete the cache, not the raw data), with the marker still absent,
also when ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` asks torch to load without restrictions.
"""
import io
import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import require_data

from graphkit.data.root import CacheFormatError, DatasetFormatError


class Payload:
    """Unpickling this creates ``marker``: proof that code from a file ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "CODE-RAN"
    yield path
    assert not path.exists(), "a payload planted in a data file ran"


@pytest.fixture(params=["default", "forced-unsafe"])
def torch_env(request, monkeypatch):
    if request.param == "forced-unsafe":
        monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    return request.param


def _poison_processed(cache: Path, payload: Payload) -> int:
    n = 0
    for f in cache.rglob("processed/*.pt"):
        buf = io.BytesIO()
        torch.save({"data": payload}, buf)
        f.write_bytes(buf.getvalue())
        n += 1
    return n


def test_tu_processed_cache(tmp_path, monkeypatch, marker, torch_env):
    from graphkit.data.tu import load_tu

    root = require_data("tu", "MUTAG")
    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "cache"))
    load_tu("MUTAG", root, download=False)
    assert _poison_processed(tmp_path / "cache", Payload(marker)) >= 1
    with pytest.raises(CacheFormatError, match="Delete that cache folder"):
        load_tu("MUTAG", root, download=False)


def test_ogb_processed_cache(tmp_path, monkeypatch, marker, torch_env):
    from graphkit.data.ogb import load_ogb

    root = require_data("ogb", "ogbg_molesol")
    monkeypatch.setenv("GRAPHKIT_CACHE", str(tmp_path / "cache"))
    load_ogb("ogbg-molesol", root, download=False)
    assert _poison_processed(tmp_path / "cache", Payload(marker)) >= 1
    with pytest.raises(CacheFormatError, match="the raw data is fine"):
        load_ogb("ogbg-molesol", root, download=False)


def test_checkpoint(tmp_path, marker, torch_env):
    from graphkit.train.io import CheckpointError, load_checkpoint

    path = tmp_path / "checkpoint.pt"
    torch.save({"model": Payload(marker), "format": 2}, path)
    with pytest.raises(CheckpointError, match="refusing to unpickle"):
        load_checkpoint(path)


def test_traffic_h5_object_column(tmp_path, marker):
    from graphkit.data.traffic import TrafficFormatError, load_series
    from tests.data.test_traffic import write_dcrnn

    raw = tmp_path / "traffic" / "metr-la"
    write_dcrnn(raw)
    frame = pd.DataFrame({"700000": [1.0, 2.0], "700007": [Payload(marker), 3.0]},
                         index=pd.date_range("2012-03-01", periods=2, freq="5min"))
    frame.to_hdf(raw / "metr-la.h5", key="df", mode="w")
    with pytest.raises(TrafficFormatError, match="never unpickles"):
        load_series("metr-la", tmp_path, download=False)


def test_npz_with_an_object_array(tmp_path, marker):
    from graphkit.data.heterophily import read_split_npz

    path = tmp_path / "split.npz"
    np.savez(path, train_mask=np.array([Payload(marker)], dtype=object), val_mask=np.zeros(1, bool),
             test_mask=np.zeros(1, bool))
    with pytest.raises(DatasetFormatError, match="allow_pickle"):
        read_split_npz(path, 1)


@pytest.mark.parametrize("reader", ["planetoid", "sensor-graph", "hypergraph"])
def test_raw_pickles(tmp_path, marker, reader):
    """Raw pickles (Planetoid's ind.* files, DCRNN's adj_mx.pkl, HyperGCN's files) go through the restricted
    unpickler: containers, numpy and scipy arrays only."""
    from graphkit.data.root import load_data_pickle

    path = tmp_path / f"{reader}.pkl"
    with open(path, "wb") as f:
        pickle.dump([1, Payload(marker)], f)
    with pytest.raises(DatasetFormatError):
        load_data_pickle(path)


def test_run_config_is_json_only(tmp_path, marker):
    """A run's config.json is parsed as JSON: a planted pickle is only text, and --resume refuses it."""
    from graphkit.data.synthetic import node_classification
    from graphkit.models import MLP, MLPConfig
    from graphkit.train import ExperimentConfig, run_experiment

    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_bytes(pickle.dumps(Payload(marker)))
    loaded = node_classification(num_nodes=60)
    cfg = ExperimentConfig(model="mlp", dataset="synthetic")
    cfg.train.epochs = 1
    with pytest.raises((ValueError, json.JSONDecodeError, UnicodeDecodeError)):
        run_experiment(cfg, loaded, lambda: MLP(MLPConfig(in_channels=loaded.num_features,
                                                           out_channels=loaded.num_outputs)), out, resume=True,
                       progress=False, log=lambda s: None)
    shutil.rmtree(out)
    assert not os.path.exists(out)
