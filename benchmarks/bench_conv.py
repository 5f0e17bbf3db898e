"""Forward+backward time and peak memory of GCNConv / GINConv: graphkit vs PyG, same run.

For each random graph (10^4 .. ~2.5 x 10^6 directed edges, including ogbn-arxiv's
size: 169,343 nodes, 2,332,486 edges), 128 input features and 256 hidden, and
each method:

  pyg/edge_index      torch_geometric.nn layer, edge_index input (gather-scatter)
  pyg/SparseTensor    the same layer with a torch_sparse SparseTensor adj_t (prebuilt)
  graphkit/edge_index graphkit layer, edge_index input (builds its CSR every call)
  graphkit/Adjacency  graphkit layer with a prebuilt Adjacency (the intended use)

and each graphkit backend (torch; torch_scatter + torch_sparse when installed),
it times ``out = conv(x, graph); out.backward(g)`` (``g`` a fixed dense
cotangent, as a real loss gives) in two cases: an *input* layer (``x`` is data,
no gradient: the arxiv GCN's 128 -> 256 layer) and a *hidden* layer
(``x.requires_grad``: the backward also needs A^T x grad).

Times: one subprocess per (size, layer, case) builds every method and runs
them round-robin after a warm-up, reporting each one's median; interleaving
keeps slow drifts of the machine (allocator state, frequency) from favouring
whichever method ran last. Peak memory: one subprocess per method, the rise of
its peak RSS during one call over its RSS just before it.

It also times graphkit's sum aggregation alone (spmm, 128 wide) and reports
its effective bandwidth next to a measured memory bandwidth (a large tensor copy).

    python benchmarks/bench_conv.py [--quick] [--out benchmarks/results/conv_cpu.json]
    python benchmarks/bench_conv.py --aggregation-only [--host-memory reuse|system]

writes JSON and rewrites the "conv" section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = [  # (name, nodes, directed edges)
    ("1e4", 1_000, 10_000),
    ("1e5", 10_000, 100_000),
    ("5e5", 50_000, 500_000),
    ("1e6", 100_000, 1_000_000),
    ("arxiv", 169_343, 2_332_486),
]
F_IN, F_HID = 128, 256


def _rss_kib(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM (peak RSS) to the current RSS
    except OSError:
        pass


def _build(cfg: dict, n: int, edge_index, x):
    """(layer, graph, backend-context factory) for one method."""
    import torch

    from graphkit import backend
    from graphkit.nn import GCNConv, GINConv
    from graphkit.ops import Adjacency

    def mlp():
        return torch.nn.Sequential(torch.nn.Linear(F_IN, F_HID), torch.nn.ReLU(), torch.nn.Linear(F_HID, F_HID))

    torch.manual_seed(1)
    if cfg["lib"] == "pyg":
        import torch_geometric.nn as pyg

        conv = pyg.GCNConv(F_IN, F_HID) if cfg["layer"] == "gcn" else pyg.GINConv(mlp())
        if cfg["graph"] == "SparseTensor":
            from torch_sparse import SparseTensor

            return conv, SparseTensor(row=edge_index[1], col=edge_index[0], sparse_sizes=(n, n)), backend.use
        return conv, edge_index, backend.use
    conv = GCNConv(F_IN, F_HID) if cfg["layer"] == "gcn" else GINConv(mlp())
    def ctx():
        if cfg["backend"] == "torch":
            return backend.use(all="torch")
        return backend.use(scatter="torch_scatter", spmm="torch_sparse")

    graph = Adjacency.from_edge_index(edge_index, num_nodes=n) if cfg["graph"] == "Adjacency" else edge_index
    return conv, graph, ctx


def _inputs(cfg: dict):
    import torch

    torch.manual_seed(0)
    n, e = cfg["nodes"], cfg["edges"]
    edge_index = torch.randint(0, n, (2, e))
    x = torch.randn(n, F_IN, requires_grad=cfg["case"] == "hidden")
    return n, e, edge_index, x, torch.randn(n, F_HID)


def _step(conv, graph, ctx, x, cotangent):
    with ctx():
        conv(x, graph).backward(cotangent)
    x.grad = None
    conv.zero_grad(set_to_none=True)


def run_group(group: dict) -> list[dict]:
    """Runs in a subprocess: every method of one (size, layer, case), timed round-robin."""
    n, e, edge_index, x, cotangent = _inputs(group["methods"][0])
    built = [_build(cfg, n, edge_index, x) for cfg in group["methods"]]
    first = []
    for conv, graph, ctx in built:  # warm-up (also builds an Adjacency's cached transpose)
        t0 = time.perf_counter()
        _step(conv, graph, ctx, x, cotangent)
        first.append(time.perf_counter() - t0)
    rounds = max(3, min(31, int(40 / max(sum(first), 1e-6))))
    times: list[list[float]] = [[] for _ in built]
    for _ in range(rounds):
        for i, (conv, graph, ctx) in enumerate(built):
            t0 = time.perf_counter()
            _step(conv, graph, ctx, x, cotangent)
            times[i].append(time.perf_counter() - t0)
    out = []
    for cfg, ts, (conv, graph, ctx) in zip(group["methods"], times, built):
        res = {"time_s": statistics.median(ts), "rounds": rounds}
        if cfg["lib"] == "graphkit" and cfg["graph"] == "Adjacency" and cfg["layer"] == "gcn" \
                and cfg["case"] == "input":
            with ctx():
                res.update(_aggregation(graph, n, e))
        out.append(res)
    return out


def run_memory(cfg: dict) -> dict:
    """Runs in a subprocess: peak RSS rise of one call of one method."""
    n, e, edge_index, x, cotangent = _inputs(cfg)
    conv, graph, ctx = _build(cfg, n, edge_index, x)
    _step(conv, graph, ctx, x, cotangent)  # warm-up: caches are part of the steady state
    rss0 = _rss_kib("VmRSS")
    _reset_peak()
    _step(conv, graph, ctx, x, cotangent)
    return {"peak_mib": (_rss_kib("VmHWM") - rss0) / 1024}


def _aggregation(adj, n: int, e: int) -> dict:
    """Time spmm(adj, x) alone, 128 wide, and its effective bytes/s."""
    import torch

    from graphkit.ops import spmm

    x = torch.randn(n, F_IN)
    spmm(adj, x)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        spmm(adj, x)
        times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    # Minimal traffic: read each entry's column index (4 B, int32) and value
    # (4 B) and the gathered source row (F x 4 B), write each output row.
    nbytes = e * (4 + 4 + F_IN * 4) + n * F_IN * 4 + (n + 1) * 4
    return {"agg_s": t, "agg_gbps": nbytes / t / 1e9}


def memory_bandwidth() -> float:
    """GB/s of a 1 GiB float32 tensor copy (read + write counted)."""
    import torch

    src = torch.randn(1 << 28)
    dst = torch.empty_like(src)
    dst.copy_(src)
    best = min(_timed(lambda: dst.copy_(src)) for _ in range(5))
    return 2 * src.numel() * 4 / best / 1e9


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def groups(sizes, backends, have_ts):
    for name, n, e in sizes:
        for layer in ("gcn", "gin"):
            for case in ("input", "hidden"):
                base = dict(size=name, nodes=n, edges=e, layer=layer, case=case)
                methods = [dict(base, lib="pyg", graph="edge_index", backend="-")]
                if have_ts:
                    methods.append(dict(base, lib="pyg", graph="SparseTensor", backend="-"))
                for impl in backends:
                    for g in ("edge_index", "Adjacency"):
                        methods.append(dict(base, lib="graphkit", graph=g, backend=impl))
                yield {"methods": methods}


def _subprocess(flag: str, payload: dict):
    proc = subprocess.run([sys.executable, __file__, flag, json.dumps(payload)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1]), None
    except (IndexError, json.JSONDecodeError):
        return None, (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]


def table(results: list[dict], bw: float) -> str:
    lines = [
        "| edges | layer | case | method | backend | fwd+bwd (s) | vs PyG edge_index | vs PyG SparseTensor "
        "| peak mem (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ref = {}
    for r in results:
        if r["lib"] == "pyg" and "time_s" in r:
            ref[(r["size"], r["layer"], r["case"], r["graph"])] = r["time_s"]
    for r in results:
        if "time_s" not in r:
            lines.append(f"| {r['edges']:,} | {r['layer']} | {r['case']} | {r['lib']}/{r['graph']} | "
                         f"{r['backend']} | failed: {r.get('error', '?')} | | | |")
            continue
        a = ref.get((r["size"], r["layer"], r["case"], "edge_index"))
        b = ref.get((r["size"], r["layer"], r["case"], "SparseTensor"))
        ra = f"{a / r['time_s']:.1f}x" if a else "-"
        rb = f"{b / r['time_s']:.1f}x" if b else "-"
        lines.append(f"| {r['edges']:,} | {r['layer']} | {r['case']} | {r['lib']}/{r['graph']} | {r['backend']} | "
                     f"{r['time_s']:.4f} | {ra} | {rb} | {r['peak_mib']:.0f} |")
    agg = [r for r in results if "agg_s" in r]
    lines += ["", f"Aggregation alone (graphkit spmm sum, 128 wide, prebuilt Adjacency); measured memory "
                  f"bandwidth of this machine (1 GiB tensor copy): **{bw:.1f} GB/s**.", "",
              "| edges | backend | spmm (s) | effective GB/s | share of copy bandwidth |", "|---|---|---|---|---|"]
    for r in agg:
        lines.append(f"| {r['edges']:,} | {r['backend']} | {r['agg_s']:.4f} | {r['agg_gbps']:.1f} | "
                     f"{100 * r['agg_gbps'] / bw:.0f}% |")
    return "\n".join(lines)


def isolated_run(script: str, spec: dict) -> dict:
    """Run ``script --one <spec as JSON>`` in a fresh process (own peak-memory counter) and return the JSON
    it prints last, or ``{**spec, "error": <last stderr line>}``."""
    import subprocess

    proc = subprocess.run([sys.executable, script, "--one", json.dumps(spec)], capture_output=True, text=True)
    if proc.returncode != 0:
        return {**spec, "error": (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def isolated_parser(doc: str, out: str, repeats: int | None = None) -> argparse.ArgumentParser:
    """The command line of a benchmark that measures each row in its own process (:func:`isolated_run`):
    ``--one`` (a row, in the child), ``--threads``, ``--repeats`` (when given a default), ``--out`` (under
    benchmarks/results/), ``--no-docs``."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=2)
    if repeats is not None:
        p.add_argument("--repeats", type=int, default=repeats)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / out))
    p.add_argument("--no-docs", action="store_true")
    return p


