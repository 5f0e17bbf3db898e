"""Collect finished (and in-progress) reproduction runs into docs/reproductions.

    python scripts/collect_reproductions.py [runs/]

For each ``runs/<recipe>/`` it copies ``results.json`` (finished experiments) to
``docs/reproductions/<recipe>.json`` (config, per-epoch curves, summary,
versions, hardware; never checkpoints or data). Unfinished experiments get a
``<recipe>.partial.json`` with the runs finished so far and the progress of the
one in flight. It then rewrites the generated table in docs/reproductions.md.
"""
from __future__ import annotations

import csv
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphkit.recipes import RECIPES  # noqa: E402

DOCS = ROOT / "docs" / "reproductions"


def _pm(values):
    if not values:
        return "-"
    m = statistics.fmean(values)
    return f"{m:.4f}" + (f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else "")


def _range(epochs):
    lo, hi = min(epochs), max(epochs)
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


def partial(exp: Path, lower_is_better: bool) -> dict:
    """Runs finished so far plus the last checkpointed epoch of the one in progress."""
    cfg = json.loads((exp / "config.json").read_text())
    done, progress = [], []
    for run in sorted(exp.glob("run-*")):
        res = run / "results.json"
        if res.exists():
            r = json.loads(res.read_text())
            done.append({"name": run.name, "selected": r["selected"], "epochs_run": r["epochs_run"],
                         "seconds_per_epoch": r["seconds_per_epoch"]})
        elif (run / "log.csv").exists():
            rows = list(csv.DictReader((run / "log.csv").open()))
            if rows:
                sign = -1.0 if lower_is_better else 1.0
                best = max(rows, key=lambda h: sign * float(h["valid"])) if "valid" in rows[0] else rows[-1]
                progress.append({"name": run.name, "epochs_done": len(rows), "of": cfg["train"]["epochs"],
                                 "best_so_far": {k: float(v) for k, v in best.items()},
                                 "seconds_per_epoch": statistics.median(float(h["epoch_seconds"]) for h in rows)})
    return {"config": cfg, "finished_runs": done, "in_progress": progress}


def main() -> None:
    runs = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "runs"
    DOCS.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, recipe in RECIPES.items():
        exp = runs / name
        if not (exp / "config.json").exists():
            continue
        pub = "-" if recipe.expected is None else (
            f"{recipe.expected[0]:.4g}" + (f" ± {recipe.expected[1]:.4g}" if recipe.expected[1] is not None else ""))
        if (exp / "results.json").exists():
            rep = json.loads((exp / "results.json").read_text())
            (DOCS / f"{name}.json").write_text(json.dumps(rep, separators=(",", ":")) + "\n")
            (DOCS / f"{name}.partial.json").unlink(missing_ok=True)
            s = rep["summary"]
            vals = s["test"]["values"]
            within = ""
            if recipe.expected is not None:
                tol = recipe.expected[1] if recipe.expected[1] is not None else (s["test"]["std"] or 0.0)
                within = "yes" if abs(s["test"]["mean"] - recipe.expected[0]) <= tol else "no"
            env = rep["environment"]
            rows.append(f"| {name} | {_pm(vals)} | {pub} | {within} | {s['runs']} | "
                        f"{_range(s['epochs'])} | {s['seconds_per_epoch']:.2f} | "
                        f"{rep['wall_seconds'] / 60:.1f} | {env['hardware']}, {env['threads']} thr | complete |")
        else:
            p = partial(exp, recipe.metric == "rmse")
            (DOCS / f"{name}.partial.json").write_text(json.dumps(p, separators=(",", ":")) + "\n")
            # mean-curve picks one epoch across all folds: no number until every fold is done
            mean_curve = p["config"]["train"]["select"] == "mean-curve"
            vals = [] if mean_curve else [r["selected"]["test"] for r in p["finished_runs"]]
            prog = "; ".join(f"{r['name']} at epoch {r['epochs_done']}/{r['of']}" + (
                f" (best valid so far {r['best_so_far']['valid']:.4f})" if "valid" in r["best_so_far"] else "")
                for r in p["in_progress"])
            spe = [r["seconds_per_epoch"] for r in p["finished_runs"] + p["in_progress"]]
            want = p["config"]["folds"] or p["config"]["seeds"]
            rows.append(f"| {name} | {_pm(vals)} | {pub} | - | {len(p['finished_runs'])} of {want} | - | "
                        f"{statistics.fmean(spe):.2f} | - | - | **partial**: {prog or 'no run finished'} |"
                        if spe else f"| {name} | - | {pub} | - | 0 | - | - | - | - | **partial**: not started |")
    table = ("| recipe | ours (test, mean ± std) | published | within 1 std | runs | epochs | s/epoch | wall min "
             "| hardware | status |\n|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    doc = ROOT / "docs" / "reproductions.md"
    text = doc.read_text()
    start, end = "<!-- table:start -->", "<!-- table:end -->"
    text = text[:text.index(start) + len(start)] + "\n" + table + text[text.index(end):]
    doc.write_text(text)
    print(table)


if __name__ == "__main__":
    main()
