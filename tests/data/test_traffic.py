"""Traffic loaders: the real Los-loop / METR-LA graph files, fixtures written in the exact formats of the sets
that are not shipped (DCRNN h5 + pickle, STGCN csv, ASTGCN npz + csv, T-GCN csv), splits, scaler round trip,
windows against a naive reference, and clear errors for missing, truncated or malformed files."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import require_data

from graphkit.data import DatasetNotFoundError
from graphkit.data.root import UntrustedPickleError
from graphkit.data.traffic import (
    MaxScaler,
    StandardScaler,
    TrafficFormatError,
    calendar,
    forecast_task,
    gaussian_kernel_adjacency,
    load_series,
    prepare,
    read_distance_csv,
    read_sensor_pickle,
    stgcn_adjacency,
    window_starts,
)


def _listing(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


# ------------------------------------------------------------------ real data
def test_real_los_loop():
    root = require_data("traffic/los-loop")
    before = _listing(Path(root) / "traffic")
    s = load_series("los-loop", root, download=False)
    assert s.values.shape == (2016, 207, 1)
    assert s.adjacency.shape == (207, 207)
    assert s.sensor_ids[0] == "773869"
    assert bool(s.mask.all())  # gaps are filled in this copy
    assert 1.0 <= float(s.values.min()) and float(s.values.max()) <= 70.0
    assert abs(float(s.values.mean()) - 58.9) < 0.1
    # March 1, 2012 was a Thursday; 288 steps a day
    assert int(s.day_of_week[0]) == 3 and int(s.day_of_week[288]) == 4
    assert s.time_of_day[1] == pytest.approx(5 / 1440)
    assert _listing(Path(root) / "traffic") == before  # nothing written beside the raw files


def test_real_metr_la_sensor_graph_matches_los_loop_order():
    root = require_data("traffic/metr-la")
    ids, to_ind, adj = read_sensor_pickle(Path(root) / "traffic/metr-la/sensor_graph/adj_mx.pkl")
    assert len(ids) == 207 and adj.shape == (207, 207) and adj.dtype == np.float32
    assert int((adj != 0).sum()) == 1722
    assert all(to_ind[i] == k for k, i in enumerate(ids))
    s = load_series("los-loop", root, download=False)
    assert s.sensor_ids == ids  # Los-loop's columns are METR-LA's sensors in the same order


def test_real_metr_la_speeds_absent_is_a_clear_error():
    root = require_data("traffic/metr-la")
    with pytest.raises(DatasetNotFoundError, match="metr-la.h5"):
        load_series("metr-la", root, download=False)


@pytest.mark.parametrize("protocol,sizes", [("dcrnn", (1395, 199, 399)), ("tgcn", (1588, 380))])
def test_real_los_loop_protocols(protocol, sizes):
    root = require_data("traffic/los-loop")
    loaded = forecast_task("los-loop", root, protocol=protocol)
    assert tuple(len(v) for v in loaded.split.values()) == sizes
    data = loaded.data
    assert data.num_features == (1 if protocol == "tgcn" else 2)
    raw = data.series.values[..., 0]
    assert torch.allclose(data.scaler.inverse(data.inputs[..., 0]), raw, atol=1e-4)


# ------------------------------------------------------------------ fixtures in the real formats
def _speeds(t: int, n: int, seed: int = 0, zeros: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = 40 + 20 * rng.random((t, n))
    v[rng.random((t, n)) < zeros] = 0.0  # DCRNN marks missing readings with 0
    return v


def write_dcrnn(raw: Path, name: str = "metr-la", t: int = 600, n: int = 6, seed: int = 0) -> tuple:
    raw.mkdir(parents=True, exist_ok=True)
    ids = [str(700000 + 7 * i) for i in range(n)]
    values = _speeds(t, n, seed)
    index = pd.date_range("2012-03-01", periods=t, freq="5min")
    order = list(reversed(range(n)))  # h5 columns in another order than the pickle's matrix
    frame = pd.DataFrame(values[:, order], index=index, columns=[ids[i] for i in order])
    h5, pkl = ("metr-la.h5", "adj_mx.pkl") if name == "metr-la" else ("pems-bay.h5", "adj_mx_bay.pkl")
    (raw / h5).unlink(missing_ok=True)
    frame.to_hdf(raw / h5, key="df", mode="w")
    adj = np.eye(n, dtype=np.float32)
    adj[0, 1] = adj[1, 2] = 0.5
    with open(raw / pkl, "wb") as f:
        pickle.dump([ids, {s: i for i, s in enumerate(ids)}, adj], f, protocol=2)
    return values, ids, adj


@pytest.mark.parametrize("name", ["metr-la", "pems-bay"])
def test_dcrnn_fixture(tmp_path, name):
    values, ids, adj = write_dcrnn(tmp_path / "traffic" / name, name)
    s = load_series(name, tmp_path, download=False)
    assert s.sensor_ids == ids
    assert np.allclose(s.values[..., 0].numpy(), values, atol=1e-4)  # reordered into the matrix's order
    assert torch.equal(s.mask, torch.from_numpy(values != 0))
    assert np.array_equal(s.adjacency.numpy(), adj)
    assert int(s.day_of_week[0]) == 3 and float(s.time_of_day[12]) == pytest.approx(60 / 1440)


def test_dcrnn_graph_in_sensor_graph_folder(tmp_path):
    raw = tmp_path / "traffic" / "metr-la"
    write_dcrnn(raw)
    (raw / "sensor_graph").mkdir()
    (raw / "adj_mx.pkl").rename(raw / "sensor_graph" / "adj_mx.pkl")
    s = load_series("metr-la", tmp_path, download=False)
    assert s.num_nodes == 6


def test_dcrnn_mismatched_sensors(tmp_path):
    raw = tmp_path / "traffic" / "metr-la"
    write_dcrnn(raw)
    with open(raw / "adj_mx.pkl", "wb") as f:
        pickle.dump([["1", "2"], {"1": 0, "2": 1}, np.eye(2, dtype=np.float32)], f)
    with pytest.raises(TrafficFormatError, match="differ"):
        load_series("metr-la", tmp_path, download=False)


def test_truncated_h5_and_pickle(tmp_path):
    raw = tmp_path / "traffic" / "metr-la"
    write_dcrnn(raw)
    data = (raw / "metr-la.h5").read_bytes()
    (raw / "metr-la.h5").write_bytes(data[: len(data) // 3])
    with pytest.raises(TrafficFormatError, match="metr-la.h5"):
        load_series("metr-la", tmp_path, download=False)
    write_dcrnn(raw)
    pk = (raw / "adj_mx.pkl").read_bytes()
    (raw / "adj_mx.pkl").write_bytes(pk[: len(pk) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_series("metr-la", tmp_path, download=False)


def test_sensor_pickle_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("boom",))

    path = tmp_path / "adj_mx.pkl"
    with open(path, "wb") as f:
        pickle.dump([["a"], {"a": 0}, Evil()], f)
    with pytest.raises(UntrustedPickleError, match="print"):
        read_sensor_pickle(path)


def test_pemsd7_fixture(tmp_path):
    raw = tmp_path / "traffic" / "pemsd7m"
    raw.mkdir(parents=True)
    n, days = 5, 41
    v = _speeds(days * 288, n, zeros=0.0)
    np.savetxt(raw / "V_228.csv", v, delimiter=",", fmt="%.2f")
    rng = np.random.default_rng(1)
    w = rng.uniform(500, 9000, (n, n))
    w = (w + w.T) / 2
    np.fill_diagonal(w, 0)
    np.savetxt(raw / "W_228.csv", w, delimiter=",", fmt="%.1f")
    s = load_series("pemsd7m", tmp_path, download=False)
    assert s.values.shape == (days * 288, n, 1) and s.day_of_week is None
    expect = np.exp(-np.square(np.round(w, 1) / 1e4) / 0.1)
    expect = expect * (expect >= 0.5)
    np.fill_diagonal(expect, 0)
    assert np.allclose(s.adjacency.numpy(), expect, atol=1e-6)
    data = prepare(s, "stgcn")
    per_day = 288 - 24 + 1
    assert [len(data.starts[k]) for k in ("train", "valid", "test")] == [34 * per_day, 5 * per_day, 2 * per_day]
    with pytest.raises(ValueError, match="no dates"):
        prepare(s, "stgcn", day_of_week=True)


@pytest.mark.parametrize("name", ["pems04", "pems03"])
def test_astgcn_fixture(tmp_path, name):
    up = name.upper()
    raw = tmp_path / "traffic" / name
    raw.mkdir(parents=True)
    t, n = 400, 5
    data = np.random.default_rng(0).random((t, n, 3 if name == "pems04" else 1)) * 300
    np.savez(raw / f"{up}.npz", data=data)
    real_ids = [str(317000 + i) for i in range(n)]
    if name == "pems03":
        (raw / f"{up}.txt").write_text("\n".join(real_ids) + "\n")
        rows = [(real_ids[0], real_ids[1], 12.5), (real_ids[3], real_ids[4], 3.0), ("999", real_ids[0], 1.0)]
    else:
        rows = [(0, 1, 12.5), (3, 4, 3.0)]
    pd.DataFrame(rows, columns=["from", "to", "cost"]).to_csv(raw / f"{up}.csv", index=False)
    s = load_series(name, tmp_path, download=False)
    assert s.values.shape == data.shape
    expect = np.zeros((n, n), np.float32)
    expect[0, 1] = expect[3, 4] = 1
    assert np.array_equal(s.adjacency.numpy(), expect)
    assert np.isinf(s.extra["distances"][1, 0]) and s.extra["distances"][0, 1] == 12.5
    loaded = forecast_task(name, tmp_path)
    assert loaded.forecast.protocol == "astgcn"
    count = t - 23
    assert [len(v) for v in loaded.split.values()] == [round(count * 0.6), count - round(count * 0.6)
                                                       - round(count * 0.2), round(count * 0.2)]


def test_astgcn_bad_npz(tmp_path):
    raw = tmp_path / "traffic" / "pems08"
    raw.mkdir(parents=True)
    np.savez(raw / "PEMS08.npz", flows=np.zeros((10, 3, 1)))
    pd.DataFrame([(0, 1, 1.0)], columns=["from", "to", "cost"]).to_csv(raw / "PEMS08.csv", index=False)
    with pytest.raises(TrafficFormatError, match="no array 'data'"):
        load_series("pems08", tmp_path, download=False)
    np.savez(raw / "PEMS08.npz", data=np.zeros((10, 3)))
    with pytest.raises(TrafficFormatError, match=r"\[T, N, C\]"):
        load_series("pems08", tmp_path, download=False)
    (raw / "PEMS08.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(TrafficFormatError, match="not a readable npz"):
        load_series("pems08", tmp_path, download=False)


def write_tgcn(raw: Path, prefix: str, t: int, n: int) -> np.ndarray:
    raw.mkdir(parents=True, exist_ok=True)
    v = _speeds(t, n, zeros=0.0)
    pd.DataFrame(v, columns=[str(100 + i) for i in range(n)]).to_csv(raw / f"{prefix}_speed.csv", index=False)
    a = (np.random.default_rng(2).random((n, n)) < 0.4).astype(float)
    pd.DataFrame(a).to_csv(raw / f"{prefix}_adj.csv", index=False, header=False)
    return v


def test_sz_taxi_fixture_and_bad_cells(tmp_path):
    raw = tmp_path / "traffic" / "sz-taxi"
    v = write_tgcn(raw, "sz", 96 * 3, 4)
    s = load_series("sz-taxi", tmp_path, download=False)
    assert s.steps_per_day == 96 and np.allclose(s.values[..., 0].numpy(), v, atol=1e-4)
    assert int(s.day_of_week[0]) == 3  # 2015-01-01 was a Thursday
    text = (raw / "sz_speed.csv").read_text().split("\n")
    text[5] = "abc," + text[5].split(",", 1)[1]
    (raw / "sz_speed.csv").write_text("\n".join(text))
    with pytest.raises(TrafficFormatError, match="non-numeric value 'abc' at row 5"):
        load_series("sz-taxi", tmp_path, download=False)
    write_tgcn(raw, "sz", 96 * 3, 4)
    pd.DataFrame(np.ones((3, 3))).to_csv(raw / "sz_adj.csv", index=False, header=False)
    with pytest.raises(TrafficFormatError, match=r"\(4, 4\)"):
        load_series("sz-taxi", tmp_path, download=False)


def test_missing_files_name_the_files(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="V_228.csv"):
        load_series("pemsd7m", tmp_path, download=False)
    with pytest.raises(DatasetNotFoundError, match="los_speed.csv"):
        load_series("los-loop", tmp_path, download=False)
    with pytest.raises(ValueError, match="unknown traffic set"):
        load_series("metr-lax", tmp_path)


# ------------------------------------------------------------------ graphs, splits, scaler, windows
def test_gaussian_kernel_matches_dcrnn_rule():
    d = np.array([[0.0, 100.0, np.inf], [50.0, 0.0, 400.0], [np.inf, 20.0, 0.0]])
    finite = d[np.isfinite(d)]
    w = gaussian_kernel_adjacency(d, threshold=0.1)
    expect = np.exp(-np.square(d / finite.std()))
    expect[expect < 0.1] = 0
    assert np.allclose(w, expect, atol=1e-6) and w[0, 2] == 0 and w[0, 0] == 1
    with pytest.raises(ValueError, match="no finite"):
        gaussian_kernel_adjacency(np.full((2, 2), np.inf))


def test_distance_csv_skips_unknown_sensors(tmp_path):
    path = tmp_path / "distances.csv"
    pd.DataFrame([("10", "11", 5.0), ("11", "99", 1.0), ("11", "10", 7.0)],
                 columns=["from", "to", "cost"]).to_csv(path, index=False)
    d = read_distance_csv(path, ["10", "11"])
    assert d[0, 1] == 5.0 and d[1, 0] == 7.0 and np.isinf(d[0, 0])
    assert stgcn_adjacency(np.array([[0.0, 1000.0], [1000.0, 0.0]]))[0, 1] == pytest.approx(np.exp(-0.01 / 0.1))


@pytest.mark.parametrize("t", [40, 97])
def test_dcrnn_window_split_matches_reference(t):
    """DCRNN's generate_training_data: samples t in [11, T - 12), test = round(0.2 S), train = round(0.7 S)."""
    samples = list(range(11, t - 12))
    n = len(samples)
    n_test, n_train = round(n * 0.2), round(n * 0.7)
    s = window_starts(t, 12, 12, "dcrnn")
    assert s["train"].tolist() == [x - 11 for x in samples[:n_train]]
    assert s["valid"].tolist() == [x - 11 for x in samples[n_train:n - n_test]]
    assert s["test"].tolist() == [x - 11 for x in samples[n - n_test:]]


