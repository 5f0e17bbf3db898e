"""TU graph classification sets (MUTAG, PROTEINS, NCI1, ...) with stratified 10-fold CV.

Raw files (``<NAME>_A.txt``, ``_graph_indicator.txt``, ``_graph_labels.txt``,
``_node_labels.txt``, ...) are read from ``<data root>/tu/<NAME>/raw`` by PyG's
``TUDataset``; its processed cache goes to ``<cache>/tu/<NAME>/processed``.
Folds follow the GIN reference code: ``StratifiedKFold(10, shuffle=True,
random_state=seed)`` over the graph labels, fold ``i`` is the test set.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from graphkit.data.bundle import Loaded
from graphkit.data.checks import checked_loader
from graphkit.data.root import (
    DatasetFormatError,
    data_root,
    missing_files_error,
    process_in_cache,
    trusted_cache_load,
)
from graphkit.metrics import Accuracy

URL = "https://www.chrsmrrs.com/graphkerneldatasets"
REQUIRED = ("A", "graph_indicator", "graph_labels")


def _download(name: str, raw: Path) -> None:
    from torch_geometric.data import download_url, extract_zip

    raw.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=raw.parent.parent, prefix=f".{name}.") as tmp:
        extract_zip(download_url(f"{URL}/{name}.zip", tmp, log=False), tmp, log=False)
        shutil.move(os.path.join(tmp, name), raw)


def _read_ints(path: Path, columns: int | None = None) -> np.ndarray:
    """A TU text file of comma-separated integers as ``[rows, columns]`` (``[rows]`` for one column)."""
    lines = [ln for ln in path.read_text().replace(",", " ").splitlines() if ln.strip()]
    width = columns if columns is not None else (len(lines[0].split()) if lines else 1)
    flat = np.array(" ".join(lines).split())
    if flat.size != width * len(lines):  # a short or long row: find it (the slow path runs only on errors)
        for line_no, ln in enumerate(lines, 1):
            if len(ln.split()) != width:
                raise DatasetFormatError(f"{path}, row {line_no}: {len(ln.split())} values where the file has "
                                         f"{width}")
    try:
        a = flat.astype(np.float64)
    except ValueError:
        for i, v in enumerate(flat):  # the slow path, only on errors: which value is not a number
            try:
                float(v)
            except ValueError:
                raise DatasetFormatError(f"{path}, row {i // width + 1}: {v!r} is not a number") from None
        raise
    a = a.astype(np.int64).reshape(len(lines), width)
    return a[:, 0] if width == 1 else a



def check_tu_files(name: str, raw: Path) -> None:
    """Consistency of a TU dataset's files, before PyG reads them: one graph label per graph, one indicator
    row per node, node ids in range, edges inside one graph, label files as long as what they label and
    without negative labels. Each problem is a :class:`DatasetFormatError` naming the file and the row."""
    ind = _read_ints(raw / f"{name}_graph_indicator.txt", 1)
    if ind.size == 0:
        raise DatasetFormatError(f"{raw / f'{name}_graph_indicator.txt'} is empty")
    num_graphs = int(ind.max())
    if int(ind.min()) < 1 or np.any(np.diff(ind) < 0) or len(np.unique(ind)) != num_graphs:
        raise DatasetFormatError(f"{raw / f'{name}_graph_indicator.txt'}: graph ids must be 1..G, non-decreasing "
                                 f"and each used (found {len(np.unique(ind))} ids up to {num_graphs})")
    labels = _read_ints(raw / f"{name}_graph_labels.txt", 1)
    if len(labels) != num_graphs:
        raise DatasetFormatError(f"{raw / f'{name}_graph_labels.txt'} has {len(labels)} rows but "
                                 f"{name}_graph_indicator.txt numbers {num_graphs} graphs")
    edges = _read_ints(raw / f"{name}_A.txt", 2)
    if edges.size:
        bad = np.flatnonzero((edges < 1).any(1) | (edges > len(ind)).any(1))
        if bad.size:
            raise DatasetFormatError(f"{raw / f'{name}_A.txt'}, row {bad[0] + 1}: node {edges[bad[0]].tolist()} "
                                     f"outside 1..{len(ind)} (the nodes of {name}_graph_indicator.txt)")
        across = np.flatnonzero(ind[edges[:, 0] - 1] != ind[edges[:, 1] - 1])
        if across.size:
            raise DatasetFormatError(f"{raw / f'{name}_A.txt'}, row {across[0] + 1}: edge "
                                     f"{edges[across[0]].tolist()} joins two different graphs")
    for part, count, what in (("node_labels", len(ind), "nodes"), ("node_attributes", len(ind), "nodes"),
                              ("edge_labels", len(edges), "edges"), ("edge_attributes", len(edges), "edges")):
        path = raw / f"{name}_{part}.txt"
        if not path.exists():
            continue
        if part.endswith("labels"):
            values = _read_ints(path)
            if values.size and int(values.min()) < 0:
                row = int(np.flatnonzero((values.reshape(len(values), -1) < 0).any(1))[0])
                raise DatasetFormatError(f"{path}, row {row + 1}: negative label {values[row].tolist()}")
            rows = len(values)
        else:
            with open(path) as f:
                rows = sum(1 for line in f if line.strip())
        if rows != count:
            raise DatasetFormatError(f"{path} has {rows} rows but the dataset has {count} {what}")


def stratified_folds(labels: torch.Tensor, k: int = 10, seed: int = 0) -> list[dict[str, torch.Tensor]]:
    """``k`` folds ``{"train", "test"}`` (index tensors), stratified by ``labels: [G]``."""
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    y = labels.numpy()
    return [{"train": torch.from_numpy(tr).long(), "test": torch.from_numpy(te).long()}
            for tr, te in skf.split(np.zeros(len(y)), y)]


@checked_loader
def load_tu(name: str, root: str | os.PathLike | None = None, download: bool = True,
            folds: int = 10, fold_seed: int = 0) -> Loaded:
    """Load a TU dataset by its exact name (``MUTAG``, ``PROTEINS``) with ``folds`` CV splits.

    Node features are the one-hot node labels (as in the GIN paper); graphs
    without node labels get a constant feature. ``split`` holds fold 0.
    """
    raw = data_root(root) / "tu" / name / "raw"
    files = [f"{name}_{part}.txt" for part in REQUIRED]
    if not all((raw / f).exists() for f in files):
        why = ""
        if download and not raw.exists():
            try:
                _download(name, raw)
            except Exception as exc:
                why = f"Download from {URL}/{name}.zip failed ({exc.__class__.__name__}: {exc})."
        if not all((raw / f).exists() for f in files):
            raise missing_files_error(name, raw, files, why or f"Get {URL}/{name}.zip and unzip it there.")
    from torch_geometric.datasets import TUDataset

    check_tu_files(name, raw)

    def build(base: Path):
        with trusted_cache_load():
            return TUDataset(str(base), name)

    ds = process_in_cache("tu", name, raw.parent, build)
    if ds.num_node_features == 0:
        from torch_geometric.transforms import Constant

        ds.transform = Constant(1.0)
    labels = ds.y
    cv = stratified_folds(labels, folds, fold_seed)
    classes = int(labels.max()) + 1
    return Loaded(name, "graph", "multiclass", max(ds.num_node_features, 1), classes, Accuracy(),
                  dataset=ds, split=cv[0], folds=cv)
