"""Collect finished (and in-progress) reproduction runs into docs/reproductions.

    python scripts/collect_reproductions.py [runs/]
    python scripts/collect_reproductions.py --recipe NAME [--run-dir runs/elsewhere/NAME]

For each ``runs/<recipe>/`` it copies ``results.json`` (finished experiments) to
``docs/reproductions/<recipe>.json`` (config, per-epoch curves, summary,
versions, hardware; never checkpoints or data). Unfinished experiments get a
``<recipe>.partial.json`` with the runs finished so far (each run's whole result) and the progress of the
one in flight; ``scripts/restore_progress.py`` turns it back into an experiment folder that ``--resume``
continues. It then rewrites the generated table in docs/reproductions.md.
With ``--recipe`` it collects that one recipe (from ``--run-dir`` when the run was made with ``--out``
elsewhere) and replaces only its row.
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphkit.recipes import RECIPES  # noqa: E402

DOCS = ROOT / "docs" / "reproductions"
REPORT = ROOT / "docs" / "reproductions.md"


def _pm(values):
    if not values:
        return "-"
    m = statistics.fmean(values)
    return f"{m:.4f}" + (f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else "")


def _range(epochs):
    lo, hi = min(epochs), max(epochs)
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


def _span(values):
    """One number, or the range when runs' speeds differ by more than a quarter (runs made on different
    machines or thread counts: their mean would describe none of them)."""
    lo, hi = min(values), max(values)
    return f"{statistics.fmean(values):.2f}" if hi <= 1.25 * lo else f"{lo:.2f}-{hi:.2f}"


def _machine(segment: dict) -> str:
    return f"{segment['hardware']}, {segment['threads']} thr"


def _stretches(result: dict) -> list[tuple[int, int, float, str | None]]:
    """(first epoch, last epoch, mean seconds per epoch, machine or None when not recorded) for each stretch of
    a finished run, from its ``segments``: one per machine it ran on (a resume starts a new one). Runs made
    before segments were kept give one unrecorded stretch."""
    segments, history = result.get("segments") or [], result.get("history") or []
    if not segments or not history:
        return [(1, result.get("epochs_run", 0), result["seconds_per_epoch"], None)]
    last = history[-1]["epoch"]
    bounds = [(1, segments[0]["from_epoch"] - 1, None)] if segments[0]["from_epoch"] > 1 else []
    bounds += [(seg["from_epoch"], segments[k + 1]["from_epoch"] - 1 if k + 1 < len(segments) else last,
                _machine(seg)) for k, seg in enumerate(segments)]
    out = []
    for lo, hi, where in bounds:
        secs = [h["epoch_seconds"] for h in history if lo <= h["epoch"] <= hi]
        if secs:
            out.append((lo, hi, statistics.fmean(secs), where))
    return out


def _where(result: dict) -> str:
    """Seconds per epoch of a finished run on each machine it ran on."""
    stretches = _stretches(result)
    if len(stretches) == 1:
        _, _, secs, where = stretches[0]
        return f"{secs:.1f} s/epoch " + (f"on {where}" if where else "(machine not recorded)")
    return ", then ".join(f"epochs {lo}-{hi} " + (f"{secs:.1f} s/epoch on {where}" if where
                                                  else "machine not recorded") for lo, hi, secs, where in stretches)


def partial(exp: Path, lower_is_better: bool) -> dict:
    """Runs finished so far plus the last checkpointed epoch of the one in progress."""
    cfg = json.loads((exp / "config.json").read_text())
    done, progress = [], []
    for run in sorted(exp.glob("run-*")):
        res = run / "results.json"
        if res.exists():
            r = json.loads(res.read_text())
            # the whole result (curves included): scripts/restore_progress.py rebuilds the run from it on a
            # machine that lacks runs/, so a finished seed is never trained twice
            done.append({"name": run.name, "selected": r["selected"], "epochs_run": r["epochs_run"],
                         "seconds_per_epoch": r["seconds_per_epoch"], "result": r})
        elif (run / "log.csv").exists():
            rows = list(csv.DictReader((run / "log.csv").open()))
            if rows:
                sign = -1.0 if lower_is_better else 1.0
                best = max(rows, key=lambda h: sign * float(h["valid"])) if "valid" in rows[0] else rows[-1]
                progress.append({"name": run.name, "epochs_done": len(rows), "of": cfg["train"]["epochs"],
                                 "best_so_far": {k: float(v) for k, v in best.items()},
                                 "seconds_per_epoch": statistics.median(float(h["epoch_seconds"]) for h in rows)})
    return {"config": cfg, "finished_runs": done, "in_progress": progress}


def recipe_row(name: str, exp: Path) -> str | None:
    """The results-table row of recipe ``name`` from its experiment folder ``exp``; copies the run JSON
    (``NAME.json`` when finished, else ``NAME.partial.json``) into docs/reproductions on the way. A recipe
    without a local run keeps its committed JSON's row (runs/ does not outlive a session); None when there is
    neither."""
    recipe = RECIPES[name]
    local = (exp / "config.json").exists()
    committed, committed_partial = DOCS / f"{name}.json", DOCS / f"{name}.partial.json"
    if not local and not committed.exists() and not committed_partial.exists():
        return None
    pub = "-" if recipe.expected is None else (
        f"{recipe.expected[0]:.4g}" + (f" ± {recipe.expected[1]:.4g}" if recipe.expected[1] is not None else ""))
    rep = None
    if (exp / "results.json").exists():
        rep = json.loads((exp / "results.json").read_text())
        committed.write_text(json.dumps(rep, separators=(",", ":")) + "\n")
        committed_partial.unlink(missing_ok=True)
    elif not local and committed.exists():
        rep = json.loads(committed.read_text())
    if rep is not None:
        s = rep["summary"]
        vals = s["test"]["values"]
        within = ""
        if recipe.expected is not None:
            tol = recipe.expected[1] if recipe.expected[1] is not None else (s["test"]["std"] or 0.0)
            within = "yes" if abs(s["test"]["mean"] - recipe.expected[0]) <= tol else "no"
        env = rep["environment"]
        return (f"| {name} | {_pm(vals)} | {pub} | {within} | {s['runs']} | "
                f"{_range(s['epochs'])} | {s['seconds_per_epoch']:.2f} | "
                f"{rep['wall_seconds'] / 60:.1f} | {env['hardware']}, {env['threads']} thr | complete |")
    if local:
        p = partial(exp, recipe.metric == "rmse")
        committed_partial.write_text(json.dumps(p, separators=(",", ":")) + "\n")
    else:
        p = json.loads(committed_partial.read_text())
    # mean-curve picks one epoch across all folds: no number until every fold is done
    mean_curve = p["config"]["train"]["select"] == "mean-curve"
    vals = [] if mean_curve else [r["selected"]["test"] for r in p["finished_runs"]]
    prog = "; ".join(f"{r['name']} at epoch {r['epochs_done']}/{r['of']}" + (
        f" (best valid so far {r['best_so_far']['valid']:.4f})" if "valid" in r["best_so_far"] else "")
        for r in p["in_progress"])
    # seconds per epoch per machine stretch of each finished run, and the in-progress runs' medians
    spe = ([secs for r in p["finished_runs"] for _, _, secs, _ in _stretches(r.get("result") or r)]
           + [r["seconds_per_epoch"] for r in p["in_progress"]])
    want = p["config"]["folds"] or p["config"]["seeds"]
    if not spe:
        return f"| {name} | - | {pub} | - | 0 | - | - | - | - | **partial**: not started |"
    done = len(p["finished_runs"])
    epochs = _range([r["epochs_run"] for r in p["finished_runs"]]) if done else "-"
    results = [r.get("result", {}) for r in p["finished_runs"]]
    machines = list(dict.fromkeys(_machine(seg) for r in results for seg in r.get("segments") or []))
    status = "; ".join(
        [f"{r['name']} test {r['selected']['test']:.4f} at epoch {r['selected']['epoch']}"
         + (f" (valid {r['selected']['valid']:.4f})" if "valid" in r["selected"] else "")
         + (f", {_where(res)}" if res else "")
         for r, res in zip(p["finished_runs"], results) if not mean_curve and "test" in r["selected"]]
        + ([prog] if prog else [f"{done} of {want} finished, none in progress"]))
    return (f"| {name} | {_pm(vals)} | {pub} | - | {done} of {want} | {epochs} | "
            f"{_span(spe)} | - | {'; '.join(machines) or '-'} | **partial**: {status} |")


def _replace_between(text: str, start: str, end: str, body: str) -> str:
    return text[:text.index(start) + len(start)] + "\n" + body + text[text.index(end):]


def collect_all(runs: Path) -> None:
    """Every recipe's row from ``runs/NAME/`` (or its committed JSON), and the traffic tables."""
    rows = [row for row in (recipe_row(name, runs / name) for name in RECIPES) if row is not None]
    table = ("| recipe | ours (test, mean ± std) | published | within 1 std | runs | epochs | s/epoch | wall min "
             "| hardware | status |\n|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    text = _replace_between(REPORT.read_text(), "<!-- table:start -->", "<!-- table:end -->", table)
    traffic = traffic_tables(runs)
    has_rows = any(line.startswith("| ") and "complete" in line or "partial" in line for line in traffic.splitlines())
    if "<!-- traffic:start -->" in text and has_rows:  # they need the local runs (per-horizon logs): else keep
        text = _replace_between(text, "<!-- traffic:start -->", "<!-- traffic:end -->", traffic)
    REPORT.write_text(text)
    print(table)
    print(traffic)


def collect_one(name: str, exp: Path) -> str:
    """Recipe ``name``'s JSON and row only, from the experiment folder ``exp`` (e.g. a run made with ``--out``
    elsewhere): every other row, its hand-written status and the traffic tables stay as they are. The row
    replaces the recipe's row in the table, or is appended to it."""
    if name not in RECIPES:
        raise SystemExit(f"unknown recipe {name!r} (graphkit list shows them)")
    if not (exp / "config.json").exists():
        raise SystemExit(f"{exp} holds no experiment (no config.json)")
    row = recipe_row(name, exp)
    text = REPORT.read_text()
    start, end = text.index("<!-- table:start -->"), text.index("<!-- table:end -->")
    lines = text[start:end].split("\n")
    mine = [i for i, line in enumerate(lines) if line.startswith(f"| {name} |")]
    if mine:
        lines[mine[0]] = row
    else:
        lines.insert(len(lines) - 1, row)
    REPORT.write_text(text[:start] + "\n".join(lines) + text[end:])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="?", type=Path, default=ROOT / "runs", help="folder of runs/NAME/ experiments")
    parser.add_argument("--recipe", help="collect this recipe only (its JSON and its table row)")
    parser.add_argument("--run-dir", type=Path, help="with --recipe: its experiment folder (default runs/NAME)")
    args = parser.parse_args()
    DOCS.mkdir(parents=True, exist_ok=True)
    if args.run_dir is not None and args.recipe is None:
        parser.error("--run-dir needs --recipe")
    if args.recipe is not None:
        print(collect_one(args.recipe, args.run_dir or args.runs / args.recipe))
    else:
        collect_all(args.runs)


