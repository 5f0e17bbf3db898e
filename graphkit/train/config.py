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
import typing
from dataclasses import dataclass, field
from typing import Any


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
    optimizer: str = "adam"  # "adam" (weight decay added to the gradient) or "adamw" (decoupled)
    warmup_epochs: int = 0  # with cosine: linear warm-up from 0
    cosine: bool = False  # cosine decay to 0 over the run's epochs (GraphGPS's cosine_with_warmup)

    def __post_init__(self):
        if self.optimizer not in ("adam", "adamw"):
            raise ValueError(f"optim.optimizer must be 'adam' or 'adamw', got {self.optimizer!r}")
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
    select: str = "valid"
    patience: int = 0  # stop after this many epochs without a better validation score; 0 = never
    loss_window: int = 0  # Kipf & Welling: stop when valid loss exceeds the mean of the last N; 0 = off
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:1" ...
    threads: int = 0  # torch CPU threads; 0 = torch's default
    num_workers: int = 0  # DataLoader workers for graph-level tasks
    to_undirected: bool = False  # symmetrise a directed graph first (OGB's arxiv scripts do)
    normalize_features: bool = False  # node tasks: rows of x sum to 1 (Kipf & Welling's preprocessing)
    negatives: int = 1  # link prediction: random negative pairs per positive training edge
    checkpoint: bool = True
    dist_timeout: float = 300.0  # seconds a collective waits for the other ranks before failing the run
    amp: str = "none"  # mixed precision: "none" | "bf16" (CPU or CUDA) | "fp16" (CUDA, with loss scaling)
    compile: bool = False  # run the model through torch.compile
    fanouts: str = ""  # node tasks: neighbour-sampled mini-batches, e.g. "15,10,5" (-1 = all); "" = full batch
    clip_grad: float = 0.0  # clip the gradient norm to this value; 0 = off (Graph WaveNet / DCRNN use 5)
    loss: str = "auto"  # forecasting: "masked-mae" (auto) | "sse" (T-GCN); graph regression: "auto" (MSE) | "l1"
    # forecasting data (traffic sets): window lengths, split protocol, covariates
    window_in: int = 12
    window_out: int = 12
    protocol: str = "auto"  # "dcrnn" | "astgcn" | "stgcn" | "tgcn"; auto = the dataset's lineage
    covariates: str = "auto"  # "none" | "tod" | "tod+dow"; auto = tod, none under the tgcn protocol

    def __post_init__(self):
        if self.select not in ("valid", "valid-loss", "last", "mean-curve", "test"):
            raise ValueError(f"train.select must be 'valid', 'valid-loss', 'last', 'mean-curve' or 'test', "
                             f"got {self.select!r}")
        if self.covariates not in ("auto", "none", "tod", "tod+dow"):
            raise ValueError(f"train.covariates must be 'auto', 'none', 'tod' or 'tod+dow', got {self.covariates!r}")


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
    model_cfg: dict[str, Any] = field(default_factory=dict)  # overrides of the model's config dataclass

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ExperimentConfig":
        d = dict(d)
        d["optim"] = OptimConfig(**d.get("optim", {}))
        d["train"] = TrainConfig(**d.get("train", {}))
        return cls(**d)


def parse_value(text: str, typ: Any, where: str) -> Any:
    """Convert ``text`` to ``typ`` (bool, int, float, str, ``X | None``) or raise a clear error."""
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
        top = {k: v for k, v in field_types(ExperimentConfig).items() if k not in ("optim", "train", "model_cfg")}
        if section not in top:
            raise unknown_name("setting", key, list(top) + [f"optim.{k}" for k in field_types(OptimConfig)]
                               + [f"train.{k}" for k in field_types(TrainConfig)])
        setattr(cfg, section, parse_value(text, top[section], f"--{key}"))
        return
    if section == "model":
        if model_cls is None:
            raise ValueError("model settings need a model")
        types = field_types(model_cls)
        if name not in types:
            raise unknown_name(f"setting of {model_cls.__name__}", key, [f"model.{k}" for k in types])
        cfg.model_cfg[name] = parse_value(text, types[name], f"--{key}")
        return
    if section not in ("optim", "train"):
        raise unknown_name("setting group", section, ["model", "optim", "train"])
    target = getattr(cfg, section)
    types = field_types(type(target))
    if name not in types:
        raise unknown_name("setting", key, [f"{section}.{k}" for k in types])
    setattr(target, name, parse_value(text, types[name], f"--{key}"))
    target.__post_init__() if hasattr(target, "__post_init__") else None
