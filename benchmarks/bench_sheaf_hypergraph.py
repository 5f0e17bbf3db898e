"""Sheaf and hypergraph layers against dense-operator baselines (and PyG's HypergraphConv), one run.

* Sheaf: one SheafDiffusionLayer step (learn maps -> Laplacian -> diffuse) at d=4, 32 channels per stalk
  dimension, forward + backward, on Squirrel (5,201 nodes, 198,353 undirected edges; the real file when the
  data root has it). Baseline: the same step with the Laplacian assembled as a dense [N d, N d] matrix and a
  dense product, which is what a direct transcription of the maths does.
* Hypergraph: one HGNN layer (1,433 -> 256) forward + backward on co-citation Cora; graphkit (sym and mean
  normalisation), PyG's HypergraphConv (= mean normalisation), and a dense precomputed [N, N] operator.

Median over round-robin blocks; writes benchmarks/results/sheaf_hypergraph_cpu.json and the
"sheaf-hypergraph" table in docs/benchmarks.md.

    python benchmarks/bench_sheaf_hypergraph.py --data-root ../shared/data
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.bench_conv import write_docs  # noqa: E402
from graphkit.nn import HypergraphConv, SheafDiffusionLayer  # noqa: E402
from graphkit.ops import Adjacency, Hypergraph, sheaf_structure  # noqa: E402


def timed(fns: dict, repeats: int, block: int) -> dict[str, float]:
    for f in fns.values():  # warm-up
        f()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, f in fns.items():
            t = time.perf_counter()
            for _ in range(block):
                f()
            times[name].append((time.perf_counter() - t) / block)
    return {k: statistics.median(v) for k, v in times.items()}


def squirrel(root: str | None):
    if root:
        try:
            from graphkit.data.heterophily import load_platonov
            d = load_platonov("squirrel", root, download=False).data
            return d.edge_index, d.num_nodes, "squirrel (real)"
        except Exception:  # noqa: BLE001 - fall back to a synthetic graph of the same size
            pass
    from graphkit.ops import coalesce, remove_self_loops, to_undirected
    g = torch.Generator().manual_seed(0)
    n = 5201
    ei, _ = remove_self_loops(torch.randint(0, n, (2, 200_000), generator=g))
    ei, _ = to_undirected(ei, n)
    ei, _ = coalesce(ei, n)
    return ei, n, "synthetic, squirrel-sized"


def sheaf_bench(root, kinds, repeats, block) -> list[dict]:
    ei, n, source = squirrel(root)
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    rows = []
    for kind in kinds:
        d, c = 4, 32
        torch.manual_seed(0)
        layer = SheafDiffusionLayer(c, d, kind).train()
        x = torch.randn(n, d * c, requires_grad=True)
        sheaf_structure(adj, n, d, kind != "diag")  # built once per graph, as in training

        def ours():
            layer(x, x, adj).sum().backward()

        def dense():
            lap = layer.laplacian(x, adj, 0.0).to_dense()  # [N d, N d]
            h = (x.view(n, d, c) @ layer.right.weight.t()).reshape(n * d, c)
            h = torch.einsum("ij,njc->nic", layer.left.weight, h.view(n, d, c)).reshape(n * d, c)
            (lap @ h).sum().backward()

        t = timed({"graphkit": ours, "dense": dense}, repeats, block)
        rows.append({"kind": kind, "d": d, "channels": c, "nodes": n, "directed_edges": ei.size(1),
                     "graph": source, "seconds": t, "speedup_vs_dense": t["dense"] / t["graphkit"],
                     "dense_matrix_gb": (n * d) ** 2 * 4 / 1e9})
        print(rows[-1], flush=True)
    return rows


def hgnn_bench(root, repeats, block) -> dict:
    from torch_geometric.nn import HypergraphConv as PygHypergraphConv

    from graphkit.data.hypergraph import load_hypergraph
    loaded = load_hypergraph("cocitation", "cora", root, download=False)
    hg: Hypergraph = loaded.hypergraph
    x = loaded.data.x
    n, m = hg.num_nodes, hg.num_edges
    torch.manual_seed(0)
    pyg = PygHypergraphConv(x.size(1), 256)
    sym, mean = HypergraphConv(x.size(1), 256, "sym"), HypergraphConv(x.size(1), 256, "mean")
    mean.load_state_dict(pyg.state_dict())
    h = torch.zeros(n, m)
    h[hg.incidence[0], hg.incidence[1]] = 1
    dv = h.sum(1).clamp_min(1).rsqrt()
    op = (dv[:, None] * h / h.sum(0).clamp_min(1)) @ (h.t() * dv[None, :])  # dense HGNN operator, precomputed
    hg.node_to_edge(), hg.edge_to_node()  # cached once per hypergraph, as in training

    fns = {
        "graphkit sym (HGNN)": lambda: sym(x, hg).sum().backward(),
        "graphkit mean (HGNN+)": lambda: mean(x, hg).sum().backward(),
        "PyG HypergraphConv": lambda: pyg(x, hg.incidence, num_edges=m).sum().backward(),
        "dense operator": lambda: (op @ sym.lin(x) + sym.bias).sum().backward(),
    }
    t = timed(fns, repeats, block)
    out = {"dataset": "co-citation Cora (+ self-loop hyperedges)", "nodes": n, "hyperedges": m, "nnz": hg.nnz,
           "in": x.size(1), "out": 256, "seconds": t}
    print(out, flush=True)
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", default=None)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--kinds", default="diag,orthogonal,general")
    p.add_argument("--no-docs", action="store_true")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    result = {"threads": torch.get_num_threads(), "torch": torch.__version__,
              "sheaf": sheaf_bench(args.data_root, args.kinds.split(","), args.repeats, 1),
              "hgnn": hgnn_bench(args.data_root, args.repeats, 5)}
    out = Path(__file__).with_name("results") / "sheaf_hypergraph_cpu.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    if not args.no_docs:
        rows = [f"| {r['kind']} | {r['graph']} | {r['seconds']['graphkit'] * 1e3:.0f} | "
                f"{r['seconds']['dense'] * 1e3:.0f} | {r['speedup_vs_dense']:.1f}x | {r['dense_matrix_gb']:.2f} |"
                for r in result["sheaf"]]
        hg = result["hgnn"]
        hrows = [f"| {k} | {v * 1e3:.1f} |" for k, v in hg["seconds"].items()]
        body = (f"One sheaf diffusion step (d=4, 32 channels per stalk dimension, learner + Laplacian + diffusion), "
                f"forward + backward, {rows and result['sheaf'][0]['nodes']} nodes, "
                f"{result['sheaf'][0]['directed_edges'] if rows else 0} directed edges; "
                f"{result['threads']} threads.\n\n"
                "| maps | graph | graphkit ms | dense-Laplacian ms | speedup | dense matrix GB |\n"
                "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
                f"One hypergraph convolution {hg['in']} -> {hg['out']}, forward + backward, {hg['dataset']}: "
                f"{hg['nodes']} nodes, {hg['hyperedges']} hyperedges, {hg['nnz']} incidences.\n\n"
                "| implementation | ms |\n|---|---|\n" + "\n".join(hrows) + "\n")
        write_docs("sheaf-hypergraph", body)
    return result


if __name__ == "__main__":
    main()
