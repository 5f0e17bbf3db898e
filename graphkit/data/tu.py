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
from graphkit.data.root import data_root, missing_files_error, process_in_cache, trusted_cache_load
from graphkit.metrics import Accuracy

URL = "https://www.chrsmrrs.com/graphkerneldatasets"
REQUIRED = ("A", "graph_indicator", "graph_labels")


def _download(name: str, raw: Path) -> None:
    from torch_geometric.data import download_url, extract_zip

    raw.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=raw.parent.parent, prefix=f".{name}.") as tmp:
        extract_zip(download_url(f"{URL}/{name}.zip", tmp, log=False), tmp, log=False)
        shutil.move(os.path.join(tmp, name), raw)


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
