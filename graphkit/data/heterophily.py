"""Heterophilous node classification sets with their fixed splits.

* WebKB (Cornell, Texas, Wisconsin, Washington) and Actor ("film"), in the
  Geom-GCN layout (``out1_node_feature_label.txt``, ``out1_graph_edges.txt``)
  with the ten ``<name>_split_0.6_0.2_<i>.npz`` splits (PyG's layout:
  ``<root>/heterophily/webkb/<name>/raw``, ``<root>/heterophily/actor/raw``).
  Geom-GCN feature files come in two forms: dense 0/1 vectors (WebKB,
  Wikipedia) and lists of active feature ids (film); both are read.
* Platonov et al. (ICLR 2023) ``<name>.npz`` files (``node_features``,
  ``node_labels``, ``edges``, ``train/val/test_masks: [10, N]``): chameleon and
  squirrel (whose masks are the Geom-GCN splits), their ``_filtered`` versions
  without duplicate nodes, roman_empire, amazon_ratings, minesweeper, tolokers,
  questions (``<root>/heterophily/heterophilous_graphs/<name>/raw``).
* Cora / CiteSeer / PubMed with Geom-GCN's ten 48/32/20 splits
  (``<root>/planetoid/<Name>/raw/<name>_split_0.6_0.2_<i>.npz``), or, when those
  files are not available, ten seeded random 48/32/20 splits (``split="random"``;
  not the published splits, and named so in every result).

Graphs are made undirected, without self loops or duplicate edges (what NSD and
Platonov et al. train on). Every split comes as index tensors; ``folds`` holds
all ten. Nothing is written to the data root.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from graphkit.data.bundle import Loaded
from graphkit.data.checks import checked_loader
from graphkit.data.root import DatasetFormatError, data_root, require_files
from graphkit.metrics import Accuracy, RocAuc
from graphkit.ops import coalesce, remove_self_loops, to_undirected

GEOM_GCN = "https://raw.githubusercontent.com/graphdml-uiuc-jlu/geom-gcn/f1fc0d14b3b019c562737240d06ec83b07d16a8f"
PLATONOV = "https://github.com/yandex-research/heterophilous-graphs/raw/a431395582e929d88271309716bea4fe24ce6318/data"
WEBKB = ("cornell", "texas", "wisconsin", "washington")
PLATONOV_SETS = ("chameleon", "squirrel", "chameleon_filtered", "squirrel_filtered", "roman_empire",
                 "amazon_ratings", "minesweeper", "tolokers", "questions")
BINARY = ("minesweeper", "tolokers", "questions")
SPLITS = 10


def _split_files(name: str) -> list[str]:
    return [f"{name}_split_0.6_0.2_{i}.npz" for i in range(SPLITS)]


def _undirected(edge_index: torch.Tensor, n: int) -> torch.Tensor:
    ei, _ = remove_self_loops(edge_index)
    ei, _ = to_undirected(ei, n)
    ei, _ = coalesce(ei, n)
    return ei


def _table(path: Path) -> list[list[str]]:
    """Tab-separated rows after the header line; a clear error on a malformed line."""
    lines = path.read_text().split("\n")
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    width = len(rows[0]) if rows else 0
    for i, r in enumerate(rows):
        if len(r) != width:
            raise DatasetFormatError(f"{path}: line {i + 2} has {len(r)} tab-separated fields, expected {width} "
                             "(truncated or corrupt file?)")
    if not rows:
        raise DatasetFormatError(f"{path} holds no rows (empty or truncated file)")
    return rows


def read_geom_gcn(raw: Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``x: [N, F]``, ``y: [N]``, ``edge_index: [2, E]`` (as stored) from a Geom-GCN raw folder."""
    feat_path, edge_path = raw / "out1_node_feature_label.txt", raw / "out1_graph_edges.txt"
    rows = _table(feat_path)
    try:
        ids = [int(r[0]) for r in rows]
        labels = [int(r[2]) for r in rows]
        feats = [[float(v) for v in r[1].split(",")] if r[1] else [] for r in rows]
    except ValueError as exc:
        raise DatasetFormatError(f"{feat_path}: a node id, feature or label is not a number ({exc})") from None
    n = len(rows)
    if sorted(ids) != list(range(n)):
        raise DatasetFormatError(f"{feat_path}: node ids must be 0..{n - 1}, each once")
    widths = {len(f) for f in feats}
    id_lists = "feature_amount" in feat_path.read_text().split("\n", 1)[0] or len(widths) > 1
    if id_lists:  # film: each row lists the ids of its active features
        top = max((int(v) for f in feats for v in f), default=-1)
        x = torch.zeros(n, top + 1)
        for i, f in zip(ids, feats):
            x[i, [int(v) for v in f]] = 1.0
    else:
        x = torch.zeros(n, widths.pop())
        x[torch.tensor(ids)] = torch.tensor(feats, dtype=torch.float32)
    y = torch.empty(n, dtype=torch.long)
    y[torch.tensor(ids)] = torch.tensor(labels)
    edges = _table(edge_path)
    try:
        edge_index = torch.tensor([[int(a), int(b)] for a, b in edges], dtype=torch.long).t()
    except ValueError as exc:
        raise DatasetFormatError(f"{edge_path}: an edge holds a non-integer node id ({exc})") from None
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= n):
        raise DatasetFormatError(f"{edge_path}: node id {int(edge_index.max())} out of range for {n} nodes")
    return x, y, edge_index


