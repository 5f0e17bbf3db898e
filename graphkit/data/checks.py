"""The data boundary: what a loader hands to the rest of graphkit is checked once, here.

Every public loader is wrapped by :func:`checked_loader`. A file that parses but holds garbage (features that
are NaN or infinite, edges pointing past the last node, labels out of range, a feature matrix with the wrong
number of rows) raises :class:`~graphkit.data.root.DatasetFormatError` naming the dataset and the field, and
an exception from deep inside a parser (numpy, pandas, scipy, h5py, zipfile) is re-raised as one naming the
dataset and its directory, with the parser's message kept. Missing files keep their
:class:`~graphkit.data.root.DatasetNotFoundError`. The checks are vectorised over whole collated datasets, so
they cost one pass over the tensors (well under a second for ogbg-molhiv).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphkit.data.root import DatasetFormatError, DatasetNotFoundError

F = TypeVar("F", bound=Callable[..., Any])

# Errors a loader raises on purpose; they already name the problem and pass through unchanged.
_OWN = (DatasetFormatError, DatasetNotFoundError)


def checked_loader(fn: F) -> F:
    """Wrap a public loader ``fn(name, root, ...)``: check what it returns, translate parser crashes."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        what = _describe(fn, args, kwargs)
        try:
            out = fn(*args, **kwargs)
        except _OWN:
            raise
        except (ValueError, TypeError, KeyError, IndexError, OSError, EOFError, RuntimeError, AttributeError,
                UnicodeDecodeError, MemoryError) as exc:
            if isinstance(exc, (FileNotFoundError, PermissionError)) or _raised_by_graphkit(exc):
                raise  # a deliberate error of ours (it names its problem), or a file system error
            detail = " ".join(str(exc).split())[:500]
            from graphkit.data.root import cache_dir

            in_cache = str(cache_dir()) in detail
            advice = (f"the file named is in graphkit's cache ({cache_dir()}): delete that cache folder to rebuild "
                      "it; the raw data is untouched" if in_cache else
                      "a truncated or corrupt raw file? Check it against the dataset's checksum (or download it again)")
            raise DatasetFormatError(f"{what}: its files could not be read ({exc.__class__.__name__}: {detail}); "
                                     f"{advice}") from exc
        check_loaded(out, what)
        return out

    return wrapper  # type: ignore[return-value]


def _raised_by_graphkit(exc: BaseException) -> bool:
    """True when the innermost frame of ``exc``'s traceback is graphkit's own code (a deliberate raise)."""
    import os

    import graphkit

    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(os.path.dirname(graphkit.__file__))


def _describe(fn: Callable[..., Any], args: tuple, kwargs: dict) -> str:
    import inspect

    bound = inspect.signature(fn).bind_partial(*args, **kwargs).arguments
    names = [str(v) for k, v in bound.items() if k in ("kind", "name")] or [fn.__name__]
    root = bound.get("root")
    return f"dataset {' '.join(names)!r}" + (f" under {root}" if root is not None else "")


def check_loaded(obj: Any, what: str = "dataset") -> None:
    """Check a loader's result: a :class:`~graphkit.data.bundle.Loaded`, a PyG ``Data`` or a graph dataset."""
    from graphkit.data.bundle import Loaded

    if isinstance(obj, Loaded):
        if obj.data is not None and isinstance(obj.data, Data):
            check_graph(obj.data, what)
        if obj.dataset is not None:
            check_graph_set(obj.dataset, what)
        if obj.level == "node" and obj.task == "multiclass" and obj.data is not None:
            _check_labels(obj.data.y, obj.num_outputs, what)
        if obj.level in ("node", "graph"):
            n = obj.data.num_nodes if obj.level == "node" and obj.data is not None else (
                len(obj.dataset) if obj.dataset is not None else None)
            for i, split in enumerate([obj.split] + list(obj.folds or [])):
                for key, idx in (split or {}).items():
                    _check_split(idx, n, f"{what}: split {key!r}" + (f" of fold {i - 1}" if i else ""))
    elif isinstance(obj, Data):
        check_graph(obj, what)
    elif hasattr(obj, "slices") or isinstance(obj, (list, tuple)):
        check_graph_set(obj, what)


