"""Eager vs torch.compile for a training step of GCN, GIN and GPS on CPU (and a GPU when present).

* GCN (2 layers, 16 hidden) on a Cora-sized random graph (2,708 nodes, 10,556 edges, 1,433 features);
* GIN (OGB mol GIN, 5 layers, 300 wide) and GraphGPS (10 layers, 64 wide, GatedGCN + attention) on a batch
  of 32 random molecule-like graphs (25 nodes each, ring + chords, OGB atom/bond ids).

One step = forward, loss, backward, Adam step. Reported: compile time (first call) and the median step
time of ``--steps`` steps after warm-up, eager and compiled, interleaved.

Writes benchmarks/results/compile_<device>.json and the "compile" table in docs/benchmarks.md.

    python benchmarks/bench_compile.py [--steps 20] [--threads 2]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.bench_conv import save_json, write_docs  # noqa: E402


def _molecules(n_graphs: int = 32, n: int = 25, seed: int = 0):
    from torch_geometric.data import Batch, Data

    g = torch.Generator().manual_seed(seed)
    graphs = []
    for _ in range(n_graphs):
        idx = torch.arange(n)
        ring = torch.stack([idx, idx.roll(-1)])
        chords = torch.randint(0, n, (2, 3), generator=g)
        ei = torch.cat([ring, chords], 1)
        ei = torch.cat([ei, ei.flip(0)], 1)
        graphs.append(Data(x=torch.randint(0, 2, (n, 9), generator=g), edge_index=ei,
                           edge_attr=torch.randint(0, 2, (ei.size(1), 3), generator=g), y=torch.rand(1, 1)))
    return Batch.from_data_list(graphs)


def cases(device: torch.device):
    from graphkit.models import GCN, GCNConfig, GPSConfig, GraphGPS, MolGNN, MolGNNConfig
    from graphkit.ops import Adjacency

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2708, 1433, generator=g).to(device)
    ei = torch.randint(0, 2708, (2, 10556), generator=g).to(device)
    adj = Adjacency.from_edge_index(ei, num_nodes=2708)
    y = torch.randint(0, 7, (2708,), generator=g).to(device)
    gcn = GCN(GCNConfig(1433, 7, hidden=16)).to(device)
    batch = _molecules().to(device)
    gin = MolGNN(MolGNNConfig(num_tasks=1, gnn="gin")).to(device)
    gps = GraphGPS(GPSConfig(mol=True, num_layers=10, hidden=64, heads=4, local="gatedgcn")).to(device)
    loss_node = lambda m: torch.nn.functional.cross_entropy(m(x, adj), y)  # noqa: E731
    loss_graph = lambda m: torch.nn.functional.mse_loss(m(batch), batch.y)  # noqa: E731
    return {"GCN (Cora-sized)": (gcn, loss_node), "GIN (OGB mol, batch of 32)": (gin, loss_graph),
            "GraphGPS (batch of 32)": (gps, loss_graph)}


def step_fn(model, loss_of, opt):
    def step():
        opt.zero_grad()
        loss_of(model).backward()
        opt.step()
    return step


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--no-docs", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    rows = []
    for name, (model, loss_of) in cases(device).items():
        model.train()
        eager = step_fn(model, loss_of, torch.optim.Adam(model.parameters(), lr=1e-4))
        eager()  # warm-up; also prepares the Adjacency's cached normalisation before tracing
        compiled_model = torch.compile(model)
        comp = step_fn(compiled_model, loss_of, torch.optim.Adam(model.parameters(), lr=1e-4))
        t = time.perf_counter()
        comp()
        sync()
        compile_s = time.perf_counter() - t
        comp()
        times: dict[str, list[float]] = {"eager": [], "compiled": []}
        for _ in range(args.steps):
            for key, fn in (("eager", eager), ("compiled", comp)):
                sync()
                t = time.perf_counter()
                fn()
                sync()
                times[key].append(time.perf_counter() - t)
        row = {"model": name, "compile_seconds": compile_s,
               **{f"{k}_ms": statistics.median(v) * 1000 for k, v in times.items()}}
        rows.append(row)
        print(row, flush=True)
    result = {"device": str(device), "threads": args.threads, "torch": torch.__version__, "rows": rows}
    save_json(ROOT / "benchmarks" / "results" / f"compile_{device.type}.json", result)
    if not args.no_docs:
        lines = [f"One training step (forward, loss, backward, Adam) eager vs `torch.compile` (default mode), "
                 f"{device.type}, {args.threads} threads, median of {args.steps} interleaved steps after warm-up. "
                 "`python benchmarks/bench_compile.py`", "",
                 "| model | eager ms | compiled ms | speed-up | compile time |", "|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r['model']} | {r['eager_ms']:.1f} | {r['compiled_ms']:.1f} | "
                         f"{r['eager_ms'] / r['compiled_ms']:.2f}x | {r['compile_seconds']:.0f} s |")
        write_docs(f"compile-{device.type}", "\n".join(lines))
    return result


if __name__ == "__main__":
    main()
