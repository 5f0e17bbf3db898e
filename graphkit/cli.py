"""Command line: ``graphkit train``, ``graphkit repro``, ``graphkit list``, ``graphkit info``.

This module holds the only name -> class tables (models and datasets).

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
from typing import Any, Callable

import torch

import graphkit
from graphkit import backend
from graphkit.data import Loaded, cache_dir, data_root, load_ogb, load_tu, planetoid_task
from graphkit.data.graph_sets import load_peptides, load_zinc, with_encodings
from graphkit.data.heterophily import PLATONOV_SETS, WEBKB, load_geom_gcn, load_planetoid_geom, load_platonov
from graphkit.data.hypergraph import SETS as HYPERGRAPH_SETS
from graphkit.data.hypergraph import load_hypergraph
from graphkit.data.ogb import ogb_names
from graphkit.data.traffic import SERIES as TRAFFIC_SETS
from graphkit.data.traffic import forecast_task
from graphkit.models import (
    GAT,
    GCN,
    GIN,
    GMN,
    MLP,
    NSD,
    SAGE,
    STGCN,
    STTN,
    TGCN,
    GATConfig,
    GCNConfig,
    GINConfig,
    GMNConfig,
    GPSConfig,
    GraphGPS,
    GraphMambaConfig,
    GraphWaveNet,
    GraphWaveNetConfig,
    HypergraphNet,
    HypergraphNetConfig,
    LinkConfig,
    LinkModel,
    MLPConfig,
    MolGNN,
    MolGNNConfig,
    NSDConfig,
    SAGEConfig,
    STGCNConfig,
    STTNConfig,
    TGCNConfig,
    VirtualNodeSTGNNConfig,
)
from graphkit.recipes import RECIPES, Recipe
from graphkit.train import ExperimentConfig, apply_override, run_experiment
from graphkit.train.config import TrainConfig, unknown_name

# ---------------------------------------------------------------- datasets
PLANETOID = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
TU = {n.lower(): n for n in ("MUTAG", "PROTEINS", "NCI1", "PTC_MR", "ENZYMES", "DD", "IMDB-BINARY", "IMDB-MULTI",
                             "COLLAB", "REDDIT-BINARY", "REDDIT-MULTI-5K")}


# heterophily (10 fixed splits each): Geom-GCN files and Platonov et al.'s npz files
GEOM = {n: n for n in WEBKB} | {"film": "film", "actor": "film"}
PLATONOV = {n.replace("_", "-"): n for n in PLATONOV_SETS}
# Planetoid with 10 full-supervised splits: Geom-GCN's files, or seeded random 48/32/20 stand-ins
PLANETOID_SPLITS = {f"{k}-geom": (k, "geom-gcn") for k in PLANETOID} | {f"{k}-random": (k, "random") for k in PLANETOID}
HYPERGRAPHS = {f"{kind}-{name}": (kind, name) for kind, name in sorted(HYPERGRAPH_SETS)}


def dataset_names() -> list[str]:
    """Every dataset name ``graphkit train --dataset`` accepts, grouped by family."""
    return (sorted(PLANETOID) + sorted(PLANETOID_SPLITS) + sorted(GEOM) + sorted(PLATONOV) + sorted(HYPERGRAPHS)
            + sorted(TU) + sorted(TRAFFIC_SETS) + ["peptides-func", "peptides-struct", "zinc"] + ogb_names())


def own_dataset(spec: str, split: str = "0.8,0.1,0.1", task: str | None = None, seed: int = 0) -> Loaded | None:
    """A user's dataset named on the command line, or None when ``spec`` is not one: a file written by
    ``torch.save`` (``.pt``/``.pth``: a Data, a list of Data, or ``(data, slices)``), or
    ``package.module:function`` returning a Loaded or PyG data. ``split``: fractions ``"0.8,0.1,0.1"``."""
    from graphkit.data.from_pyg import from_pyg, load_pyg_file

    is_file = spec.endswith((".pt", ".pth")) or os.path.isfile(spec)
    is_function = not is_file and ":" in spec and all(p.replace(".", "").replace("_", "").isalnum()
                                                     for p in spec.split(":", 1))
    if not (is_file or is_function):
        return None
    try:
        fractions = tuple(float(f) for f in split.split(","))
    except ValueError:
        raise ValueError(f"--split must be fractions like 0.8,0.1,0.1, got {split!r}") from None
    if is_file:
        if not os.path.isfile(spec):
            raise FileNotFoundError(f"--dataset {spec}: no such file")
        obj, name = load_pyg_file(spec), Path(spec).stem
    else:
        import importlib

        module, _, attr = spec.partition(":")
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"--dataset {spec}: cannot import {attr!r} from {module!r} ({exc})") from None
        obj, name = fn(), attr
    if isinstance(obj, Loaded):
        return obj
    return from_pyg(obj, task=task, split=fractions, name=name, seed=seed)


def load_dataset(name: str, root: str | None, train: TrainConfig | None = None) -> Loaded:
    """Load a dataset by its usual name, case-insensitive (``ogbg-molhiv``, ``cora``, ``mutag``, ``metr-la``).

    Traffic sets read their windows and protocol from ``train`` (``window_in``, ``window_out``,
    ``protocol``, ``covariates``)."""
    key = name.lower()
    if key in ("peptides-func", "peptides-struct"):
        return load_peptides(key, root)
    if key == "zinc":
        return load_zinc(root)
    if key in TRAFFIC_SETS:
        t = train or TrainConfig()
        return forecast_task(key, root, t.protocol, t.window_in, t.window_out, t.covariates)
    if key in PLANETOID:
        return planetoid_task(key, root)
    if key in GEOM:
        return load_geom_gcn(GEOM[key], root)
    if key in PLATONOV:
        return load_platonov(PLATONOV[key], root)
    if key in PLANETOID_SPLITS:
        return load_planetoid_geom(*PLANETOID_SPLITS[key][:1], root=root, split=PLANETOID_SPLITS[key][1])
    if key in HYPERGRAPHS:
        return load_hypergraph(*HYPERGRAPHS[key], root=root)
    if key in TU:
        return load_tu(TU[key], root)
    if key.split("-")[0] in ("ogbg", "ogbn", "ogbl") and key in ogb_names():
        return load_ogb(key, root)
    raise unknown_name("dataset", name, dataset_names())


# ------------------------------------------------------------------ models
# name -> function(loaded) -> (config class, fixed config values, module class)
def _graph_node(d: Loaded) -> bool:
    return d.level == "node" and not d.extra.get("hypergraph")


def _gcn(d: Loaded):
    if _graph_node(d):
        return GCNConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs}, GCN
    if d.level == "graph" and d.extra.get("mol"):
        return MolGNNConfig, {"num_tasks": d.num_outputs, "gnn": "gcn"}, MolGNN
    if d.level == "link":
        return LinkConfig, {"in_channels": max(d.num_features, 1), "encoder": "gcn"}, LinkModel
    return None


def _gcn_vn(d: Loaded):
    if d.level == "graph" and d.extra.get("mol"):
        return MolGNNConfig, {"num_tasks": d.num_outputs, "gnn": "gcn", "virtual_node": True}, MolGNN
    return None


def _gin(d: Loaded):
    if d.level == "graph" and d.extra.get("mol"):
        return MolGNNConfig, {"num_tasks": d.num_outputs, "gnn": "gin"}, MolGNN
    if d.level == "graph":
        return GINConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs}, GIN
    return None


def _gat(d: Loaded, v2: bool = False):
    if _graph_node(d):
        return GATConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs, "v2": v2}, GAT
    if d.level == "graph" and not d.extra.get("mol"):  # molecules' integer atom features need an encoder
        return GATConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs, "v2": v2,
                           "graph_level": True}, GAT
    return None


def _gin_vn(d: Loaded):
    if d.level == "graph" and d.extra.get("mol"):
        return MolGNNConfig, {"num_tasks": d.num_outputs, "gnn": "gin", "virtual_node": True}, MolGNN
    return None


def _sage(d: Loaded):
    if _graph_node(d):
        return SAGEConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs}, SAGE
    if d.level == "link":
        return LinkConfig, {"in_channels": max(d.num_features, 1), "encoder": "sage"}, LinkModel
    return None


def _nsd(kind: str):
    def spec(d: Loaded):
        if _graph_node(d):
            return NSDConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs, "kind": kind}, NSD
        return None
    return spec


def _hypergraph(conv: str):
    def spec(d: Loaded):
        if d.level == "node" and d.extra.get("hypergraph"):
            return (HypergraphNetConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs,
                                          "conv": conv}, HypergraphNet)
        return None
    return spec


def _mlp(d: Loaded):
    if d.level == "node":
        return MLPConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs}, MLP
    return None


def _global(cfg_cls: type, module_cls: type):
    """GraphGPS / Graph-Mamba / GMN on graph-level sets (molecules, ZINC, TU) and node-level graphs."""
    def spec(d: Loaded):
        if d.level == "graph":
            fixed: dict[str, Any] = {"in_channels": d.num_features, "out_channels": d.num_outputs, "level": "graph",
                                     "mol": bool(d.extra.get("mol"))}
            if "atom_types" in d.extra:
                fixed.update(node_vocab=d.extra["atom_types"], edge_vocab=d.extra["bond_types"])
            return cfg_cls, fixed, module_cls
        if _graph_node(d):
            return cfg_cls, {"in_channels": d.num_features, "out_channels": d.num_outputs, "level": "node"}, module_cls
        return None
    return spec


def _traffic(cfg_cls: type, module_cls: type, **fixed_extra: Any):
    def spec(d: Loaded):
        if d.level != "forecast":
            return None
        fixed = {"in_channels": d.num_features, "num_nodes": d.extra["num_nodes"], "t_in": d.extra["t_in"],
                 "t_out": d.extra["t_out"], **fixed_extra}
        return cfg_cls, fixed, module_cls
    return spec


MODELS: dict[str, tuple[Callable[[Loaded], Any], str]] = {
    "gcn": (_gcn, "GCN (Kipf & Welling) for nodes; OGB's mol GCN for molecules; GCN encoder for links"),
    "gcn-vn": (_gcn_vn, "OGB's mol GCN with a virtual node"),
    "gin": (_gin, "OGB's mol GIN for molecules; GIN-0 (Xu et al.) for other graph sets"),
    "gin-vn": (_gin_vn, "OGB's mol GIN with a virtual node"),
    "gat": (_gat, "GAT (Velickovic et al.): attention heads for nodes; pooled for graph sets"),
    "gatv2": (lambda d: _gat(d, v2=True), "GATv2 (Brody et al.): attention after the non-linearity"),
    "sage": (_sage, "GraphSAGE (mean) for nodes; SAGE encoder for links"),
    "nsd-diag": (_nsd("diag"), "Neural Sheaf Diffusion, diagonal restriction maps (Diag-NSD)"),
    "nsd-orth": (_nsd("orthogonal"), "Neural Sheaf Diffusion, orthogonal maps (O(d)-NSD / bundle)"),
    "nsd-gen": (_nsd("general"), "Neural Sheaf Diffusion, general d x d maps (Gen-NSD)"),
    "hgnn": (_hypergraph("hgnn"), "HGNN hypergraph convolution (symmetric normalisation)"),
    "hgnn+": (_hypergraph("hgnn+"), "HGNN+ hypergraph convolution (two-stage mean)"),
    "hcha": (_hypergraph("hcha"), "HCHA: hypergraph convolution with hyperedge attention"),
    "mlp": (_mlp, "MLP on node features only (structure-free baseline)"),
    "gps": (_global(GPSConfig, GraphGPS), "GraphGPS: local MPNN + global attention per block (+ RWSE / LapPE)"),
    "graph-mamba": (_global(GraphMambaConfig, GraphGPS),
                    "Graph-Mamba: GPS block with a bidirectional Mamba mixer over degree-ordered nodes"),
    "gmn": (_global(GMNConfig, GMN), "GMN: hop-token sequences per node through bidirectional Mamba + local MPNN"),
    "stgcn": (_traffic(STGCNConfig, STGCN), "STGCN (Yu et al.): gated temporal conv + Chebyshev/1st-order graph conv"),
    "gwnet": (_traffic(GraphWaveNetConfig, GraphWaveNet), "Graph WaveNet: adaptive adjacency + dilated causal conv"),
    "vn-stgnn": (_traffic(VirtualNodeSTGNNConfig, GraphWaveNet),
                 "virtual-node ST-GNN (Cao et al. 2025): semi-adaptive adjacency with virtual nodes"),
    "sttn": (_traffic(STTNConfig, STTN), "STTN: spatial transformer (+ road-graph GCN) and temporal transformer"),
    "tgcn": (_traffic(TGCNConfig, TGCN), "T-GCN: graph-convolutional GRU"),
}


def model_spec(model: str, loaded: Loaded | None = None):
    """``(config class, fixed values, module class)`` for ``model`` on ``loaded``; clear errors otherwise."""
    key = model.lower()
    if key not in MODELS:
        raise unknown_name("model", model, MODELS)
    if loaded is None:
        return None
    spec = MODELS[key][0](loaded)
    if spec is None:
        fits = [m for m, (f, _) in MODELS.items() if f(loaded) is not None]
        raise ValueError(f"model {model!r} does not apply to {loaded.name} ({loaded.level}-level"
                         f"{', molecules' if loaded.extra.get('mol') else ''}); models that do: {', '.join(fits)}")
    return spec


# -------------------------------------------------------------------- runs
SHORTCUTS = {"epochs": "train.epochs", "batch-size": "train.batch_size", "lr": "optim.lr",
             "device": "train.device", "seeds": "seeds", "folds": "folds", "threads": "train.threads",
             "first-seed": "first_seed"}


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


def _all_model_fields() -> set[str]:
    """Every setting of every model config dataclass (which one applies depends on the dataset)."""
    import dataclasses

    import graphkit.models as models

    return {f.name for obj in vars(models).values() if isinstance(obj, type) and dataclasses.is_dataclass(obj)
            for f in dataclasses.fields(obj)}


def build_experiment(model: str, dataset: str, overrides: list[tuple[str, str]],
                     data_root_arg: str | None, loaded: Loaded | None = None
                     ) -> tuple[ExperimentConfig, Loaded, Callable[[], torch.nn.Module]]:
    """Check names and settings, load the data, and return what :func:`run_experiment` needs."""
    model_spec(model)  # unknown model names fail before any data is read
    cfg = ExperimentConfig(model=model.lower(), dataset=dataset if loaded is not None else dataset.lower(),
                           data_root=data_root_arg)
    # Settings are validated before loading too: model.* once the model class is known.
    for key, value in overrides:
        if not key.startswith("model."):
            apply_override(cfg, key, value, None)
        elif key.split(".", 1)[1] not in _all_model_fields():  # a typo fails now, not after loading the data
            raise unknown_name("model setting", key, [f"model.{k}" for k in _all_model_fields()])
    if loaded is None:
        loaded = load_dataset(dataset, data_root_arg, cfg.train)
    cfg_cls, fixed, module_cls = model_spec(model, loaded)
    for key, value in overrides:
        if key.startswith("model."):
            name = key.split(".", 1)[1]
            if name in fixed:
                raise ValueError(f"--{key} is set by the dataset ({name}={fixed[name]!r}) and cannot be overridden")
            apply_override(cfg, key, value, cfg_cls)
    model_cfg = cfg_cls(**{**fixed, **cfg.model_cfg})  # runs the config's own checks now
    encoding = getattr(model_cfg, "encoding", "none")
    if encoding != "none" and loaded.level == "graph":  # per-graph encodings, computed once and cached
        loaded = with_encodings(loaded, model_cfg.rwse_k if "rwse" in encoding else 0,
                                model_cfg.lap_k if "lap" in encoding else 0, model_cfg.lap_norm)

    def build() -> torch.nn.Module:
        return module_cls(model_cfg)

    return cfg, loaded, build


def _train(args, extra: list[str]) -> int:
    overrides = parse_overrides(extra)
    own = own_dataset(args.dataset, args.split, args.task, args.split_seed)
    cfg, loaded, build = build_experiment(args.model, args.dataset, overrides, args.data_root, own)
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


def _saved_run(args) -> tuple[Any, Any, Any, str]:
    """``(task, model, loaded, run name)`` for ``--run``: the experiment's data (by its config.json, with
    ``--data-root`` overriding the saved root), the run's split, and the model with its selected weights."""
    from graphkit.train.experiment import TASKS, resolve_device
    from graphkit.train.io import load_json
    from graphkit.train.saved import _run_folder, load

    path = Path(args.run)
    exp = path if (path / "config.json").is_file() else path.parent
    if not (exp / "config.json").is_file():
        raise FileNotFoundError(f"{args.run}: no config.json here or in its parent (not a graphkit run folder)")
    cfg = ExperimentConfig.from_dict(load_json(exp / "config.json"))
    folder = _run_folder(path, None)
    loaded = load_dataset(cfg.dataset, args.data_root or cfg.data_root, cfg.train)
    model_cfg = load_json(folder / "model.json")["config"] if (folder / "model.json").is_file() else {}
    encoding = model_cfg.get("encoding", "none")
    if encoding != "none" and loaded.level == "graph":
        loaded = with_encodings(loaded, model_cfg.get("rwse_k", 0) if "rwse" in encoding else 0,
                                model_cfg.get("lap_k", 0) if "lap" in encoding else 0, model_cfg.get("lap_norm"))
    split = loaded.split
    if folder.name.startswith("run-fold"):
        split = loaded.folds[int(folder.name[len("run-fold"):])]
    device = resolve_device(args.device or "cpu")
    model = load(folder, device)
    return TASKS[loaded.level](loaded, split, cfg.train, device), model, loaded, folder


