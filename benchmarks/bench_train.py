"""Graph-level mini-batch training speed: graphkit's MolGNN vs the same model on PyG's layers.

Workload: OGB's molecule baseline (5 layers, 300 wide, batch 32, Adam 1e-3) on
ogbg-molhiv's training split from the data root. Both models get the same
weights and the same graphs in every step; timing alternates between them
block by block (round-robin), so drifts in machine load hit both alike. Each
step includes its batch's assembly, as in training: graphkit's from its
GraphStore (index operations on the stored tensors), PyG's from its DataLoader
(per-graph collation). Reported: seconds per training step, the collation
alone per batch (timed separately, interleaved), and the implied seconds per
epoch (1,029 steps).

    python benchmarks/bench_train.py --data-root ../shared/data [--batches 150] [--model gin-vn]
    python benchmarks/bench_train.py --data-root ../shared/data --dataset peptides-func --model gcn

A third variant, graphkit under bf16 autocast (``--train.amp bf16``: dense layers in
bfloat16, sparse sums accumulated in float32), runs in the same rotation.

Writes benchmarks/results/train_<model>.json and the "train" section of docs/benchmarks.md.
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
from benchmarks.pyg_mol import PygMolGNN  # noqa: E402
from graphkit.data import load_ogb  # noqa: E402
from graphkit.data.graph_sets import load_peptides  # noqa: E402
from graphkit.models import MolGNN, MolGNNConfig  # noqa: E402

MODELS = {"gin-vn": dict(gnn="gin", virtual_node=True), "gin": dict(gnn="gin"),
          "gcn-vn": dict(gnn="gcn", virtual_node=True), "gcn": dict(gnn="gcn")}
# per dataset: batch size, tasks, and the model settings of its recipe (Peptides-func: gcn-peptides-func's,
# Tonshoff et al.'s GCN on graphkit's molecule GCN)
DATASETS = {"ogbg-molhiv": (32, 1, {}),
            "peptides-func": (200, 10, dict(hidden=235, num_layers=6, dropout=0.1, residual=True, pooling="mean"))}


# self-time buckets of a graph-level step's profile (first match wins; torch names a CSR product addmm too)
STEP_BUCKETS = {
    "optimiser": ("_fused_adam", "_foreach", "adam", "optimizer"),
    "matmuls": ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul", "linear"),
    "gather / scatter / embeddings": ("index_select", "scatter", "index_add", "segment", "gather", "embedding",
                                      "index", "sort", "repeat_interleave"),
    "elementwise + norms": ("mul", "add", "div", "relu", "threshold", "clamp", "batch_norm", "sub", "where", "exp",
                            "log", "sigmoid", "binary_cross_entropy", "sum", "mean", "neg", "rshift", "bitwise",
                            "random_", "uniform_", "bernoulli"),
    "casts + copies + allocation": ("copy_", "_to_copy", "clone", "cat", "fill_", "zero_", "empty", "aten::to"),
}


def step_fn(model, amp: str = "none", graphkit_optimizer: bool = False):
    """One training step on a batch; ``amp="bf16"`` runs it as ``graphkit train --train.amp bf16`` does.

    ``graphkit_optimizer``: Adam as ``graphkit train`` builds it (fused kernel), else as OGB's script does."""
    from graphkit.train.config import OptimConfig
    from graphkit.train.loop import make_optimizer
    from graphkit.train.tasks.precision import Precision

    opt = (make_optimizer(model, OptimConfig(lr=1e-3))[0] if graphkit_optimizer
           else torch.optim.Adam(model.parameters(), lr=1e-3))
    crit = torch.nn.BCEWithLogitsLoss()
    precision = Precision(amp, torch.device("cpu"))

    def step(batch):
        with precision.autocast():
            out = model(batch)
            y = batch.y.float()
            mask = y == y
            loss = crit(out[mask].float(), y[mask])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", default=None)
    p.add_argument("--model", default="gin-vn", choices=sorted(MODELS))
    p.add_argument("--dataset", default="ogbg-molhiv", choices=sorted(DATASETS))
    p.add_argument("--profile", action="store_true", help="also profile 10 graphkit steps (fp32 and bf16) by op class")
    p.add_argument("--batches", type=int, default=150)
    p.add_argument("--block", type=int, default=10, help="batches per turn in the round-robin")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--no-docs", action="store_true")
    p.add_argument("--host-memory", choices=("reuse", "system"), default="reuse",
                   help="reuse: freed heap blocks serve the next tensor, as `graphkit train` sets it for its process "
                        "(graphkit/train/host_memory.py), for every variant alike; system: glibc's defaults")
    args = p.parse_args(argv)
    if args.host_memory == "reuse":
        from graphkit.train.host_memory import reuse_freed_memory

        reuse_freed_memory()
    if args.threads:
        torch.set_num_threads(args.threads)
    from torch_geometric.loader import DataLoader

    from graphkit.data.graph_store import GraphStore

    bs, tasks, settings = DATASETS[args.dataset]
    d = load_ogb("ogbg-molhiv", args.data_root) if args.dataset == "ogbg-molhiv" else load_peptides(
        args.dataset, args.data_root, download=False)
    train = d.dataset[d.split["train"]]
    store = GraphStore.from_dataset(train, torch.device("cpu"))
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(0)).tolist()
    ids = [order[i:i + bs] for i in range(0, bs * (args.batches + 3), bs)]
    ids = [b for b in ids if b] or [order[:bs]]
    ids = (ids * (1 + (args.batches + 3) // len(ids)))[: args.batches + 3]  # small sets: the batches repeat
    pyg_batches = iter(DataLoader(train, batch_sampler=ids))
    ours_batches = (store.batch(b) for b in ids)
    bf16_batches = (store.batch(b) for b in ids)
    # collation alone, interleaved: graphkit's store vs PyG's DataLoader on the same graphs
    probe = iter(DataLoader(train, batch_sampler=ids * 4))
    collate: dict[str, list[float]] = {"graphkit": [], "pyg": []}
    for b in ids * 4:
        t = time.perf_counter()
        store.batch(b)
        collate["graphkit"].append(time.perf_counter() - t)
        t = time.perf_counter()
        next(probe)
        collate["pyg"].append(time.perf_counter() - t)
    load_s = {k: statistics.median(v) for k, v in collate.items()}

    cfg = MolGNNConfig(num_tasks=tasks, **{**MODELS[args.model], **settings})
    torch.manual_seed(0)
    pyg = PygMolGNN(cfg).train()
    ours = MolGNN(cfg).train()
    ours.load_state_dict(pyg.state_dict())
    ours_bf16 = MolGNN(cfg).train()
    ours_bf16.load_state_dict(pyg.state_dict())
    steps = {"graphkit": step_fn(ours, graphkit_optimizer=True),
             "graphkit bf16": step_fn(ours_bf16, "bf16", graphkit_optimizer=True), "pyg": step_fn(pyg)}
    sources = {"graphkit": ours_batches, "graphkit bf16": bf16_batches, "pyg": pyg_batches}
    for name, s in steps.items():  # warm-up
        for _ in range(3):
            s(next(sources[name]))
    times: dict[str, list[float]] = {k: [] for k in steps}
    for start in range(0, args.batches, args.block):
        n = min(args.block, args.batches - start)
        for name, s in steps.items():
            t = time.perf_counter()
            for _ in range(n):
                s(next(sources[name]))  # the batch's assembly is part of the step
            times[name].append((time.perf_counter() - t) / n)
    per_step = {k: statistics.median(v) for k, v in times.items()}
    n_batches = (len(train) + bs - 1) // bs
    result = {
        "model": args.model, "dataset": args.dataset, "batches_timed": args.batches, "batch_size": bs,
        "threads": torch.get_num_threads(), "torch": torch.__version__, "host_memory": args.host_memory,
        "step_seconds": per_step, "collate_seconds_per_batch": load_s,
        "epoch_seconds_estimate": {k: v * n_batches for k, v in per_step.items()},
        "speedup": per_step["pyg"] / per_step["graphkit"],
        "speedup_bf16": per_step["pyg"] / per_step["graphkit bf16"],
    }
    if args.profile:  # where graphkit's step spends its time; the batch assembly is timed above (collate)
        from benchmarks.bench_epoch import profile

        result["profile_seconds_per_step"] = {}
        for name in ("graphkit", "graphkit bf16"):
            batches = iter([store.batch(b) for b in ids[:10]])
            result["profile_seconds_per_step"][name] = profile(lambda: steps[name](next(batches)), 10, STEP_BUCKETS)
            result["profile_seconds_per_step"][name]["batch assembly (collate, timed above)"] = round(
                load_s["graphkit"], 4)
    stem = args.model if args.dataset == "ogbg-molhiv" else f"{args.dataset}-{args.model}"
    out = Path(__file__).with_name("results") / f"train_{stem}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not args.no_docs:
        rows = []
        for f in sorted(out.parent.glob("train_*.json")):
            r = json.loads(f.read_text())
            e = r["epoch_seconds_estimate"]
            ms = {k: v * 1e3 for k, v in r["step_seconds"].items()}
            c = r["collate_seconds_per_batch"]
            c = {"graphkit": c, "pyg": c} if isinstance(c, float) else c  # older files: one shared collation
            bf16 = (f"{ms['graphkit bf16']:.1f} ({r['speedup_bf16']:.2f}x)" if "graphkit bf16" in ms else "-")
            where = r.get("dataset", "ogbg-molhiv")
            label = r["model"] if where == "ogbg-molhiv" else f"{r['model']} ({where}, batch {r['batch_size']})"
            rows.append(f"| {label} | {ms['graphkit']:.1f} | {ms['pyg']:.1f} "
                        f"| {r['speedup']:.2f}x | {bf16} | {c['graphkit'] * 1e3:.2f} | {c['pyg'] * 1e3:.2f} "
                        f"| {e['graphkit']:.0f} | {e['pyg']:.0f} | {r['threads']} |")
        body = ("ogbg-molhiv training step (batch 32, OGB baseline widths; Peptides-func rows: gcn-peptides-func's "
                "model, 6 x 235, batch 200) including its batch's assembly (graphkit: GraphStore; PyG: "
                "DataLoader), median over round-robin blocks; s/epoch = steps per epoch x s/step.\n\n"
                "graphkit bf16: the same step under `--train.amp bf16`, its speedup over PyG's float32 step.\n\n"
                "| model | graphkit ms/step | PyG ms/step | speedup | graphkit bf16 ms/step "
                "| graphkit collate ms/batch | PyG collate ms/batch | graphkit s/epoch | PyG s/epoch | threads |\n"
                "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
        profiled = [json.loads(f.read_text()) for f in sorted(out.parent.glob("train_*.json"))]
        profiled = [r for r in profiled if "profile_seconds_per_step" in r]
        if profiled:
            cols = list(STEP_BUCKETS) + ["other", "batch assembly (collate, timed above)"]
            body += ("\nWhere graphkit's step spends its time (`--profile`: torch.profiler self time over 10 steps, "
                     "ms per step; the profiler's own overhead inflates the total):\n\n"
                     "| model | variant | " + " | ".join(cols) + " |\n" + "|---" * (len(cols) + 2) + "|\n")
            for r in profiled:
                for variant, prof in r["profile_seconds_per_step"].items():
                    body += (f"| {r['model']} ({r.get('dataset', 'ogbg-molhiv')}) | {variant} | "
                             + " | ".join(f"{prof.get(c, 0.0) * 1e3:.1f}" for c in cols) + " |\n")
        write_docs("train", body)
    return result


if __name__ == "__main__":
    main()