def _mask_splits(train: np.ndarray, valid: np.ndarray, test: np.ndarray, where: str) -> dict[str, torch.Tensor]:
    n = train.shape[-1]
    for name, m in (("train", train), ("valid", valid), ("test", test)):
        if m.shape != (n,):
            raise DatasetFormatError(f"{where}: the {name} mask has shape {m.shape}, expected ({n},)")
    return {k: torch.from_numpy(np.asarray(m).astype(bool)).nonzero().view(-1)
            for k, m in (("train", train), ("valid", valid), ("test", test))}


def read_split_npz(path: Path, num_nodes: int) -> dict[str, torch.Tensor]:
    """One Geom-GCN split file -> ``{"train", "valid", "test"}`` index tensors."""
    try:
        with np.load(path, allow_pickle=False) as z:
            masks = [z[k] for k in ("train_mask", "val_mask", "test_mask")]
    except KeyError as exc:
        raise DatasetFormatError(f"{path}: missing array ({exc.args[0]}; expected train_mask, val_mask, "
                                 "test_mask)") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetFormatError(f"{path} is not a readable .npz file (truncated or corrupt?): {exc}") from None
    if masks[0].shape != (num_nodes,):
        raise DatasetFormatError(f"{path}: masks have shape {masks[0].shape} but the graph has {num_nodes} nodes")
    return _mask_splits(*masks, where=str(path))


def _node_task(name: str, data: Data, folds: list[dict[str, torch.Tensor]], splits: str,
               binary: bool = False) -> Loaded:
    if binary:
        data.y = data.y.float().view(-1, 1)
        return Loaded(name, "node", "binary", data.num_features, 1, RocAuc(), data=data, split=folds[0],
                      folds=folds, split_kind=splits)
    return Loaded(name, "node", "multiclass", data.num_features, int(data.y.max()) + 1, Accuracy(), data=data,
                  split=folds[0], folds=folds, split_kind=splits)


@checked_loader
def load_geom_gcn(name: str, root: str | None = None, download: bool = True) -> Loaded:
    """WebKB (``cornell``, ``texas``, ``wisconsin``, ``washington``) or ``film``/``actor`` with 10 splits."""
    key = name.lower()
    if key == "actor":
        key = "film"
    if key not in WEBKB + ("film",):
        raise ValueError(f"unknown Geom-GCN dataset {name!r}; choose one of {list(WEBKB) + ['film']}")
    base = data_root(root) / "heterophily"
    raw = base / "actor" / "raw" if key == "film" else base / "webkb" / key / "raw"
    files = {f: f"{GEOM_GCN}/new_data/{key}/{f}" for f in ("out1_node_feature_label.txt", "out1_graph_edges.txt")}
    files.update({f: f"{GEOM_GCN}/splits/{f}" for f in _split_files(key)})
    require_files(key, raw, files, download, f"{GEOM_GCN}/new_data/{key}/ and /splits/")
    x, y, edge_index = read_geom_gcn(raw)
    n = x.size(0)
    data = Data(x=x, edge_index=_undirected(edge_index, n), y=y)
    folds = [read_split_npz(raw / f, n) for f in _split_files(key)]
    return _node_task("Actor" if key == "film" else key.capitalize(), data, folds, "geom-gcn")


