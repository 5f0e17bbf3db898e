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


def check_features(x: object, num_rows: int | None = None, name: str = "x", min_dim: int = 1,
                   max_dim: int | None = None) -> None:
    """``x``: floating tensor with ``num_rows`` rows and ``min_dim``..``max_dim`` dims; NaN/inf rejected at
    level 'full'. Message-passing layers take ``max_dim=2``: node features ``[N, F]``, never PyG's dense
    batched ``[B, N, F]`` (whose rows would silently be read as nodes)."""
    level = backend.validation_level()
    if level == "off":
        return
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    if x.dim() < min_dim:
        raise ValueError(f"{name} must have at least {min_dim} dims, got shape {list(x.shape)}")
    if max_dim is not None and x.dim() > max_dim:
        if max_dim == 2 and x.dim() == 3:
            raise ValueError(f"{name} has shape {list(x.shape)}, a dense batch [B, N, F] (the layout of PyG's Dense* "
                             f"layers); this layer takes node features [N, F] with a sparse graph: flatten the "
                             f"batch (x[mask] for to_dense_batch's mask) and offset the edge indices")
        raise ValueError(f"{name} must have at most {max_dim} dims, got shape {list(x.shape)}")
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


def check_edge_values(value: object, num_edges: int, name: str = "edge_weight", dim: int | None = 1) -> None:
    """Per-edge values: tensor whose first dim equals the number of edges; ``dim=1`` (weights, the default)
    requires one value per edge, ``dim=None`` allows feature rows (``edge_attr: [E, D]``)."""
    if not enabled() or value is None:
        return
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {value.dtype}")
    if value.dim() == 0 or value.size(0) != num_edges:
        raise ValueError(f"{name} has shape {list(value.shape)} but there are {num_edges} edges")
    if dim is not None and value.dim() != dim:
        raise ValueError(f"{name} must have shape [{num_edges}] (one value per edge), got {list(value.shape)}")
    if backend.validation_level() == "full":
        check_finite(value, name)


def check_values(src: object, name: str = "src") -> None:
    """A tensor of values to reduce (any dtype, at least 1 dim)."""
    if enabled() and (not isinstance(src, Tensor) or src.dim() == 0):
        raise TypeError(f"{name} must be a torch.Tensor with at least one dim, got "
                        f"{type(src).__name__ if not isinstance(src, Tensor) else 'a scalar tensor'}")


def check_width(x: Tensor, width: int, name: str = "x", what: str = "the layer's input size") -> None:
    """``x.size(-1) == width`` (a layer's ``in_channels``), named instead of a matmul shape error."""
    if enabled() and x.size(-1) != width:
        raise ValueError(f"{name} has {x.size(-1)} features but {what} is {width}")


def check_node_rows(x: object, rows: int, name: str = "x", of: str = "batch") -> None:
    """Node features ``[N, F]`` with the ``N`` rows that ``of`` (a batch vector's length, a graph's size) says."""
    check_features(x, name=name, min_dim=2, max_dim=2)
    if enabled() and x.size(0) != rows:
        raise ValueError(f"{name} has {x.size(0)} rows but {of} has {rows} entries")


def _device_of(value: object) -> torch.device | None:
    if isinstance(value, Tensor):
        return value.device
    if isinstance(value, torch.nn.Module):
        first = next(value.parameters(), None)
        if first is None:
            first = next(value.buffers(), None)
        return None if first is None else first.device
    device = getattr(value, "device", None)  # Adjacency, Hypergraph, SensorGraph
    return device if isinstance(device, torch.device) else None


def check_same_device(*named: tuple[str, object]) -> None:
    """Every tensor, graph (anything with a ``device``) and module (its parameters) among the ``(name, value)``
    pairs on one device; ``None`` and other values are skipped. Runs before the index checks, which read index
    ranges on the index's own device, and names the two arguments instead of torch's "Expected all tensors to
    be on the same device" from deep inside a kernel (or its backward)."""
    if not enabled():
        return
    first: tuple[str, torch.device] | None = None
    for name, value in named:
        device = _device_of(value)
        if device is None:
            continue
        if first is None:
            first = (name, device)
        elif device != first[1]:
            raise ValueError(f"{name} is on {device} but {first[0]} is on {first[1]}: put the inputs and the "
                             f"model on one device (e.g. .to({str(first[1])!r}))")


def check_reduce(reduce: str, allowed: tuple[str, ...]) -> None:
    """Raise a ``ValueError`` naming ``reduce`` and the supported choices."""
    if reduce not in allowed:
        raise ValueError(f"reduce={reduce!r} is not supported; choose one of {allowed}")
