"""A finished run's model put to use: rescore it (:func:`evaluate_run`) or predict with it
(:func:`predict_split` on its dataset's split, :func:`predict_file` on a user's graphs), and write the
predictions (:func:`write_predictions`). ``graphkit evaluate`` and ``graphkit predict`` are these functions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from graphkit.catalog import resolve_run_device, saved_run
from graphkit.train.io import load_json
from graphkit.train.saved import _run_folder, load


@dataclass
class Evaluation:
    """Scores of a run's selected model, recomputed; ``reported``: what the run wrote when it finished."""

    folder: Path
    epoch: int
    metric: str
    scores: dict[str, float]
    reported: dict[str, float] = field(default_factory=dict)


@dataclass
class Predictions:
    """``prediction[i]`` is the model's output for item ``ids[i]`` (a node, or a graph); ``target`` the label
    where the data has one. ``folder``: the run; ``what``: the items, in words."""

    ids: Tensor
    prediction: Tensor
    target: Tensor | None
    folder: Path
    what: str


def evaluate_run(run: str | Path, data_root: str | None = None, device: str | None = None) -> Evaluation:
    """Rescore the selected model of ``run`` (a run or experiment folder) on its valid and test splits."""
    task, model, loaded, folder = saved_run(str(run), data_root, device)
    scores = task.evaluate(model)
    reported = load_json(folder / "results.json")["selected"] if (folder / "results.json").is_file() else {}
    return Evaluation(folder, model.best_epoch, loaded.metric.name,
                      {k: v for k, v in scores.items() if k in ("valid", "test")},
                      {k: v for k, v in reported.items() if k in ("valid", "test")})


def predict_split(run: str | Path, split: str = "test", data_root: str | None = None,
                  device: str | None = None) -> Predictions:
    """The run's selected model on ``split`` of its own dataset (node and graph tasks)."""
    task, model, loaded, folder = saved_run(str(run), data_root, device)
    if split not in task.split:
        raise ValueError(f"split must be one of {sorted(task.split)}, got {split!r}")
    if loaded.level == "graph":
        y, pred = task.predict(model, split)
        ids = task.split[split]
    elif loaded.level == "node":
        with torch.no_grad():
            out = model(task.x, task.adj)
        ids = task.split[split]
        y, pred = task.y[ids], out[ids]
    else:
        raise NotImplementedError(f"predicting supports node and graph tasks, not {loaded.level}")
    return Predictions(ids, pred.float().cpu(), y.cpu(), folder, f"{split} split of {loaded.name}")


def predict_file(run: str | Path, path: str | Path, device: str | None = None) -> Predictions:
    """The run's selected model on the graphs of a file written by ``torch.save`` (a Data: its nodes; a list of
    Data: each graph), read safely (tensors and PyG's data classes only); no labels needed."""
    from torch_geometric.loader import DataLoader

    from graphkit.data.from_pyg import load_pyg_file

    folder = _run_folder(Path(run), None)
    dev = resolve_run_device(device)
    model = load(folder, dev)
    obj = load_pyg_file(str(path))
    with torch.no_grad():
        if isinstance(obj, list):
            pred = torch.cat([model(b.to(dev)).float().cpu() for b in DataLoader(obj, batch_size=256)])
        else:
            pred = model(obj.x.float().to(dev), obj.edge_index.to(dev)).float().cpu()
    return Predictions(torch.arange(pred.size(0)), pred, None, folder, Path(path).name)


def write_predictions(out: str | Path, p: Predictions) -> Path:
    """CSV (``id,out0,out1,...``) or, for a ``.pt`` name, ``{"ids", "prediction", "target"}`` (tensors only)."""
    out = Path(out)
    pred = p.prediction.float().cpu()
    if out.suffix == ".pt":
        torch.save({"ids": p.ids.cpu(), "prediction": pred, "target": None if p.target is None else p.target.cpu()},
                   out)
    else:
        rows = pred.reshape(pred.size(0), -1).tolist()
        with open(out, "w") as f:
            f.write("id," + ",".join(f"out{j}" for j in range(len(rows[0]) if rows else 0)) + "\n")
            for i, r in zip(p.ids.tolist(), rows):
                f.write(f"{i}," + ",".join(f"{v:.6g}" for v in r) + "\n")
    return out
