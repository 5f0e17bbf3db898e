"""Planetoid citation graphs (Cora, CiteSeer, PubMed) with the public split.

Reads the original ``ind.<name>.*`` files from ``<root>/planetoid/<Name>/raw``
(PyG's layout) and returns a PyG ``Data`` without writing anything there. If
the files are absent they are downloaded from the Planetoid repository into a
temporary folder and moved into place only when complete.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, remove_self_loops

from graphkit.data.bundle import Loaded
from graphkit.data.checks import checked_loader
from graphkit.data.root import DatasetFormatError, data_root, load_data_pickle, require_files
from graphkit.metrics import Accuracy

URL = "https://github.com/kimiyoung/planetoid/raw/master/data"
NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def raw_files(name: str) -> list[str]:
    """The eight ``ind.<name>.*`` file names Planetoid ships for ``name``."""
    return [f"ind.{name.lower()}.{s}" for s in SUFFIXES]


@checked_loader
def load_planetoid(name: str, root: str | None = None, download: bool = True) -> Data:
    """Load ``cora``, ``citeseer`` or ``pubmed`` (case-insensitive) as one graph.

    Returns ``Data`` with ``x: [N, F]``, ``edge_index: [2, E]`` (undirected,
    coalesced), ``y: [N]`` and ``train_mask``/``val_mask``/``test_mask`` (the
    public 20-per-class / 500 / 1000 split).
    """
    key = name.lower()
    if key not in NAMES:
        raise ValueError(f"unknown Planetoid dataset {name!r}; choose one of {sorted(NAMES)}")
    raw = data_root(root) / "planetoid" / NAMES[key] / "raw"
    require_files(NAMES[key], raw, {f: f"{URL}/{f}" for f in raw_files(key)}, download, f"{URL}/")
    return read_planetoid(raw, key)


def _matrix(path: Path) -> torch.Tensor:
    m = load_data_pickle(path)
    m = m.toarray() if hasattr(m, "toarray") else np.asarray(m)
    if m.ndim != 2 or not np.issubdtype(m.dtype, np.number):
        raise DatasetFormatError(f"{path}: expected a 2-d numeric matrix, got {m.dtype} of shape {m.shape}")
    return torch.from_numpy(np.ascontiguousarray(m)).float()


def read_planetoid(raw: Path, key: str) -> Data:
    """Assemble the graph from the ``ind.<key>.*`` files in ``raw`` (Planetoid's layout, as PyG reads it).

    The pickled files go through :func:`~graphkit.data.root.load_data_pickle`, which refuses any class but
    containers, numpy arrays and scipy CSR matrices (PyG's reader unpickles them unrestricted). Test rows are
    put back at their node ids; CiteSeer's isolated test nodes get zero features and class 0, as in PyG.
    """
    f = {s: raw / f"ind.{key}.{s}" for s in SUFFIXES}
    x, tx, allx = (_matrix(f[s]) for s in ("x", "tx", "allx"))
    y, ty, ally = (_matrix(f[s]) for s in ("y", "ty", "ally"))
    graph = load_data_pickle(f["graph"])
    try:
        test_index = torch.from_numpy(np.loadtxt(f["test.index"], dtype=np.int64, ndmin=1))
    except ValueError as exc:
        raise DatasetFormatError(f"{f['test.index']}: expected one node id per line ({exc})") from exc
    extra = test_index.numel() - test_index.unique().numel()
    if extra:
        ids = test_index.tolist()
        first = next(v for i, v in enumerate(ids) if v in ids[:i])
        raise DatasetFormatError(f"{f['test.index']}: node id {first} is listed more than once ({extra} repeated "
                                 "ids; each test node must appear once)")
    if not isinstance(graph, dict) or not all(isinstance(v, (list, tuple)) for v in graph.values()):
        raise DatasetFormatError(f"{f['graph']}: expected a dict of adjacency lists, got {type(graph).__name__}")
    for a, b, what in ((allx, ally, "allx/ally"), (tx, ty, "tx/ty"), (x, y, "x/y")):
        if a.size(0) != b.size(0):
            raise DatasetFormatError(f"{raw}: {what} have {a.size(0)} and {b.size(0)} rows")
    if tx.size(1) != allx.size(1) or ty.size(1) != ally.size(1):
        raise DatasetFormatError(f"{raw}: tx/allx or ty/ally column counts differ")
    sorted_test = test_index.sort().values
    if key == "citeseer":  # isolated test nodes: their ids are in the range but have no rows in tx/ty
        span = int(test_index.max() - test_index.min()) + 1
        tx_full, ty_full = tx.new_zeros(span, tx.size(1)), ty.new_zeros(span, ty.size(1))
        tx_full[sorted_test - test_index.min()] = tx
        ty_full[sorted_test - test_index.min()] = ty
        tx, ty = tx_full, ty_full
    elif tx.size(0) != test_index.numel():
        raise DatasetFormatError(f"{f['test.index']}: {test_index.numel()} ids for {tx.size(0)} test rows")
    features = torch.cat([allx, tx])
    labels = torch.cat([ally, ty]).argmax(1)
    n = labels.numel()
    if int(test_index.min()) < 0 or int(test_index.max()) >= n:
        raise DatasetFormatError(f"{f['test.index']}: node ids must lie in [0, {n}), got "
                                 f"[{int(test_index.min())}, {int(test_index.max())}]")
    features[test_index] = features[sorted_test]
    labels[test_index] = labels[sorted_test]
    rows = [int(k) for k, v in graph.items() for _ in v]
    cols = [int(c) for v in graph.values() for c in v]
    edge_index = torch.tensor([rows, cols], dtype=torch.long).view(2, -1)
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= n):
        raise DatasetFormatError(f"{f['graph']}: node ids must lie in [0, {n}), got up to {int(edge_index.max())}")
    edge_index = coalesce(remove_self_loops(edge_index)[0], num_nodes=n, sort_by_row=False)  # PyG's order
    masks = {m: torch.zeros(n, dtype=torch.bool) for m in ("train_mask", "val_mask", "test_mask")}
    masks["train_mask"][: y.size(0)] = True
    masks["val_mask"][y.size(0): y.size(0) + 500] = True
    masks["test_mask"][test_index] = True
    return Data(x=features, edge_index=edge_index, y=labels, **masks)


@checked_loader
def planetoid_task(name: str, root: str | None = None, download: bool = True) -> Loaded:
    """:func:`load_planetoid` with the public split as index tensors and accuracy as the metric."""
    data = load_planetoid(name, root, download)
    split = {k: m.nonzero().view(-1) for k, m in
             (("train", data.train_mask), ("valid", data.val_mask), ("test", data.test_mask))}
    return Loaded(NAMES[name.lower()], "node", "multiclass", data.num_features, int(data.y.max()) + 1,
                  Accuracy(), data=data, split=split)