def check_graph(g: Data, what: str = "graph") -> None:
    """Finite float features, ``edge_index`` of shape [2, E] with ids in [0, N), rows matching N."""
    n = g.num_nodes
    _check_features(g, n, what)
    if "y" in g:
        _check_targets(g.y, what)
    ei = g.edge_index if "edge_index" in g else None
    if ei is not None:
        _check_edges(ei, torch.zeros(ei.size(-1) if ei.dim() == 2 else 0, dtype=torch.long),
                     torch.tensor([n]), what)


def check_graph_set(dataset: Any, what: str = "dataset") -> None:
    """The same checks over a whole graph-level dataset at once (collated storage when it has one)."""
    store, slices = _collated(dataset)
    if store is None:
        for i in range(len(dataset)):
            check_graph(dataset[i], f"{what}, graph {i}")
        return
    node_slices = slices.get("x")
    if node_slices is None:
        node_slices = _node_slices(store, slices)
    counts = node_slices[1:] - node_slices[:-1]
    x = store.x if "x" in store else None
    if x is not None:
        _check_tensor_values(x, "x (node features)", what)
    if "edge_attr" in store and store.edge_attr is not None:
        _check_tensor_values(store.edge_attr, "edge_attr (edge features)", what)
    if "y" in store:
        _check_targets(store.y, what)
    if "edge_index" in store and "edge_index" in slices:
        es = slices["edge_index"]
        graph_of_edge = torch.repeat_interleave(torch.arange(es.numel() - 1), es[1:] - es[:-1])
        _check_edges(store.edge_index, graph_of_edge, counts, what)


def _collated(dataset: Any) -> tuple[Data | None, dict[str, Tensor]]:
    slices = getattr(dataset, "slices", None)
    store = getattr(dataset, "_data", None)
    if slices is None or store is None:
        return None, {}
    if getattr(dataset, "_indices", None) is not None:  # a subset view: fall back to the general path
        return None, {}
    return store, slices


def _node_slices(store: Data, slices: dict[str, Tensor]) -> Tensor:
    num = getattr(store, "num_nodes", None)
    if isinstance(num, Tensor) and num.dim() == 1:  # per-graph counts stored without features
        return torch.cat([num.new_zeros(1), num.cumsum(0)])
    raise DatasetFormatError("graph dataset without node features or per-graph node counts")


def _check_features(g: Data, n: int, what: str) -> None:
    for key, rows, label in (("x", n, "x (node features)"), ("edge_attr", None, "edge_attr (edge features)")):
        t = g[key] if key in g else None
        if not isinstance(t, Tensor):
            continue
        if key == "edge_attr" and "edge_index" in g and g.edge_index is not None:
            rows = g.edge_index.size(-1)
        if rows is not None and t.dim() >= 1 and t.size(0) != rows:
            raise DatasetFormatError(f"{what}: {label} has {t.size(0)} rows for {rows} "
                                     f"{'nodes' if key == 'x' else 'edges'}")
        _check_tensor_values(t, label, what)


def _check_tensor_values(t: Tensor, label: str, what: str) -> None:
    if t.is_sparse or t.layout != torch.strided:
        return
    if t.is_floating_point() or t.is_complex():
        bad = ~torch.isfinite(t)
        if bool(bad.any()):
            rows = bad.reshape(bad.size(0), -1).any(1).nonzero().view(-1) if t.dim() else torch.zeros(1)
            raise DatasetFormatError(f"{what}: {label} holds {int(bad.sum())} NaN/inf values "
                                     f"(first in row {int(rows[0])})")
    elif t.dtype == torch.bool:
        return
    elif t.dtype not in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
        raise DatasetFormatError(f"{what}: {label} has dtype {t.dtype}, expected a float or integer tensor")


