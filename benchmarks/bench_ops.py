"""Op-level timings behind the defaults in graphkit/backend.py.

At ogbn-arxiv scale (169,343 nodes, 2,332,486 random directed edges, 128
features, float32) it times, forward+backward unless noted:

* scatter sum / max: torch (index_add_ / scatter_reduce_) vs torch_scatter;
* spmm sum: torch.sparse CSR with int32 vs int64 indices vs torch_sparse, and
  the gather + index_add_ formulation (what edge_index message passing does);
* spmm max: torch (gather + segment) vs torch_sparse;
* building an Adjacency and its transpose.

    python benchmarks/bench_ops.py   # writes benchmarks/results/ops_cpu.json and docs/benchmarks.md ("ops")
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_conv import write_docs  # noqa: E402
from graphkit import backend  # noqa: E402
from graphkit.ops import Adjacency, scatter, spmm  # noqa: E402
from graphkit.ops.spmm import _csr_mm  # noqa: E402

N, E, F = 169_343, 2_332_486, 128


def bench(fn, reps: int = 5) -> float:
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fwd_bwd(fn, x):
    def run():
        fn(x).sum().backward()
        x.grad = None
    return run


def main() -> None:
    torch.manual_seed(0)
    ei = torch.randint(0, N, (2, E))
    x = torch.randn(N, F, requires_grad=True)
    msg = torch.randn(E, F, requires_grad=True)
    rows = []
    impls = backend.choices("scatter")
    for reduce in ("sum", "max"):
        for impl in impls:
            with backend.use(scatter=impl), backend.validation("off"):
                t = bench(fwd_bwd(lambda m: scatter(m, ei[1], N, reduce), msg))
            rows.append(("scatter", reduce, impl, t))

    adj = Adjacency.from_edge_index(ei, num_nodes=N)
    adj.transposed()
    with backend.validation("off"):
        for impl in backend.choices("spmm"):
            with backend.use(spmm=impl):
                rows.append(("spmm", "sum", impl,
                             bench(fwd_bwd(lambda v: spmm(adj, v), x))))
                rows.append(("spmm", "max", impl, bench(fwd_bwd(lambda v: spmm(adj, v, "max"), x), reps=3)))
        ones = torch.ones(E)
        xd = x.detach()
        rows.append(("spmm fwd only", "sum", "torch CSR, int32 indices",
                     bench(lambda: _csr_mm(adj.rowptr.int(), adj.col.int(), ones, (N, N), xd))))
        rows.append(("spmm fwd only", "sum", "torch CSR, int64 indices",
                     bench(lambda: _csr_mm(adj.rowptr, adj.col, ones, (N, N), xd))))
        rows.append(("spmm fwd only", "sum", "gather + index_add_ (E x F messages)",
                     bench(lambda: torch.zeros(N, F).index_add_(0, ei[1], xd.index_select(0, ei[0])), reps=3)))
        rows.append(("build", "-", "Adjacency.from_edge_index",
                     bench(lambda: Adjacency.from_edge_index(ei, num_nodes=N))))
        rows.append(("build", "-", "Adjacency.transposed (first call)",
                     bench(lambda: Adjacency.from_edge_index(ei, num_nodes=N).transposed())
                     - bench(lambda: Adjacency.from_edge_index(ei, num_nodes=N))))

    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), "cores": os.cpu_count(),
            "optional": backend.summary(), "date": time.strftime("%Y-%m-%d"), "N": N, "E": E, "F": F}
    out = ROOT / "benchmarks" / "results" / "ops_cpu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "rows": [dict(op=a, reduce=b, impl=c, time_s=d) for a, b, c, d in rows]},
                              indent=1))
    body = [f"Measured {meta['date']}, {meta['cores']} cores, torch {meta['torch']}; `python benchmarks/bench_ops.py` "
            f"(raw: `benchmarks/results/ops_cpu.json`). N={N:,}, E={E:,} random edges, F={F}, float32; "
            "forward+backward unless the op says otherwise; median of several runs.", "",
            "| op | reduce | implementation | time (s) |", "|---|---|---|---|"]
    body += [f"| {a} | {b} | {c} | {d:.4f} |" for a, b, c, d in rows]
    write_docs("ops", "\n".join(body))
    print("\n".join(body))


if __name__ == "__main__":
    main()
