"""The selective scan alone: graphkit's pure-torch scan against mambapy's (a pure-torch Mamba, Blelloch
parallel scan) and the step-by-step definition, forward + backward.

Cases (128 channels, d_state 16, like one Mamba layer of a 64-wide model):
* one long sequence of ``L`` positions (a single large graph read in some node order);
* batches of 32 graphs with PROTEINS' sizes (drawn from the TU file under the data root, fixed seed),
  padded to the largest graph of each batch: graphkit scans each graph only up to its own length
  (``lengths=``), mambapy and the definition scan the padded batch.

Each (implementation, case) runs in its own process: peak RSS above the process before the step is its
memory. mambapy is optional (``pip install mambapy``); its rows read "not installed" without it.

Writes benchmarks/results/scan_cpu.json and the "scan" table in docs/benchmarks.md.

    python benchmarks/bench_scan.py [--threads 2] [--data-root ../shared/data]
"""
from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.bench_conv import isolated_parser, isolated_run, save_json, serve_one, write_docs  # noqa: E402

CHANNELS, STATE = 128, 16
LONG = (1_000, 10_000, 30_000)
IMPLS = ("graphkit", "mambapy", "definition")
# the step-by-step definition keeps every step's tensors for autograd: past this length it only costs time
DEFINITION_MAX_L = 10_000


def proteins_sizes(data_root: str | None) -> list[int] | None:
    """PROTEINS' graph sizes from its TU graph-indicator file, or None when the data root lacks it."""
    path = Path(data_root or os.environ.get("GRAPHKIT_DATA", "datasets")) / "tu" / "PROTEINS" / "raw"
    path = path / "PROTEINS_graph_indicator.txt"
    if not path.exists():
        return None
    ids = torch.tensor([int(v) for v in path.read_text().split()])
    return torch.bincount(ids)[1:].tolist()


def inputs(case: dict, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    b, length = len(case["lengths"]), max(case["lengths"])

    def r(*shape):
        return torch.randn(*shape, generator=g)
    lengths = torch.tensor(case["lengths"])
    keep = (torch.arange(length) < lengths.view(-1, 1)).unsqueeze(1).float()  # padding zeroed, as in Mamba
    return dict(u=r(b, CHANNELS, length) * keep, delta=torch.nn.functional.softplus(r(b, CHANNELS, length) - 2),
                A=-torch.arange(1, STATE + 1.0).repeat(CHANNELS, 1), B=r(b, STATE, length), C=r(b, STATE, length),
                D=torch.ones(CHANNELS), lengths=lengths)


def mambapy_scan(u, delta, A, B, C, D):
    """S6 through mambapy's parallel scan (its MambaBlock's layout: [B, L, D, N])."""
    from mambapy.pscan import pscan

    u, delta = u.transpose(1, 2), delta.transpose(1, 2)  # [B, L, D]
    decay = torch.exp(delta.unsqueeze(-1) * A)
    x = (delta * u).unsqueeze(-1) * B.transpose(1, 2).unsqueeze(2)
    h = pscan(decay, x)
    y = (h @ C.transpose(1, 2).unsqueeze(-1)).squeeze(-1) + D * u
    return y.transpose(1, 2)


def run_one(spec: dict) -> dict:
    from graphkit.ops import selective_scan, selective_scan_reference

    torch.set_num_threads(spec["threads"])
    batches = [inputs(c, i) for i, c in enumerate(spec["cases"])]
    for x in batches:
        for k in ("u", "delta", "B", "C"):
            x[k].requires_grad_()

    def step(x):
        args = {k: x[k] for k in ("u", "delta", "A", "B", "C", "D")}
        if spec["impl"] == "graphkit":
            y = selective_scan(**args, lengths=x["lengths"] if len(x["lengths"]) > 1 else None)
        elif spec["impl"] == "mambapy":
            y = mambapy_scan(**args)
        else:
            y = selective_scan_reference(**args)
        y.square().mean().backward()

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step(batches[0])  # warm-up
    times = []
    for _ in range(spec["repeats"]):
        t = time.perf_counter()
        for x in batches:
            step(x)
        times.append((time.perf_counter() - t) / len(batches))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"impl": spec["impl"], "case": spec["name"], "seconds": statistics.median(times),
            "peak_mib": (peak - base) / 1024}


def main(argv=None) -> dict:
    p = isolated_parser(__doc__, "scan_cpu.json", repeats=3)
    p.add_argument("--data-root", default=None)
    args = p.parse_args(argv)
    if serve_one(args, run_one):
        return {}
    cases = [(f"1 x L={n:,}", [{"lengths": [n]}], n) for n in LONG]
    sizes = proteins_sizes(args.data_root)
    if sizes is not None:
        g = torch.Generator().manual_seed(0)
        perm = torch.randperm(len(sizes), generator=g)[:320].tolist()
        groups = [[sizes[i] for i in perm[j:j + 32]] for j in range(0, 320, 32)]
        cases.append(("PROTEINS, 10 batches of 32", [{"lengths": s} for s in groups],
                      max(max(s) for s in groups)))
    try:
        from importlib.metadata import version

        mambapy_version = version("mambapy")
    except Exception:  # not installed
        mambapy_version = None
    have_mambapy = mambapy_version is not None
    rows = []
    for name, case, longest in cases:
        for impl in IMPLS:
            if impl == "mambapy" and not have_mambapy:
                rows.append({"impl": impl, "case": name, "skipped": "not installed"})
            elif impl == "definition" and longest > DEFINITION_MAX_L:
                rows.append({"impl": impl, "case": name, "skipped": f"L > {DEFINITION_MAX_L:,}"})
            else:
                rows.append(isolated_run(__file__, {"impl": impl, "name": name, "cases": case,
                                                    "threads": args.threads, "repeats": args.repeats}))
            print(rows[-1], flush=True)
    result = {"threads": args.threads, "torch": torch.__version__, "mambapy": mambapy_version,
              "channels": CHANNELS, "d_state": STATE, "rows": rows}
    save_json(args.out, result)
    if not args.no_docs:
        names = [c[0] for c in cases]
        lines = [f"The selective scan alone (S6, {CHANNELS} channels, d_state {STATE}), forward + backward, "
                 f"{args.threads} CPU threads, median of {args.repeats} (per batch for the PROTEINS row); memory = "
                 "peak RSS above the process before the step. graphkit scans each graph of a batch only up to "
                 f"its own length; mambapy {mambapy_version} (a pure-torch Mamba, Blelloch parallel scan) and the "
                 "step-by-step definition (autograd through the recurrence) scan the padded batch. "
                 "`python benchmarks/bench_scan.py --data-root ../shared/data`", "",
                 "| implementation | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        for impl in IMPLS:
            cells = []
            for name in names:
                r = next(r for r in rows if r["impl"] == impl and r["case"] == name)
                if "seconds" in r:
                    cells.append(f"{r['seconds'] * 1000:,.0f} ms / {r['peak_mib']:,.0f} MiB")
                else:
                    cells.append(r.get("skipped") or "failed: " + r.get("error", "?")[:60])
            lines.append(f"| {impl} | " + " | ".join(cells) + " |")
        write_docs("scan", "\n".join(lines))
    return result


if __name__ == "__main__":
    main()
