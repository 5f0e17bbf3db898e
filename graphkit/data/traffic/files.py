"""Readers of single traffic files (CSV matrices, DCRNN's HDF5 speeds and sensor pickle), each refusing what
it cannot read safely or as numbers with a :class:`~graphkit.data.traffic.series.TrafficFormatError`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from graphkit.data.root import load_data_pickle
from graphkit.data.traffic.series import TrafficFormatError


def _finite_matrix(a: np.ndarray, path: Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    if a.ndim != 2 or (shape is not None and a.shape != shape):
        want = f"{shape}" if shape else "2-D"
        raise TrafficFormatError(f"{path}: expected a {want} matrix, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.number):
        raise TrafficFormatError(f"{path}: non-numeric entries (dtype {a.dtype})")
    return a


def _check_row_lengths(path: Path) -> None:
    """Every line of a CSV has the same number of fields: pandas reads a short line (a file cut off mid-line,
    a damaged row) as missing values, which would then pass for missing sensor readings."""
    counts = [(i, line.count(",")) for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
              if line.strip()]
    if not counts:
        return
    widths = [c for _, c in counts]
    common = max(set(widths), key=widths.count)
    for line_no, c in counts:
        if c != common:
            raise TrafficFormatError(f"{path}, line {line_no}: {c + 1} fields where the file has {common + 1} "
                                     "(truncated or damaged?)")


def _read_csv(path: Path, header: Any) -> Any:
    import pandas as pd

    _check_row_lengths(path)
    try:
        return pd.read_csv(path, header=header)
    except Exception as exc:  # pandas raises several parser errors; all mean the same thing here
        raise TrafficFormatError(f"{path} is not a readable CSV ({exc.__class__.__name__}: {exc})") from exc


def _numeric(frame: Any, path: Path) -> np.ndarray:
    import pandas as pd

    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & ~frame.isna().to_numpy()
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise TrafficFormatError(f"{path}: non-numeric value {frame.iat[r, c]!r} at row {r + 1}, column {c + 1}")
    return values


def read_distance_csv(path: Path, sensor_ids: list[str], id_map: dict[str, int] | None = None) -> np.ndarray:
    """``[N, N]`` road distances from a ``from,to,cost`` CSV (``inf`` where no row). ``sensor_ids`` order
    the matrix; rows naming other sensors are skipped (DCRNN's distance files cover more sensors)."""
    frame = _read_csv(path, header=0)
    if frame.shape[1] < 3:
        raise TrafficFormatError(f"{path}: expected columns from,to,cost; got {list(frame.columns)}")
    index = id_map or {s: i for i, s in enumerate(sensor_ids)}
    n = len(sensor_ids)
    dist = np.full((n, n), np.inf, dtype=np.float64)
    src = frame.iloc[:, 0].astype(str).str.replace(r"\.0$", "", regex=True)
    dst = frame.iloc[:, 1].astype(str).str.replace(r"\.0$", "", regex=True)
    cost = _numeric(frame.iloc[:, 2:3], path)[:, 0]
    for s, d, c in zip(src, dst, cost):
        if s in index and d in index:
            dist[index[s], index[d]] = c
    return dist


def _h5_array(group: Any, key: str, path: Path) -> np.ndarray:
    """A plain numeric or fixed-width string array; Python objects (pickles PyTables would load) are refused."""
    import h5py

    node = group.get(key)
    if not isinstance(node, h5py.Dataset):
        raise TrafficFormatError(f"{path}: no dataset {group.name}/{key} (expected pandas' fixed HDF5 layout)")
    pseudo = node.attrs.get("PSEUDOATOM", b"")
    if node.dtype.kind == "O" or node.attrs.get("CLASS", b"") == b"VLARRAY" or pseudo == b"object":
        raise TrafficFormatError(
            f"{path}: {node.name} holds Python objects (pickles), which graphkit never unpickles from a data file; "
            "save the frame with numeric values and string column names")
    if node.dtype.kind not in "iufbS":
        raise TrafficFormatError(f"{path}: {node.name} has dtype {node.dtype}, expected numbers or strings")
    return node[()]


def read_h5_speeds(path: Path) -> tuple[np.ndarray, list[str], Any]:
    """``(values [T, N], sensor ids, DatetimeIndex)`` from DCRNN's ``metr-la.h5`` / ``pems-bay.h5``.

    The file is a pandas DataFrame in PyTables' fixed layout (group ``df``: ``axis0`` column names, ``axis1``
    time stamps, ``block<i>_items`` / ``block<i>_values``). It is read with h5py as plain arrays, never
    through pandas' reader, which unpickles object columns and attributes (a crafted file could run code):
    object columns are refused with a :class:`TrafficFormatError`, attributes are read as strings only.
    """
    import h5py
    import pandas as pd

    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise TrafficFormatError(f"{path} is not a readable HDF5 file ({exc.__class__.__name__}: {exc})") from exc
    with f:
        groups = [k for k in f if isinstance(f[k], h5py.Group)]
        key = "df" if "df" in groups else (groups[0] if len(groups) == 1 else None)
        if key is None:
            raise TrafficFormatError(f"{path}: expected one pandas frame (group 'df'), found groups {groups}")
        g = f[key]
        kind = g.attrs.get("pandas_type", b"")
        if kind != b"frame":
            raise TrafficFormatError(f"{path}: {key} is pandas type {kind.decode(errors='replace')!r}; expected a "
                                     "DataFrame in the fixed layout (DataFrame.to_hdf(..., format='fixed'))")
        columns = [c.decode() if isinstance(c, bytes) else str(c) for c in _h5_array(g, "axis0", path).tolist()]
        stamps = _h5_array(g, "axis1", path)
        index_kind = g["axis1"].attrs.get("kind", b"").decode(errors="replace")
        if g["axis1"].attrs.get("index_class", b"") != b"datetime" or not index_kind.startswith("datetime64"):
            raise TrafficFormatError(f"{path}: the frame's index is not time stamps (kind {index_kind!r})")
        unit = index_kind[len("datetime64["):-1] if "[" in index_kind else "ns"
        index = pd.DatetimeIndex(pd.to_datetime(stamps.astype(np.int64), unit=unit))
        position = {c: j for j, c in enumerate(columns)}
        values = np.full((len(stamps), len(columns)), np.nan)
        seen = 0
        for b in range(int(g.attrs.get("nblocks", 0))):
            items = [c.decode() if isinstance(c, bytes) else str(c)
                     for c in _h5_array(g, f"block{b}_items", path).tolist()]
            block = _h5_array(g, f"block{b}_values", path)
            if block.dtype.kind not in "iufb" or block.shape != (len(stamps), len(items)):
                raise TrafficFormatError(f"{path}: block {b} has dtype {block.dtype} and shape {block.shape}; "
                                         f"expected numbers of shape ({len(stamps)}, {len(items)})")
            for j, item in enumerate(items):
                if item not in position:
                    raise TrafficFormatError(f"{path}: block {b} names column {item!r}, which is not in axis0")
                values[:, position[item]] = block[:, j]
                seen += 1
        if seen != len(columns):
            raise TrafficFormatError(f"{path}: the blocks hold {seen} columns but axis0 names {len(columns)}")
    return values, columns, index


def read_sensor_pickle(path: Path) -> tuple[list[str], dict[str, int], np.ndarray]:
    """DCRNN's ``adj_mx.pkl``: ``[sensor_ids, id -> index, A]`` (through the restricted unpickler)."""
    obj = load_data_pickle(path)
    if not (isinstance(obj, (list, tuple)) and len(obj) == 3 and isinstance(obj[2], np.ndarray)):
        raise TrafficFormatError(f"{path}: expected [sensor_ids, sensor_id_to_ind, adj_mx], got {type(obj).__name__}")
    ids, to_ind, adj = obj
    ids = [i.decode() if isinstance(i, bytes) else str(i) for i in ids]
    adj = _finite_matrix(adj, path, (len(ids), len(ids)))
    return ids, {str(k): int(v) for k, v in dict(to_ind).items()}, adj
