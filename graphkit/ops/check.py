"""Input checks for public entry points.

Each check raises ``TypeError`` (wrong type or dtype) or ``ValueError`` (wrong
shape, out-of-range index, non-finite value) with a message that names the
argument. How much is checked follows :func:`graphkit.backend.validation_level`:
``shapes`` (default) checks types, shapes and index ranges; ``full`` also checks
features for NaN/inf; ``off`` checks nothing.

Index ranges are read from the device once per tensor, not once per op. The range
of an index tensor (its minimum and one past its maximum, per row for an
``edge_index``) is remembered on the tensor itself, keyed by its version counter
(an in-place write forgets it), so the second and later checks of the same
``edge_index`` or ``batch`` vector (every layer of a model, every epoch of a
full-batch run) compare Python ints and never stop the host. Code that builds
index tensors whose range it knows (a batch assembled from checked graphs, an
Adjacency's CSR arrays) records it with :func:`vouch_range`, so even the first
check costs nothing.
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphkit import backend

_INDEX_DTYPES = (torch.int64, torch.int32)


def enabled() -> bool:
    """Whether input checks run (``GRAPHKIT_VALIDATE`` is not ``off``)."""
    return backend.validation_level() != "off"


_FACTS = "_graphkit_facts"


def remembered(t: Tensor, key: str, compute, exact: bool = True):
    """``compute()`` (a fact about ``t``'s values, read from the device), computed at most once per version
    of ``t``: the answer is kept on the tensor and forgotten when ``t`` is written in place. With
    ``exact=False`` a vouched (possibly loose) answer is accepted too."""
    facts = t.__dict__.setdefault(_FACTS, {})
    hit = facts.get(key)
    if hit is not None and hit[0] == t._version and (hit[2] or not exact):
        return hit[1]
    value = compute()
    facts[key] = (t._version, value, True)
    return value


def vouch(t: Tensor, key: str, value, exact: bool = True) -> Tensor:
    """Record a fact about ``t`` that its builder guarantees, so that checks of ``t`` need no read from the
    device; ``exact=False`` for a bound that may be loose. Returns ``t``."""
    t.__dict__.setdefault(_FACTS, {})[key] = (t._version, value, exact)
    return t


def vouch_range(t: Tensor, lo: int, hi: tuple[int, ...] | int) -> Tensor:
    """Record that every value of ``t`` is ``>= lo`` and ``< hi`` (per row of a 2-D ``[2, E]`` tensor when
    ``hi`` is a tuple). ``hi`` may be a loose bound: a check against a smaller one reads the exact range."""
    if not isinstance(hi, tuple):
        hi = (hi,) * (t.size(0) if t.dim() == 2 else 1)
    return vouch(t, "range", (lo, hi), exact=False)


def _read_range(t: Tensor) -> tuple[int, tuple[int, ...]]:
    if t.dim() == 1:
        lo_t, hi_t = torch.aminmax(t)
        return int(lo_t), (int(hi_t) + 1,)
    lo, *his = torch.cat([t.min().view(1), t.amax(dim=1) + 1]).tolist()
    return lo, tuple(his)


def _range(t: Tensor, exact: bool = False) -> tuple[int, tuple[int, ...]]:
    """``(min, (max + 1 per row...))`` of a 1-D or ``[2, E]`` index tensor, read at most once per version."""
    return remembered(t, "range", lambda: _read_range(t), exact)


def column_range(x: Tensor, exact: bool = False) -> tuple[int, tuple[int, ...]]:
    """``(min, (max + 1 of each column...))`` of an integer ``[N, C]`` tensor (categorical features), read at
    most once per version of ``x``; vouch for it with ``vouch(x, "columns", (lo, his))``."""
    def read():
        lo, *his = torch.cat([x.min().view(1), x.amax(dim=0) + 1]).tolist()
        return lo, tuple(his)
    return remembered(x, "columns", read, exact)


def _check_index_tensor(t: object, name: str, shape_hint: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor{shape_hint}, got {type(t).__name__}")
    if t.dtype not in _INDEX_DTYPES:
        raise TypeError(f"{name} must have dtype int64 or int32, got {t.dtype}")


def check_edge_index(edge_index: object, num_src: int | None = None, num_dst: int | None = None,
                     name: str = "edge_index") -> None:
    """``edge_index``: integer tensor [2, E] with 0 <= edge_index[0] < num_src, edge_index[1] < num_dst."""
    if not enabled():
        return
    _check_index_tensor(edge_index, name, " of shape [2, E]")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"{name} must have shape [2, E], got {list(edge_index.shape)}")
    if edge_index.numel() == 0:
        return
    lo, his = _range(edge_index)
    if lo < 0:
        raise ValueError(f"{name} contains a negative index ({lo}); node indices must be >= 0")
    if any(b is not None and h > b for h, b in zip(his, (num_src, num_dst))):
        lo, his = _range(edge_index, exact=True)  # a vouched bound may be loose
    for row, bound, what in ((0, num_src, "source"), (1, num_dst, "target")):
        if bound is not None and his[row] > bound:
            raise ValueError(
                f"{name}[{row}] ({what} nodes) contains index {his[row] - 1}, out of range for {bound} nodes"
            )


def check_index(index: object, size: int | None, length: int | None = None, name: str = "index") -> None:
    """``index``: 1-D integer tensor with values in [0, size) and ``length`` entries."""
    if not enabled():
        return
    _check_index_tensor(index, name, "")
    if index.dim() != 1:
        raise ValueError(f"{name} must be 1-D, got shape {list(index.shape)}")
    if length is not None and index.numel() != length:
        raise ValueError(f"{name} has {index.numel()} entries but the input has {length} along the reduced dim")
    if index.numel() == 0 or size is None:
        return
    lo, (hi,) = _range(index)
    if lo < 0:
        raise ValueError(f"{name} contains a negative index ({lo})")
    if hi > size:
        lo, (hi,) = _range(index, exact=True)
        if hi > size:
            raise ValueError(f"{name} contains index {hi - 1}, out of range for output size {size}")


def check_size(value: object, name: str) -> int:
    """A non-negative Python int (sizes are explicit in graphkit.ops)."""
    if isinstance(value, Tensor) and value.numel() == 1 and not value.is_floating_point():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_features(x: object, num_rows: int | None = None, name: str = "x", min_dim: int = 1) -> None:
    """``x``: floating tensor with ``num_rows`` rows; NaN/inf rejected at level 'full'."""
    level = backend.validation_level()
    if level == "off":
        return
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    if x.dim() < min_dim:
        raise ValueError(f"{name} must have at least {min_dim} dims, got shape {list(x.shape)}")
    if num_rows is not None and x.size(0) != num_rows:
        raise ValueError(f"{name} has {x.size(0)} rows but the graph has {num_rows} nodes")
    if level == "full":
        check_finite(x, name)


def check_finite(x: Tensor, name: str = "x") -> None:
    """Raise ValueError if ``x`` holds NaN or inf (always runs when called)."""
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        n_nan = int(torch.isnan(x).sum())
        n_inf = int(torch.isinf(x).sum())
        raise ValueError(f"{name} contains non-finite values ({n_nan} NaN, {n_inf} inf)")


def check_edge_values(value: object, num_edges: int, name: str = "edge_weight") -> None:
    """Per-edge values: tensor whose first dim equals the number of edges."""
    if not enabled() or value is None:
        return
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {value.dtype}")
    if value.dim() == 0 or value.size(0) != num_edges:
        raise ValueError(f"{name} has shape {list(value.shape)} but there are {num_edges} edges")
    if backend.validation_level() == "full":
        check_finite(value, name)


def check_reduce(reduce: str, allowed: tuple[str, ...]) -> None:
    """Raise a ``ValueError`` naming ``reduce`` and the supported choices."""
    if reduce not in allowed:
        raise ValueError(f"reduce={reduce!r} is not supported; choose one of {allowed}")
