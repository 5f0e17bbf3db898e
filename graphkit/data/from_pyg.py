"""Your own graphs as a :class:`~graphkit.data.Loaded`: one PyG ``Data`` (node level), or a list of ``Data`` or
any PyG ``Dataset`` (graph level), ready for the trainer, the CLI's models and the metrics.

The task is read from ``y`` unless given: integer labels are ``multiclass``; floats that are all 0/1 (NaN =
unlabelled) are ``binary`` (one column per task); other floats are ``regression``. The metric follows the
task unless given (accuracy; ROC-AUC averaged over tasks; mean absolute error). Splits are index tensors,
boolean masks or fractions (seeded random splits, stratified by class for single-target classification);
a node-level ``Data`` with ``train_mask`` / ``val_mask`` / ``test_mask`` uses them. Everything is checked
once, here: missing features, labels out of range, splits of the wrong type or length, overlapping splits.

Example::

    >>> from torch_geometric.data import Data
    >>> graphs = [Data(x=torch.randn(4, 3), edge_index=torch.tensor([[0, 1], [1, 2]]), y=torch.tensor([i % 2]))
    ...           for i in range(20)]
    >>> loaded = from_pyg(graphs, split=(0.6, 0.2, 0.2))
    >>> loaded.level, loaded.task, loaded.num_outputs, [len(loaded.split[k]) for k in ("train", "valid", "test")]
    ('graph', 'multiclass', 2, [12, 4, 4])
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor

from graphkit.data.bundle import Loaded
from graphkit.data.checks import check_loaded, split_indices
from graphkit.data.graph_sets import GraphList
from graphkit.data.root import DatasetFormatError
from graphkit.metrics import Accuracy, MeanAbsoluteError, Metric, RocAuc

TASKS = ("multiclass", "binary", "regression")
PARTS = ("train", "valid", "test")


def infer_task(y: Tensor) -> str:
    """``multiclass`` for integer labels, ``binary`` for floats in {0, 1} (NaN = unlabelled), else ``regression``."""
    if not y.is_floating_point():
        return "multiclass"
    known = y[y == y]
    return "binary" if known.numel() and bool(((known == 0) | (known == 1)).all()) else "regression"


def _targets(y: Tensor, task: str, count: int, what: str) -> int:
    """Check ``y`` against ``task`` and return the number of outputs (classes, or tasks)."""
    if y.size(0) != count:
        raise DatasetFormatError(f"{what}: y has {y.size(0)} rows but there are {count} {what.split()[-1]}")
    if task == "multiclass":
        if y.is_floating_point() and not bool((y == y.round()).all()):
            raise DatasetFormatError(f"{what}: task 'multiclass' needs integer class ids, y holds fractions")
        if y.dim() > 1 and y.size(-1) != 1:
            raise DatasetFormatError(f"{what}: multiclass y must be [N] (or [N, 1]) class ids, got {list(y.shape)}")
        if y.numel() and int(y.min()) < 0:
            raise DatasetFormatError(f"{what}: class ids must be >= 0, found {int(y.min())}")
        return int(y.max()) + 1 if y.numel() else 0
    if not y.is_floating_point():
        y = y.float()
    if not bool(torch.isfinite(y[y == y]).all()):
        raise DatasetFormatError(f"{what}: y holds infinite values")
    if task == "binary":
        known = y[y == y]
        if not bool(((known == 0) | (known == 1)).all()):
            raise DatasetFormatError(f"{what}: task 'binary' needs targets in {{0, 1}} (NaN = unlabelled)")
    return 1 if y.dim() == 1 else y[0].numel()


def _random_split(n: int, fractions: Sequence[float], labels: Tensor | None, seed: int) -> dict[str, Tensor]:
    """Seeded random split into ``fractions`` of ``n`` items, stratified by ``labels`` when given."""
    if len(fractions) != 3 or any(not isinstance(f, (int, float)) or f < 0 for f in fractions) \
            or sum(fractions) > 1 + 1e-9 or fractions[0] <= 0:
        raise DatasetFormatError(f"split fractions must be (train, valid, test) >= 0 with train > 0 and a sum "
                                 f"<= 1, got {tuple(fractions)}")
    g = torch.Generator().manual_seed(seed)
    # Each item gets a position in [0, 1): shuffled within its class and spread evenly over the interval,
    # so cutting the sorted positions at the fractions takes each class in proportion (stratified) while
    # the parts have exactly round(fraction * n) items.
    position = torch.empty(n, dtype=torch.float64)
    groups = [torch.arange(n)] if labels is None else [(labels == c).nonzero().view(-1) for c in labels.unique()]
    for ids in groups:
        ids = ids[torch.randperm(ids.numel(), generator=g)]
        position[ids] = (torch.arange(ids.numel(), dtype=torch.float64) + 0.5) / ids.numel()
    order = torch.argsort(position + 1e-9 * torch.rand(n, generator=g, dtype=torch.float64))
    cuts = [round(sum(fractions[:i + 1]) * n) for i in range(3)]
    return {"train": order[:cuts[0]].sort().values, "valid": order[cuts[0]:cuts[1]].sort().values,
            "test": order[cuts[1]:cuts[2]].sort().values}


def _split(split: Any, n: int, labels: Tensor | None, task: str, seed: int, what: str) -> dict[str, Tensor]:
    if isinstance(split, (tuple, list)) and all(isinstance(f, (int, float)) for f in split):
        stratify = labels if task == "multiclass" or (task == "binary" and labels is not None) else None
        return _random_split(n, split, stratify, seed)
    if not isinstance(split, dict):
        raise DatasetFormatError(f"{what}: split must be a dict of index tensors or boolean masks, or fractions "
                                 f"(train, valid, test); got {type(split).__name__}")
    if "train" not in split:
        raise DatasetFormatError(f"{what}: split needs a 'train' part (got {sorted(split)})")
    out = split_indices(dict(split), n, f"{what} split")
    names = list(out)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            common = torch.from_numpy(np.intersect1d(out[a].numpy(), out[b].numpy()))
            if common.numel():
                raise DatasetFormatError(f"{what}: splits {a!r} and {b!r} overlap in {common.numel()} item(s), "
                                         f"e.g. {common[0].item()}")
    return out


def _default_metric(task: str) -> Metric:
    return {"multiclass": Accuracy, "binary": RocAuc, "regression": MeanAbsoluteError}[task]()


def from_pyg(data: Any, *, task: str | None = None, split: Any = (0.8, 0.1, 0.1), metric: Metric | None = None,
             name: str = "custom", seed: int = 0) -> Loaded:
    """Turn PyG data into a :class:`Loaded` for the trainer.

    Args:
        data: a ``Data`` (node level: one graph whose nodes are classified or regressed), or a list of
            ``Data`` / a PyG ``Dataset`` (graph level: one target per graph).
        task: ``"multiclass"``, ``"binary"`` or ``"regression"``; inferred from ``y`` when None.
        split: ``{"train", "valid", "test"}`` as index tensors or boolean masks, or fractions
            ``(train, valid, test)`` for a seeded random split (stratified by class for single-target
            classification). A node-level ``Data`` with ``train_mask`` / ``val_mask`` / ``test_mask`` uses
            them when ``split`` is left at its default.
        metric: the selection and report score; by default accuracy, ROC-AUC (mean over tasks) or MAE.
        name: the dataset's name in run files and summary lines.
        seed: seed of the random split.

    Raises:
        DatasetFormatError: naming what is wrong (no features, labels out of range, a split of the wrong
            type, length or range, overlapping splits, a task that does not fit ``y``).
    """
    from torch_geometric.data import Data, Dataset

    if task is not None and task not in TASKS:
        raise DatasetFormatError(f"task must be one of {TASKS}, got {task!r}")
    if isinstance(data, Data):
        return _node_level(data, task, split, metric, name, seed)
    if isinstance(data, (list, tuple)):
        if not data or not all(isinstance(g, Data) for g in data):
            raise DatasetFormatError(f"{name}: a graph-level dataset must be a non-empty list of PyG Data objects")
        dataset: Any = GraphList(list(data))
    elif isinstance(data, Dataset):
        dataset = data
    else:
        raise DatasetFormatError(f"{name}: expected a PyG Data, a list of Data or a PyG Dataset, got "
                                 f"{type(data).__name__}")
    return _graph_level(dataset, task, split, metric, name, seed)


def _node_level(data: Any, task: str | None, split: Any, metric: Metric | None, name: str, seed: int) -> Loaded:
    from torch_geometric.data import Data

    what = f"{name} nodes"
    if data.x is None or not isinstance(data.x, Tensor) or data.x.dim() != 2:
        raise DatasetFormatError(f"{name}: node features x [N, F] are missing; graphkit's node models need them")
    if data.y is None:
        raise DatasetFormatError(f"{name}: y (the node targets) is missing")
    n = data.num_nodes
    y = data.y
    task = task or infer_task(y)
    outputs = _targets(y, task, n, what)
    if split == (0.8, 0.1, 0.1) and all(getattr(data, k, None) is not None
                                        for k in ("train_mask", "val_mask", "test_mask")):
        split = {"train": data.train_mask, "valid": data.val_mask, "test": data.test_mask}
    labels = y.view(-1) if task != "regression" and (y.dim() == 1 or y[0].numel() == 1) else None
    parts = _split(split, n, None if labels is None else labels.long(), task, seed, name)
    graph = Data(x=data.x.float(), edge_index=data.edge_index, y=y.view(-1).long() if task == "multiclass" else y)
    loaded = Loaded(name, "node", task, data.x.size(1), outputs, metric or _default_metric(task), data=graph,
                    split=parts)
    check_loaded(loaded, name)
    return loaded


def _graph_level(dataset: Any, task: str | None, split: Any, metric: Metric | None, name: str,
                 seed: int) -> Loaded:
    what = f"{name} graphs"
    count = len(dataset)
    first = dataset[0]
    if getattr(first, "x", None) is None:
        raise DatasetFormatError(f"{name}: graph 0 has no node features x [n, F]; graphkit's graph models need "
                                 "them (add a constant feature, e.g. torch_geometric.transforms.Constant)")
    ys = []
    for i in range(count):
        g = dataset[i]
        if getattr(g, "y", None) is None:
            raise DatasetFormatError(f"{name}: graph {i} has no target y")
        if g.x is None or g.x.dim() != 2 or g.x.size(1) != first.x.size(1):
            raise DatasetFormatError(f"{name}: graph {i} has node features {None if g.x is None else list(g.x.shape)}"
                                     f", graph 0 has [n, {first.x.size(1)}]")
        ys.append(g.y.reshape(1, -1))
    widths = {y.size(1) for y in ys}
    if len(widths) != 1:
        raise DatasetFormatError(f"{name}: the graphs' targets have different sizes {sorted(widths)}")
    y = torch.cat(ys)
    task = task or infer_task(y)
    outputs = _targets(y.view(-1) if task == "multiclass" else y, task, count, what)
    labels = y.view(-1).long() if task != "regression" and y.size(1) == 1 else None
    parts = _split(split, count, labels, task, seed, name)
    loaded = Loaded(name, "graph", task, first.x.size(1), outputs, metric or _default_metric(task),
                    dataset=dataset, split=parts)
    check_loaded(loaded, name)
    return loaded


def load_pyg_file(path: str | os.PathLike) -> Any:
    """What ``torch.save`` wrote: a ``Data``, a list of ``Data``, or an InMemoryDataset's ``(data, slices)``
    (``torch.save((ds._data, ds.slices), path)``), read with ``weights_only=True`` and PyG's data classes
    allowed, so the file cannot run code. A pickled dataset *object* is refused by name (its class would have
    to be unpickled): save ``list(dataset)`` or ``(dataset._data, dataset.slices)`` instead."""
    import pickle

    from torch_geometric.data import Data
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    path = Path(path)
    try:
        with torch.serialization.safe_globals([Data, DataEdgeAttr, DataTensorAttr, GlobalStorage]):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise DatasetFormatError(
            f"{path} holds objects other than PyG Data and tensors (a pickled dataset object?); graphkit does not "
            f"unpickle them. Save list(dataset) or (dataset._data, dataset.slices) instead "
            f"({str(exc).splitlines()[0]})") from None
    except (RuntimeError, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DatasetFormatError(f"{path} is not a readable torch file ({type(exc).__name__}: {exc})") from None
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], Data) and isinstance(obj[1], dict):
        return _separate_all(*obj)
    if isinstance(obj, Data) or (isinstance(obj, list) and obj and all(isinstance(g, Data) for g in obj)):
        return obj
    raise DatasetFormatError(f"{path}: expected a Data, a list of Data or (data, slices), got {type(obj).__name__}")


def _separate_all(data: Any, slices: dict[str, Tensor]) -> list[Any]:
    """The graphs of a collated ``(data, slices)`` pair, as PyG's InMemoryDataset takes them apart."""
    from torch_geometric.data.separate import separate

    count = len(next(iter(slices.values()))) - 1
    return [separate(cls=data.__class__, batch=data, idx=i, slice_dict=slices, decrement=False)
            for i in range(count)]
