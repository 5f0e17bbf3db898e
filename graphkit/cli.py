"""Command line: ``graphkit train``, ``graphkit repro``, ``graphkit list``, ``graphkit info``.

Argument parsing and printing only: the name tables and the assembly of experiments live in
:mod:`graphkit.catalog`.

Examples::

    graphkit train --model gin-vn --dataset ogbg-molhiv --epochs 100 --seeds 10 --model.hidden 300
    graphkit repro cora-gcn --seeds 10
    graphkit list
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

import graphkit
from graphkit import backend
from graphkit.catalog import (
    GEOM,
    HYPERGRAPHS,
    MODELS,
    PLANETOID,
    PLANETOID_SPLITS,
    PLATONOV,
    TRAFFIC_SETS,
    TU,
    build_experiment,
    own_dataset,
)
from graphkit.data import cache_dir, data_root
from graphkit.data.ogb import ogb_names
from graphkit.inference import evaluate_run, predict_file, predict_split, write_predictions
from graphkit.recipes import RECIPES, Recipe
from graphkit.train import run_experiment
from graphkit.train.config import unknown_name

# -------------------------------------------------------------------- runs
SHORTCUTS = {"epochs": "train.epochs", "batch-size": "train.batch_size", "lr": "optim.lr",
             "device": "train.device", "seeds": "seeds", "folds": "folds", "threads": "train.threads",
             "first-seed": "first_seed", "parallel-runs": "train.parallel_runs"}


def parse_overrides(tokens: list[str]) -> list[tuple[str, str]]:
    """``['--a.b', '1', '--c=2']`` -> ``[('a.b', '1'), ('c', '2')]``; clear errors for stray tokens."""
    pairs, i = [], 0
    while i < len(tokens):
        tok = tokens[i]
        if not tok.startswith("--"):
            raise ValueError(f"unexpected argument {tok!r}; settings look like --train.epochs 100")
        key = tok[2:]
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        else:
            if i + 1 >= len(tokens) or (tokens[i + 1].startswith("--") and not _is_number(tokens[i + 1])):
                raise ValueError(f"--{key} needs a value")
            value = tokens[i + 1]
            i += 2
        pairs.append((SHORTCUTS.get(key, key.replace("-", "_") if "." not in key else key), value))
    return pairs


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _train(args, extra: list[str]) -> int:
    overrides = parse_overrides(extra)
    own = own_dataset(args.dataset, args.split, args.task, args.split_seed)
    dataset = args.dataset
    if own is not None:  # recorded in the run's config, so that evaluate / predict rebuild the same split
        dataset = str(Path(dataset).resolve()) if Path(dataset).is_file() else dataset
        overrides = [("data.own_split", args.split), ("data.own_split_seed", str(args.split_seed)),
                     ("data.own_task", args.task or "auto"), *overrides]
    cfg, loaded, build = build_experiment(args.model, dataset, overrides, args.data_root, own)
    out = Path(args.out or f"runs/{loaded.name.lower()}-{cfg.model}")
    return _run(cfg, loaded, build, out, args, f"{loaded.name} {cfg.model}")


def _repro(args, extra: list[str]) -> int:
    if args.name not in RECIPES:
        raise unknown_name("recipe", args.name, RECIPES)
    r: Recipe = RECIPES[args.name]
    pairs = list(r.settings.items()) + list(r.runs.items()) + parse_overrides(extra)
    cfg, loaded, build = build_experiment(r.model, r.dataset, pairs, args.data_root)
    out = Path(args.out or f"runs/{r.name}")
    code = _run(cfg, loaded, build, out, args, r.name, recipe=r)
    return code


def _evaluate(args) -> int:
    ev = evaluate_run(args.run, args.data_root, args.device)
    parts = [f"{split} {ev.metric} {score:.4f}" + (f" (run reported {ev.reported[split]:.4f})"
                                                   if split in ev.reported else "")
             for split, score in ev.scores.items()]
    print(f"{ev.folder}: epoch {ev.epoch}: " + ", ".join(parts))
    return 0


def _predict(args) -> int:
    if args.dataset:
        p = predict_file(args.run, args.dataset, args.device)
        out = args.output or f"{p.folder}/predictions-{Path(args.dataset).stem}.csv"
    else:
        p = predict_split(args.run, args.split, args.data_root, args.device)
        out = args.output or f"{p.folder}/predictions-{args.split}.csv"
    print(f"{write_predictions(out, p)}: {p.prediction.size(0)} predictions ({p.what})")
    return 0


def _run(cfg, loaded, build, out, args, title, recipe: Recipe | None = None) -> int:
    log = (lambda s: None) if args.quiet else print
    if not args.quiet and os.environ.get("RANK", "0") == "0":
        print(loaded.summary())
    report = run_experiment(cfg, loaded, build, out, resume=args.resume, progress=None if not args.quiet else False,
                            log=log, title=title)
    from graphkit.train.distributed import is_main

    if not is_main():  # under torchrun only rank 0 reports
        return 0
    line = report["summary_line"]
    if report["summary"].get("status") == "diverged":
        print(f"results: {out / 'results.json'}")
        print(line)
        return 1
    if recipe is not None and recipe.expected is not None:
        mean, std = recipe.expected
        ours = report["summary"]["test"]
        tol = std if std is not None else ours["std"]
        verdict = "" if tol is None else (
            "; within one std" if abs(ours["mean"] - mean) <= tol else f"; off by {abs(ours['mean'] - mean):.4f}")
        line += (f" | published {mean:.4g}" + (f" ± {std:.4g}" if std is not None else "")
                 + f" ({recipe.source}){verdict}")
    print(f"results: {out / 'results.json'}")
    print(line)
    return 0


def _list() -> str:
    lines = ["models:"]
    lines += [f"  {name:<11} {entry.description}" for name, entry in MODELS.items()]
    lines.append("datasets (case-insensitive):")
    lines.append("  planetoid: " + ", ".join(sorted(PLANETOID)))
    lines.append("  planetoid, 10 full-supervised splits: " + ", ".join(sorted(PLANETOID_SPLITS)))
    lines.append("  heterophily (10 splits): " + ", ".join(sorted(GEOM) + sorted(PLATONOV)))
    lines.append("  hypergraphs (AllSet 50/25/25 splits): " + ", ".join(sorted(HYPERGRAPHS)))
    lines.append("  TU (10-fold CV): " + ", ".join(sorted(TU)))
    lines.append("  graph transformers' sets (official splits): peptides-func, peptides-struct, zinc")
    lines.append("  traffic series (forecasting): " + ", ".join(sorted(TRAFFIC_SETS)))
    names = ogb_names()
    for prefix in ("ogbg", "ogbn", "ogbl"):
        lines.append(f"  {prefix}: " + ", ".join(n for n in names if n.startswith(prefix)))
    lines.append("recipes (graphkit repro NAME):")
    for r in RECIPES.values():
        exp = "" if r.expected is None else (
            f"{r.expected[0]:.4g}" + (f" ± {r.expected[1]:.4g}" if r.expected[1] else ""))
        lines.append(f"  {r.name:<24} {r.model} on {r.dataset}, {r.metric} {exp}".rstrip())
    return "\n".join(lines)


def info() -> str:
    """The text of ``graphkit info``: versions, CUDA, the backend chosen for each op, data root and cache."""
    cpu = torch.device("cpu")
    lines = [
        f"graphkit {graphkit.__version__}, torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}",
        "optional packages: " + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in backend.summary().items()),
        f"default backends (cpu): scatter sum={backend.scatter_backend(cpu, 'sum')}, "
        f"scatter max={backend.scatter_backend(cpu, 'max')}, "
        f"spmm sum={backend.spmm_backend(cpu, 'sum')}, spmm max={backend.spmm_backend(cpu, 'max')}",
        f"data root: {data_root().resolve()}  cache: {cache_dir()}",
    ]
    return "\n".join(lines)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", help="data root (default: $GRAPHKIT_DATA, else ./datasets)")
    p.add_argument("--out", help="run directory (default: runs/<name>)")
    p.add_argument("--resume", action="store_true", help="continue the experiment in --out (finished runs are kept)")
    p.add_argument("--quiet", action="store_true", help="print only the final lines")
    p.add_argument("--nproc", type=int, default=1,
                   help="data-parallel processes on this machine (torchrun, gloo on CPU / nccl on GPUs)")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``graphkit`` command; returns the exit code (2 with a one-line message on bad input)."""
    parser = argparse.ArgumentParser(
        prog="graphkit", description="graphkit: graph learning on one sparse core",
        epilog="Any config field can be set as --section.field VALUE (sections: model, optim, train), "
               "e.g. --model.hidden 256 --optim.lr 0.01 --train.patience 20; see `graphkit list`.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="show versions, available backends and the data root")
    sub.add_parser("list", help="show models, datasets and recipes")
    p_train = sub.add_parser("train", help="train a model on a dataset over several seeds",
                             epilog="Shortcuts: --epochs, --batch-size, --lr, --seeds, --folds, --device, --threads; "
                                    "any other setting as --model.X / --optim.X / --train.X VALUE.")
    p_train.add_argument("--model", required=True, help="model name (see `graphkit list`)")
    p_train.add_argument("--dataset", required=True,
                         help="dataset name (case-insensitive), a file written by torch.save (a Data, a list of "
                              "Data, or (data, slices)), or package.module:function returning one")
    p_train.add_argument("--split", default="0.8,0.1,0.1",
                         help="own data: train,valid,test fractions (stratified random split)")
    p_train.add_argument("--split-seed", type=int, default=0, help="own data: seed of the random split")
    p_train.add_argument("--task", choices=("multiclass", "binary", "regression"),
                         help="own data: the task (default: read from y)")
    _common(p_train)
    p_repro = sub.add_parser("repro", help="run a reproduction recipe (see `graphkit list`)")
    p_repro.add_argument("name", help="recipe name")
    _common(p_repro)
    for verb, text in (("evaluate", "rescore a finished run's selected model with the dataset's metric"),
                       ("predict", "write a finished run's predictions for a split (CSV, or .pt)")):
        p = sub.add_parser(verb, help=text)
        p.add_argument("--run", required=True, help="run folder (run-seed00/) or experiment folder (its first run)")
        p.add_argument("--data-root", help="data root (default: the run's, else $GRAPHKIT_DATA)")
        p.add_argument("--device", help="cpu (default), cuda, cuda:N")
        p.add_argument("--split", default="test", help="train, valid or test (default test)")
        if verb == "predict":
            p.add_argument("--output", help="file to write (.csv or .pt; default <run>/predictions-<split>.csv)")
            p.add_argument("--dataset", help="predict for the graphs of this file instead (torch.save of a Data "
                                             "or a list of Data; no labels needed)")
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "nproc", 1) < 1:
        print(f"graphkit {args.command}: error: --nproc must be >= 1, got {args.nproc}", file=sys.stderr)
        return 2
    if getattr(args, "nproc", 1) > 1 and "WORLD_SIZE" not in os.environ:
        from graphkit.train.distributed import launch

        argv = list(sys.argv[1:] if argv is None else argv)
        drop = {i for i, a in enumerate(argv) if a == "--nproc"}
        drop |= {i + 1 for i in drop}
        return launch(args.nproc, [a for i, a in enumerate(argv) if i not in drop and not a.startswith("--nproc=")])
    try:
        if args.command == "info":
            if extra:
                parser.error(f"unrecognized arguments: {' '.join(extra)}")
            print(info())
            return 0
        if args.command == "list":
            print(_list())
            return 0
        if args.command in ("evaluate", "predict"):
            if extra:
                parser.error(f"unrecognized arguments: {' '.join(extra)}")
            return _evaluate(args) if args.command == "evaluate" else _predict(args)
        if args.command == "train":
            return _train(args, extra)
        return _repro(args, extra)
    except (ValueError, FileExistsError, FileNotFoundError, NotImplementedError) as exc:
        print(f"graphkit {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"graphkit {args.command}: interrupted. Every finished epoch is checkpointed: run the same command "
              "with --resume to continue", file=sys.stderr)
        return 130
    except Exception as exc:  # a run that failed: one line, the traceback only on request
        if os.environ.get("GRAPHKIT_DEBUG") == "1":
            raise
        print(f"graphkit {args.command}: failed: {_failure(exc)} (GRAPHKIT_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 600 else text[:597] + "..."


def _failure(exc: BaseException) -> str:
    """What went wrong and what to do, for the failures a run meets that are not bad arguments."""
    import errno

    import torch

    if isinstance(exc, (MemoryError, torch.OutOfMemoryError)) or "can't allocate memory" in str(exc):
        return ("out of memory; lower --model.hidden, --batch-size or the number of layers "
                f"({exc.__class__.__name__})")
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        if exc.errno == errno.ENOSPC:
            return f"the disk is full (writing{where}); free space or choose another --out or GRAPHKIT_CACHE"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return (f"cannot write{where} ({exc.strerror}); choose a writable --out, or set GRAPHKIT_CACHE to a "
                    "writable folder")
        return f"{exc.strerror or exc.__class__.__name__}{where}"
    return f"{exc.__class__.__name__}: {_one_line(exc)}"


if __name__ == "__main__":
    sys.exit(main())
