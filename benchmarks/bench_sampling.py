"""Neighbour sampling at ogbn-products scale: graphkit's sampler against PyG's NeighborLoader (torch-sparse).

A synthetic graph with ogbn-products' size (2,449,029 nodes, 61,859,140 directed edges, degrees drawn from a
heavy-tailed distribution; ``--scale`` shrinks it), 100 float features, GraphSAGE's products setting
(batch 1,024 seeds, fan-outs 15, 10, 5). Measured in one run, round-robin: sampled subgraphs per second
(sampling + feature gather), one training step of a 3-layer, 256-wide GraphSAGE on the subgraph
(graphkit's on graphkit's sampler, PyG's GraphSAGE on PyG's loader), and the epoch time they give for
products' 196,615 training nodes (192 batches). PyG's loader runs with torch-sparse's kernel (pyg-lib is
not installable here); that kernel's sampling without replacement is biased (tests/ops/test_sample.py).

Writes benchmarks/results/sampling_cpu.json and the "sampling" table in docs/benchmarks.md.

    python benchmarks/bench_sampling.py [--scale 1.0] [--batches 20] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.bench_conv import save_json, write_docs  # noqa: E402

PRODUCTS = (2_449_029, 61_859_140)
TRAIN_NODES = 196_615


def synthetic_graph(scale: float, seed: int = 0) -> tuple[torch.Tensor, int]:
    n, e = int(PRODUCTS[0] * scale), int(PRODUCTS[1] * scale)
    g = torch.Generator().manual_seed(seed)
    # heavy-tailed in-degrees: targets drawn with probability ~ rank^-0.8
    weights = torch.arange(1, n + 1, dtype=torch.float64).pow(-0.8)
    dst = torch.multinomial(weights.float(), e, replacement=True, generator=g)
    src = torch.randint(0, n, (e,), generator=g)
    return torch.stack([src, dst]), n


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-batches", type=int, default=5, help="batches that also take a SAGE training step")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sampling_cpu.json"))
    p.add_argument("--no-docs", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from torch_geometric.data import Data
    from torch_geometric.loader import NeighborLoader

    from graphkit.ops import Adjacency
    from graphkit.ops.sample import neighbor_sample

    t = time.perf_counter()
    ei, n = synthetic_graph(args.scale)
    build_graph = time.perf_counter() - t
    x = torch.randn(n, 100)
    fanouts = [15, 10, 5]
    t = time.perf_counter()
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    build_ours = time.perf_counter() - t
    data = Data(x=x, edge_index=ei, num_nodes=n)
    seeds_all = torch.randperm(n, generator=torch.Generator().manual_seed(1))[: args.batches * 1024]
    t = time.perf_counter()
    loader = NeighborLoader(data, num_neighbors=fanouts, batch_size=1024, input_nodes=seeds_all, shuffle=False)
    it = iter(loader)
    first = next(it)  # PyG builds its CSC on the first batch
    build_pyg = time.perf_counter() - t
    gen = torch.Generator().manual_seed(2)
    from torch_geometric.nn import GraphSAGE

    from graphkit.models import SAGE, SAGEConfig

    ours_model = SAGE(SAGEConfig(100, 47, hidden=256, num_layers=3, dropout=0.5))
    pyg_model = GraphSAGE(100, 256, 3, 47, dropout=0.5)
    opts = {k: torch.optim.Adam(m.parameters(), lr=3e-3) for k, m in (("ours", ours_model), ("pyg", pyg_model))}
    y = torch.randint(0, 47, (n,))
    times: dict[str, list[float]] = {"graphkit": [], "PyG NeighborLoader (torch-sparse)": []}
    steps: dict[str, list[float]] = {k: [] for k in times}
    sizes: dict[str, list[int]] = {k: [] for k in times}
    for b in range(1, args.batches):
        seeds = seeds_all[b * 1024:(b + 1) * 1024]
        t = time.perf_counter()
        sub = neighbor_sample(adj, seeds, fanouts, generator=gen)
        feats = x[sub.n_id]
        times["graphkit"].append(time.perf_counter() - t)
        sizes["graphkit"].append(sub.n_id.numel())
        if b <= args.train_batches:  # one SAGE training step on the subgraph (graphkit's layers)
            t = time.perf_counter()
            loss = torch.nn.functional.cross_entropy(ours_model(feats, sub.adjacency())[:1024], y[seeds])
            opts["ours"].zero_grad()
            loss.backward()
            opts["ours"].step()
            steps["graphkit"].append(time.perf_counter() - t)
        t = time.perf_counter()
        batch = next(it)
        times["PyG NeighborLoader (torch-sparse)"].append(time.perf_counter() - t)
        sizes["PyG NeighborLoader (torch-sparse)"].append(batch.num_nodes)
        if b <= args.train_batches:  # the same step with PyG's GraphSAGE on PyG's subgraph
            t = time.perf_counter()
            loss = torch.nn.functional.cross_entropy(pyg_model(batch.x, batch.edge_index)[:1024],
                                                     y[batch.n_id[:1024]])
            opts["pyg"].zero_grad()
            loss.backward()
            opts["pyg"].step()
            steps["PyG NeighborLoader (torch-sparse)"].append(time.perf_counter() - t)
        del feats, batch
    del first
    result = {"nodes": n, "edges": ei.size(1), "fanouts": fanouts, "batch_size": 1024, "threads": args.threads,
              "build_seconds": {"synthetic graph": build_graph, "graphkit Adjacency (CSR)": build_ours,
                                "PyG loader (CSC) + first batch": build_pyg},
              "seconds_per_batch": {k: statistics.median(v) for k, v in times.items()},
              "train_step_seconds": {k: statistics.median(v) for k, v in steps.items() if v},
              "mean_subgraph_nodes": {k: statistics.fmean(v) for k, v in sizes.items()}}
    save_json(args.out, result)
    if not args.no_docs:
        lines = [f"Synthetic graph of ogbn-products' size ({n:,} nodes, {ei.size(1):,} edges, heavy-tailed "
                 f"in-degrees), 100 features, batches of 1,024 seeds, fan-outs 15/10/5, {args.threads} threads, "
                 "median over "
                 f"{args.batches - 1} batches (sampling + feature gather). Epoch = 192 batches (products' "
                 f"{TRAIN_NODES:,} training nodes). `python benchmarks/bench_sampling.py`", "",
                 "| sampler (+ model) | sampling s/batch | subgraphs/s | SAGE step s | epoch (192 batches) | "
                 "mean subgraph nodes |", "|---|---|---|---|---|---|"]
        for k, v in result["seconds_per_batch"].items():
            st = result["train_step_seconds"].get(k, float("nan"))
            model = "graphkit SAGE" if k == "graphkit" else "PyG GraphSAGE"
            lines.append(f"| {k} + {model} | {v:.3f} | {1 / v:.1f} | {st:.2f} | {(v + st) * 192 / 60:.0f} min | "
                         f"{result['mean_subgraph_nodes'][k]:,.0f} |")
        lines += ["", "One-time set-up: " + ", ".join(f"{k} {v:.1f} s" for k, v in result["build_seconds"].items())
                  + ". torch-sparse's kernel samples without replacement from a biased distribution "
                  "(rusty1s/pytorch_sparse#385; measured in tests/ops/test_sample.py), graphkit's uniformly."]
        write_docs("sampling", "\n".join(lines))
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
