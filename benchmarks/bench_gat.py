"""GATConv / GATv2Conv forward+backward: graphkit vs PyG's layers, same weights, same process, interleaved.

Sizes are the conv benchmark's (1e4 .. ogbn-arxiv's 169,343 nodes and 2,332,486 edges), 128 input features,
8 heads of 8 (the paper's hidden layer), as a model's input layer (``x`` needs no gradient) and as a hidden
layer (it does). graphkit runs from a prebuilt Adjacency (its self loops cached, as a model reuses it over
epochs) and from a plain edge_index; PyG from the edge_index (its GATConv adds the self loops every call).

    python benchmarks/bench_gat.py [--quick] [--reps 5]

Also the peak memory of one forward + backward from the edge_index at arxiv scale, each layer in a fresh process
(peak resident set above the inputs). Writes benchmarks/results/gat_cpu.json and the "gat" section of
docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_conv import SIZES, write_docs  # noqa: E402
from benchmarks.timing import interleaved  # noqa: E402
from graphkit.nn import GATConv, GATv2Conv  # noqa: E402
from graphkit.ops import Adjacency  # noqa: E402

HEADS, HIDDEN, F_IN = 8, 8, 128


def graph(n: int, e: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.stack([torch.randint(0, n, (e,), generator=g), torch.randint(0, n, (e,), generator=g)])


def step(conv, x, g, grad_x: bool):
    def run():
        xi = x.detach().requires_grad_(grad_x)
        conv(xi, g).sum().backward()
    return run


def _layers(layer: str):
    import torch_geometric.nn as pyg
    return {"GATConv": (GATConv, pyg.GATConv), "GATv2Conv": (GATv2Conv, pyg.GATv2Conv)}[layer]


def peak_memory(layer: str, who: str) -> int:
    """MiB: the peak resident set above the inputs of one hidden-layer forward + backward from the edge_index at
    arxiv scale, in a fresh process (so one variant's freed memory cannot hide another's peak)."""
    out = subprocess.run([sys.executable, __file__, "--_peak", layer, who], check=True, capture_output=True,
                         text=True).stdout
    return int(out.strip().splitlines()[-1])


def _measure_peak(layer: str, who: str) -> None:
    name, n, e = SIZES[-1]
    ei, x = graph(n, e), torch.randn(n, F_IN)
    ours_cls, theirs_cls = _layers(layer)
    conv = (ours_cls if who == "graphkit" else theirs_cls)(F_IN, HIDDEN, heads=HEADS)
    base = _peak_rss_kib()
    step(conv, x, ei, True)()
    print((_peak_rss_kib() - base) // 1024)


def _peak_rss_kib() -> int:
    """This process's peak resident set (VmHWM; getrusage's ru_maxrss would carry the parent's peak across the
    fork + exec that started it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv=None) -> list[dict]:
    if argv is None and sys.argv[1:2] == ["--_peak"]:
        _measure_peak(*sys.argv[2:4])
        return []

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the two smallest sizes only")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--no-docs", action="store_true")
    p.add_argument("--host-memory", choices=("reuse", "system"), default="reuse",
                   help="reuse: freed heap blocks serve the next tensor, as `graphkit train` sets it for its process "
                        "(graphkit/train/host_memory.py), for every variant alike; system: glibc's defaults")
    args = p.parse_args(argv)
    if args.host_memory == "reuse":
        from graphkit.train.host_memory import reuse_freed_memory

        reuse_freed_memory()
    rows = []
    for name, n, e in (SIZES[:2] if args.quick else SIZES):
        ei = graph(n, e)
        adj = Adjacency.from_edge_index(ei, num_nodes=n)
        x = torch.randn(n, F_IN)
        for layer in ("GATConv", "GATv2Conv"):
            ours_cls, theirs_cls = _layers(layer)
            torch.manual_seed(0)
            theirs = theirs_cls(F_IN, HIDDEN, heads=HEADS)
            ours = ours_cls(F_IN, HIDDEN, heads=HEADS)
            ours.load_state_dict(theirs.state_dict())
            for case, grad_x in (("input", False), ("hidden", True)):
                fns = {"graphkit (Adjacency)": step(ours, x, adj, grad_x),
                       "graphkit (edge_index)": step(ours, x, ei, grad_x),
                       "pyg (edge_index)": step(theirs, x, ei, grad_x)}
                med = interleaved(fns, args.reps)  # the warm-up also caches the Adjacency's self loops
                rows.append({"size": name, "nodes": n, "edges": e, "layer": layer, "case": case,
                             **{k: round(v, 4) for k, v in med.items()},
                             "speedup_adjacency": round(med["pyg (edge_index)"] / med["graphkit (Adjacency)"], 2),
                             "speedup_edge_index": round(med["pyg (edge_index)"] / med["graphkit (edge_index)"], 2)})
                print(json.dumps(rows[-1]), flush=True)
    peaks = [] if args.quick else [{"layer": layer, "graphkit MiB": peak_memory(layer, "graphkit"),
                                    "pyg MiB": peak_memory(layer, "pyg")} for layer in ("GATConv", "GATv2Conv")]
    for r in peaks:
        print(json.dumps(r), flush=True)
    out = Path(__file__).with_name("results") / "gat_cpu.json"
    out.write_text(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__,
                               "host_memory": args.host_memory, "rows": rows, "peak_memory_arxiv_hidden": peaks},
                              indent=2) + "\n")
    if not args.no_docs:
        table = ["| size | layer | case | graphkit Adjacency s | graphkit edge_index s | PyG s | vs PyG (Adj / ei) |",
                 "|---|---|---|---|---|---|---|"]
        table += [f"| {r['size']} | {r['layer']} | {r['case']} | {r['graphkit (Adjacency)']} "
                  f"| {r['graphkit (edge_index)']} | {r['pyg (edge_index)']} "
                  f"| {r['speedup_adjacency']}x / {r['speedup_edge_index']}x |" for r in rows]
        if peaks:
            table += ["", "Peak memory of one forward + backward from the edge_index at arxiv scale (hidden layer; "
                          "peak resident set above the inputs, each in a fresh process):", "",
                      "| layer | graphkit MiB | PyG MiB | PyG / graphkit |", "|---|---|---|---|"]
            table += [f"| {r['layer']} | {r['graphkit MiB']} | {r['pyg MiB']} | "
                      f"{r['pyg MiB'] / max(r['graphkit MiB'], 1):.1f}x |" for r in peaks]
        write_docs("gat", f"GAT layers, {F_IN} -> {HEADS} heads x {HIDDEN}, forward + backward, median of "
                          f"{args.reps} interleaved repetitions, {torch.get_num_threads()} threads, host memory "
                          f"`{args.host_memory}` (`python benchmarks/bench_gat.py --host-memory {args.host_memory}`)."
                          "\n\n" + "\n".join(table) + "\n")
    return rows


if __name__ == "__main__":
    main()
