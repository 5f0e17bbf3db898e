"""Whole training epochs of OGB's arxiv GCN and SAGE: graphkit vs the PyG code users would otherwise run.

Workload: an ogbn-arxiv-sized random graph (169,343 nodes, 1,166,243 undirected edges = 2,332,486 directed,
128 features, 40 classes, half the nodes in the training split), OGB's ``examples/nodeproppred/arxiv/gnn.py``
models (3 x 256, batch norm, ReLU, dropout 0.5, Adam 0.01), one full-batch training epoch = forward, loss,
backward, optimiser step. Variants, all in this process, timed round-robin (one epoch each per round):

* graphkit GCN / SAGE from a prebuilt Adjacency (built once, as graphkit's NodeTask does), and from the
  edge_index every epoch;
* PyG's ``GCNConv(cached=True)`` / ``SAGEConv`` on a torch_sparse ``SparseTensor`` adj_t (what OGB's script
  runs; needs torch-sparse) and on the edge_index.

A profile of graphkit's Adjacency epoch (torch.profiler, self time by op) says where the time goes: matrix
products (the CSR aggregation and the dense layers, which torch names alike), scatters, elementwise ops and
norms, dropout's random numbers, copies and indexing, the optimiser.

    python benchmarks/bench_epoch.py [--reps 3] [--threads 2] [--no-docs]

Writes benchmarks/results/epoch_cpu.json and the "epoch" section of docs/benchmarks.md; with
``--host-memory system`` (glibc's allocator defaults for the whole process, as a plain script runs)
epoch_cpu_system_memory.json and the "epoch-system-memory" section.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_conv import write_docs  # noqa: E402
from benchmarks.timing import interleaved  # noqa: E402
from graphkit import backend  # noqa: E402
from graphkit.models import GCN, SAGE, GCNConfig, SAGEConfig  # noqa: E402
from graphkit.ops import Adjacency  # noqa: E402

N, E_UNDIRECTED, F_IN, CLASSES, HIDDEN = 169_343, 1_166_243, 128, 40, 256

# self-time buckets of the profile, by op name (torch names the CSR product and the dense products alike, mm /
# addmm, so they share a bucket; the layers' own dense work is about a 256-wide matmul per layer and pass)
BUCKETS = {  # first match wins: the optimiser's _foreach_add_ is not an elementwise op of the model
    "optimiser": ("_foreach", "adam"),
    "dropout random numbers": ("uniform_", "bernoulli", "rand", "dropout"),
    "matmuls (dense and CSR)": ("aten::mm", "aten::addmm", "aten::matmul", "linear", "_sparse", "sparse", "csr"),
    "scatter / index_add": ("index_add", "scatter", "segment"),
    "elementwise + norms": ("mul", "add", "div", "relu", "threshold", "batch_norm", "native_batch_norm", "sub",
                            "where", "exp", "log_softmax", "nll_loss", "sum", "neg"),
    "copies + indexing": ("copy_", "index_select", "gather", "index", "clone", "cat", "fill_", "zero_"),
}


def arxiv_like(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, N, (E_UNDIRECTED,), generator=g)
    dst = (torch.rand(E_UNDIRECTED, generator=g).pow(3) * N).long().clamp_(max=N - 1)  # heavy-tailed degrees
    return torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)


class OgbNet(torch.nn.Module):
    """OGB's arxiv GCN / SAGE on PyG's layers (examples/nodeproppred/arxiv/gnn.py)."""

    def __init__(self, kind: str, f_in: int = F_IN, hidden: int = HIDDEN, classes: int = CLASSES):
        super().__init__()
        import torch_geometric.nn as pyg

        def conv(a, b):
            return pyg.GCNConv(a, b, cached=True) if kind == "gcn" else pyg.SAGEConv(a, b)

        self.convs = torch.nn.ModuleList([conv(f_in, hidden), conv(hidden, hidden), conv(hidden, classes)])
        self.bns = torch.nn.ModuleList([torch.nn.BatchNorm1d(hidden) for _ in range(2)])

    def forward(self, x, adj):
        for conv, bn in zip(self.convs[:-1], self.bns):
            x = F.dropout(F.relu(bn(conv(x, adj))), 0.5, self.training)
        return self.convs[-1](x, adj)


def epoch_fn(model, x, graph, y, train, graphkit_optimizer: bool = False):
    """One full-batch training epoch of ``model`` (OGB's: cross entropy on ``train``, Adam 0.01).

    ``graphkit_optimizer``: Adam as ``graphkit train`` builds it (fused kernel), else as OGB's script does
    (``torch.optim.Adam`` with its defaults)."""
    if graphkit_optimizer:
        from graphkit.train.config import OptimConfig
        from graphkit.train.loop import make_optimizer

        opt = make_optimizer(model, OptimConfig(lr=0.01))[0]
    else:
        opt = torch.optim.Adam(model.parameters(), lr=0.01)

    def run():
        model.train()
        opt.zero_grad()
        F.cross_entropy(model(x, graph)[train], y[train]).backward()
        opt.step()
    return run


def profile(fn, reps: int = 2, buckets: dict[str, tuple[str, ...]] | None = None) -> dict[str, float]:
    """Seconds per call of ``fn`` of self time by bucket (``BUCKETS`` unless given; what matches none: "other")."""
    buckets = BUCKETS if buckets is None else buckets
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(reps):
            fn()
    out: dict[str, float] = {k: 0.0 for k in buckets} | {"other": 0.0}
    for ev in prof.key_averages():
        name = ev.key.lower()
        bucket = next((b for b, keys in buckets.items() if any(k.lower() in name for k in keys)), "other")
        out[bucket] += ev.self_cpu_time_total / 1e6 / reps
    return {k: round(v, 3) for k, v in out.items()}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--no-docs", action="store_true")
    p.add_argument("--host-memory", choices=("reuse", "system"), default="reuse",
                   help="reuse: freed heap blocks serve the next tensor, as `graphkit train` sets it for its process "
                        "(graphkit/train/host_memory.py), for every variant alike; system: glibc's defaults")
    p.add_argument("--no-profile", action="store_true")
    args = p.parse_args(argv)
    if args.host_memory == "reuse":
        from graphkit.train.host_memory import reuse_freed_memory

        reuse_freed_memory()
    if args.threads:
        torch.set_num_threads(args.threads)
    ei = arxiv_like()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(N, F_IN, generator=g)
    y = torch.randint(0, CLASSES, (N,), generator=g)
    train = torch.randperm(N, generator=g)[: N // 2]
    adj = Adjacency.from_edge_index(ei, num_nodes=N)
    adj_t = None
    if backend.available("torch_sparse"):
        from torch_sparse import SparseTensor

        adj_t = SparseTensor(row=ei[1], col=ei[0], sparse_sizes=(N, N))
    result = {"threads": torch.get_num_threads(), "torch": torch.__version__, "nodes": N, "edges": ei.size(1),
              "host_memory": args.host_memory, "workloads": {}}
    for kind in ("gcn", "sage"):
        torch.manual_seed(0)
        ours = (GCN(GCNConfig(in_channels=F_IN, out_channels=CLASSES, hidden=HIDDEN, num_layers=3, batch_norm=True,
                              input_dropout=False)) if kind == "gcn"
                else SAGE(SAGEConfig(in_channels=F_IN, out_channels=CLASSES)))
        fns = {"graphkit, Adjacency": epoch_fn(ours, x, adj, y, train, graphkit_optimizer=True),
               "graphkit, edge_index": epoch_fn(ours, x, ei, y, train, graphkit_optimizer=True),
               "PyG, edge_index": epoch_fn(OgbNet(kind), x, ei, y, train)}
        if adj_t is not None:
            fns["PyG, SparseTensor adj_t (OGB's script)"] = epoch_fn(OgbNet(kind), x, adj_t, y, train)
        # one warm-up epoch each: caches (cached=True normalisation, the Adjacency's transpose)
        med = interleaved(fns, args.reps)
        entry = {"seconds_per_epoch": {k: round(v, 3) for k, v in med.items()}}
        base = med["graphkit, Adjacency"]
        entry["speedup"] = {k: round(v / base, 2) for k, v in med.items() if not k.startswith("graphkit")}
        if not args.no_profile:
            entry["profile_graphkit_adjacency"] = profile(fns["graphkit, Adjacency"])
        result["workloads"][f"arxiv {kind.upper()}"] = entry
        print(json.dumps({kind: entry}), flush=True)
    suffix = "" if args.host_memory == "reuse" else "_system_memory"
    out = Path(__file__).with_name("results") / f"epoch_cpu{suffix}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    if not args.no_docs:
        lines = [f"One full-batch training epoch (forward, loss, backward, Adam step) on an ogbn-arxiv-sized graph "
                 f"({N:,} nodes, {ei.size(1):,} directed edges, 128 -> 3 x 256 -> 40, batch norm, dropout 0.5), "
                 f"median of {args.reps} interleaved epochs, {result['threads']} threads, host memory "
                 f"`{args.host_memory}` (`python benchmarks/bench_epoch.py --host-memory {args.host_memory}`).", "",
                 "| model | variant | s / epoch | PyG's time / graphkit Adjacency's |", "|---|---|---|---|"]
        for name, w in result["workloads"].items():
            for k, v in w["seconds_per_epoch"].items():
                lines.append(f"| {name} | {k} | {v:.3f} | {w['speedup'].get(k, '-')} |")
        if not args.no_profile:
            lines += ["", "Where graphkit's epoch (Adjacency) spends its time, seconds of self time per epoch:", "",
                      "| model | " + " | ".join(list(BUCKETS) + ["other"]) + " |",
                      "|---" * (len(BUCKETS) + 2) + "|"]
            for name, w in result["workloads"].items():
                prof = w["profile_graphkit_adjacency"]
                lines.append(f"| {name} | " + " | ".join(f"{prof[k]:.2f}" for k in list(BUCKETS) + ["other"]) + " |")
        write_docs("epoch" + suffix.replace("_", "-"), "\n".join(lines) + "\n")
    return result


if __name__ == "__main__":
    main()
