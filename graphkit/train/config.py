"""Experiment configuration: plain dataclasses, overridable from the command line.

An :class:`ExperimentConfig` nests the optimiser and loop settings; the model's
own config dataclass (e.g. :class:`~graphkit.models.MolGNNConfig`) travels
beside it as ``model_cfg``. :func:`apply_override` sets ``section.field`` from
a string with the field's declared type, so ``--optim.lr 1e-2`` or
``--model.virtual_node true`` are checked before anything runs.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

# The choices of every enumerated setting, defined once; the configs are typed with them, so the override
# parser, the config check and resumed configs all read the same list.
Optimizer = Literal["adam", "adamw"]  # adam: weight decay added to the gradient; adamw: decoupled
Select = Literal["valid", "valid-loss", "last", "mean-curve", "test"]
Amp = Literal["none", "bf16", "fp16"]
Collate = Literal["auto", "pyg"]
Loss = Literal["auto", "masked-mae", "sse", "l1"]
Protocol = Literal["auto", "dcrnn", "astgcn", "stgcn", "tgcn"]
Covariates = Literal["auto", "none", "tod", "tod+dow"]
Task = Literal["auto", "multiclass", "binary", "regression"]
EvalTest = Literal["every", "selected"]


@dataclass
class OptimConfig:
    """Adam with optional weight decay and a step learning-rate schedule.

    ``decay_only``: apply ``weight_decay`` only to parameters whose name starts
    with this prefix (Kipf & Welling decay the first layer only: ``convs.0.``).
    """

    lr: float = 1e-3
    weight_decay: float = 0.0
    decay_only: str = ""
    step_size: int = 0  # epochs between lr decays; 0 = constant lr
    gamma: float = 0.5
    group: str = ""  # parameters whose name contains this get group_weight_decay (NSD: "sheaf_learner")
    group_weight_decay: float = 0.0
    optimizer: Optimizer = "adam"
    warmup_epochs: int = 0  # with cosine: linear warm-up from 0
    cosine: bool = False  # cosine decay to 0 over the run's epochs (GraphGPS's cosine_with_warmup)

    def __post_init__(self):
        check_numbers(self, "optim", positive=("lr", "gamma"), non_negative=("weight_decay", "group_weight_decay",
                                                                              "step_size", "warmup_epochs"))
        check_choices(self, "optim")
        if self.cosine and self.step_size > 0:
            raise ValueError("optim.cosine and optim.step_size are two schedules; choose one")


@dataclass
class TrainConfig:
    """The loop: epochs, batches, selection, early stopping, hardware."""

    epochs: int = 100
    batch_size: int = 32
    iters_per_epoch: int = 0  # >0: that many random batches per epoch (GIN's reference protocol)
    eval_train: bool = False  # also score the training split every epoch (costs a full pass)
    # "valid": test at the best validation epoch; "valid-loss"; "last"; "mean-curve" (GIN);
    # "test": the best test epoch (T-GCN's protocol; optimistic by construction)
    select: Select = "valid"
    # "every": score the test split every epoch (test curves); "selected": only on the epochs that become the
    # selected one under select "valid" / "valid-loss" (the reported test score is the same, one evaluation pass
    # fewer on every other epoch; their history rows carry no test score). Tasks that score every split from one
    # forward pass (full-graph node and link tasks) score test every epoch either way.
    eval_test: EvalTest = "every"
    patience: int = 0  # stop after this many epochs without a better validation score; 0 = never
    loss_window: int = 0  # Kipf & Welling: stop when valid loss exceeds the mean of the last N; 0 = off
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:1" ...
    threads: int = 0  # torch CPU threads; 0 = torch's default
    num_workers: int = 0  # DataLoader workers for graph-level tasks
    parallel_runs: int = 0  # >1: that many seeds / folds at once, each in a forked one-thread process (CPU)
    # graph-level batches: "auto" assembles them on the device from the dataset held there once
    # (graphkit.data.graph_store; the same batches as PyG's), else PyG's DataLoader; "pyg" always the latter
    collate: Collate = "auto"
    negatives: int = 1  # link prediction: random negative pairs per positive training edge
    checkpoint: bool = True
    dist_timeout: float = 300.0  # seconds a collective waits for the other ranks before failing the run
    amp: Amp = "none"  # mixed precision: "none" | "bf16" (CPU or CUDA) | "fp16" (CUDA, with loss scaling)
    compile: bool = False  # run the model through torch.compile
    fanouts: tuple[int, ...] = ()  # node tasks: neighbours per hop, e.g. 15,10,5 (-1 = all); () = full batch
    clip_grad: float = 0.0  # clip the gradient norm to this value; 0 = off (Graph WaveNet / DCRNN use 5)
    loss: Loss = "auto"  # forecasting: "masked-mae" (auto) | "sse" (T-GCN); graph regression: "auto" (MSE) | "l1"

    def __post_init__(self):
        check_numbers(self, "train", positive=("epochs", "batch_size", "negatives", "dist_timeout"),
                      non_negative=("iters_per_epoch", "patience", "loss_window", "threads", "num_workers",
                                    "parallel_runs", "clip_grad"))
        check_choices(self, "train")
        if self.device != "auto":
            import torch

            try:
                torch.device(self.device)
            except RuntimeError:
                raise ValueError(f"train.device={self.device!r} is not a device: use 'auto', 'cpu', 'cuda' or "
                                 "'cuda:N'") from None
        if self.eval_test == "selected" and self.select not in ("valid", "valid-loss"):
            raise ValueError(f"train.eval_test='selected' scores the test split only at the selected epoch, which "
                             f"needs train.select 'valid' or 'valid-loss' (got {self.select!r}: that rule reads "
                             "every epoch's test score); use train.eval_test='every'")
        self.fanouts = as_tuple(self.fanouts, field_types(TrainConfig)["fanouts"], "train.fanouts")
        if any(f == 0 or f < -1 for f in self.fanouts):
            raise ValueError(f"train.fanouts must be neighbours per hop (each >= 1, or -1 for all), e.g. 15,10,5; "
                             f"got {self.fanouts!r}")


@dataclass
class DataConfig:
    """What the data is made into before training: the graph's preparation (node tasks) and, for traffic
    sets, the forecasting windows, split protocol and covariates."""

    to_undirected: bool = False  # symmetrise a directed graph first (OGB's arxiv scripts do)
    normalize_features: bool = False  # node tasks: rows of x sum to 1 (Kipf & Welling's preprocessing)
    window_in: int = 12  # forecasting: input steps
    window_out: int = 12  # forecasting: predicted steps
    protocol: Protocol = "auto"  # forecasting split protocol; auto = the dataset's lineage
    covariates: Covariates = "auto"  # "none" | "tod" | "tod+dow"; auto = tod, none under the tgcn protocol
    # a user's own data (--dataset graphs.pt or module:function): how it was split and what task it is, kept
    # so that evaluating or predicting with the run later rebuilds the same split
    own_split: tuple[float, ...] = (0.8, 0.1, 0.1)  # train, valid, test fractions (stratified random split)
    own_split_seed: int = 0
    own_task: Task = "auto"  # auto: read from y

    def __post_init__(self):
        check_numbers(self, "data", positive=("window_in", "window_out"))
        check_choices(self, "data")
        self.own_split = as_tuple(self.own_split, field_types(DataConfig)["own_split"], "data.own_split")


# Settings that moved from ``train`` to ``data``: configs saved before (and ``--train.X`` overrides) still work.
MOVED_TO_DATA = ("to_undirected", "normalize_features", "window_in", "window_out", "protocol", "covariates")


def migrate(d: dict[str, Any]) -> dict[str, Any]:
    """A saved config (``config.json``) in today's layout: data settings saved under ``train`` move to ``data``."""
    d = dict(d)
    train = dict(d.get("train") or {})
    data = dict(d.get("data") or {})
    for key in MOVED_TO_DATA:
        if key in train:
            data.setdefault(key, train.pop(key))
    if isinstance(d.get("train"), dict):
        d["train"] = train
    if data or "data" in d:
        d["data"] = data
    return d