@checked_loader
def load_platonov(name: str, root: str | None = None, download: bool = True) -> Loaded:
    """One of Platonov et al.'s ``.npz`` sets (see the module docstring) with its 10 splits."""
    key = name.lower().replace("-", "_")
    if key not in PLATONOV_SETS:
        raise ValueError(f"unknown heterophilous-graphs dataset {name!r}; choose one of {list(PLATONOV_SETS)}")
    raw = data_root(root) / "heterophily" / "heterophilous_graphs" / key / "raw"
    file = f"{key}.npz"
    require_files(key, raw, {file: f"{PLATONOV}/{file}"}, download, PLATONOV)
    path = raw / file
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("node_features", "node_labels", "edges", "train_masks", "val_masks",
                                        "test_masks")}
    except KeyError as exc:
        raise DatasetFormatError(f"{path}: missing array ({exc.args[0]})") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetFormatError(f"{path} is not a readable .npz file (truncated or corrupt?): {exc}") from None
    x = torch.from_numpy(arrays["node_features"]).float()
    y = torch.from_numpy(arrays["node_labels"]).long()
    n = x.size(0)
    if x.dim() != 2 or y.shape != (n,):
        raise DatasetFormatError(f"{path}: node_features {tuple(x.shape)} and node_labels {tuple(y.shape)} disagree")
    if not bool(torch.isfinite(x).all()):
        raise DatasetFormatError(f"{path}: node_features hold NaN or inf")
    edges = torch.from_numpy(arrays["edges"]).long()
    if edges.dim() != 2 or edges.size(1) != 2:
        raise DatasetFormatError(f"{path}: edges must have shape (E, 2), got {tuple(edges.shape)}")
    if edges.numel() and (int(edges.min()) < 0 or int(edges.max()) >= n):
        raise DatasetFormatError(f"{path}: an edge names node {int(edges.max())}, out of range for {n} nodes")
    masks = [arrays[k] for k in ("train_masks", "val_masks", "test_masks")]
    if masks[0].ndim != 2:
        raise DatasetFormatError(f"{path}: masks must have shape (splits, N), got {masks[0].shape}")
    folds = [_mask_splits(masks[0][i], masks[1][i], masks[2][i], str(path)) for i in range(masks[0].shape[0])]
    data = Data(x=x, edge_index=_undirected(edges.t().contiguous(), n), y=y)
    pretty = key.replace("_", "-").capitalize()
    return _node_task(pretty, data, folds, "platonov", binary=key in BINARY)


def random_splits(num_nodes: int, count: int = SPLITS, train: float = 0.48, valid: float = 0.32,
                  seed: int = 0) -> list[dict[str, torch.Tensor]]:
    """``count`` random splits (``train``/``valid`` fractions, the rest test), split ``i`` seeded ``seed + i``."""
    out = []
    for i in range(count):
        perm = torch.randperm(num_nodes, generator=torch.Generator().manual_seed(seed + i))
        a, b = int(round(train * num_nodes)), int(round((train + valid) * num_nodes))
        out.append({"train": perm[:a].sort().values, "valid": perm[a:b].sort().values, "test": perm[b:].sort().values})
    return out


@checked_loader
def load_planetoid_geom(name: str, root: str | None = None, split: str = "geom-gcn",
                        download: bool = True) -> Loaded:
    """Cora / CiteSeer / PubMed as full-supervised node classification with 10 splits.

    ``split="geom-gcn"``: Geom-GCN's files (downloaded if absent and allowed);
    ``split="random"``: ten seeded random 48/32/20 splits (a stand-in when the
    official files are unavailable; results on them are not comparable split
    for split).
    """
    from graphkit.data.planetoid import NAMES, load_planetoid

    key = name.lower()
    if key not in NAMES:
        raise ValueError(f"unknown Planetoid dataset {name!r}; choose one of {sorted(NAMES)}")
    data = load_planetoid(key, root, download)
    n = data.num_nodes
    data = Data(x=data.x, edge_index=_undirected(data.edge_index, n), y=data.y)
    if split == "random":
        return _node_task(f"{NAMES[key]}", data, random_splits(n), "random-48/32/20")
    if split != "geom-gcn":
        raise ValueError(f"split must be 'geom-gcn' or 'random', got {split!r}")
    raw = data_root(root) / "planetoid" / NAMES[key] / "raw"
    files = {f: f"{GEOM_GCN}/splits/{f}" for f in _split_files(key)}
    require_files(f"{NAMES[key]} (geom-gcn splits)", raw, files, download, f"{GEOM_GCN}/splits/")
    return _node_task(NAMES[key], data, [read_split_npz(raw / f, n) for f in _split_files(key)], "geom-gcn")
