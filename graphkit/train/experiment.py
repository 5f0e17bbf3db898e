"""An experiment: one model on one dataset over several seeds (or CV folds).

Writes into ``out/``: ``config.json``; one ``run-*/`` folder per run
(``checkpoint.pt``, ``log.csv``, ``results.json``); ``results.json`` for the
experiment (config, dataset, every run's per-epoch curves and selected epoch,
mean and unbiased std, package versions, device, wall time); ``runs.csv``
(one row per run); ``curves.png``. With ``resume=True`` finished runs are read
back and an interrupted one continues from its checkpoint.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

from graphkit.data.bundle import Loaded
from graphkit.data.prepare import prepare_graph
from graphkit.train import distributed, io
from graphkit.train.config import DataConfig, ExperimentConfig, OptimConfig, TrainConfig, migrate
from graphkit.train.host_memory import reuse_freed_memory
from graphkit.train.loop import fit
from graphkit.train.parallel_runs import check_parallel_runs, run_forked
from graphkit.train.run_dir import RunLock, refuse_nested
from graphkit.train.tasks import ForecastTask, GraphTask, LinkTask, NodeTask

TASKS = {"node": NodeTask, "graph": GraphTask, "link": LinkTask, "forecast": ForecastTask}


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available else CPU; anything else as ``torch.device``, checked to exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"train.device={name!r} is not a device: use 'auto', 'cpu', 'cuda' or 'cuda:N' "
                         f"({str(exc).splitlines()[0]})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"train.device={name!r} but CUDA is not available here; use 'cpu' or 'auto'")
    return dev


def mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean and unbiased (n - 1) standard deviation; std is None for a single value."""
    vals = [v for v in values if v == v]
    if not vals:
        return float("nan"), None
    return statistics.fmean(vals), (statistics.stdev(vals) if len(vals) > 1 else None)


def summarize(results: list[dict[str, Any]], metric_name: str, select: str) -> dict[str, Any]:
    """Mean ± std over runs of the reported epoch's scores.

    ``select="mean-curve"`` is the GIN paper's protocol: the single epoch that
    maximises the test score averaged over runs (folds) is reported for all.
    """
    out: dict[str, Any] = {"metric": metric_name, "runs": len(results), "select": select, "status": "ok"}
    out["epochs"] = [r["epochs_run"] for r in results]
    diverged = [r for r in results if r.get("status") == "diverged"]
    if diverged:  # no mean over the runs that survived: that would report a biased score
        out["status"] = "diverged"
        out["diverged"] = [{"run": r.get("name"), **r["diverged"]} for r in diverged]
        return out
    if select == "mean-curve":
        length = min(len(r["history"]) for r in results)
        curve = [statistics.fmean(r["history"][e]["test"] for r in results) for e in range(length)]
        best = max(range(length), key=lambda e: curve[e])
        picked = [r["history"][best] for r in results]
        out["epoch"] = best + 1
    else:
        picked = [r["selected"] for r in results]
    for split in ("train", "valid", "test"):
        if split in picked[0]:
            m, s = mean_std([p[split] for p in picked])
            out[split] = {"mean": m, "std": s, "values": [p[split] for p in picked]}
    extra = _aggregate_details(picked)
    if extra:
        out["details"] = extra
    out["seconds_per_epoch"] = statistics.fmean(r["seconds_per_epoch"] for r in results)
    # a run restored from a progress JSON written before whole results were kept lacks the train/eval split
    train = [r["train_seconds_per_epoch"] for r in results if "train_seconds_per_epoch" in r]
    if train:
        out["train_seconds_per_epoch"] = statistics.fmean(train)
    restored = [r["name"] for r in results if "restored" in r]
    if restored:
        out["restored_runs"] = restored
    return out


