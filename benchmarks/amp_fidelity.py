"""Does bf16 on CPU train to the same numbers? The same recipes in float32 and under ``--train.amp bf16``.

For each recipe below, ``graphkit repro NAME`` runs twice, unchanged except for ``--train.amp``, into
``runs/amp/NAME-none`` and ``runs/amp/NAME-bf16`` (resumable: an interrupted pass continues where it
stopped). ``--collect`` reads the finished (or partial) results and writes
``benchmarks/results/amp_fidelity_cpu.json`` and the "amp" section of docs/benchmarks.md: test mean and std
per precision, their difference in units of the float32 std, and seconds per epoch.

    python benchmarks/amp_fidelity.py --run [--only cora-gcn] [--data-root ../shared/data]
    python benchmarks/amp_fidelity.py --collect

Rule (issue 17): a recipe stays float32 unless, on every set here, the bf16 mean is within one float32
std of the float32 mean.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_conv import write_docs  # noqa: E402

RECIPES = ("cora-gcn", "mutag-gin", "ogbg-molfreesolv-gin-vn", "ogbg-molesol-gin-vn")
AMPS = ("none", "bf16")
RUNS = ROOT / "runs" / "amp"


def run(names: list[str], data_root: str | None) -> None:
    for name in names:
        for amp in AMPS:
            out = RUNS / f"{name}-{amp}"
            cmd = [sys.executable, "-m", "graphkit.cli", "repro", name, "--out", str(out), "--quiet",
                   "--train.amp", amp]
            if out.exists():
                cmd.append("--resume")
            if data_root:
                cmd += ["--data-root", data_root]
            print(" ".join(cmd), flush=True)
            subprocess.run(cmd, check=True, env=dict(os.environ))


def _summary(folder: Path) -> dict | None:
    path = folder / "results.json"
    if path.exists():
        return json.loads(path.read_text())["summary"]
    return None


def paired(fp32: list[float], bf16: list[float]) -> dict:
    """bf16 - float32 per seed or fold (the runs pair by position: the same seeds or folds in both passes)."""
    if len(fp32) != len(bf16) or len(fp32) < 2:
        raise ValueError(f"the two passes have {len(fp32)} and {len(bf16)} runs; they pair only with equal counts")
    d = [b - a for a, b in zip(fp32, bf16)]
    mean, std = statistics.fmean(d), statistics.stdev(d)
    t = mean / (std / math.sqrt(len(d))) if std > 0 else float("nan")
    return {"pairs": len(d), "mean": mean, "std": std, "t": t, "bf16_higher": sum(x > 0 for x in d)}


def collect() -> dict:
    rows = {}
    for name in RECIPES:
        entry = {}
        for amp in AMPS:
            s = _summary(RUNS / f"{name}-{amp}")
            if s is not None:
                entry[amp] = {"metric": s["metric"], "runs": s["runs"], "test_mean": s["test"]["mean"],
                              "test_std": s["test"]["std"], "test_values": s["test"]["values"],
                              "seconds_per_epoch": s.get("seconds_per_epoch")}
        if len(entry) == 2:
            std = entry["none"]["test_std"] or float("nan")
            entry["difference_in_fp32_stds"] = (entry["bf16"]["test_mean"] - entry["none"]["test_mean"]) / std
            entry["paired"] = paired(entry["none"]["test_values"], entry["bf16"]["test_values"])
        if entry:
            rows[name] = entry
    out = ROOT / "benchmarks" / "results" / "amp_fidelity_cpu.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")
    lines = ["The same recipes in float32 and with `--train.amp bf16` (CPU, `python benchmarks/amp_fidelity.py "
             "--run`, then `--collect`): test metric mean ± std over the recipe's seeds or folds.", "",
             "Paired: the same seed (or fold) in both passes, bf16 minus float32: mean and std of the differences, "
             "Student's t with n - 1 degrees of freedom (|t| > 2.26 is p < 0.05 two-sided for 10 pairs), and how "
             "many pairs bf16 scored higher.", "",
             "| recipe | metric | float32 | bf16 | bf16 - float32, in float32 stds | paired difference (t; bf16 "
             "higher) | s/epoch float32 | s/epoch bf16 |",
             "|---|---|---|---|---|---|---|---|"]
    for name, e in rows.items():
        def cell(amp):
            if amp not in e:
                return "not run"
            return f"{e[amp]['test_mean']:.4f} ± {e[amp]['test_std']:.4f} ({e[amp]['runs']} runs)"

        def speed(amp):
            v = e.get(amp, {}).get("seconds_per_epoch")
            return "-" if v is None else f"{v:.2f}"
        diff = e.get("difference_in_fp32_stds")
        metric = next(iter(e.values()))["metric"]
        pair = e.get("paired")
        pair_cell = "-" if pair is None else (f"{pair['mean']:+.4f} ± {pair['std']:.4f} (t {pair['t']:+.2f}; "
                                              f"{pair['bf16_higher']} of {pair['pairs']})")
        lines.append(f"| {name} | {metric} | {cell('none')} | {cell('bf16')} | "
                     f"{'-' if diff is None else f'{diff:+.2f}'} | {pair_cell} | {speed('none')} | {speed('bf16')} |")
    write_docs("amp", "\n".join(lines) + "\n")
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", action="store_true", help="run (or resume) the recipes in both precisions")
    p.add_argument("--collect", action="store_true", help="write the JSON and the docs table")
    p.add_argument("--only", action="append", choices=RECIPES, help="just this recipe (repeatable)")
    p.add_argument("--data-root", default=None)
    args = p.parse_args(argv)
    if args.run:
        run(args.only or list(RECIPES), args.data_root)
    if args.collect or not args.run:
        print(json.dumps(collect(), indent=2))


if __name__ == "__main__":
    main()