def _evaluate(args) -> int:
    from graphkit.train.io import load_json

    task, model, loaded, folder = _saved_run(args)
    scores = task.evaluate(model)
    reported = load_json(folder / "results.json")["selected"] if (folder / "results.json").is_file() else {}
    parts = []
    for split in ("valid", "test"):
        if split in scores:
            was = f" (run reported {reported[split]:.4f})" if split in reported else ""
            parts.append(f"{split} {loaded.metric.name} {scores[split]:.4f}{was}")
    print(f"{folder}: epoch {model.best_epoch}: " + ", ".join(parts))
    return 0


def _predict(args) -> int:
    task, model, loaded, folder = _saved_run(args)
    if loaded.level == "graph":
        y, pred = task.predict(model, args.split)
        ids = task.split[args.split]
    elif loaded.level == "node":
        with torch.no_grad():
            out = model(task.x, task.adj)
        ids = task.split[args.split]
        y, pred = task.y[ids], out[ids]
    else:
        raise NotImplementedError(f"graphkit predict supports node and graph tasks, not {loaded.level}")
    out = Path(args.output or f"{folder}/predictions-{args.split}.csv")
    pred = pred.float().cpu()
    if out.suffix == ".pt":
        torch.save({"ids": ids.cpu(), "prediction": pred, "target": y.cpu()}, out)
    else:
        rows = pred.reshape(pred.size(0), -1).tolist()
        with open(out, "w") as f:
            f.write("id," + ",".join(f"out{j}" for j in range(len(rows[0]) if rows else 0)) + "\n")
            for i, r in zip(ids.tolist(), rows):
                f.write(f"{i}," + ",".join(f"{v:.6g}" for v in r) + "\n")
    print(f"{out}: {pred.size(0)} predictions ({args.split} split of {loaded.name})")
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
    lines += [f"  {name:<11} {desc}" for name, (_, desc) in MODELS.items()]
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
