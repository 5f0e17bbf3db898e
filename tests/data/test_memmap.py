"""Memory-mapped node features: the rows asked for, in the order asked for, read in ascending file order;
clear errors for a missing, truncated or mis-shaped file."""
from __future__ import annotations

import pytest
import torch

from graphkit.data.memmap import MemmapFeatures, write_memmap
from graphkit.ops import Adjacency
from graphkit.ops.sample import neighbor_sample


def test_rows_round_trip_in_request_order(tmp_path):
    x = torch.randn(50, 7)
    feats = write_memmap(tmp_path / "x.bin", x)
    ids = torch.tensor([42, 3, 3, 17, 0, 49])
    assert torch.equal(feats[ids], x[ids])
    assert feats.size() == (50, 7) and len(feats) == 50
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, 50, (2, 300), generator=g)
    sub = neighbor_sample(Adjacency.from_edge_index(ei, num_nodes=50), torch.tensor([1, 2, 3]), [4, 3], generator=g)
    assert torch.equal(feats[sub.n_id], x[sub.n_id])  # what a sampled mini-batch reads


def test_reads_are_sorted(tmp_path, monkeypatch):
    feats = write_memmap(tmp_path / "x.bin", torch.randn(20, 3))
    seen = []
    real = feats._array

    class Spy:
        def __getitem__(self, idx):
            seen.append(list(idx))
            return real[idx]

    monkeypatch.setattr(feats, "_array", Spy())
    feats[torch.tensor([9, 2, 9, 5])]
    assert seen == [[2, 5, 9]]


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="do not exist"):
        MemmapFeatures(tmp_path / "none.bin", 3, 2)
    write_memmap(tmp_path / "x.bin", torch.randn(10, 4))
    with pytest.raises(ValueError, match="holds 160 bytes"):
        MemmapFeatures(tmp_path / "x.bin", 10, 5)
    feats = MemmapFeatures(tmp_path / "x.bin", 10, 4)
    with pytest.raises(IndexError, match=r"\[0, 10\)"):
        feats[torch.tensor([10])]


def test_node_task_trains_from_memory_mapped_features(tmp_path):
    from graphkit.data.synthetic import node_classification
    from graphkit.models import SAGE, SAGEConfig
    from graphkit.train.config import OptimConfig, TrainConfig
    from graphkit.train.loop import fit
    from graphkit.train.tasks import NodeTask

    loaded = node_classification(seed=2)
    loaded.data.x = write_memmap(tmp_path / "x.bin", loaded.data.x)
    cfg = TrainConfig(epochs=25, fanouts="10,5", batch_size=64)
    task = NodeTask(loaded, loaded.split, cfg, torch.device("cpu"))
    build = lambda: SAGE(SAGEConfig(loaded.num_features, loaded.num_outputs, hidden=16))  # noqa: E731
    result = fit(task, build, OptimConfig(lr=0.01), cfg, 0, tmp_path / "run", torch.device("cpu"), loaded.metric,
                 log=lambda s: None)
    assert result["selected"]["test"] > 0.7  # chance is 1/3
    with pytest.raises(ValueError, match="neighbour-sampled"):
        NodeTask(loaded, loaded.split, TrainConfig(), torch.device("cpu"))
