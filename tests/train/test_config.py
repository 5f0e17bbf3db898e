"""Typed overrides for experiment configs."""
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


def test_parse_value_rejects_unsupported_types():
    with pytest.raises(ValueError, match="cannot be set"):
        parse_value("1", list, "--x")
