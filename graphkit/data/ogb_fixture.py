"""Small synthetic datasets written in OGB's exact on-disk layout.

For datasets too large to ship (ogbn-arxiv, ogbn-products, ogbl-*), tests
write a tiny graph with the same file names, compression, column layout and
split format as the official zip, then load it through the real ``ogb`` code:

    <root>/ogb/ogbn_arxiv/RELEASE_v1.txt
    <root>/ogb/ogbn_arxiv/raw/{edge,node-feat,node-label,num-node-list,num-edge-list,node_year}.csv.gz
    <root>/ogb/ogbn_arxiv/split/time/{train,valid,test}.csv.gz
    <root>/ogb/ogbl_ddi/split/target/{train,valid,test}.pt     (dicts of numpy arrays, as OGB ships them)

Every CSV is header-less and gzipped, like OGB's. The files' contents are
random; only the format is OGB's.
"""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import torch

from graphkit.data.ogb import expected_files, meta_info


def _csv_gz(path: Path, rows: np.ndarray, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = rows.reshape(len(rows), -1)
    buf = io.StringIO()
    np.savetxt(buf, rows, fmt=fmt, delimiter=",")
    with gzip.open(path, "wb") as f:
        f.write(buf.getvalue().encode())


def _release(home: Path, name: str) -> None:
    version = meta_info(name)["version"]
    (home / f"RELEASE_v{version}.txt").write_text(f"# Release note for {name}\n\n### v{version}: fixture\n")


def _edges(rng: np.random.Generator, n: int, e: int) -> np.ndarray:
    src = rng.integers(0, n, e)
    dst = (src + rng.integers(1, n, e)) % n  # no self loops
    return np.stack([src, dst], 1)


def _start(root: str | Path, name: str, prefix: str, seed: int):
    meta = meta_info(name)
    if not name.startswith(prefix):
        raise ValueError(f"{name} is not an {prefix}* dataset")
    home = Path(root) / "ogb" / name.replace("-", "_")
    return meta, np.random.default_rng(seed), home, home / "raw"


def _graph_files(raw: Path, meta, rng: np.random.Generator, edges: np.ndarray, num_nodes: int,
                 num_features: int) -> None:
    """The one-graph part every homogeneous node/link dataset has: edges, counts, node features."""
    _csv_gz(raw / "edge.csv.gz", edges, "%d")
    _csv_gz(raw / "num-node-list.csv.gz", np.array([num_nodes]), "%d")
    _csv_gz(raw / "num-edge-list.csv.gz", np.array([len(edges)]), "%d")
    if meta["has_node_attr"] == "True":
        _csv_gz(raw / "node-feat.csv.gz", rng.standard_normal((num_nodes, num_features)).astype(np.float32), "%.6f")
    if meta["has_edge_attr"] == "True":
        _csv_gz(raw / "edge-feat.csv.gz", rng.standard_normal((len(edges), 4)).astype(np.float32), "%.6f")


def write_node_fixture(root: str | Path, name: str = "ogbn-arxiv", num_nodes: int = 120, num_edges: int = 400,
                       num_features: int = 16, seed: int = 0) -> Path:
    """Write a homogeneous ``ogbn-*`` dataset (one graph) under ``<root>/ogb/``; returns its folder.

    Uses the dataset's real metadata (number of classes, split name, extra
    node files such as arxiv's ``node_year``) from the installed ``ogb``.
    """
    meta, rng, home, raw = _start(root, name, "ogbn-", seed)
    _graph_files(raw, meta, rng, _edges(rng, num_nodes, num_edges), num_nodes, num_features)
    classes = int(meta["num classes"])
    if meta["task type"] == "multiclass classification":
        _csv_gz(raw / "node-label.csv.gz", rng.integers(0, classes, num_nodes), "%d")
    else:
        _csv_gz(raw / "node-label.csv.gz", rng.integers(0, 2, (num_nodes, int(meta["num tasks"]))), "%d")
    if meta.get("additional node files", "None") != "None":
        for extra in meta["additional node files"].split(","):
            _csv_gz(raw / f"{extra}.csv.gz", rng.integers(2000, 2020, num_nodes), "%d")
    perm = rng.permutation(num_nodes)
    a, b = int(0.6 * num_nodes), int(0.8 * num_nodes)
    split = home / "split" / meta["split"]
    for part, idx in (("train", perm[:a]), ("valid", perm[a:b]), ("test", perm[b:])):
        _csv_gz(split / f"{part}.csv.gz", np.sort(idx), "%d")
    _release(home, name)
    _check(home, name)
    return home


def write_link_fixture(root: str | Path, name: str = "ogbl-ddi", num_nodes: int = 100, num_edges: int = 600,
                       num_features: int = 8, num_neg: int = 200, seed: int = 0) -> Path:
    """Write a homogeneous ``ogbl-*`` dataset with Hits@K-style splits (``edge`` / ``edge_neg``)."""
    meta, rng, home, raw = _start(root, name, "ogbl-", seed)
    edges = _edges(rng, num_nodes, num_edges)
    a, b = int(0.8 * num_edges), int(0.9 * num_edges)
    # the message-passing graph is the training edges, as in OGB's link sets
    _graph_files(raw, meta, rng, edges[:a], num_nodes, num_features)
    extra_edge = meta.get("additional edge files", "None")
    extras = {} if extra_edge == "None" else {f: rng.integers(1, 3, num_edges) for f in extra_edge.split(",")}
    for f, values in extras.items():
        _csv_gz(raw / f"{f}.csv.gz", values[:a], "%d")
    split = home / "split" / meta["split"]
    split.mkdir(parents=True, exist_ok=True)
    keys = {"edge_weight": "weight", "edge_year": "year"}
    for part, sl in (("train", slice(0, a)), ("valid", slice(a, b)), ("test", slice(b, num_edges))):
        d = {"edge": edges[sl]}
        d.update({keys.get(f, f): v[sl] for f, v in extras.items()})
        if part != "train":
            d["edge_neg"] = _edges(rng, num_nodes, num_neg)
        torch.save(d, split / f"{part}.pt")
    _release(home, name)
    _check(home, name)
    return home


def _check(home: Path, name: str) -> None:
    missing = [f for f in expected_files(name) if not (home / f).exists()]
    if missing:  # the fixture must cover every file the real loader reads
        raise RuntimeError(f"fixture for {name} lacks {missing}")
