"""OGB node, link and graph property prediction through the ``ogb`` package.

Layout: the official zips unpack to ``<data root>/ogb/<dir>/`` (``dir`` is the
name with ``-`` -> ``_``, e.g. ``ogbg_molhiv``) holding ``RELEASE_v1.txt``,
``raw/*.csv.gz`` and ``split/<type>/...``. The data root may be read-only, so
``ogb`` never runs there: graphkit links those entries into
``<cache>/ogb/<dir>/`` and lets ``ogb`` write ``processed/`` there. Processing
happens in a temporary folder that is renamed into place only when complete,
so an interrupted run never leaves a half-written cache.

ogb 1.3.6 re-reads its processed file with ``torch.load``, which torch >= 2.6
restricts to plain tensors by default. graphkit does not turn that check off:
it allows exactly the PyG/numpy classes those files hold, only while ``ogb``
loads them (:func:`trusted_ogb_load`).
"""
from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from graphkit.data.bundle import Loaded
from graphkit.data.checks import checked_loader
from graphkit.data.root import (
    CacheFormatError,
    DatasetFormatError,
    cache_dir,
    data_root,
    missing_files_error,
    process_in_cache,
    trusted_cache_load,
)
from graphkit.metrics import OGBMetric

LEVELS = {"ogbg": "graph", "ogbn": "node", "ogbl": "link"}
TASKS = {"binary classification": "binary", "multiclass classification": "multiclass",
         "regression": "regression", "link prediction": "link"}


def _master(level: str):
    import pandas as pd

    pkg = {"ogbg": "graphproppred", "ogbn": "nodeproppred", "ogbl": "linkproppred"}[level]
    import ogb

    path = Path(ogb.__file__).parent / pkg / "master.csv"
    return pd.read_csv(path, index_col=0, keep_default_na=False)


def ogb_names() -> list[str]:
    """Every dataset name the installed ``ogb`` package knows."""
    return sorted(n for level in LEVELS for n in _master(level).columns)


def meta_info(name: str):
    """OGB's metadata row for ``name`` (a pandas Series); clear error for unknown names."""
    level = name.split("-")[0]
    master = _master(level) if level in LEVELS else None
    if master is None or name not in master:
        close = difflib.get_close_matches(name, ogb_names(), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown OGB dataset {name!r}.{hint}")
    return master[name]


def expected_files(name: str) -> list[str]:
    """Files (relative to ``<data root>/ogb/<dir>``) that ``ogb`` reads for ``name``."""
    meta = meta_info(name)
    level = name.split("-")[0]
    if meta.get("is hetero", "False") == "True":
        raise NotImplementedError(f"{name} is heterogeneous; graphkit loads homogeneous OGB datasets only")
    files = [f"RELEASE_v{meta['version']}.txt"]
    if meta.get("binary", "False") == "True":
        files.append("raw/data.npz")
    else:
        files += ["raw/edge.csv.gz", "raw/num-node-list.csv.gz", "raw/num-edge-list.csv.gz"]
        if meta["has_node_attr"] == "True":
            files.append("raw/node-feat.csv.gz")
        if meta["has_edge_attr"] == "True":
            files.append("raw/edge-feat.csv.gz")
        for key in ("additional node files", "additional edge files"):
            if meta.get(key, "None") != "None":
                files += [f"raw/{f}.csv.gz" for f in meta[key].split(",")]
        if level == "ogbg":
            files.append("raw/graph-label.csv.gz")
        elif level == "ogbn":
            files.append("raw/node-label.csv.gz")
    ext = "pt" if level == "ogbl" else "csv.gz"
    files += [f"split/{meta['split']}/{part}.{ext}" for part in ("train", "valid", "test")]
    return files


trusted_ogb_load = trusted_cache_load  # the name tests and users know


def _dataset_class(level: str):
    if level == "ogbg":
        from ogb.graphproppred import PygGraphPropPredDataset as cls
    elif level == "ogbn":
        from ogb.nodeproppred import PygNodePropPredDataset as cls
    else:
        from ogb.linkproppred import PygLinkPropPredDataset as cls
    return cls


def _download(name: str, home: Path) -> None:
    """Fetch the official zip into ``home`` (``<data root>/ogb/<dir>``), whole or not at all."""
    from torch_geometric.data import download_url, extract_zip

    meta = meta_info(name)
    home.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home.parent, prefix=f".{home.name}.") as tmp:
        path = download_url(meta["url"], tmp, log=False)
        extract_zip(path, tmp, log=False)
        shutil.move(os.path.join(tmp, meta["download_name"]), home)


