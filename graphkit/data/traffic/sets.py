"""The named traffic sets: where their files live, where they come from, how each is read."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from graphkit.data.checks import checked_loader
from graphkit.data.root import data_root, missing_files_error, require_files
from graphkit.data.traffic.adjacency import binary_adjacency, stgcn_adjacency
from graphkit.data.traffic.files import (
    _finite_matrix,
    _numeric,
    _read_csv,
    read_distance_csv,
    read_h5_speeds,
    read_sensor_pickle,
)
from graphkit.data.traffic.series import TrafficFormatError, TrafficSeries, _series

DCRNN = "https://raw.githubusercontent.com/liyaguang/DCRNN/602afd9d767d3aa1c9b3eac51710d6aeee12c227/data"
TGCN = "https://raw.githubusercontent.com/lehaifeng/T-GCN/219a2346f5bf68d54d91a948e7a41a08f9edc46b/T-GCN/T-GCN-PyTorch/data"


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