def _check_split(idx: Any, n: int | None, where: str) -> None:
    if not isinstance(idx, Tensor) or n is None:
        return
    if idx.dtype == torch.bool:
        if idx.numel() != n:
            raise DatasetFormatError(f"{where}: a mask of {idx.numel()} entries for {n} items")
        return
    if idx.is_floating_point():
        raise DatasetFormatError(f"{where}: ids must be integers, got {idx.dtype}")
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise DatasetFormatError(f"{where}: ids must lie in [0, {n}), got [{int(idx.min())}, {int(idx.max())}]")


def split_indices(split: dict[str, Any], n: int, what: str = "split") -> dict[str, Tensor]:
    """``{name: ids}`` with every part as an int64 index tensor: boolean masks of length ``n`` become the ids
    they select (indexing with a mask as if it held ids would pick items 0 and 1), ids are checked to lie in
    ``[0, n)``. Anything else is a :class:`DatasetFormatError` naming the part."""
    out = {}
    for name, idx in split.items():
        where = f"{what} {name!r}"
        if not isinstance(idx, Tensor):
            try:
                idx = torch.as_tensor(idx)
            except (TypeError, ValueError, RuntimeError):
                raise DatasetFormatError(f"{where}: expected an index tensor or a boolean mask, got "
                                         f"{type(idx).__name__}") from None
        if idx.dim() != 1:
            raise DatasetFormatError(f"{where}: expected a 1-D index tensor or mask, got shape {list(idx.shape)}")
        _check_split(idx, n, where)
        out[name] = idx.nonzero().view(-1) if idx.dtype == torch.bool else idx.long()
    return out


def _check_targets(y: object, what: str) -> None:
    """Float targets may be NaN (OGB's "unlabelled"), never infinite."""
    if isinstance(y, Tensor) and y.is_floating_point() and bool(torch.isinf(y).any()):
        raise DatasetFormatError(f"{what}: y (targets) holds {int(torch.isinf(y).sum())} infinite values")


def _check_edges(ei: Tensor, graph_of_edge: Tensor, counts: Tensor, what: str) -> None:
    if not isinstance(ei, Tensor) or ei.dim() != 2 or ei.size(0) != 2:
        shape = tuple(ei.shape) if isinstance(ei, Tensor) else type(ei).__name__
        raise DatasetFormatError(f"{what}: edge_index must have shape [2, E], got {shape}")
    if ei.is_floating_point() or ei.dtype == torch.bool:
        raise DatasetFormatError(f"{what}: edge_index has dtype {ei.dtype}, expected an integer tensor")
    if ei.numel() == 0:
        return
    limit = counts[graph_of_edge] if counts.numel() > 1 else counts
    bad = (ei < 0).any(0) | (ei >= limit).any(0)
    if bool(bad.any()):
        e = int(bad.nonzero()[0])
        g = int(graph_of_edge[e]) if graph_of_edge.numel() else 0
        where = f" (graph {g})" if counts.numel() > 1 else ""
        raise DatasetFormatError(f"{what}: edge_index points outside the graph{where}: edge {e} is "
                                 f"({int(ei[0, e])}, {int(ei[1, e])}) but node ids must lie in "
                                 f"[0, {int(counts[g] if counts.numel() > 1 else counts[0])})")


def _check_labels(y: Tensor | None, classes: int, what: str) -> None:
    if y is None or y.is_floating_point() or y.numel() == 0:
        return
    lo, hi = int(y.min()), int(y.max())
    if lo < -1 or hi >= classes:  # -1 marks an unlabelled node in some sets
        raise DatasetFormatError(f"{what}: labels must lie in [0, {classes}) (or -1 for unlabelled), "
                                 f"got [{lo}, {hi}]")