@dataclass
class ExperimentConfig:
    """One experiment: a model on a dataset over several seeds (or folds)."""

    model: str
    dataset: str
    seeds: int = 1
    first_seed: int = 0
    folds: int = 0  # >0: k-fold cross-validation, one run per fold (seed = first_seed)
    data_root: str | None = None
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model_cfg: dict[str, Any] = field(default_factory=dict)  # overrides of the model's config dataclass

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-ready; what a run's config.json holds)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ExperimentConfig":
        """Rebuild from :meth:`to_dict`'s output (e.g. a run's config.json), checking names and types."""
        if not isinstance(d, dict):
            raise ValueError(f"an experiment config must be a JSON object, got {type(d).__name__}")
        d = migrate(d)
        sections = {"optim": OptimConfig, "train": TrainConfig, "data": DataConfig}
        built = {name: sec(**_typed(sec, d.get(name, {}), name)) for name, sec in sections.items()}
        top = {k: v for k, v in d.items() if k not in sections}
        return cls(**built, **_typed(cls, top, "", skip=tuple(sections)))


def _typed(cls: type, values: Any, section: str, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Check a dict of field values against ``cls``'s declared types (JSON numbers: ints pass as floats)."""
    prefix = f"{section}." if section else ""
    if not isinstance(values, dict):
        raise ValueError(f"config section {section or 'top level'!r} must be an object, got {type(values).__name__}")
    types = field_types(cls)
    out = {}
    for key, value in values.items():
        if key in skip:
            continue
        if key not in types:
            raise unknown_name("setting", f"{prefix}{key}", [f"{prefix}{k}" for k in types if k not in skip])
        typ = types[key]
        if choices(typ) is not None or is_tuple(typ):  # the dataclass's own check converts and names the problem
            out[key] = value
            continue
        allowed = tuple(a for a in (typing.get_args(typ) or (typ,)) if isinstance(a, type))
        origin = typing.get_origin(typ)
        if origin is dict or dict in allowed:
            ok = isinstance(value, dict)
        elif float in allowed:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif int in allowed and bool not in allowed:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, allowed) if allowed else True
        if value is None and type(None) in allowed:
            ok = True
        if not ok:
            raise ValueError(f"{prefix}{key} must be {' or '.join(a.__name__ for a in allowed)}, "
                             f"got {value!r} ({type(value).__name__})")
        out[key] = value
    return out


