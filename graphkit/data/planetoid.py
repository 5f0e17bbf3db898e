"""Planetoid citation graphs (Cora, CiteSeer, PubMed) with the public split.

Reads the original ``ind.<name>.*`` files from ``<root>/planetoid/<Name>/raw``
(PyG's layout) and returns a PyG ``Data`` without writing anything there. If
the files are absent they are downloaded from the Planetoid repository into a
temporary folder and moved into place only when complete.
"""
from __future__ import annotations

from torch_geometric.data import Data

from graphkit.data.bundle import Loaded
from graphkit.data.root import data_root, require_files
from graphkit.metrics import Accuracy

URL = "https://github.com/kimiyoung/planetoid/raw/master/data"
NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def raw_files(name: str) -> list[str]:
    return [f"ind.{name.lower()}.{s}" for s in SUFFIXES]


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
    from torch_geometric.io import read_planetoid_data

    return read_planetoid_data(str(raw), key)


def planetoid_task(name: str, root: str | None = None, download: bool = True) -> Loaded:
    """:func:`load_planetoid` with the public split as index tensors and accuracy as the metric."""
    data = load_planetoid(name, root, download)
    split = {k: m.nonzero().view(-1) for k, m in
             (("train", data.train_mask), ("valid", data.val_mask), ("test", data.test_mask))}
    return Loaded(NAMES[name.lower()], "node", "multiclass", data.num_features, int(data.y.max()) + 1,
                  Accuracy(), data=data, split=split)
