"""Rebuild an unfinished reproduction's experiment folder from its committed progress JSON.

    python scripts/restore_progress.py --recipe NAME [--run-dir runs/NAME]
    graphkit repro NAME --resume [--out runs/NAME]      # then trains only the runs that did not finish

``runs/`` does not outlive the machine it was made on. ``scripts/collect_reproductions.py`` commits the
progress of an unfinished recipe as ``docs/reproductions/NAME.partial.json``: its config and every finished
run. This script writes them back as an experiment folder (``config.json`` and, per finished run,
``results.json`` and ``log.csv``), so that ``--resume`` skips those runs instead of training them again: a
seed of a long campaign is paid for once. The run that was in flight (its checkpoint stayed on the lost
machine) starts over.

Progress JSONs written before whole results were kept hold only each finished run's selected epoch, its
scores, its epoch count and its seconds per epoch; such a run is restored with an empty history and a
``restored`` note saying so, and the experiment's summary lists it under ``restored_runs``. Its score is
the one measured then; what is missing is its curve. Recipes scored on the mean curve over folds need every
fold's curve, so they refuse such a restore.

The folder must not exist yet (or be empty): a restore never overwrites a run.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphkit.recipes import RECIPES  # noqa: E402
from graphkit.train import io  # noqa: E402

DOCS = ROOT / "docs" / "reproductions"


def _seed_of(name: str, config: dict) -> int:
    m = re.fullmatch(r"run-seed(\d+)", name)
    return int(m.group(1)) if m else int(config.get("first_seed", 0))  # folds all use first_seed


def _result_of(entry: dict, config: dict, source: str) -> dict:
    """A finished run's results.json: the kept one, else rebuilt from the selected epoch (no history)."""
    if "result" in entry:
        return entry["result"]
    if config["train"]["select"] == "mean-curve":
        raise SystemExit(f"{source} keeps no curve for {entry['name']}, and this recipe is scored on the mean "
                         "curve over folds: it cannot be restored; run it again")
    selected = entry["selected"]
    return {
        "seed": _seed_of(entry["name"], config),
        "status": "ok",
        "epochs_run": entry["epochs_run"],
        "seconds_per_epoch": entry["seconds_per_epoch"],
        "wall_seconds": entry["seconds_per_epoch"] * entry["epochs_run"],
        "history": [],
        "selected_epoch": selected.get("epoch"),
        "selected": selected,
        "restored": f"from {source}, which kept this run's selected epoch, scores, epoch count and seconds per "
                    "epoch only: its per-epoch history and train/eval time split are not known",
    }


def restore(name: str, exp: Path, docs: Path = DOCS) -> list[str]:
    """Write recipe ``name``'s finished runs from ``docs/NAME.partial.json`` into ``exp``; their names."""
    if name not in RECIPES:
        raise SystemExit(f"unknown recipe {name!r} (graphkit list shows them)")
    finished, source = docs / f"{name}.json", docs / f"{name}.partial.json"
    if finished.exists():
        raise SystemExit(f"{name} is finished ({finished}); there is nothing to resume")
    if not source.exists():
        raise SystemExit(f"{source} does not exist: {name} has no committed progress to restore")
    if exp.exists() and any(exp.iterdir()):
        raise SystemExit(f"{exp} is not empty; a restore never writes over a run (choose another --run-dir)")
    progress = json.loads(source.read_text())
    config = progress["config"]
    rel = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
    results = [(entry["name"], _result_of(entry, config, str(rel))) for entry in progress["finished_runs"]]
    exp.mkdir(parents=True, exist_ok=True)
    io.write_json(exp / "config.json", config)
    for run, result in results:
        (exp / run).mkdir()
        if result["history"]:
            io.write_csv(exp / run / "log.csv", result["history"])
        io.write_json(exp / run / "results.json", result)
    return [run for run, _ in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", required=True, help="the recipe whose progress to restore")
    parser.add_argument("--run-dir", type=Path, help="the experiment folder to write (default runs/NAME)")
    args = parser.parse_args()
    exp = args.run_dir or ROOT / "runs" / args.recipe
    runs = restore(args.recipe, exp)
    print(f"{exp}: restored {len(runs)} finished run(s) ({', '.join(runs) or 'none'}); continue with "
          f"graphkit repro {args.recipe} --resume --out {exp}")


if __name__ == "__main__":
    main()