def _forecast_row(name: str, exp: Path) -> dict | None:
    """Selected-epoch forecasting scores of a finished experiment, or of the best epoch so far of a running one."""
    if (exp / "results.json").exists():
        rep = json.loads((exp / "results.json").read_text())
        return {"status": "complete", "epochs": rep["summary"]["epochs"], **rep["runs"][0]["selected"]}
    logs = sorted(exp.glob("run-*/log.csv"))
    if not logs:
        return None
    rows = list(csv.DictReader(logs[0].open()))
    if not rows:
        return None
    cfg = json.loads((exp / "config.json").read_text())
    key = "test" if cfg["train"]["select"] == "test" else "valid"
    best = min(rows, key=lambda h: float(h[key]))
    return {"status": f"partial: epoch {len(rows)}/{cfg['train']['epochs']}", "epochs": [len(rows)],
            **{k: float(v) for k, v in best.items() if v not in ("", None)}}


def traffic_tables(runs: Path) -> str:
    """Per-horizon tables of the forecasting recipes: the clean protocol (MAE / RMSE / MAPE at 15 / 30 / 60 min)
    and T-GCN's protocol (its five metrics on the pooled horizons)."""
    clean = ["| recipe | 15 min MAE / RMSE / MAPE | 30 min | 60 min | all 12 steps MAE | epochs | status |",
             "|---|---|---|---|---|---|---|"]
    tg = ["| recipe | horizon | RMSE | MAE | accuracy | R^2 | explained var. | published RMSE | epochs | status |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for name, recipe in RECIPES.items():
        exp = runs / name
        if recipe.model not in ("tgcn", "stgcn", "gwnet", "vn-stgnn", "sttn") or not (exp / "config.json").exists():
            continue
        r = _forecast_row(name, exp)
        if r is None:
            continue
        ep = _range(r["epochs"])
        if "-tgcn-" in name:
            t = r.get("test_tgcn")
            pub = f"{recipe.expected[0]:.4f}" if recipe.expected else "-"
            horizon = name.rsplit("-", 1)[1]
            if t:
                tg.append(f"| {name} | {horizon} | {t['rmse']:.4f} | {t['mae']:.4f} | {t['accuracy']:.4f} | "
                          f"{t['r2']:.4f} | {t['explained_variance']:.4f} | {pub} | {ep} | {r['status']} |")
            else:
                tg.append(f"| {name} | {horizon} | {r['test']:.4f} | - | - | - | - | {pub} | {ep} | {r['status']} |")
        else:
            cells = []
            for h in (2, 5, 11):
                if "test_mae_per_horizon" in r:
                    cells.append(f"{r['test_mae_per_horizon'][h]:.2f} / {r['test_rmse_per_horizon'][h]:.2f} / "
                                 f"{100 * r['test_mape_per_horizon'][h]:.2f}%")
                else:
                    cells.append("-")
            clean.append(f"| {name} | {' | '.join(cells)} | {r['test_mae']:.3f} | {ep} | {r['status']} |")
    return ("Clean protocol (70/10/20 windows, 12 -> 12, masked metrics on de-normalised speeds, test at the best "
            "validation MAE):\n\n" + "\n".join(clean) + "\n\nT-GCN's protocol (80/20, no validation, the epoch "
            "with the lowest test RMSE, metrics pooled over the predicted steps):\n\n" + "\n".join(tg) + "\n")


if __name__ == "__main__":
    main()
