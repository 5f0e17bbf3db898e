"""Typed overrides for experiment configs."""
import json

import pytest

from graphkit.models import MolGNNConfig
from graphkit.train import ExperimentConfig, apply_override
from graphkit.train.config import parse_value


def test_values_are_converted_by_declared_type():
    cfg = ExperimentConfig(model="gin", dataset="mutag")
    apply_override(cfg, "optim.lr", "1e-2", None)
    apply_override(cfg, "train.eval_train", "yes", None)
    apply_override(cfg, "seeds", "5", None)
    apply_override(cfg, "data_root", "none", None)
    apply_override(cfg, "model.virtual_node", "true", MolGNNConfig)
    assert cfg.optim.lr == 0.01 and cfg.train.eval_train is True and cfg.seeds == 5
    assert cfg.model_cfg == {"virtual_node": True} and cfg.data_root is None
    assert ExperimentConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("key,value,msg", [
    ("train.epochs", "1.5", "expects int"),
    ("train.checkpoint", "maybe", "true/false"),
    ("optim.lrr", "1", "Did you mean 'optim.lr'"),
    ("model.hiddn", "3", "model.hidden"),
    ("seed", "1", "Did you mean 'seeds'"),
])
def test_bad_overrides_are_named(key, value, msg):
    with pytest.raises(ValueError, match=msg):
        apply_override(ExperimentConfig(model="gin", dataset="x"), key, value, MolGNNConfig)


def test_list_and_choice_settings():
    """List settings parse from "a,b,c" into typed tuples (length and item type checked); choices are Literal
    types whose allowed values every error names; saved configs hold lists and load back equal."""
    from graphkit.models import STGCNConfig
    from graphkit.train.config import TrainConfig

    cfg = ExperimentConfig(model="stgcn", dataset="los-loop")
    apply_override(cfg, "model.channels", "32, 8,32", STGCNConfig)
    apply_override(cfg, "train.fanouts", "15,10,-1", None)
    apply_override(cfg, "train.select", "valid-loss", None)
    assert cfg.model_cfg["channels"] == (32, 8, 32) and cfg.train.fanouts == (15, 10, -1)
    assert STGCNConfig(**cfg.model_cfg).channel_sizes == (32, 8, 32)
    assert STGCNConfig(channels=[16, 4, 16]).channels == (16, 4, 16)  # a JSON list
    assert ExperimentConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))).train == cfg.train
    apply_override(cfg, "train.fanouts", "", None)
    assert cfg.train.fanouts == ()
    for key, value, msg in (("model.channels", "32,8", "needs 3 values"), ("model.channels", "32,x,8", "expects int"),
                            ("train.fanouts", "15,0", "each >= 1"), ("train.fanouts", "1.5", "expects int"),
                            ("train.select", "best", "'valid', 'valid-loss', 'last', 'mean-curve', 'test'"),
                            ("train.amp", "fp8", "'none', 'bf16', 'fp16'"), ("optim.optimizer", "sgd", "'adamw'")):
        with pytest.raises(ValueError, match=msg):
            apply_override(ExperimentConfig(model="stgcn", dataset="x"), key, value, STGCNConfig)
    with pytest.raises(ValueError, match="train.collate must be one of"):
        TrainConfig(collate="dense")
    with pytest.raises(ValueError, match="train.select must be one of"):
        ExperimentConfig.from_dict({"model": "gcn", "dataset": "cora", "train": {"select": "best"}})


def test_data_settings_have_their_own_section():
    """Data preparation and forecasting windows live in ``data``; the older ``train.X`` spelling (overrides and
    saved configs) lands there too."""
    from graphkit.train.config import DataConfig, migrate

    cfg = ExperimentConfig(model="gcn", dataset="cora")
    apply_override(cfg, "data.normalize_features", "true", None)
    apply_override(cfg, "train.window_out", "3", None)  # the spelling from before the data section
    assert cfg.data == DataConfig(normalize_features=True, window_out=3)
    assert not hasattr(cfg.train, "window_out")
    old = {"model": "gcn", "dataset": "cora", "train": {"epochs": 5, "to_undirected": True, "protocol": "tgcn"}}
    migrated = migrate(old)
    assert migrated["data"] == {"to_undirected": True, "protocol": "tgcn"} and "protocol" not in migrated["train"]
    loaded = ExperimentConfig.from_dict(old)
    assert loaded.train.epochs == 5 and loaded.data.to_undirected and loaded.data.protocol == "tgcn"
    assert ExperimentConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="data.window_in must be > 0"):
        DataConfig(window_in=0)
    with pytest.raises(ValueError, match="data.protocol must be one of"):
        apply_override(cfg, "data.protocol", "lstm", None)


def test_prepare_graph_symmetrises_and_normalises_a_copy():
    import torch
    from torch_geometric.data import Data

    from graphkit.data import Loaded
    from graphkit.data.prepare import prepare_graph
    from graphkit.metrics import Accuracy

    data = Data(x=torch.tensor([[1.0, 3.0], [0.0, 0.0], [2, 2]]), edge_index=torch.tensor([[0, 1], [1, 2]]),
                y=torch.zeros(3, dtype=torch.long))
    loaded = Loaded("g", "node", "multiclass", 2, 2, Accuracy(), data=data)
    out = prepare_graph(loaded, undirected=True, normalize_features=True)
    assert torch.equal(out.data.x, torch.tensor([[0.25, 0.75], [0.0, 0.0], [0.5, 0.5]]))
    assert sorted(map(tuple, out.data.edge_index.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    assert data.edge_index.size(1) == 2 and data.x[0, 0] == 1  # the input is untouched
    assert prepare_graph(loaded) is loaded


def test_parse_value_rejects_unsupported_types():
    with pytest.raises(ValueError, match="cannot be set"):
        parse_value("1", list, "--x")
