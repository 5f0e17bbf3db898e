"""Traffic series for forecasting: readers for every format of the field, splits, scalers, windows.

Formats (all under ``<root>/traffic/<folder>/``):

* METR-LA, PEMS-BAY (DCRNN): ``metr-la.h5`` / ``pems-bay.h5`` (a pandas DataFrame, key ``df``, DatetimeIndex
  at 5 min, one column per sensor; 0 = missing), the sensor graph ``adj_mx.pkl`` / ``adj_mx_bay.pkl``
  (a pickle ``[sensor_ids, id -> index, A]``, A a ``float32 [N, N]`` Gaussian-kernel matrix) and the road
  distances ``distances_la_2012.csv`` / ``distances_bay_2017.csv`` (``from,to,cost``).
* PeMSD7(M) (STGCN): ``V_228.csv`` (no header, ``[T, 228]`` speeds, 44 weekdays x 288 steps) and
  ``W_228.csv`` (``[228, 228]`` distances in metres).
* PEMS03/04/07/08 (ASTGCN): ``PEMS0X.npz`` (key ``data``, ``[T, N, C]``; flow first) and ``PEMS0X.csv``
  (``from,to,cost``); PEMS03 also ``PEMS03.txt``, the sensor ids the csv refers to.
* Los-loop, SZ-taxi (T-GCN): ``los_speed.csv`` / ``sz_speed.csv`` (header = sensor ids, ``[T, N]``) and
  ``los_adj.csv`` / ``sz_adj.csv`` (no header, ``[N, N]`` 0/1).

:func:`load_series` reads one into a :class:`TrafficSeries` (raw values, a missing mask, calendar
covariates, the adjacency). :func:`prepare` turns it into :class:`ForecastData`: chronological window
splits of a lineage (``dcrnn`` 70/10/20 of the windows, ``astgcn`` 60/20/20, ``stgcn`` by days, ``tgcn``
80/20 of the series), a scaler fitted on the training split (exactly invertible), model inputs with
time-of-day / day-of-week covariates, and windows taken by index from the one series tensor: a batch of
windows is gathered when asked for, never a ``[S, 12, N, F]`` copy of the data set.
"""
from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor

from graphkit.data.checks import checked_loader
from graphkit.data.root import DatasetFormatError, data_root, load_data_pickle, missing_files_error, require_files

DCRNN = "https://raw.githubusercontent.com/liyaguang/DCRNN/602afd9d767d3aa1c9b3eac51710d6aeee12c227/data"
TGCN = "https://raw.githubusercontent.com/lehaifeng/T-GCN/219a2346f5bf68d54d91a948e7a41a08f9edc46b/T-GCN/T-GCN-PyTorch/data"


class TrafficFormatError(DatasetFormatError):
    """A traffic data file is present but does not have the expected layout."""


# --------------------------------------------------------------------------- series
@dataclass
class TrafficSeries:
    """One recorded traffic series on a sensor graph, in raw units.

    Attributes:
        name: canonical name (``METR-LA``, ``Los-loop``, ``PEMS04`` ...).
        values: ``[T, N, C]`` float32 readings (channel 0 is the forecast target).
        mask: ``[T, N]`` bool, True where the target reading is observed (not ``null_value``, not NaN).
        adjacency: ``[N, N]`` float32 weights, ``adjacency[i, j]`` = weight of sensor ``i -> j`` (a road
            graph is directed; models read it as given).
        sensor_ids: the ``N`` sensor ids in column order.
        steps_per_day: readings per day (288 at 5 min).
        time_of_day: ``[T]`` float in ``[0, 1)``.
        day_of_week: ``[T]`` int64 in ``0..6`` (Monday = 0), or None where the dates are unknown.
        null_value: the reading that means "missing" (0 for the speed/flow sets).
    """

    name: str
    values: Tensor
    mask: Tensor
    adjacency: Tensor
    sensor_ids: list[str]
    steps_per_day: int
    time_of_day: Tensor
    day_of_week: Tensor | None
    null_value: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_steps(self) -> int:
        """Number of time steps in the series."""
        return self.values.size(0)

    @property
    def num_nodes(self) -> int:
        """Number of sensors."""
        return self.values.size(1)