def choices(typ: Any) -> tuple[Any, ...] | None:
    """The allowed values of a ``Literal[...]`` type (also inside ``X | None``), else None."""
    if typing.get_origin(typ) is Literal:
        return typing.get_args(typ)
    for arg in typing.get_args(typ):
        if typing.get_origin(arg) is Literal:
            return typing.get_args(arg)
    return None


def is_tuple(typ: Any) -> bool:
    """Whether ``typ`` is ``tuple[X, ...]`` or ``tuple[X, Y, ...]`` (a list-valued setting)."""
    return typing.get_origin(typ) is tuple


def as_tuple(value: Any, typ: Any, where: str) -> tuple[Any, ...]:
    """``value`` (a tuple, a JSON list, or the text ``"64,16,64"`` of the command line and of configs saved
    before list settings existed) as ``typ``'s tuple, each item converted and the length checked."""
    args = typing.get_args(typ)
    variadic = len(args) == 2 and args[1] is Ellipsis
    if isinstance(value, str):
        items: list[Any] = [t.strip() for t in value.split(",")] if value.strip() else []
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ValueError(f"{where} must be a list like 64,16,64, got {value!r}")
    if not variadic and len(items) != len(args):
        raise ValueError(f"{where} needs {len(args)} values separated by commas, got {value!r}")
    out = []
    for i, item in enumerate(items):
        kind = args[0] if variadic else args[i]
        if isinstance(item, str):
            item = parse_value(item, kind, where)
        elif kind is float and isinstance(item, int) and not isinstance(item, bool):
            item = float(item)
        if not isinstance(item, kind) or isinstance(item, bool) != (kind is bool):
            raise ValueError(f"{where} holds {item!r}, not {kind.__name__}")
        out.append(item)
    return tuple(out)


def check_choice(where: str, value: Any, allowed: tuple[Any, ...]) -> None:
    """``ValueError`` naming ``where`` and the allowed values unless ``value`` is one of them."""
    if value not in allowed:
        raise ValueError(f"{where} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")


def check_choices(obj: Any, section: str) -> None:
    """Every ``Literal``-typed field of the dataclass ``obj`` holds one of its choices (None where allowed)."""
    for name, typ in field_types(type(obj)).items():
        allowed = choices(typ)
        value = getattr(obj, name)
        if allowed is not None and not (value is None and type(None) in typing.get_args(typ)):
            check_choice(f"{section}.{name}", value, allowed)


