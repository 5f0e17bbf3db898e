"""Graph-level benchmark sets for graph transformers: LRGB Peptides and ZINC, and per-graph encodings.

* Peptides-func / Peptides-struct (Dwivedi et al. 2022, LRGB): ``<root>/lrgb/peptides-{func,struct}/raw/
  {train,val,test}.pt``, each a ``torch.save``d list of tuples ``(x [n, 9] atom ids, edge_attr [e, 3] bond
  ids, edge_index [2, e], y)`` (PyG's ``LRGBDataset`` raw layout); read with ``torch.load(weights_only=True)``
  (tensors only, no code). func: 10 binary tasks scored by average precision (mean over tasks); struct:
  11 regression targets scored by MAE.
* ZINC (Dwivedi et al., the 12k subset): ``<root>/zinc/raw/{train,val,test}.pickle`` (lists of dicts with
  ``atom_type [n]``, ``bond_type [n, n]``, ``logP_SA_cycle_normalized``) and ``{train,val,test}.index``
  (PyG's ``ZINC(subset=True)`` layout). The pickles hold torch tensors; they are read by a restricted
  unpickler that rebuilds tensors through ``torch.load(weights_only=True)`` and refuses anything else.

:func:`with_encodings` attaches RWSE and Laplacian eigenvector encodings to every graph, computed once
and cached in ``$GRAPHKIT_CACHE``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
from pathlib import Path
from typing import Any, Sequence

import torch
from torch_geometric.data import Data

from graphkit.data import peptides_original
from graphkit.data.bundle import Encodings, Loaded
from graphkit.data.checks import checked_loader
from graphkit.data.root import DatasetFormatError, UntrustedPickleError, cache_dir, data_root, require_files
from graphkit.metrics import AveragePrecision, MeanAbsoluteError
from graphkit.ops import laplacian_pe, random_walk_se

PEPTIDES_URL = {"peptides-func": "https://www.dropbox.com/s/ycsq37q8sxs1ou8/peptidesfunc.zip?dl=1",
                "peptides-struct": "https://www.dropbox.com/s/zgv4z8fcpmknhs8/peptidesstruct.zip?dl=1"}
ZINC_URL = "https://www.dropbox.com/s/feo9qle74kg48gy/molecules.zip?dl=1"
ZINC_INDEX_URL = "https://raw.githubusercontent.com/graphdeeplearning/benchmarking-gnns/master/data/molecules"
SPLITS = ("train", "val", "test")


class GraphList(torch.utils.data.Dataset):
    """An indexable list of ``Data`` graphs; indexing with a tensor or list gives a sub-list (what the
    trainer's ``dataset[split]`` needs)."""

    def __init__(self, graphs: Sequence[Data]):
        self.graphs = list(graphs)

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, idx: Any):
        if isinstance(idx, (int,)) or (torch.is_tensor(idx) and idx.dim() == 0):
            return self.graphs[int(idx)]
        if isinstance(idx, slice):
            return GraphList(self.graphs[idx])
        return GraphList([self.graphs[int(i)] for i in idx])


def _download_zip(url: str, raw: Path, inner: str, extra: dict[str, str] | None = None) -> None:
    """Download a zip, unpack it in a scratch folder, move its ``inner`` folder's files into ``raw``."""
    import shutil
    import tempfile

    from torch_geometric.data import download_url, extract_zip

    raw.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=raw.parent, prefix=".download.") as tmp:
        extract_zip(download_url(url, tmp, log=False), tmp, log=False)
        for f in (Path(tmp) / inner).iterdir():
            if not (raw / f.name).exists():
                shutil.move(str(f), raw / f.name)
        for name, u in (extra or {}).items():
            if not (raw / name).exists():
                shutil.move(download_url(u, tmp, log=False), raw / name)


def _ensure(name: str, raw: Path, files: list[str], download: bool, fetch, source: str) -> None:
    if all((raw / f).exists() for f in files):
        return
    why = ""
    if download:
        try:
            fetch()
        except Exception as exc:  # offline, moved file: say what to do
            why = f" (download failed: {exc.__class__.__name__}: {exc})"
    if not all((raw / f).exists() for f in files):
        require_files(name, raw, {f: "" for f in files}, False, source + why)


