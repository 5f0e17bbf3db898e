"""Traffic models at METR-LA and PEMS-BAY scale, and STGCN's block against torch-geometric-temporal's STConv.

* Scale: a synthetic series with METR-LA's shape (207 sensors x 34,272 steps) and PEMS-BAY's (325 x 52,116),
  a Gaussian-kernel graph from random distances (about 8 neighbours per sensor), the DCRNN split (12 -> 12,
  batch 64). Each model runs in its own process: the prepared data (the series, not a window tensor), then
  ``--steps`` training steps (forward, masked-MAE backward, Adam); reported: seconds per step, the epoch time
  these give (steps per epoch x seconds per step; an estimate unless ``--steps`` covers the epoch), and the
  process's peak resident memory. Beside it, the memory a materialised window tensor would take.
* Block: one ST-Conv block (64/16/64 channels, Chebyshev K=3, temporal kernel 3) forward + backward on
  [64, 12, 207, 2] with graphkit's STConvBlock and torch-geometric-temporal's STConv (when installed), same run,
  round-robin, median.

Writes benchmarks/results/traffic_cpu.json and the "traffic" table in docs/benchmarks.md.

    python benchmarks/bench_traffic.py [--steps 3] [--threads 2]
"""
from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.bench_conv import isolated_parser, isolated_run, save_json, serve_one, write_docs  # noqa: E402
from graphkit.data.traffic import TrafficSeries, calendar, gaussian_kernel_adjacency, prepare  # noqa: E402

SHAPES = {"METR-LA": (207, 34272), "PEMS-BAY": (325, 52116)}
MODELS = ("tgcn", "stgcn", "gwnet", "vn-stgnn", "sttn")


def synthetic(name: str, seed: int = 0) -> TrafficSeries:
    n, t = SHAPES[name]
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2)) * 20
    dist = np.sqrt(((pos[:, None] - pos[None]) ** 2).sum(-1))
    near = np.argsort(dist, 1)[:, 9:]
    np.put_along_axis(dist, near, np.inf, 1)  # keep the 8 nearest (and the sensor itself)
    adj = gaussian_kernel_adjacency(dist, threshold=0.1)
    steps = np.arange(t)
    daily = 60 - 15 * np.exp(-((steps % 288 - 100) / 30.0) ** 2)
    values = (daily[:, None] + rng.normal(0, 3, (t, n))).astype(np.float32)
    values[rng.random((t, n)) < 0.02] = 0.0
    vals = torch.from_numpy(values)[:, :, None]
    tod, dow = calendar("2012-03-01", t, 288)
    return TrafficSeries(name, vals, vals[..., 0] != 0, torch.from_numpy(adj), [str(i) for i in range(n)], 288,
                         tod, dow)


def build(model: str, data, n: int):
    from graphkit.catalog import model_spec
    from graphkit.data import ForecastShape, Loaded
    from graphkit.metrics import ForecastScore

    loaded = Loaded("x", "forecast", "regression", data.num_features, 12, ForecastScore(),
                    forecast=ForecastShape(12, 12, n, "dcrnn", "benchmark stand-in"))
    cfg_cls, fixed, cls = model_spec(model, loaded)
    return cls(cfg_cls(**fixed))


