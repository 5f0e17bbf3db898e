"""Trained models back from a run folder: the weights of the selected epoch and the model that holds them.

Every run folder (``<out>/run-seed00/`` ...) keeps, beside its resumable ``checkpoint.pt`` (the last epoch),
``best.pt``: the weights of the epoch the run reports (by its selection rule: the best validation epoch by
default), and ``model.json``: the model's class and its resolved config. :func:`load` rebuilds the model
from those two files alone, without the dataset, ready for inference on any device:

    >>> model = graphkit.load("runs/cora-gcn")                  # doctest: +SKIP
    >>> model = graphkit.load("runs/cora-gcn/run-seed03", device="cuda")   # doctest: +SKIP

Only classes from ``graphkit.models`` are rebuilt, and weights load with ``weights_only=True``: a run folder
from elsewhere cannot make :func:`load` run code.
"""
from __future__ import annotations

import dataclasses
import importlib
import io as _io
from pathlib import Path
from typing import Any

import torch

from graphkit.train import io

BEST = "best.pt"
MODEL = "model.json"


class SavedModelError(ValueError):
    """A run folder that holds no loadable model (missing or foreign files), named with what to do."""


def model_description(model: torch.nn.Module) -> dict[str, Any] | None:
    """``{"module", "config_class", "config"}`` for a graphkit model with a dataclass ``cfg``; None otherwise
    (a user's own module: :func:`load` then needs ``build``)."""
    cfg = getattr(model, "cfg", None)
    cls = type(model)
    if not dataclasses.is_dataclass(cfg) or not cls.__module__.startswith("graphkit.models"):
        return None
    return {"module": f"{cls.__module__}:{cls.__qualname__}",
            "config_class": f"{type(cfg).__module__}:{type(cfg).__qualname__}",
            "config": dataclasses.asdict(cfg)}


def save_best(run_dir: Path, model: torch.nn.Module, epoch: int) -> None:
    """Write ``best.pt`` (the model's weights at ``epoch``) atomically."""
    buf = _io.BytesIO()
    torch.save({"format": io.CHECKPOINT_FORMAT, "epoch": epoch, "model": model.state_dict()}, buf)
    io.atomic_write_bytes(Path(run_dir) / BEST, buf.getvalue())


def _graphkit_class(path: str) -> type:
    module, _, name = path.partition(":")
    if not module.startswith("graphkit.models"):
        raise SavedModelError(f"{MODEL} names {path!r}; only graphkit.models classes are rebuilt")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _run_folder(path: Path, run: str | None) -> Path:
    if (path / MODEL).is_file() or (path / BEST).is_file():
        return path
    runs = sorted(p for p in path.glob("run-*") if p.is_dir())
    if not runs:
        raise SavedModelError(f"{path} is neither a run folder nor an experiment with run-* folders")
    if run is None:
        return runs[0]
    if not (path / run).is_dir():
        raise SavedModelError(f"{path} has no run {run!r}; it has {[p.name for p in runs]}")
    return path / run


def load(path: str | Path, device: str | torch.device = "cpu", run: str | None = None,
         build: Any = None) -> torch.nn.Module:
    """The model of a finished (or running) run, with the weights of its selected epoch, in eval mode.

    Args:
        path: a run folder (``.../run-seed00``) or an experiment folder (its first run, or ``run``).
        device: where to put the model.
        run: with an experiment folder, which run (``"run-seed03"``, ``"run-fold02"``).
        build: a function returning the (untrained) model, for models that are not graphkit's; by default
            the model is rebuilt from ``model.json``.
    """
    folder = _run_folder(Path(path), run)
    if not (folder / BEST).is_file():
        raise SavedModelError(f"{folder} has no {BEST} (runs from graphkit before 0.1.1 kept only the last "
                              "checkpoint; load that with graphkit.train.io.load_checkpoint)")
    if build is None:
        if not (folder / MODEL).is_file():
            raise SavedModelError(f"{folder} has no {MODEL} (the model is not one of graphkit's): pass "
                                  "build=<a function returning the model>")
        desc = io.load_json(folder / MODEL)
        cfg_cls, cls = _graphkit_class(desc["config_class"]), _graphkit_class(desc["module"])
        fields = {f.name: f for f in dataclasses.fields(cfg_cls)}
        config = {k: tuple(v) if isinstance(v, list) and isinstance(getattr(cfg_cls, k, None), tuple) else v
                  for k, v in desc["config"].items() if k in fields}
        model = cls(cfg_cls(**config))
    else:
        model = build()
    try:
        state = torch.load(folder / BEST, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same problem for the user
        raise SavedModelError(f"{folder / BEST} is not a readable weights file ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    io.load_model_state(model, state["model"], folder / BEST)
    model.best_epoch = int(state.get("epoch", 0))
    return model.to(device).eval()