def _split_index(sizes: list[int]) -> dict[str, torch.Tensor]:
    out, start = {}, 0
    for name, n in zip(("train", "valid", "test"), sizes):
        out[name] = torch.arange(start, start + n)
        start += n
    return out


def _peptide_graph(item: Any, path: Path, i: int) -> Data:
    if not (isinstance(item, (tuple, list)) and len(item) == 4 and all(torch.is_tensor(t) for t in item)):
        raise DatasetFormatError(f"{path}: graph {i} is not a tuple (x, edge_attr, edge_index, y) of tensors")
    x, edge_attr, edge_index, y = item
    if x.dim() != 2 or edge_index.dim() != 2 or edge_index.size(0) != 2 or edge_attr.size(0) != edge_index.size(1):
        raise DatasetFormatError(f"{path}: graph {i} has inconsistent shapes x {tuple(x.shape)}, edge_attr "
                         f"{tuple(edge_attr.shape)}, edge_index {tuple(edge_index.shape)}")
    if edge_index.numel() and int(edge_index.max()) >= x.size(0):
        raise DatasetFormatError(f"{path}: graph {i} has an edge to node {int(edge_index.max())} of {x.size(0)}")
    return Data(x=x.long(), edge_attr=edge_attr.long(), edge_index=edge_index.long(), y=y.float().view(1, -1))


