"""Hypergraph node classification sets in HyperGCN's layout, with AllSet's random splits.

``<root>/hypergraph/<cocitation|coauthorship>/<name>/`` holds
``features.pickle`` (scipy CSR ``[N, F]``), ``hypergraph.pickle`` (dict:
hyperedge key -> collection of node ids), ``labels.pickle`` (list of N class
ids) and ``splits/<1..10>.pickle`` (``{"train": [...], "test": [...]}``).

These files are Python pickles, and unpickling can run code: graphkit reads
them only from your data root and only through a restricted unpickler that
builds plain containers, numpy values and scipy CSR matrices, refusing anything
else (:func:`graphkit.data.root.load_data_pickle`). Only use files you got from
the HyperGCN repository (or the copy your administrator put in the data root).

Splits: ``"allset"`` (default), ten random 50/25/25 train/valid/test splits of
all nodes, split ``i`` seeded with ``i`` (AllSet's protocol: uniformly random,
not stratified); ``"hypergcn"``, HyperGCN's ten train/test splits (no
validation set). Hyperedges keep the pickle's order; members are sorted.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from graphkit.data.bundle import Loaded
from graphkit.data.checks import checked_loader
from graphkit.data.root import DatasetFormatError, data_root, load_data_pickle, require_files
from graphkit.metrics import Accuracy
from graphkit.ops import Hypergraph, hypergraph_self_loops

HYPERGCN = "https://github.com/malllabiisc/HyperGCN/raw/de049387d8d8c9fe6ebab83cb4b49cacfd4ed534/data"
SETS = {("cocitation", "cora"), ("cocitation", "citeseer"), ("cocitation", "pubmed"),
        ("coauthorship", "cora"), ("coauthorship", "dblp")}
FILES = ("features.pickle", "hypergraph.pickle", "labels.pickle")


def allset_splits(num_nodes: int, count: int = 10, train: float = 0.5, valid: float = 0.25
                  ) -> list[dict[str, torch.Tensor]]:
    """AllSet's random splits: a uniform permutation per split (seeded by its index), 50/25/25."""
    out = []
    for i in range(count):
        perm = torch.randperm(num_nodes, generator=torch.Generator().manual_seed(i))
        a, b = int(train * num_nodes), int((train + valid) * num_nodes)
        out.append({"train": perm[:a], "valid": perm[a:b], "test": perm[b:]})
    return out


def read_hypergcn(folder: Path) -> tuple[torch.Tensor, torch.Tensor, Hypergraph, list[dict[str, torch.Tensor]]]:
    """``x: [N, F]``, ``y: [N]``, the hypergraph and HyperGCN's splits from one dataset folder."""
    feats = load_data_pickle(folder / "features.pickle")
    if not hasattr(feats, "toarray") or len(getattr(feats, "shape", ())) != 2:
        raise DatasetFormatError(f"{folder / 'features.pickle'} should hold a 2-D scipy sparse matrix, "
                         f"got {type(feats).__name__}")
    x = torch.from_numpy(np.asarray(feats.toarray(), dtype=np.float32))
    n = x.size(0)
    labels = load_data_pickle(folder / "labels.pickle")
    try:
        y = torch.tensor([int(v) for v in labels], dtype=torch.long)
    except (TypeError, ValueError) as exc:
        raise DatasetFormatError(f"{folder / 'labels.pickle'} should hold a list of class ids: {exc}") from None
    if y.numel() != n:
        raise DatasetFormatError(f"{folder}: {y.numel()} labels for {n} feature rows")
    edges = load_data_pickle(folder / "hypergraph.pickle")
    if not isinstance(edges, dict):
        raise DatasetFormatError(f"{folder / 'hypergraph.pickle'} should hold a dict hyperedge -> nodes, "
                         f"got {type(edges).__name__}")
    nodes, ids = [], []
    for e, members in enumerate(edges.values()):
        m = sorted({int(v) for v in members})
        nodes += m
        ids += [e] * len(m)
    inc = torch.tensor([nodes, ids], dtype=torch.long).view(2, -1)
    if inc.numel() and (int(inc[0].min()) < 0 or int(inc[0].max()) >= n):
        raise DatasetFormatError(f"{folder / 'hypergraph.pickle'}: node id {int(inc[0].max())} out of range for "
                                 f"{n} nodes")
    hg = Hypergraph(inc, n, len(edges))
    splits = []
    for i in range(1, 11):
        path = folder / "splits" / f"{i}.pickle"
        if path.exists():
            s = load_data_pickle(path)
            splits.append({k: torch.tensor([int(v) for v in s[k]], dtype=torch.long) for k in ("train", "test")})
    return x, y, hg, splits


@checked_loader
def load_hypergraph(kind: str, name: str, root: str | None = None, split: str = "allset",
                    self_loops: bool = True, download: bool = True) -> Loaded:
    """Load ``(kind, name)`` in ``{cocitation: cora, citeseer, pubmed; coauthorship: cora, dblp}``.

    ``self_loops``: add a singleton hyperedge for every node without one (AllSet
    does this for HGNN/HCHA). The hypergraph is ``data.incidence: [2, nnz]`` with
    ``data.num_hyperedges``; :attr:`Loaded.hypergraph` holds the
    :class:`~graphkit.ops.Hypergraph`.
    """
    key = (kind.lower(), name.lower())
    if key not in SETS:
        raise ValueError(f"unknown hypergraph dataset {kind}/{name}; choose one of {sorted(SETS)}")
    folder = data_root(root) / "hypergraph" / key[0] / key[1]
    urls = {f: f"{HYPERGCN}/{key[0]}/{key[1]}/{f}" for f in FILES}
    require_files(f"{key[0]}-{key[1]}", folder, urls, download, f"{HYPERGCN}/{key[0]}/{key[1]}/")
    x, y, hg, hypergcn_splits = read_hypergcn(folder)
    if self_loops:
        hg = hypergraph_self_loops(hg)
    if split == "allset":
        folds = allset_splits(x.size(0))
    elif split == "hypergcn":
        if not hypergcn_splits:
            raise DatasetFormatError(f"{folder / 'splits'} holds no HyperGCN split files (1.pickle ... 10.pickle)")
        folds = hypergcn_splits
    else:
        raise ValueError(f"split must be 'allset' or 'hypergcn', got {split!r}")
    data = Data(x=x, y=y, incidence=hg.incidence, num_hyperedges=hg.num_edges, num_nodes=x.size(0))
    title = f"{key[1].capitalize()}-{'CC' if key[0] == 'cocitation' else 'CA'}"
    return Loaded(title, "node", "multiclass", x.size(1), int(y.max()) + 1, Accuracy(), data=data, split=folds[0],
                  folds=folds, split_kind=split, hypergraph=hg,
                  hypergraph_self_loops=self_loops)
