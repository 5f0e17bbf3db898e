"""Peptides-func in LRGB's original release: SMILES and labels in a CSV, the official split in a pickle.

Files (under ``<root>/lrgb/peptides-functional/``, LRGB's folder name): ``raw/peptide_multi_class_dataset.csv.gz``
(columns ``smiles``, ``labels`` = a list of 10 0/1 values, ...) and ``splits_random_stratified_peptide.pickle``
(a dict ``train`` / ``val`` / ``test`` of index arrays). Each SMILES is featurised with
``ogb.utils.smiles2graph`` as LRGB did (9 atom and 3 bond features, OGB's vocabularies), which needs rdkit
(``pip install graphkit[lrgb]``). The split pickle is read by the restricted unpickler (containers and numpy
arrays only). Featurised graphs are cached as plain tensors in the cache directory, keyed by the raw files,
never beside them; the first load featurises 15,535 molecules (about a minute).
"""
from __future__ import annotations

import ast
import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from graphkit.data.root import DatasetFormatError, cache_dir, load_data_pickle, source_key

FOLDER = "peptides-functional"
CSV = Path("raw") / "peptide_multi_class_dataset.csv.gz"
SPLIT = "splits_random_stratified_peptide.pickle"
NUM_TASKS = 10


def original_layout_present(home: Path) -> bool:
    """Whether ``home`` (``<root>/lrgb/peptides-functional``) holds LRGB's original files."""
    return (home / CSV).is_file() and (home / SPLIT).is_file()


def _smiles2graph():
    if importlib.util.find_spec("rdkit") is None:  # smiles2graph imports rdkit lazily, deep inside
        raise ImportError("Peptides-func in LRGB's original layout (SMILES) is featurised with "
                          "ogb.utils.smiles2graph, which needs rdkit: pip install 'graphkit[lrgb]' (or rdkit)")
    from ogb.utils import smiles2graph

    return smiles2graph


def _labels(text: str, row: int, path: Path) -> list[float]:
    try:
        values = ast.literal_eval(text)  # literals only: a list of numbers
    except (ValueError, SyntaxError) as exc:
        raise DatasetFormatError(f"{path}: row {row} has labels {text[:40]!r}, not a list of {NUM_TASKS} numbers") \
            from exc
    if not isinstance(values, (list, tuple)) or len(values) != NUM_TASKS:
        raise DatasetFormatError(f"{path}: row {row} has {len(values) if isinstance(values, (list, tuple)) else 0} "
                                 f"labels, expected {NUM_TASKS}")
    return [float(v) for v in values]


def featurise(smiles: list[str], path: Path) -> dict[str, torch.Tensor]:
    """All molecules as concatenated tensors with offsets (what the cache stores)."""
    smiles2graph = _smiles2graph()
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.warning")  # "not removing hydrogen atom without neighbors", per molecule
    try:
        return _featurise(smiles2graph, smiles, path)
    finally:
        RDLogger.EnableLog("rdApp.warning")


def _featurise(smiles2graph, smiles: list[str], path: Path) -> dict[str, torch.Tensor]:
    xs, eis, eas, n_nodes, n_edges = [], [], [], [], []
    for i, s in enumerate(smiles):
        try:
            g = smiles2graph(s)
        except Exception as exc:  # rdkit's parse errors come in several types
            raise DatasetFormatError(f"{path}: row {i}: rdkit cannot parse the SMILES {s[:60]!r} "
                                     f"({type(exc).__name__})") from exc
        xs.append(g["node_feat"])
        eis.append(g["edge_index"])
        eas.append(g["edge_feat"])
        n_nodes.append(g["num_nodes"])
        n_edges.append(g["edge_index"].shape[1])
    return {"x": torch.from_numpy(np.concatenate(xs)).long(),
            "edge_index": torch.from_numpy(np.concatenate(eis, axis=1)).long(),
            "edge_attr": torch.from_numpy(np.concatenate(eas)).long(),
            "num_nodes": torch.tensor(n_nodes), "num_edges": torch.tensor(n_edges)}


def _cached(home: Path, smiles: list[str]) -> dict[str, torch.Tensor]:
    path = cache_dir() / "lrgb" / source_key(home) / "peptides-func-graphs.pt"
    if path.is_file():
        return torch.load(path, weights_only=True)
    tensors = featurise(smiles, home / CSV)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".graphs.")
    os.close(fd)
    try:
        torch.save(tensors, tmp)
        os.replace(tmp, path)  # complete or absent: an interrupted run leaves no half-written cache
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return tensors


def read_split(path: Path, num_graphs: int) -> dict[str, torch.Tensor]:
    """The official split as ``train`` / ``valid`` / ``test`` index tensors, checked: integer arrays, in range,
    disjoint."""
    raw = load_data_pickle(path)
    if not isinstance(raw, dict) or not {"train", "val", "test"} <= set(raw):
        raise DatasetFormatError(f"{path}: expected a dict with train / val / test index arrays")
    out, seen = {}, np.zeros(num_graphs, dtype=bool)
    for key, name in (("train", "train"), ("val", "valid"), ("test", "test")):
        idx = np.asarray(raw[key])
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise DatasetFormatError(f"{path}: {key} is not a 1-D integer index array ({idx.dtype}, {idx.shape})")
        if idx.size and (idx.min() < 0 or idx.max() >= num_graphs):
            raise DatasetFormatError(f"{path}: {key} holds index {int(idx.max())}, out of range for {num_graphs} "
                                     "molecules")
        if seen[idx].any():
            raise DatasetFormatError(f"{path}: {key} shares molecules with another split")
        seen[idx] = True
        out[name] = torch.from_numpy(idx.astype(np.int64))
    return out


def load_original(home: Path) -> tuple[list[Data], dict[str, torch.Tensor]]:
    """Graphs (``x [n, 9]``, ``edge_attr [e, 3]`` OGB ids, ``y [1, 10]``) and the official split."""
    import pandas as pd

    frame = pd.read_csv(home / CSV)
    for col in ("smiles", "labels"):
        if col not in frame.columns:
            raise DatasetFormatError(f"{home / CSV}: no {col!r} column (columns: {list(frame.columns)})")
    smiles = [str(s) for s in frame["smiles"]]
    y = torch.tensor([_labels(str(t), i, home / CSV) for i, t in enumerate(frame["labels"])])
    t = _cached(home, smiles)
    if t["num_nodes"].numel() != len(smiles):
        raise DatasetFormatError(f"the cached graphs hold {t['num_nodes'].numel()} molecules, the CSV {len(smiles)}: "
                                 "delete the cache folder to rebuild it")
    node_ptr = [0, *torch.cumsum(t["num_nodes"], 0).tolist()]
    edge_ptr = [0, *torch.cumsum(t["num_edges"], 0).tolist()]
    graphs = [Data(x=t["x"][node_ptr[i]:node_ptr[i + 1]], edge_index=t["edge_index"][:, edge_ptr[i]:edge_ptr[i + 1]],
                   edge_attr=t["edge_attr"][edge_ptr[i]:edge_ptr[i + 1]], y=y[i:i + 1])
              for i in range(len(smiles))]
    return graphs, read_split(home / SPLIT, len(graphs))