def calendar(start: str | None, steps: int, steps_per_day: int,
             index: Any = None) -> tuple[Tensor, Tensor | None]:
    """``(time_of_day [T], day_of_week [T] | None)`` from a DatetimeIndex, or from a start date and the step."""
    if index is not None:
        minutes = np.asarray(index.hour * 60 + index.minute, dtype=np.float64)
        tod = torch.from_numpy(minutes / 1440.0).float()
        return tod, torch.from_numpy(np.asarray(index.day_of_week, dtype=np.int64))
    step = torch.arange(steps)
    tod = (step % steps_per_day).float() / steps_per_day
    if start is None:
        return tod, None
    first = dt.date.fromisoformat(start).weekday()
    return tod, (first + step // steps_per_day) % 7


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


def gaussian_kernel_adjacency(dist: np.ndarray, threshold: float = 0.1, sigma: float | None = None) -> np.ndarray:
    """DCRNN's graph: ``W_ij = exp(-(d_ij / sigma)^2)``, zeroed below ``threshold``; ``sigma`` defaults to
    the std of the finite distances; ``inf`` (no road) gives 0."""
    finite = dist[np.isfinite(dist)]
    if finite.size == 0:
        raise ValueError("no finite distance to build a Gaussian-kernel adjacency from")
    sigma = float(finite.std()) if sigma is None else sigma
    if not sigma > 0:
        raise ValueError(f"Gaussian kernel needs sigma > 0, got {sigma}")
    w = np.exp(-np.square(dist / sigma))
    w[w < threshold] = 0.0
    return w.astype(np.float32)


def stgcn_adjacency(dist: np.ndarray, sigma2: float = 0.1, epsilon: float = 0.5, scale: float = 1e4) -> np.ndarray:
    """STGCN's graph from metres: ``W_ij = exp(-(d_ij/scale)^2 / sigma2)`` where that is ``>= epsilon``,
    no self loops."""
    d = dist / scale
    w = np.exp(-np.square(d) / sigma2)
    w = w * (w >= epsilon)
    np.fill_diagonal(w, 0.0)
    return w.astype(np.float32)


def binary_adjacency(dist: np.ndarray) -> np.ndarray:
    """ASTGCN's connectivity graph: 1 wherever a distance row exists."""
    return np.isfinite(dist).astype(np.float32)


def _series(name: str, values: np.ndarray, adjacency: np.ndarray, ids: list[str], steps_per_day: int,
            start: str | None, index: Any = None, null_value: float = 0.0, **extra) -> TrafficSeries:
    if values.ndim == 2:
        values = values[:, :, None]
    t, n, _ = values.shape
    if adjacency.shape != (n, n):
        raise TrafficFormatError(f"{name}: the adjacency is {adjacency.shape} but the series has {n} sensors")
    if not np.isfinite(adjacency).all():
        raise TrafficFormatError(f"{name}: the adjacency holds NaN or inf")
    vals = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
    if torch.isinf(vals).any():
        raise TrafficFormatError(f"{name}: the series holds inf values")
    target = vals[..., 0]
    mask = ~torch.isnan(target) & (target != null_value)
    tod, dow = calendar(start, t, steps_per_day, index)
    return TrafficSeries(name, vals, mask, torch.from_numpy(adjacency.astype(np.float32)), [str(i) for i in ids],
                         steps_per_day, tod, dow, null_value, dict(extra))


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


# One entry per data set: folder, required files, download urls (None: no stable direct link), reader.
@dataclass(frozen=True)
class SeriesSpec:
    folder: str
    files: tuple[str, ...]
    urls: dict[str, str | None]
    source: str
    read: Callable[[Path], TrafficSeries]
    lineage: str


def _read_dcrnn(name: str, h5: str, pkl: str, start_hint: str) -> Callable[[Path], TrafficSeries]:
    def read(raw: Path) -> TrafficSeries:
        values, cols, index = read_h5_speeds(raw / h5)
        ids, to_ind, adj = read_sensor_pickle(raw / pkl)
        if sorted(cols) != sorted(ids):
            raise TrafficFormatError(f"{name}: the columns of {h5} and the sensors of {pkl} differ "
                                     f"({len(cols)} vs {len(ids)} sensors)")
        order = [cols.index(s) for s in ids]  # series columns in the pickle's matrix order
        return _series(name, values[:, order], adj, ids, 288, start_hint, index=index)
    return read


def _read_tgcn(name: str, speed: str, adj: str, start: str, steps_per_day: int) -> Callable[[Path], TrafficSeries]:
    def read(raw: Path) -> TrafficSeries:
        frame = _read_csv(raw / speed, header=0)
        values = _numeric(frame, raw / speed)
        a = _finite_matrix(_numeric(_read_csv(raw / adj, header=None), raw / adj), raw / adj,
                           (values.shape[1], values.shape[1]))
        return _series(name, values, a, list(frame.columns), steps_per_day, start)
    return read


def _read_pemsd7(raw: Path) -> TrafficSeries:
    values = _numeric(_read_csv(raw / "V_228.csv", header=None), raw / "V_228.csv")
    dist = _finite_matrix(_numeric(_read_csv(raw / "W_228.csv", header=None), raw / "W_228.csv"),
                          raw / "W_228.csv", (values.shape[1], values.shape[1]))
    return _series("PeMSD7(M)", values, stgcn_adjacency(dist), list(range(values.shape[1])), 288, None,
                   distances=dist)


def _read_astgcn(name: str, start: str) -> Callable[[Path], TrafficSeries]:
    def read(raw: Path) -> TrafficSeries:
        path = raw / f"{name}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                if "data" not in z:
                    raise TrafficFormatError(f"{path}: no array 'data' (keys: {list(z.keys())})")
                values = np.asarray(z["data"], dtype=np.float64)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            if isinstance(exc, TrafficFormatError):
                raise
            raise TrafficFormatError(f"{path} is not a readable npz file ({exc})") from exc
        if values.ndim != 3:
            raise TrafficFormatError(f"{path}: 'data' should be [T, N, C], got shape {values.shape}")
        n = values.shape[1]
        ids = [str(i) for i in range(n)]
        id_map = None
        if (raw / f"{name}.txt").exists():  # PEMS03: the csv names real sensor ids
            real = (raw / f"{name}.txt").read_text().split()
            if len(real) != n:
                raise TrafficFormatError(f"{raw / f'{name}.txt'} lists {len(real)} ids for {n} sensors")
            id_map = {s: i for i, s in enumerate(real)}
        dist = read_distance_csv(raw / f"{name}.csv", ids, id_map)
        return _series(name, values, binary_adjacency(dist), ids, 288, start, distances=dist)
    return read


SERIES: dict[str, SeriesSpec] = {
    "metr-la": SeriesSpec("metr-la", ("metr-la.h5", "adj_mx.pkl"),
                          {"metr-la.h5": None, "adj_mx.pkl": f"{DCRNN}/sensor_graph/adj_mx.pkl"},
                          "DCRNN (github.com/liyaguang/DCRNN: README links metr-la.h5)",
                          _read_dcrnn("METR-LA", "metr-la.h5", "adj_mx.pkl", "2012-03-01"), "dcrnn"),
    "pems-bay": SeriesSpec("pems-bay", ("pems-bay.h5", "adj_mx_bay.pkl"),
                           {"pems-bay.h5": None, "adj_mx_bay.pkl": f"{DCRNN}/sensor_graph/adj_mx_bay.pkl"},
                           "DCRNN (github.com/liyaguang/DCRNN: README links pems-bay.h5)",
                           _read_dcrnn("PEMS-BAY", "pems-bay.h5", "adj_mx_bay.pkl", "2017-01-01"), "dcrnn"),
    "pemsd7m": SeriesSpec("pemsd7m", ("V_228.csv", "W_228.csv"), {"V_228.csv": None, "W_228.csv": None},
                          "STGCN (github.com/VeritasYin/STGCN_IJCAI-18, dataset/PeMSD7_Full.zip)",
                          _read_pemsd7, "stgcn"),
    "los-loop": SeriesSpec("los-loop", ("los_speed.csv", "los_adj.csv"),
                           {"los_speed.csv": f"{TGCN}/los_speed.csv", "los_adj.csv": f"{TGCN}/los_adj.csv"},
                           "T-GCN (github.com/lehaifeng/T-GCN)",
                           _read_tgcn("Los-loop", "los_speed.csv", "los_adj.csv", "2012-03-01", 288), "tgcn"),
    "sz-taxi": SeriesSpec("sz-taxi", ("sz_speed.csv", "sz_adj.csv"),
                          {"sz_speed.csv": f"{TGCN}/sz_speed.csv", "sz_adj.csv": f"{TGCN}/sz_adj.csv"},
                          "T-GCN (github.com/lehaifeng/T-GCN)",
                          _read_tgcn("SZ-taxi", "sz_speed.csv", "sz_adj.csv", "2015-01-01", 96), "tgcn"),
}
for _name, _start in (("PEMS03", "2018-09-01"), ("PEMS04", "2018-01-01"), ("PEMS07", "2017-05-01"),
                      ("PEMS08", "2016-07-01")):
    _files = (f"{_name}.npz", f"{_name}.csv") + ((f"{_name}.txt",) if _name == "PEMS03" else ())
    SERIES[_name.lower()] = SeriesSpec(_name.lower(), _files, {f: None for f in _files},
                                       "ASTGCN (github.com/guoshnBJTU/ASTGCN-r-pytorch, data/)",
                                       _read_astgcn(_name, _start), "astgcn")


@checked_loader
def load_series(name: str, root: str | Path | None = None, download: bool = True) -> TrafficSeries:
    """Read traffic set ``name`` (``metr-la``, ``pems-bay``, ``pemsd7m``, ``pems03/04/07/08``, ``los-loop``,
    ``sz-taxi``) from ``<root>/traffic/<name>/`` (METR-LA's graph may also sit in ``sensor_graph/``).

    Missing files are downloaded where a direct link exists; otherwise a
    :class:`~graphkit.data.root.DatasetNotFoundError` names the files and where to get them.
    """
    key = name.lower()
    if key not in SERIES:
        raise ValueError(f"unknown traffic set {name!r}; choose from {', '.join(sorted(SERIES))}")
    spec = SERIES[key]
    raw = data_root(root) / "traffic" / spec.folder
    if key in ("metr-la", "pems-bay") and not (raw / spec.files[1]).exists() \
            and (raw / "sensor_graph" / spec.files[1]).exists():
        return _read_split_dirs(spec, raw)
    linked = {f: u for f, u in spec.urls.items() if u is not None}
    if not all((raw / f).exists() for f in spec.files):
        if download and linked and all((raw / f).exists() or f in linked for f in spec.files):
            require_files(key, raw, {f: u for f, u in linked.items() if not (raw / f).exists()}, True, spec.source)
        if not all((raw / f).exists() for f in spec.files):
            raise missing_files_error(key, raw, list(spec.files), f"Get them from {spec.source}.")
    return spec.read(raw)


def _read_split_dirs(spec: SeriesSpec, raw: Path) -> TrafficSeries:
    """METR-LA laid out as DCRNN's repo has it: the graph in ``sensor_graph/``, the h5 beside it."""
    import shutil
    import tempfile

    if not (raw / spec.files[0]).exists():
        raise missing_files_error(spec.folder, raw, list(spec.files[:1]), f"Get it from {spec.source}.")
    with tempfile.TemporaryDirectory() as tmp:  # a read-only root: link both into one scratch folder
        for f, src in ((spec.files[0], raw / spec.files[0]), (spec.files[1], raw / "sensor_graph" / spec.files[1])):
            try:
                (Path(tmp) / f).symlink_to(src.resolve())
            except OSError:
                shutil.copy(src, Path(tmp) / f)
        return spec.read(Path(tmp))


# --------------------------------------------------------------------------- scaling
@dataclass
class StandardScaler:
    """z-score with one mean and std (DCRNN lineage: fitted on the training inputs, zeros included)."""

    mean: float
    std: float

    def transform(self, x: Tensor) -> Tensor:
        """Subtract the training mean and divide by the training standard deviation."""
        return (x - self.mean) / self.std

    def inverse(self, x: Tensor) -> Tensor:
        """Undo :meth:`transform` (back to the original units)."""
        return x * self.std + self.mean


@dataclass
class MaxScaler:
    """T-GCN's scaling: divide by the maximum of the whole series."""

    max: float

    def transform(self, x: Tensor) -> Tensor:
        """Divide by the training maximum."""
        return x / self.max

    def inverse(self, x: Tensor) -> Tensor:
        """Undo :meth:`transform` (back to the original units)."""
        return x * self.max


# --------------------------------------------------------------------------- splits and windows
PROTOCOLS = {
    "dcrnn": "70/10/20 of the windows, chronological; z-score on the training inputs",
    "astgcn": "60/20/20 of the windows, chronological; z-score on the training inputs",
    "stgcn": "34 train / 5 valid days, the rest test; windows inside one day; z-score on the training days",
    "tgcn": "first 80% of the steps train, rest test (no validation); divide by the series maximum",
}


def window_starts(num_steps: int, t_in: int, t_out: int, protocol: str, steps_per_day: int = 288,
                  train_days: int = 34, valid_days: int = 5) -> dict[str, Tensor]:
    """Start step of every window (inputs ``[s, s + t_in)``, targets ``[s + t_in, s + t_in + t_out)``) per split.

    * ``dcrnn`` / ``astgcn``: all ``T - t_in - t_out + 1`` windows in time order, cut 70/10/20 (60/20/20) by
      count as DCRNN's ``generate_training_data.py`` does (test and train rounded, valid the rest).
    * ``stgcn``: windows that fit inside one day; days ``[0, 34)`` train, ``[34, 39)`` valid, the rest test.
    * ``tgcn``: the series is cut at ``int(0.8 T)``; each part yields ``len - t_in - t_out`` windows (T-GCN's
      loop bound, which leaves out each part's last possible window).
    """
    span = t_in + t_out
    if t_in < 1 or t_out < 1:
        raise ValueError(f"t_in and t_out must be >= 1, got {t_in}, {t_out}")
    if protocol in ("dcrnn", "astgcn"):
        count = num_steps - span + 1
        if count < 3:
            raise ValueError(f"{num_steps} steps give {max(count, 0)} windows of {span} steps; need at least 3")
        test_frac, train_frac = (0.2, 0.7) if protocol == "dcrnn" else (0.2, 0.6)
        n_test, n_train = round(count * test_frac), round(count * train_frac)
        n_valid = count - n_test - n_train
        s = torch.arange(count)
        return {"train": s[:n_train], "valid": s[n_train:n_train + n_valid], "test": s[n_train + n_valid:]}
    if protocol == "stgcn":
        days = num_steps // steps_per_day
        if days <= train_days + valid_days:
            raise ValueError(f"{num_steps} steps hold {days} days; the STGCN split needs more than "
                             f"{train_days + valid_days}")
        per_day = torch.arange(steps_per_day - span + 1)
        if per_day.numel() == 0:
            raise ValueError(f"a window of {span} steps does not fit into a day of {steps_per_day}")

        def days_range(a: int, b: int) -> Tensor:
            return (torch.arange(a, b)[:, None] * steps_per_day + per_day).reshape(-1)
        return {"train": days_range(0, train_days), "valid": days_range(train_days, train_days + valid_days),
                "test": days_range(train_days + valid_days, days)}
    if protocol == "tgcn":
        cut = int(num_steps * 0.8)
        n_train, n_test = cut - span, num_steps - cut - span
        if n_train < 1 or n_test < 1:
            raise ValueError(f"{num_steps} steps are too few for T-GCN's 80/20 split with {span}-step windows")
        return {"train": torch.arange(n_train), "test": cut + torch.arange(n_test)}
    raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")


@dataclass
class ForecastData:
    """A traffic series prepared for training: model inputs, targets, windows, scaler.

    Attributes:
        series: the raw :class:`TrafficSeries`.
        inputs: ``[T, N, F]`` float32 model inputs: the scaled target channel, then the covariates
            (time of day in ``[0, 1)``; day of week one-hot when asked for).
        target: ``[T, N]`` raw target values (``series.values[..., 0]``), for losses and metrics.
        starts: per split, the start step of each window.
        t_in, t_out: input and output lengths.
        scaler: maps raw values to model scale and back (:meth:`StandardScaler.inverse` is exact).
        protocol: the lineage name (see :data:`PROTOCOLS`).
    """

    series: TrafficSeries
    inputs: Tensor
    target: Tensor
    starts: dict[str, Tensor]
    t_in: int
    t_out: int
    scaler: StandardScaler | MaxScaler
    protocol: str

    @property
    def num_nodes(self) -> int:
        """Number of sensors."""
        return self.series.num_nodes

    @property
    def num_features(self) -> int:
        """Input channels per sensor and step (the signal plus any time covariates)."""
        return self.inputs.size(-1)

    def windows(self, starts: Tensor) -> tuple[Tensor, Tensor]:
        """``(x [B, t_in, N, F], y [B, t_out, N])`` for windows starting at ``starts: [B]`` (gathered now)."""
        starts = starts.reshape(-1, 1).to(self.inputs.device)
        x = self.inputs[starts + torch.arange(self.t_in, device=starts.device)]
        y = self.target[starts + self.t_in + torch.arange(self.t_out, device=starts.device)]
        return x, y

    def to(self, device: torch.device | str) -> "ForecastData":
        return ForecastData(self.series, self.inputs.to(device), self.target.to(device),
                            self.starts, self.t_in, self.t_out, self.scaler, self.protocol)


def prepare(series: TrafficSeries, protocol: str = "dcrnn", t_in: int = 12, t_out: int = 12,
            time_of_day: bool = True, day_of_week: bool = False, scale_missing: bool = True) -> ForecastData:
    """Splits, scaler and inputs for ``series`` under ``protocol`` (see :func:`window_starts`).

    The scaler is fitted on the steps the training windows read as inputs (DCRNN fits on ``x_train``,
    missing zeros included; ``scale_missing=False`` leaves them out). T-GCN's protocol divides by the
    series maximum and uses no covariates unless asked.
    """
    starts = window_starts(series.num_steps, t_in, t_out, protocol, series.steps_per_day)
    target = series.values[..., 0]
    if protocol == "tgcn":
        scaler: StandardScaler | MaxScaler = MaxScaler(float(torch.nan_to_num(target, nan=0.0).max()))
        if not scaler.max > 0:
            raise ValueError(f"{series.name}: the series maximum is {scaler.max}; cannot scale by it")
    else:
        seen = torch.zeros(series.num_steps, dtype=torch.bool)
        tr = starts["train"]
        seen[(tr[:, None] + torch.arange(t_in)).reshape(-1)] = True
        vals = target[seen]
        keep = ~torch.isnan(vals)
        if not scale_missing:
            keep &= series.mask[seen]
        vals = vals[keep].double()
        if vals.numel() < 2:
            raise ValueError(f"{series.name}: fewer than 2 observed training values; cannot fit the scaler")
        std = float(vals.std(unbiased=False))
        scaler = StandardScaler(float(vals.mean()), std if std > 0 else 1.0)
    scaled = scaler.transform(torch.nan_to_num(target, nan=series.null_value))
    feats = [scaled.unsqueeze(-1)]
    n = series.num_nodes
    if time_of_day:
        feats.append(series.time_of_day.view(-1, 1, 1).expand(-1, n, 1))
    if day_of_week:
        if series.day_of_week is None:
            raise ValueError(f"{series.name} has no dates, so no day-of-week covariate")
        onehot = torch.nn.functional.one_hot(series.day_of_week, 7).float()
        feats.append(onehot.view(-1, 1, 7).expand(-1, n, 7))
    inputs = torch.cat(feats, dim=-1).contiguous()
    return ForecastData(series, inputs, target.contiguous(), starts, t_in, t_out, scaler, protocol)


def describe(data: ForecastData) -> str:
    """One line describing prepared forecasting data: sensors, steps, windows per split, missing share."""
    s = data.series
    sizes = "/".join(str(len(v)) for v in data.starts.values())
    missing = 1.0 - float(s.mask.float().mean())
    return (f"{s.name}: {s.num_steps} steps x {s.num_nodes} sensors, {data.num_features} input features, "
            f"{data.t_in} -> {data.t_out} steps, protocol {data.protocol}, windows {sizes}, "
            f"{missing:.2%} missing, {int((s.adjacency != 0).sum())} graph entries")


__all__ = ["ForecastData", "MaxScaler", "PROTOCOLS", "SERIES", "StandardScaler", "TrafficFormatError",
           "TrafficSeries", "binary_adjacency", "calendar", "describe", "forecast_task",
           "gaussian_kernel_adjacency", "load_series", "prepare", "read_distance_csv", "read_h5_speeds",
           "read_sensor_pickle", "stgcn_adjacency", "window_starts"]


@checked_loader
def forecast_task(name: str, root: str | Path | None = None, protocol: str = "auto", t_in: int = 12,
                  t_out: int = 12, covariates: str = "auto"):
    """A traffic set as a :class:`~graphkit.data.Loaded` of level ``forecast`` for the trainer.

    ``protocol="auto"`` takes the set's lineage (METR-LA/PEMS-BAY ``dcrnn``, PEMS0X ``astgcn``, PeMSD7(M)
    ``stgcn``, Los-loop/SZ-taxi ``tgcn``). The selection score is masked MAE on the validation windows,
    or test RMSE under the ``tgcn`` protocol (which has no validation split).
    """
    from graphkit.data.bundle import Loaded
    from graphkit.metrics import ForecastScore

    key = name.lower()
    series = load_series(key, root)
    protocol = SERIES[key].lineage if protocol == "auto" else protocol
    if covariates == "auto":
        covariates = "none" if protocol == "tgcn" else "tod"
    data = prepare(series, protocol, t_in, t_out, time_of_day=covariates != "none", day_of_week="dow" in covariates)
    metric = ForecastScore("rmse" if protocol == "tgcn" else "mae")
    return Loaded(name=series.name, level="forecast", task="regression", num_features=data.num_features,
                  num_outputs=t_out, metric=metric, data=data, split=dict(data.starts),
                  extra={"t_in": t_in, "t_out": t_out, "num_nodes": series.num_nodes, "protocol": protocol,
                         "describe": describe(data)})