def run_one(spec: dict) -> dict:
    torch.set_num_threads(spec["threads"])
    from graphkit.metrics import masked_mae_loss
    from graphkit.ops import SensorGraph

    series = synthetic(spec["shape"])
    data = prepare(series, "dcrnn")
    n = series.num_nodes
    model = build(spec["model"], data, n)
    graph = SensorGraph(series.adjacency)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    starts = data.starts["train"]
    batches = starts[torch.randperm(starts.numel(), generator=torch.Generator().manual_seed(0))].split(64)
    times = []
    for i in range(spec["steps"] + 1):  # the first step is a warm-up
        t0 = time.perf_counter()
        x, y = data.windows(batches[i])
        loss = masked_mae_loss(data.scaler.inverse(model(x, graph)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t0)
    step = statistics.median(times)
    return {"shape": spec["shape"], "model": spec["model"], "sensors": n, "steps_in_series": series.num_steps,
            "train_windows": int(starts.numel()), "steps_per_epoch": len(batches), "seconds_per_step": step,
            "epoch_seconds": step * len(batches), "measured_steps": spec["steps"],
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "prepared_mib": (data.inputs.numel() + data.target.numel()) * 4 / 2**20,
            "materialised_windows_mib": sum(len(v) for v in data.starts.values()) * 12 * n
            * (data.num_features + 1) * 4 / 2**20,
            "parameters": sum(p.numel() for p in model.parameters())}


def block_compare(threads: int, repeats: int = 5) -> dict:
    torch.set_num_threads(threads)
    from graphkit.nn import STConvBlock
    from graphkit.ops import SensorGraph

    series = synthetic("METR-LA")
    n = series.num_nodes
    graph = SensorGraph(series.adjacency)
    x = torch.randn(64, 12, n, 2)
    ours = STConvBlock(2, (64, 16, 64), n, 3, 3, "cheb", 0.0)
    fns = {"graphkit STConvBlock": lambda: ours(x.permute(0, 3, 2, 1), graph).sum().backward()}
    try:
        from torch_geometric_temporal.nn.attention import STConv

        w = series.adjacency
        sym = torch.maximum(w, w.t())
        sym.fill_diagonal_(0)
        ei = torch.nonzero(sym).t()
        ew = sym[ei[0], ei[1]]
        theirs = STConv(n, 2, 16, 64, 3, 3)
        fns["torch-geometric-temporal STConv"] = lambda: theirs(x, ei, ew).sum().backward()
    except ImportError:
        pass
    for f in fns.values():
        f()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None) -> dict:
    p = isolated_parser(__doc__, "traffic_cpu.json")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--models", default=",".join(MODELS))
    args = p.parse_args(argv)
    if serve_one(args, run_one):
        return {}
    rows = []
    for shape in SHAPES:
        for model in args.models.split(","):
            rows.append(isolated_run(__file__, {"shape": shape, "model": model, "steps": args.steps,
                                                "threads": args.threads}))
            print(rows[-1], flush=True)
    block = block_compare(args.threads)
    result = {"threads": args.threads, "torch": torch.__version__, "scale": rows, "stconv_block_seconds": block}
    save_json(args.out, result)
    if not args.no_docs:
        lines = [f"Synthetic series of METR-LA's and PEMS-BAY's shape, DCRNN split, batch 64, {args.threads} CPU "
                 f"threads; seconds per training step = median of {args.steps} steps after a warm-up; the epoch "
                 "time is that times the steps per epoch (an estimate, not a timed epoch); peak RSS of the whole "
                 "process. `python benchmarks/bench_traffic.py`", "",
                 "| series | model | params | s/step | steps/epoch | epoch (est.) | peak RSS | prepared data | "
                 "as materialised windows |", "|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if "error" in r:
                lines.append(f"| {r['shape']} | {r['model']} | failed: {r['error']} | | | | | | |")
                continue
            lines.append(f"| {r['shape']} ({r['sensors']} x {r['steps_in_series']}) | {r['model']} | "
                         f"{r['parameters']:,} | {r['seconds_per_step']:.2f} | {r['steps_per_epoch']} | "
                         f"{r['epoch_seconds'] / 60:.0f} min | {r['peak_rss_mib']:.0f} MiB | "
                         f"{r['prepared_mib']:.0f} MiB | {r['materialised_windows_mib']:.0f} MiB |")
        lines += ["", "One ST-Conv block (64/16/64, Chebyshev K=3), forward + backward on [64, 12, 207, 2], median "
                  "of 5 (torch-geometric-temporal's STConv uses batch norm where graphkit follows the paper's "
                  "layer norm; otherwise the same work):", "", "| implementation | ms |", "|---|---|"]
        lines += [f"| {k} | {v * 1000:.1f} |" for k, v in block.items()]
        write_docs("traffic", "\n".join(lines))
    return result


if __name__ == "__main__":
    main()