def serve_one(args, run_one) -> bool:
    """In the child process of :func:`isolated_run`: measure the one row and print its JSON (True)."""
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))))
    return bool(args.one)


def save_json(path, result: dict) -> None:
    """Write a benchmark's result JSON (creating its folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


def write_docs(section: str, body: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    block = f"{start}\n{body}\n{end}"
    if start in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def aggregation_only(host_memory: str, no_docs: bool) -> dict:
    """The aggregation alone (spmm sum, 128 wide, prebuilt Adjacency) at every size and backend, against the
    copy bandwidth measured before and after (the larger), with the host-memory setting ``graphkit train``
    uses (``reuse``: freed heap blocks serve the next output) or glibc's defaults (``system``: each 87 MB
    output at arxiv scale is page-faulted anew). Writes benchmarks/results/aggregation_cpu.json and the
    "aggregation" section of docs/benchmarks.md."""
    sys.path.insert(0, str(ROOT))
    import torch

    from graphkit import backend
    from graphkit.ops import Adjacency

    if host_memory == "reuse":
        from graphkit.train.host_memory import reuse_freed_memory

        reuse_freed_memory()
    have_ext = backend.available("torch_sparse") and backend.available("torch_scatter")
    bw = memory_bandwidth()
    rows = []
    for name, n, e in SIZES:
        torch.manual_seed(0)
        adj = Adjacency.from_edge_index(torch.randint(0, n, (2, e)), num_nodes=n)
        for impl in ["torch"] + (["torch_sparse"] if have_ext else []):
            with backend.use(all="torch") if impl == "torch" else backend.use(spmm="torch_sparse"):
                rows.append({"size": name, "nodes": n, "edges": e, "backend": impl, **_aggregation(adj, n, e)})
            print(json.dumps(rows[-1]), flush=True)
    bw = max(bw, memory_bandwidth())
    result = {"date": time.strftime("%Y-%m-%d"), "torch": torch.__version__, "threads": torch.get_num_threads(),
              "host_memory": host_memory, "copy_bandwidth_gbps": bw, "rows": rows}
    save_json(ROOT / "benchmarks" / "results" / f"aggregation_cpu{'' if host_memory == 'reuse' else '_system'}.json",
              result)
    if not no_docs and host_memory == "reuse":
        lines = [f"graphkit's spmm sum alone, 128 wide, prebuilt Adjacency, forward only, median of 5; "
                 f"{result['threads']} threads, host memory `reuse` (as `graphkit train` runs); copy bandwidth "
                 f"of this machine (1 GiB tensor copy, read + write counted, the larger of a measurement before "
                 f"and after): **{bw:.1f} GB/s**. Measured {result['date']}: `python benchmarks/bench_conv.py "
                 "--aggregation-only` (raw: `benchmarks/results/aggregation_cpu.json`).", "",
                 "| edges | backend | spmm (s) | effective GB/s | share of copy bandwidth |", "|---|---|---|---|---|"]
        lines += [f"| {r['edges']:,} | {r['backend']} | {r['agg_s']:.4f} | {r['agg_gbps']:.1f} | "
                  f"{100 * r['agg_gbps'] / bw:.0f}% |" for r in rows]
        write_docs("aggregation", "\n".join(lines) + "\n")
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--group", help=argparse.SUPPRESS)
    p.add_argument("--memory", help=argparse.SUPPRESS)
    p.add_argument("--quick", action="store_true", help="only the two smallest sizes")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "conv_cpu.json"))
    p.add_argument("--no-docs", action="store_true")
    p.add_argument("--aggregation-only", action="store_true",
                   help="only the aggregation's bandwidth table (its own JSON and docs section)")
    p.add_argument("--host-memory", choices=("reuse", "system"), default="reuse",
                   help="with --aggregation-only: the allocator setting of `graphkit train` (reuse) or glibc's")
    args = p.parse_args()
    if args.aggregation_only:
        aggregation_only(args.host_memory, args.no_docs)
        return
    if args.group:
        print(json.dumps(run_group(json.loads(args.group))))
        return
    if args.memory:
        print(json.dumps(run_memory(json.loads(args.memory))))
        return

    sys.path.insert(0, str(ROOT))
    import torch

    from graphkit import backend

    have_ext = backend.available("torch_sparse") and backend.available("torch_scatter")
    backends = ["torch"] + (["torch_scatter+torch_sparse"] if have_ext else [])
    sizes = SIZES[:2] if args.quick else SIZES
    results = []
    for group in groups(sizes, backends, backend.available("torch_sparse")):
        timed, err = _subprocess("--group", group)
        for i, cfg in enumerate(group["methods"]):
            if timed is None:
                cfg["error"] = err
            else:
                cfg.update(timed[i])
                mem, merr = _subprocess("--memory", cfg)
                cfg.update(mem or {"peak_mib": float("nan"), "memory_error": merr})
            results.append(cfg)
            print(json.dumps(cfg), flush=True)
    bw = memory_bandwidth()
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": platform.processor()
            or platform.machine(), "cores": os.cpu_count(), "optional": backend.summary(),
            "copy_bandwidth_gbps": bw, "date": time.strftime("%Y-%m-%d")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    body = (f"Measured {meta['date']} on {meta['cores']} CPU cores ({meta['cpu']}), torch {meta['torch']}, "
            f"{meta['threads']} threads; `python benchmarks/bench_conv.py` "
            f"(raw: `benchmarks/results/conv_cpu.json`). Random graphs, 128 input features, 256 hidden; "
            f"time = median forward+backward with a dense cotangent, all methods of a row group timed "
            f"round-robin in one process; case *input* = `x` without gradient "
            f"(a model's first layer), *hidden* = `x.requires_grad`; ratios = PyG time / this row's time "
            f"(higher is better), measured in the same run.\n\n" + table(results, bw))
    if not args.no_docs:
        write_docs("conv", body)
    print(body)


if __name__ == "__main__":
    main()