def check_numbers(obj: Any, section: str, positive: tuple[str, ...] = (), non_negative: tuple[str, ...] = ()) -> None:
    """Every float field of ``obj`` finite; the named fields > 0 or >= 0; clear errors naming ``section.field``."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        where = f"{section}.{f.name}"
        if not math.isfinite(value):
            raise ValueError(f"{where} must be a finite number, got {value!r}")
        if f.name in positive and value <= 0:
            raise ValueError(f"{where} must be > 0, got {value!r}")
        if f.name in non_negative and value < 0:
            raise ValueError(f"{where} must be >= 0, got {value!r}")


# Model settings that are sizes (>= 1) or probabilities ([0, 1)), checked on every --model.X override.
SIZE_FIELDS = ("hidden", "num_layers", "heads", "channels", "layers")


def check_model_value(name: str, value: Any, where: str) -> None:
    """Range checks for a model setting given on the command line (each model config checks the rest)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {value!r}")
    if (name in SIZE_FIELDS or name.endswith("_channels") or name.endswith("_layers")) and value < 1:
        raise ValueError(f"{where} is a size and must be >= 1, got {value!r}")
    if "dropout" in name and not 0 <= value < 1:
        raise ValueError(f"{where} is a probability and must lie in [0, 1), got {value!r}")


def parse_value(text: str, typ: Any, where: str) -> Any:
    """Convert ``text`` to ``typ`` (bool, int, float, str, ``Literal``, a tuple from ``"a,b,c"``, ``X | None``)
    or raise a clear error."""
    if is_tuple(typ):
        return as_tuple(text, typ, where)
    allowed = choices(typ)
    if allowed is not None:
        if type(None) in typing.get_args(typ) and text.lower() in ("none", "null"):
            return None
        check_choice(where, text, allowed)
        return text
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and type(None) in args:
        if text.lower() in ("none", "null"):
            return None
        typ = next(a for a in args if a is not type(None))
    if typ is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{where} expects true/false, got {text!r}")
    if typ in (int, float):
        try:
            value = typ(text)
        except ValueError:
            raise ValueError(f"{where} expects {typ.__name__}, got {text!r}") from None
        return value
    if typ is str:
        return text
    raise ValueError(f"{where} has type {typ}, which cannot be set from the command line")


def field_types(cls: type) -> dict[str, Any]:
    """``{field name: resolved type}`` of a config dataclass."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def unknown_name(kind: str, name: str, choices) -> ValueError:
    """``ValueError`` for an unknown name, suggesting the closest choices."""
    choices = sorted(choices)
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(f"unknown {kind} {name!r}.{hint} Choose from: {', '.join(choices)}")


def apply_override(cfg: ExperimentConfig, key: str, text: str, model_cls: type | None) -> None:
    """Set ``key`` (``optim.lr``, ``train.epochs``, ``model.hidden``, ``seeds``) from ``text``.

    Values are converted with the field's declared type; unknown keys get a
    suggestion. ``model.*`` keys are checked against ``model_cls`` (the model's
    config dataclass).
    """
    section, _, name = key.partition(".")
    if not name:
        top = {k: v for k, v in field_types(ExperimentConfig).items()
               if k not in ("optim", "train", "data", "model_cfg")}
        if section not in top:
            raise unknown_name("setting", key, list(top) + [f"optim.{k}" for k in field_types(OptimConfig)]
                               + [f"train.{k}" for k in field_types(TrainConfig)]
                               + [f"data.{k}" for k in field_types(DataConfig)])
        value = parse_value(text, top[section], f"--{key}")
        if isinstance(value, int) and not isinstance(value, bool) and value < (1 if section == "seeds" else 0):
            raise ValueError(f"--{key} must be {'>= 1' if section == 'seeds' else '>= 0'}, got {value}")
        setattr(cfg, section, value)
        return
    if section == "model":
        if model_cls is None:
            raise ValueError("model settings need a model")
        types = field_types(model_cls)
        if name not in types:
            raise unknown_name(f"setting of {model_cls.__name__}", key, [f"model.{k}" for k in types])
        cfg.model_cfg[name] = parse_value(text, types[name], f"--{key}")
        check_model_value(name, cfg.model_cfg[name], f"--{key}")
        return
    if section == "train" and name in MOVED_TO_DATA:  # the spelling from before the data section
        section = "data"
    if section not in ("optim", "train", "data"):
        raise unknown_name("setting group", section, ["model", "optim", "train", "data"])
    target = getattr(cfg, section)
    types = field_types(type(target))
    if name not in types:
        raise unknown_name("setting", key, [f"{section}.{k}" for k in types])
    setattr(target, name, parse_value(text, types[name], f"--{key}"))
    target.__post_init__() if hasattr(target, "__post_init__") else None