def ogb_dataset(name: str, root: str | os.PathLike | None = None, download: bool = True):
    """The ``ogb`` package's PyG dataset for ``name``, with raw files from the data root.

    Raises :class:`DatasetNotFoundError` naming the directory and the missing
    files when they are absent and cannot be downloaded.
    """
    name = name.lower()
    level = name.split("-")[0]
    files = expected_files(name)
    dirname = name.replace("-", "_")
    home = data_root(root) / "ogb" / dirname
    if not all((home / f).exists() for f in files):
        why = ""
        if download and not home.exists():
            try:
                _download(name, home)
            except Exception as exc:  # offline, proxy, permissions: say what to do instead
                why = f"Download from {meta_info(name)['url']} failed ({exc.__class__.__name__}: {exc})."
        if not all((home / f).exists() for f in files):
            raise missing_files_error(name, home, files, why or (
                f"Download {meta_info(name)['url']} and unzip it there (the zip's folder "
                f"{meta_info(name)['download_name']!r} becomes {dirname!r})."))
    cls = _dataset_class(level)

    def build(base: Path):
        with trusted_ogb_load():
            return cls(name=name, root=str(base))

    try:
        return process_in_cache("ogb", dirname, home, build)
    except CacheFormatError:
        raise
    except Exception as exc:
        raise DatasetFormatError(
            f"dataset {name!r}: processing its raw files in {home} or reading its cache under "
            f"{cache_dir() / 'ogb'} failed ({exc.__class__.__name__}: {exc}); check the raw files (truncated or "
            "corrupt?) or delete the cache folder to rebuild it") from exc


def _split_index(name: str, split: str, v: Any) -> torch.Tensor:
    """OGB's split ids as a long tensor; ids read as floats (a NaN or a stray value in the csv) are an error."""
    t = torch.as_tensor(v)
    if t.is_floating_point():
        if not bool(torch.isfinite(t).all()) or not bool((t == t.round()).all()):
            raise DatasetFormatError(f"dataset {name!r}: split {split!r} holds ids that are not integers "
                                     "(a corrupt split/*.csv.gz file?)")
    return t.long()


def _check_mol_vocab(name: str, ds: Any) -> None:
    """Atom / bond features are category ids that index the encoders' tables: each column in range."""
    from ogb.utils.features import get_atom_feature_dims, get_bond_feature_dims

    store = ds._data
    for key, dims in (("x", get_atom_feature_dims()), ("edge_attr", get_bond_feature_dims())):
        t = getattr(store, key, None)
        if t is None or t.numel() == 0:
            continue
        if t.dim() != 2 or t.size(1) != len(dims) or t.is_floating_point():
            raise DatasetFormatError(f"dataset {name!r}: {key} must be [*, {len(dims)}] integer category ids, "
                                     f"got {t.dtype} of shape {tuple(t.shape)}")
        hi = torch.tensor(dims)
        bad = (t < 0) | (t >= hi)
        if bool(bad.any()):
            row, col = (int(v) for v in bad.nonzero()[0])
            raise DatasetFormatError(f"dataset {name!r}: {key}[{row}, {col}] = {int(t[row, col])} is not a category "
                                     f"id in [0, {dims[col]}) (a corrupt raw file?)")


@checked_loader
def load_ogb(name: str, root: str | os.PathLike | None = None, download: bool = True) -> Loaded:
    """Load an OGB dataset with its official split and Evaluator.

    Returns :class:`~graphkit.data.bundle.Loaded`: graph level keeps the
    dataset (``x: [N, 9]`` atom ids, ``edge_attr: [E, 3]`` bond ids,
    ``y: [1, T]`` for molecules); node level ``data.y: [N, 1]``; link level
    ``split`` is OGB's edge split dict.

    Example::

        >>> d = load_ogb("ogbg-molhiv", root="../shared/data")   # doctest: +SKIP
        >>> d.metric.name, len(d.split["train"])                  # doctest: +SKIP
        ('rocauc', 32901)
    """
    name = name.lower()
    level = name.split("-")[0]
    ds = ogb_dataset(name, root, download)
    meta = meta_info(name)
    task = TASKS[meta["task type"]]
    metric = OGBMetric(name)
    if level == "ogbg":
        split = {k: _split_index(name, k, v) for k, v in ds.get_idx_split().items()}
        num_features = ds.num_node_features
        num_outputs = int(meta["num tasks"])
        if meta.get("data type", "") == "mol":
            _check_mol_vocab(name, ds)
        return Loaded(name, "graph", task, num_features, num_outputs, metric, dataset=ds, split=split,
                      molecules=meta.get("data type", "") == "mol", edge_features=ds.num_edge_features)
    data = ds[0]
    if level == "ogbn":
        split = {k: _split_index(name, k, v) for k, v in ds.get_idx_split().items()}
        classes = int(meta["num classes"])
        outputs = classes if task == "multiclass" else int(meta["num tasks"])
        return Loaded(name, "node", task, data.num_features, outputs, metric, data=data, split=split)
    with trusted_ogb_load():
        split = ds.get_edge_split()
    return Loaded(name, "link", "link", data.num_features if data.x is not None else 0, 1, metric,
                  data=data, split=split)