def test_tgcn_split_matches_reference():
    t = 300
    s = window_starts(t, 12, 3, "tgcn")
    cut = int(t * 0.8)
    assert s["train"].tolist() == list(range(cut - 15))  # range(len(train) - seq_len - pre_len)
    assert s["test"].tolist() == [cut + i for i in range(t - cut - 15)]
    assert "valid" not in s
    with pytest.raises(ValueError, match="too few"):
        window_starts(20, 12, 3, "tgcn")
    with pytest.raises(ValueError, match="unknown protocol"):
        window_starts(200, 12, 3, "lstm")


def test_windows_against_naive_reference(tmp_path):
    write_dcrnn(tmp_path / "traffic" / "metr-la", t=300)
    s = load_series("metr-la", tmp_path, download=False)
    data = prepare(s, "dcrnn", t_in=12, t_out=12, day_of_week=True)
    assert data.inputs.shape == (300, 6, 9)
    raw = s.values[..., 0].numpy()
    tod = s.time_of_day.numpy()
    for split, starts in data.starts.items():
        pick = starts[torch.tensor([0, len(starts) // 2, len(starts) - 1])]
        x, y = data.windows(pick)
        for b, st in enumerate(pick.tolist()):
            ref_x = (raw[st:st + 12] - data.scaler.mean) / data.scaler.std
            assert np.allclose(x[b, :, :, 0].numpy(), ref_x, atol=1e-4)
            assert np.allclose(x[b, :, 0, 1].numpy(), tod[st:st + 12])
            assert np.allclose(y[b].numpy(), raw[st + 12:st + 24])
    # the scaler is fitted on the training inputs (zeros included), and inverts exactly
    seen = np.zeros(300, bool)
    for st in data.starts["train"].tolist():
        seen[st:st + 12] = True
    assert data.scaler.mean == pytest.approx(raw[seen].mean(), rel=1e-6)
    assert data.scaler.std == pytest.approx(raw[seen].std(), rel=1e-6)
    x = torch.randn(5, 3, dtype=torch.float64) * 10 + 50
    assert torch.allclose(data.scaler.inverse(data.scaler.transform(x)), x)
    without = prepare(s, "dcrnn", scale_missing=False)
    assert without.scaler.mean > data.scaler.mean  # the zeros pulled the mean down


def test_windows_are_gathered_not_materialised(tmp_path):
    write_dcrnn(tmp_path / "traffic" / "metr-la", t=600)
    data = prepare(load_series("metr-la", tmp_path, download=False))
    # the prepared data is the series itself, not a [S, 12, N, F] window tensor
    assert data.inputs.numel() == 600 * 6 * 2 and data.target.numel() == 600 * 6


def test_scalers_round_trip():
    x = torch.rand(4, 7) * 70
    for sc in (StandardScaler(58.9, 12.3), MaxScaler(70.0)):
        assert torch.allclose(sc.inverse(sc.transform(x)), x, atol=1e-5)


def test_calendar_from_start_date():
    tod, dow = calendar("2018-01-01", 600, 288)  # a Monday
    assert dow[0] == 0 and dow[288] == 1 and tod[287] == pytest.approx(287 / 288)
    assert calendar(None, 10, 288)[1] is None


@pytest.mark.parametrize("cut", ["mid-line", "short row"])
def test_truncated_or_short_csv_rows_are_named(tmp_path, cut):
    """A CSV cut off mid-line, or one short row, would read as missing readings: refused, naming the line."""
    raw = tmp_path / "traffic" / "los-loop"
    write_tgcn(raw, "los", 288 * 2, 5)
    text = (raw / "los_speed.csv").read_text()
    if cut == "mid-line":
        text = text[: len(text) // 2].rsplit(",", 1)[0]
    else:
        lines = text.split("\n")
        lines[7] = lines[7].rsplit(",", 1)[0]
        text = "\n".join(lines)
    (raw / "los_speed.csv").write_text(text)
    with pytest.raises(TrafficFormatError, match=r"los_speed.csv, line \d+: [1-4] fields where the file has 5"):
        load_series("los-loop", tmp_path, download=False)