@checked_loader
def load_peptides(name: str, root: str | os.PathLike | None = None, download: bool = True) -> Loaded:
    """``peptides-func`` or ``peptides-struct`` with the official split.

    Two layouts: PyG's processed release (``<root>/lrgb/<name>/raw/{train,val,test}.pt``, downloaded when
    missing) and, for Peptides-func, LRGB's original release (``<root>/lrgb/peptides-functional/``: SMILES,
    labels and the split pickle; :mod:`graphkit.data.peptides_original`), used when PyG's files are absent.
    Both give the same graphs: ``smiles2graph``'s OGB features (``mol``)."""
    name = name.lower()
    if name not in PEPTIDES_URL:
        raise ValueError(f"unknown LRGB peptides set {name!r}; choose peptides-func or peptides-struct")
    raw = data_root(root) / "lrgb" / name / "raw"
    files = [f"{s}.pt" for s in SPLITS]
    original = data_root(root) / "lrgb" / peptides_original.FOLDER
    if (name == "peptides-func" and not all((raw / f).is_file() for f in files)
            and peptides_original.original_layout_present(original)):
        graphs, split = peptides_original.load_original(original)
        return Loaded(name, "graph", "binary", 9, peptides_original.NUM_TASKS, AveragePrecision(),
                      dataset=GraphList(graphs), split=split, molecules=True)
    inner = name.replace("-", "")
    _ensure(name, raw, files, download, lambda: _download_zip(PEPTIDES_URL[name], raw, inner),
            f"{PEPTIDES_URL[name]} (unzip; its folder {inner}/ holds train.pt, val.pt, test.pt)")
    graphs, sizes = [], []
    for s in SPLITS:
        path = raw / f"{s}.pt"
        try:
            items = torch.load(path, weights_only=True)
        except Exception as exc:  # truncated zip, pickle with code, not a torch file: all unusable
            raise DatasetFormatError(f"{path} is not a readable tensor file (truncated, or holds more than tensors?): "
                             f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc
        if not isinstance(items, (list, tuple)):
            raise DatasetFormatError(f"{path}: expected a list of graphs, got {type(items).__name__}")
        graphs += [_peptide_graph(it, path, i) for i, it in enumerate(items)]
        sizes.append(len(items))
    tasks = graphs[0].y.size(1) if graphs else 0
    want = 10 if name == "peptides-func" else 11
    if tasks != want:
        raise DatasetFormatError(f"{name}: graphs carry {tasks} targets, expected {want}")
    metric = AveragePrecision() if name == "peptides-func" else MeanAbsoluteError()
    task = "binary" if name == "peptides-func" else "regression"
    return Loaded(name, "graph", task, 9, want, metric, dataset=GraphList(graphs), split=_split_index(sizes),
                  molecules=True)


class _TensorUnpickler(pickle.Unpickler):
    """Unpickles containers and torch tensors only; tensor storages are read with weights_only=True."""

    ALLOWED = {("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"),
               ("collections", "OrderedDict")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch.storage", "_load_from_bytes"):
            return lambda b: torch.load(io.BytesIO(b), weights_only=True)
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise UntrustedPickleError(f"a ZINC pickle wants {module}.{name}, which a data file should not need")


@checked_loader
def load_zinc(root: str | os.PathLike | None = None, download: bool = True) -> Loaded:
    """ZINC 12k (subset) with its official split; MAE on the constrained solubility target."""
    raw = data_root(root) / "zinc" / "raw"
    files = [f"{s}.pickle" for s in SPLITS] + [f"{s}.index" for s in SPLITS]
    index_urls = {f"{s}.index": f"{ZINC_INDEX_URL}/{s}.index" for s in SPLITS}
    _ensure("zinc", raw, files, download, lambda: _download_zip(ZINC_URL, raw, "molecules", index_urls),
            f"{ZINC_URL} (molecules.zip) and {ZINC_INDEX_URL}/<split>.index")
    graphs, sizes = [], []
    for s in SPLITS:
        path = raw / f"{s}.pickle"
        try:
            with open(path, "rb") as f:
                mols = _TensorUnpickler(f).load()
        except UntrustedPickleError:
            raise
        except Exception as exc:
            raise DatasetFormatError(f"{path} is not a readable ZINC pickle (truncated or corrupt?): "
                             f"{exc.__class__.__name__}: {exc}") from exc
        try:
            index = [int(v) for v in (raw / f"{s}.index").read_text().replace("\n", ",").split(",") if v.strip()]
        except ValueError as exc:
            raise DatasetFormatError(f"{raw / f'{s}.index'}: expected comma-separated integers ({exc})") from exc
        for i in index:
            if not 0 <= i < len(mols):
                raise DatasetFormatError(f"{raw / f'{s}.index'} names molecule {i} of {len(mols)}")
            m = mols[i]
            adj = m["bond_type"]
            ei = adj.nonzero().t().contiguous()
            graphs.append(Data(x=m["atom_type"].long().view(-1, 1), edge_index=ei,
                               edge_attr=adj[ei[0], ei[1]].long(), y=m["logP_SA_cycle_normalized"].float().view(1, 1)))
        sizes.append(len(index))
    return Loaded("ZINC", "graph", "regression", 1, 1, MeanAbsoluteError(), dataset=GraphList(graphs),
                  split=_split_index(sizes), atom_types=28, bond_types=4)


# ------------------------------------------------------------------------------------------- encodings
def _encode(g: Data, rwse_k: int, lap_k: int, lap_norm: str) -> dict[str, torch.Tensor]:
    n = g.num_nodes
    out = {}
    if rwse_k:
        out["rwse"] = random_walk_se(g.edge_index, n, rwse_k)
    if lap_k:
        vecs, vals, valid = laplacian_pe(g.edge_index, n, lap_k, lap_norm)
        out.update(lap_vecs=vecs, lap_vals=vals.expand(n, -1).clone(), lap_valid=valid.expand(n, -1).clone())
    return out


def with_encodings(loaded: Loaded, rwse_k: int = 16, lap_k: int = 0, lap_norm: str = "sym") -> Loaded:
    """``loaded`` with every graph carrying ``rwse: [n, rwse_k]`` and/or ``lap_vecs / lap_vals / lap_valid:
    [n, lap_k]``; computed once per dataset and cached in ``$GRAPHKIT_CACHE/encodings``."""
    ds = loaded.dataset
    key = hashlib.sha1(f"{loaded.name}|{len(ds)}|{rwse_k}|{lap_k}|{lap_norm}".encode()).hexdigest()[:16]
    path = cache_dir() / "encodings" / f"{loaded.name.lower()}-{key}.pt"
    table: list[dict[str, torch.Tensor]] | None = None
    if path.exists():
        try:
            table = torch.load(path, weights_only=True)
        except Exception:  # a broken cache is rebuilt, never trusted
            table = None
        if table is not None and len(table) != len(ds):
            table = None
    if table is None:
        table = [_encode(ds[i], rwse_k, lap_k, lap_norm) for i in range(len(ds))]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(table, tmp)
        os.replace(tmp, path)
    graphs = []
    for i in range(len(ds)):
        g = ds[i].clone()
        for k, v in table[i].items():
            g[k] = v
        graphs.append(g)
    return dataclasses.replace(loaded, dataset=GraphList(graphs), encodings=Encodings(rwse_k, lap_k, lap_norm))