def _aggregate_details(picked: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean over runs of the reported epoch's extra scores (forecasting: ``test_mae_per_horizon`` lists,
    ``test_tgcn`` dicts, ``test_rmse`` floats ...): floats get mean and std, lists elementwise means."""
    out: dict[str, Any] = {}
    for key, first in picked[0].items():
        if not key.startswith(("valid_", "test_", "train_")) or key.endswith("seconds"):
            continue
        vals = [p[key] for p in picked if key in p]
        if isinstance(first, (int, float)):
            m, s = mean_std([float(v) for v in vals])
            out[key] = {"mean": m, "std": s}
        elif isinstance(first, list):
            out[key] = [statistics.fmean(v[i] for v in vals) for i in range(len(first))]
        elif isinstance(first, dict):
            out[key] = {k: dict(zip(("mean", "std"), mean_std([float(v[k]) for v in vals]))) for k in first}
    return out


def format_summary(name: str, s: dict[str, Any]) -> str:
    """The summary line printed at the end of a run: test (and valid) mean ± std over runs."""
    def pm(d):
        return f"{d['mean']:.4f}" + (f" ± {d['std']:.4f}" if d["std"] is not None else "")

    if s.get("status") == "diverged":
        first = s["diverged"][0]
        return (f"{name}: DIVERGED in {len(s['diverged'])} of {s['runs']} run(s) (non-finite {first['what']} at "
                f"epoch {first['epoch']} of {first['run']}); no score is reported. Lower the learning rate "
                "(--optim.lr) or clip gradients (--train.clip_grad)")

    parts = [f"test {s['metric']} {pm(s['test'])}"]
    if "valid" in s:
        parts.append(f"valid {pm(s['valid'])}")
    epochs = sorted(set(s["epochs"]))
    ep = f"{epochs[0]}" if len(epochs) == 1 else f"{epochs[0]}-{epochs[-1]}"
    extra = f", epoch {s['epoch']} (mean-curve)" if "epoch" in s else ""
    return (f"{name}: {', '.join(parts)} over {s['runs']} run(s), {ep} epochs{extra}, "
            f"{s['seconds_per_epoch']:.2f} s/epoch")


def _runs(cfg: ExperimentConfig, loaded: Loaded) -> list[tuple[str, int, dict]]:
    if cfg.folds:
        if not loaded.folds:
            raise ValueError(f"{loaded.name} has no cross-validation folds; drop --folds")
        if cfg.folds > len(loaded.folds):
            raise ValueError(f"folds={cfg.folds} but {loaded.name} has {len(loaded.folds)} folds")
        return [(f"run-fold{i:02d}", cfg.first_seed, loaded.folds[i]) for i in range(cfg.folds)]
    if cfg.seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {cfg.seeds}")
    return [(f"run-seed{s:02d}", s, loaded.split) for s in range(cfg.first_seed, cfg.first_seed + cfg.seeds)]


def _comparable(value: Any) -> Any:
    """A config value as comparable data: lists and tuples alike (JSON holds lists), and the text form
    ``"64,16,64"`` of list settings saved before they were typed as tuples read as that tuple."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(_comparable(v) for v in value)
    if isinstance(value, str) and "," in value:
        try:
            return tuple(int(v) for v in value.split(","))
        except ValueError:
            return value
    return value


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """``section.field: saved -> now`` for every setting that differs (nested dicts walked)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for k in sorted(set(old) | set(new), key=str):
            out += _differences(old.get(k), new.get(k), f"{prefix}{k}.")
        return out
    return [] if old == new else [f"{prefix[:-1]}: saved {old!r}, now {new!r}"]


def _check_out(out: Path, cfg: ExperimentConfig, resume: bool) -> None:
    saved = out / "config.json"
    if not saved.exists():
        return
    if not resume:
        raise FileExistsError(f"{out} already holds an experiment; pass --resume to continue it "
                              "or choose another --out")
    old = migrate(io.load_json(saved))  # data settings saved under train move to data
    new = cfg.to_dict()
    # Settings added to graphkit after the run started take their defaults, which keep the old behaviour.
    for section, cls in (("optim", OptimConfig), ("train", TrainConfig), ("data", DataConfig)):
        old[section] = {**dataclasses.asdict(cls()), **old.get(section, {})}
    if old.get("train", {}).get("fanouts") == "":  # the empty list setting, as configs saved before lists held it
        old["train"]["fanouts"] = ()
    old, new = _comparable(old), _comparable(new)
    for key in ("seeds", "folds"):  # adding seeds to a finished experiment is fine
        old.pop(key, None)
        new.pop(key, None)
    # where it runs, not what it computes; eval_test only decides on which epochs the test split is also scored
    for key in ("device", "threads", "num_workers", "collate", "parallel_runs", "eval_test"):
        old.get("train", {}).pop(key, None)
        new["train"].pop(key, None)
    if old != new:
        diff = _differences(old, new)
        raise ValueError(f"--resume: the configuration differs from the one saved in {saved}: "
                         f"{'; '.join(diff)}. Use the same settings or another --out")


def run_experiment(cfg: ExperimentConfig, loaded: Loaded, build_model: Callable[[], torch.nn.Module],
                   out: str | Path, resume: bool = False, progress: bool | None = None,
                   log: Callable[[str], None] = print, title: str | None = None) -> dict[str, Any]:
    """Run every seed/fold, write the files listed above, return the experiment summary."""
    out = Path(out)
    if progress is None:
        progress = sys.stderr.isatty()
    distributed.setup(cfg.train.dist_timeout)
    device = distributed.device_for_rank(resolve_device(cfg.train.device))
    main = distributed.is_main()
    if not main:
        log, progress = (lambda s: None), False
    if cfg.train.threads > 0:
        torch.set_num_threads(cfg.train.threads)
    reuse_freed_memory()  # large activations reuse freed heap blocks instead of fresh page faults
    check_parallel_runs(cfg.train.parallel_runs, cfg.train.threads, device, distributed.world_size())
    refuse_nested(out)  # before anything is created
    # one writer per run directory: the lock is held until the experiment's files are written
    with (RunLock(out) if main else contextlib.nullcontext()):
        _check_out(out, cfg, resume)
        distributed.barrier()  # every rank checks the run directory before rank 0 writes into it
        if main:
            out.mkdir(parents=True, exist_ok=True)
            io.write_json(out / "config.json", cfg.to_dict())
        title = title or f"{loaded.name} {cfg.model}"
        loaded = prepare_graph(loaded, cfg.data.to_undirected, cfg.data.normalize_features)
        runs = _runs(cfg, loaded)
        t0 = time.perf_counter()
        results = []
        task_cache: dict[int, Any] = {}
        bar = runs
        if progress:
            bar = io.progress(runs, 0, "runs")
        workers = min(cfg.train.parallel_runs, len(runs))

        def run(name: str, seed: int, split: dict, quiet: bool = False) -> dict[str, Any]:
            key = id(split)
            if key not in task_cache:
                task_cache.clear()
                task_cache[key] = TASKS[loaded.level](loaded, split, cfg.train, device)
            return fit(task_cache[key], build_model, cfg.optim, cfg.train, seed, out / name, device, loaded.metric,
                       resume=resume, progress=progress and not quiet, log=log)

        def report_run(name: str, result: dict[str, Any]) -> None:
            sel = result["selected"]
            if result.get("status") == "diverged":
                log(f"{name}: diverged at epoch {result['diverged']['epoch']}")
            else:
                log(f"{name}: epoch {sel['epoch']} " + " ".join(f"{k} {sel[k]:.4f}" for k in ("valid", "test")
                                                              if k in sel))

        if workers > 1:  # the runs in forked one-thread workers; a shared split's task is built once, here
            if len({id(split) for _, _, split in runs}) == 1:
                task_cache[id(runs[0][2])] = TASKS[loaded.level](loaded, runs[0][2], cfg.train, device)
            results = run_forked([(name, functools.partial(run, name, seed, split, True))
                                  for name, seed, split in runs], workers,
                                 on_done=lambda i, result: report_run(runs[i][0], result))  # as each finishes
            for (name, _, _), result in zip(runs, results):
                result["name"] = name
        else:
            for name, seed, split in bar:
                result = run(name, seed, split)
                result["name"] = name
                results.append(result)
                report_run(name, result)
        summary = summarize(results, loaded.metric.name, cfg.train.select)
        line = format_summary(title, summary)
        report = {"title": title, "config": cfg.to_dict(), "dataset": loaded.summary(), "summary": summary,
                  "summary_line": line, "environment": io.environment(device),
                  "wall_seconds": sum(r["wall_seconds"] for r in results),
                  "session_seconds": time.perf_counter() - t0, "runs": results}
        if not main:
            return report
        io.write_json(out / "results.json", report)
        io.write_csv(out / "runs.csv", [{"run": r["name"], "seed": r["seed"], "epochs": r["epochs_run"],
                                         "selected_epoch": r["selected_epoch"],
                                         **{k: r["selected"].get(k, math.nan) for k in ("valid", "test")},
                                         "seconds_per_epoch": r["seconds_per_epoch"]} for r in results])
        io.plot_curves(out / "curves.png", [r["history"] for r in results], loaded.metric.name, title)
        return report
