"""Global mixers on one graph of growing size: time and peak memory of one forward + backward.

Mixers (64 channels, 4 heads): full attention (``AttentionMixer``, quadratic), linear attention
(``elu + 1`` and Performer features), bidirectional Mamba (``MambaMixer``, d_state 16, graphkit's pure-torch
scan) on a single graph of ``N`` nodes, ``N`` from 10^3 to 10^5 (3 x 10^5 for the linear mixers while memory
allows). Each (mixer, N) runs in its own process: the peak resident memory above the process's memory
just before the step is the step's memory. Each mixer stops at its ``MAX_N``.

Writes benchmarks/results/mixers_cpu.json, docs/mixers_scaling.png and the "mixers" table in
docs/benchmarks.md.

    python benchmarks/bench_mixers.py [--threads 2]
"""
from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.bench_conv import isolated_parser, isolated_run, serve_one, write_docs  # noqa: E402

SIZES = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000)
MIXERS = ("attention", "linear", "performer", "mamba")
# Largest graph per mixer on a 24 GiB machine beside other jobs (measured: Performer 7.4 GiB at 10^5 nodes; Mamba's
# backward holds about six [N, 128, 16] float tensors at once; full attention's time is quadratic: 12 s at 3 x 10^4).
MAX_N = {"attention": 30_000, "linear": 300_000, "performer": 100_000, "mamba": 300_000}
WHY = {"attention": "quadratic time", "linear": "", "performer": "memory: 3x the 10^5 peak would not fit",
       "mamba": "memory: the scan's backward recomputes [N, 128, 16] states"}


def build(name: str, channels: int = 64):
    from graphkit.nn import AttentionMixer, LinearAttentionMixer, MambaMixer

    if name == "attention":
        return AttentionMixer(channels, 4)
    if name == "linear":
        return LinearAttentionMixer(channels, 4)
    if name == "performer":
        return LinearAttentionMixer(channels, 4, kernel="performer", features=64)
    return MambaMixer(channels, d_state=16)


def run_one(spec: dict) -> dict:
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    n = spec["n"]
    mixer = build(spec["mixer"])
    x = torch.randn(n, 64, requires_grad=True)
    batch = torch.zeros(n, dtype=torch.long)
    order = torch.randperm(n) if spec["mixer"] == "mamba" else None
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if spec["n"] <= 30_000:  # warm-up (one-time allocations, kernel selection): counted in memory, not in time
        mixer(x, batch, 1, order).square().mean().backward()
    times = []
    for _ in range(spec["repeats"]):
        t = time.perf_counter()
        mixer(x, batch, 1, order).square().mean().backward()
        times.append(time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"mixer": spec["mixer"], "n": n, "seconds": statistics.median(times),
            "peak_mib": (peak - base) / 1024}


def main(argv=None) -> dict:
    p = isolated_parser(__doc__, "mixers_cpu.json", repeats=2)
    p.add_argument("--keep", action="store_true", help="reuse rows already in --out (after an interruption)")
    p.add_argument("--max-n", type=int, default=SIZES[-1])
    args = p.parse_args(argv)
    if serve_one(args, run_one):
        return {}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if args.keep and out.exists():  # rows measured by an earlier (interrupted) run
        done = {(r["mixer"], r["n"]): r for r in json.loads(out.read_text())["rows"] if "seconds" in r}
    rows = []
    for mixer in MIXERS:
        for n in (s for s in SIZES if s <= args.max_n):
            if n > MAX_N[mixer]:
                rows.append({"mixer": mixer, "n": n, "skipped": f"past N={MAX_N[mixer]:,} ({WHY[mixer]})"})
                continue
            if (mixer, n) in done:
                rows.append(done[(mixer, n)])
                continue
            rows.append(isolated_run(__file__, {"mixer": mixer, "n": n, "threads": args.threads,
                                                "repeats": args.repeats}))
            print(rows[-1], flush=True)
            result = {"threads": args.threads, "torch": torch.__version__, "rows": rows}
            out.write_text(json.dumps(result, indent=2) + "\n")  # after every row: an interrupted run keeps them
    result = {"threads": args.threads, "torch": torch.__version__, "rows": rows}
    out.write_text(json.dumps(result, indent=2) + "\n")
    if not args.no_docs:
        plot(rows, ROOT / "docs" / "mixers_scaling.png")
        sizes = sorted({r["n"] for r in rows})
        lines = [f"One forward + backward of each global mixer on a single graph of N nodes (64 channels, 4 heads, "
                 f"{args.threads} CPU threads, median of {args.repeats}); memory = peak RSS above the process before "
                 "the step. `python benchmarks/bench_mixers.py`. Plot: `docs/mixers_scaling.png`.", "",
                 "| mixer | " + " | ".join(f"N={n:,}" for n in sizes) + " |", "|---" * (len(sizes) + 1) + "|"]
        for mixer in MIXERS:
            cells = []
            for n in sizes:
                r = next((r for r in rows if r["mixer"] == mixer and r["n"] == n), None)
                if r is None or "skipped" in r or "error" in r:
                    cells.append("-" if r is None or "skipped" in r else "failed")
                else:
                    cells.append(f"{r['seconds']:.2f} s / {r['peak_mib']:,.0f} MiB")
            lines.append(f"| {mixer} | " + " | ".join(cells) + " |")
        lines += ["", "`-`: not run (`MAX_N` in the script: full attention's time is quadratic; Performer past 10^5 "
                  "nodes would not fit in 24 GiB beside the other jobs). Full attention's memory stays low because "
                  "torch's fused scaled-dot-product kernel never materialises the N x N scores; its time still grows "
                  "quadratically. Mamba's scan keeps only its inputs for the backward pass, which recomputes the "
                  "[N, 128, 16] states and runs the adjoint recurrence (~37 KiB per node at the peak); before that "
                  "change (autograd through a chunked scan) this row read 1.87 s / 1,358 MiB at 10^4 nodes and "
                  "8.89 s / 4,361 MiB at 3 x 10^4."]
        write_docs("mixers", "\n".join(lines))
    return result


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for mixer in MIXERS:
        pts = [r for r in rows if r["mixer"] == mixer and "seconds" in r]
        if pts:
            a.loglog([r["n"] for r in pts], [r["seconds"] for r in pts], "o-", label=mixer)
            b.loglog([r["n"] for r in pts], [max(r["peak_mib"], 1) for r in pts], "o-", label=mixer)
    a.set(xlabel="nodes in the graph", ylabel="seconds (forward + backward)", title="time")
    b.set(xlabel="nodes in the graph", ylabel="peak MiB above baseline", title="memory")
    a.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
