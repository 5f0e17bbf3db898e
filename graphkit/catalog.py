"""The composition root: the only name -> thing tables (datasets, models, which model fits which data) and
the assembly of an experiment from names. The CLI, examples, benchmarks and scripts import this module (or
the library), never the CLI.

Adding a model: its file in ``graphkit/models/`` and one entry in :data:`MODELS` (a :class:`ModelEntry`:
which kinds of data it fits, with which config and module class; see docs/guide/add-a-model.md).
Adding a dataset: its loader in ``graphkit/data/`` and one branch in :func:`load_dataset` (and its names in
:func:`dataset_names`).

Example::

    >>> from graphkit.catalog import build_experiment            # doctest: +SKIP
    >>> cfg, loaded, build = build_experiment("gcn", "cora", [("train.epochs", "50")], "../shared/data")
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import torch

from graphkit.data import Loaded, load_ogb, load_tu, planetoid_task
from graphkit.data.graph_sets import load_peptides, load_zinc, with_encodings
from graphkit.data.heterophily import PLATONOV_SETS, WEBKB, load_geom_gcn, load_planetoid_geom, load_platonov
from graphkit.data.hypergraph import SETS as HYPERGRAPH_SETS
from graphkit.data.hypergraph import load_hypergraph
from graphkit.data.ogb import ogb_names
from graphkit.data.prepare import prepare_graph
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
    PaperSTTN,
    PaperSTTNConfig,
    SAGEConfig,
    STGCNConfig,
    STTNConfig,
    TGCNConfig,
    VirtualNodeSTGNNConfig,
)
from graphkit.train import ExperimentConfig, apply_override
from graphkit.train.config import DataConfig, unknown_name

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


def own_dataset(spec: str, split: str | tuple[float, ...] = "0.8,0.1,0.1", task: str | None = None,
                seed: int = 0) -> Loaded | None:
    """A user's dataset named on the command line, or None when ``spec`` is not one: a file written by
    ``torch.save`` (``.pt``/``.pth``: a Data, a list of Data, or ``(data, slices)``), or
    ``package.module:function`` returning a Loaded or PyG data. ``split``: fractions (``"0.8,0.1,0.1"``)."""
    from graphkit.data.from_pyg import from_pyg, load_pyg_file

    is_file = spec.endswith((".pt", ".pth")) or os.path.isfile(spec)
    is_function = not is_file and ":" in spec and all(p.replace(".", "").replace("_", "").isalnum()
                                                     for p in spec.split(":", 1))
    if not (is_file or is_function):
        return None
    try:
        fractions = tuple(float(f) for f in (split.split(",") if isinstance(split, str) else split))
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


def load_dataset(name: str, root: str | None, data: DataConfig | None = None) -> Loaded:
    """Load a dataset by its usual name, case-insensitive (``ogbg-molhiv``, ``cora``, ``mutag``, ``metr-la``).

    Traffic sets read their windows, protocol and covariates from ``data``."""
    key = name.lower()
    if key in ("peptides-func", "peptides-struct"):
        return load_peptides(key, root)
    if key == "zinc":
        return load_zinc(root)
    if key in TRAFFIC_SETS:
        d = data or DataConfig()
        return forecast_task(key, root, d.protocol, d.window_in, d.window_out, d.covariates)
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
# Which data a model applies to, as data: each model is a list of Fits (a kind of data, the config class and
# module class used there, the config values that are part of that choice); the values the data itself fixes
# (input width, outputs, sensors, windows, ...) are filled in by :func:`data_values` for the fields the
# config class declares.
DataKind = Literal["graph-nodes", "hypergraph-nodes", "nodes", "molecules", "graph-sets", "graphs", "links",
                   "forecast"]


def matches(kind: DataKind, d: Loaded) -> bool:
    """Whether ``d`` is of ``kind``: nodes of a graph / of a hypergraph / of either; graph-level sets of OGB
    molecules / of anything else / of either; link prediction; forecasting."""
    return {
        "graph-nodes": d.level == "node" and d.hypergraph is None,
        "hypergraph-nodes": d.level == "node" and d.hypergraph is not None,
        "nodes": d.level == "node",
        "molecules": d.level == "graph" and d.molecules,
        "graph-sets": d.level == "graph" and not d.molecules,
        "graphs": d.level == "graph",
        "links": d.level == "link",
        "forecast": d.level == "forecast" and d.forecast is not None,
    }[kind]


def data_values(d: Loaded, config: type) -> dict[str, Any]:
    """The values ``d`` fixes, for the fields ``config`` declares (input width, outputs or tasks, graph or
    node level, OGB molecule encoders, a type vocabulary, sensors and windows)."""
    import dataclasses

    values: dict[str, Any] = {"in_channels": max(d.num_features, 1), "out_channels": d.num_outputs,
                              "num_tasks": d.num_outputs, "level": "graph" if d.level == "graph" else "node",
                              "graph_level": d.level == "graph", "mol": d.molecules}
    if d.atom_types:
        values.update(node_vocab=d.atom_types, edge_vocab=d.bond_types)
    if d.forecast is not None:
        values.update(num_nodes=d.forecast.num_nodes, t_in=d.forecast.t_in, t_out=d.forecast.t_out)
    declared = {f.name for f in dataclasses.fields(config)}
    return {k: v for k, v in values.items() if k in declared}


@dataclass(frozen=True)
class Fit:
    """``model`` built from ``config`` on data of ``kind``, with ``settings`` (config values that define this
    variant, e.g. ``gnn="gcn"``) on top of what the data fixes."""

    kind: DataKind
    config: type
    module: type
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelEntry:
    """A model name's description and, in order, the fits that say which data it applies to and how."""

    description: str
    fits: tuple[Fit, ...]

    def fit_for(self, d: Loaded) -> Fit | None:
        """The first fit whose kind ``d`` is, or None where the model does not apply."""
        return next((f for f in self.fits if matches(f.kind, d)), None)


def _nsd(kind: str) -> tuple[Fit, ...]:
    return (Fit("graph-nodes", NSDConfig, NSD, {"kind": kind}),)


def _gat(v2: bool) -> tuple[Fit, ...]:
    """GAT / GATv2 on graph nodes and pooled on graph sets (not molecules: their integer atom features need an
    encoder, which GAT has not)."""
    return Fit("graph-nodes", GATConfig, GAT, {"v2": v2}), Fit("graph-sets", GATConfig, GAT, {"v2": v2})


def _global(config: type, module: type) -> tuple[Fit, ...]:
    """GraphGPS / Graph-Mamba / GMN on graph-level sets (molecules, ZINC, TU) and on graph nodes."""
    return Fit("graphs", config, module), Fit("graph-nodes", config, module)


def _traffic(config: type, module: type) -> tuple[Fit, ...]:
    return (Fit("forecast", config, module),)


MODELS: dict[str, ModelEntry] = {
    "gcn": ModelEntry("GCN (Kipf & Welling) for nodes; OGB's mol GCN for molecules; GCN encoder for links", (
        Fit("graph-nodes", GCNConfig, GCN), Fit("molecules", MolGNNConfig, MolGNN, {"gnn": "gcn"}),
        Fit("links", LinkConfig, LinkModel, {"encoder": "gcn"}))),
    "gcn-vn": ModelEntry("OGB's mol GCN with a virtual node", (
        Fit("molecules", MolGNNConfig, MolGNN, {"gnn": "gcn", "virtual_node": True}),)),
    "gin": ModelEntry("OGB's mol GIN for molecules; GIN-0 (Xu et al.) for other graph sets", (
        Fit("molecules", MolGNNConfig, MolGNN, {"gnn": "gin"}), Fit("graph-sets", GINConfig, GIN))),
    "gin-vn": ModelEntry("OGB's mol GIN with a virtual node", (
        Fit("molecules", MolGNNConfig, MolGNN, {"gnn": "gin", "virtual_node": True}),)),
    "gat": ModelEntry("GAT (Velickovic et al.): attention heads for nodes; pooled for graph sets", _gat(v2=False)),
    "gatv2": ModelEntry("GATv2 (Brody et al.): attention after the non-linearity", _gat(v2=True)),
    "sage": ModelEntry("GraphSAGE (mean) for nodes; SAGE encoder for links", (
        Fit("graph-nodes", SAGEConfig, SAGE), Fit("links", LinkConfig, LinkModel, {"encoder": "sage"}))),
    "nsd-diag": ModelEntry("Neural Sheaf Diffusion, diagonal restriction maps (Diag-NSD)", _nsd("diag")),
    "nsd-orth": ModelEntry("Neural Sheaf Diffusion, orthogonal maps (O(d)-NSD / bundle)", _nsd("orthogonal")),
    "nsd-gen": ModelEntry("Neural Sheaf Diffusion, general d x d maps (Gen-NSD)", _nsd("general")),
    "hgnn": ModelEntry("HGNN hypergraph convolution (symmetric normalisation)", (
        Fit("hypergraph-nodes", HypergraphNetConfig, HypergraphNet, {"conv": "hgnn"}),)),
    "hgnn+": ModelEntry("HGNN+ hypergraph convolution (two-stage mean)", (
        Fit("hypergraph-nodes", HypergraphNetConfig, HypergraphNet, {"conv": "hgnn+"}),)),
    "hcha": ModelEntry("HCHA: hypergraph convolution with hyperedge attention", (
        Fit("hypergraph-nodes", HypergraphNetConfig, HypergraphNet, {"conv": "hcha"}),)),
    "mlp": ModelEntry("MLP on node features only (structure-free baseline)", (Fit("nodes", MLPConfig, MLP),)),
    "gps": ModelEntry("GraphGPS: local MPNN + global attention per block (+ RWSE / LapPE)",
                      _global(GPSConfig, GraphGPS)),
    "graph-mamba": ModelEntry("Graph-Mamba (authors' mixer): GPS block, one Mamba over nodes by ascending degree",
                              _global(GraphMambaConfig, GraphGPS)),
    "gmn": ModelEntry("GMN: hop-token sequences per node through bidirectional Mamba + local MPNN",
                      _global(GMNConfig, GMN)),
    "stgcn": ModelEntry("STGCN (Yu et al.): gated temporal conv + Chebyshev/1st-order graph conv",
                        _traffic(STGCNConfig, STGCN)),
    "gwnet": ModelEntry("Graph WaveNet: adaptive adjacency + dilated causal conv",
                        _traffic(GraphWaveNetConfig, GraphWaveNet)),
    "vn-stgnn": ModelEntry("virtual-node ST-GNN (Cao et al. 2025): semi-adaptive adjacency with virtual nodes",
                           _traffic(VirtualNodeSTGNNConfig, GraphWaveNet)),
    "sttn": ModelEntry("STTN as its authors' code computes it: spatial (+ Chebyshev GCN) and temporal "
                       "transformers over concatenated position tables", _traffic(STTNConfig, STTN)),
    "sttn-paper": ModelEntry("graphkit's earlier reading of the STTN paper (multi-head, added embeddings, gated "
                             "GCN fusion)", _traffic(PaperSTTNConfig, PaperSTTN)),
    "tgcn": ModelEntry("T-GCN: graph-convolutional GRU", _traffic(TGCNConfig, TGCN)),
}


def model_spec(model: str, loaded: Loaded | None = None):
    """``(config class, fixed values, module class)`` for ``model`` on ``loaded``; clear errors otherwise."""
    key = model.lower()
    if key not in MODELS:
        raise unknown_name("model", model, MODELS)
    if loaded is None:
        return None
    fit = MODELS[key].fit_for(loaded)
    if fit is None:
        fits = [m for m, entry in MODELS.items() if entry.fit_for(loaded) is not None]
        raise ValueError(f"model {model!r} does not apply to {loaded.name} ({loaded.level}-level"
                         f"{', molecules' if loaded.molecules else ''}); models that do: {', '.join(fits)}")
    return fit.config, {**data_values(loaded, fit.config), **fit.settings}, fit.module


def _all_model_fields() -> set[str]:
    """Every setting of every model config in :data:`MODELS` (which one applies depends on the dataset)."""
    import dataclasses

    return {f.name for entry in MODELS.values() for fit in entry.fits for f in dataclasses.fields(fit.config)}


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
    if cfg.train.parallel_runs > 1:  # settings the forked workers cannot honour fail before the data is read
        from graphkit.train.experiment import resolve_device
        from graphkit.train.parallel_runs import check_parallel_runs

        check_parallel_runs(cfg.train.parallel_runs, cfg.train.threads, resolve_device(cfg.train.device))
    if loaded is None:
        loaded = load_dataset(dataset, data_root_arg, cfg.data)
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


def resolve_run_device(device: str | None):
    """The device for inference on a saved run: ``device`` (cpu, cuda, cuda:N), CPU by default."""
    from graphkit.train.experiment import resolve_device

    return resolve_device(device or "cpu")


def saved_run(run: str, data_root_arg: str | None = None,
              device: str | None = None) -> tuple[Any, Any, Any, Path]:
    """``(task, model, loaded, run folder)`` for a finished run: the experiment's data (by its config.json,
    ``data_root_arg`` overriding the saved root), the run's split, and the model with its selected weights."""
    from graphkit.train.experiment import TASKS
    from graphkit.train.io import load_json
    from graphkit.train.saved import _run_folder, load

    path = Path(run)
    exp = path if (path / "config.json").is_file() else path.parent
    if not (exp / "config.json").is_file():
        raise FileNotFoundError(f"{run}: no config.json here or in its parent (not a graphkit run folder)")
    cfg = ExperimentConfig.from_dict(load_json(exp / "config.json"))
    folder = _run_folder(path, None)
    d = cfg.data
    loaded = own_dataset(cfg.dataset, d.own_split, None if d.own_task == "auto" else d.own_task, d.own_split_seed)
    if loaded is None:
        loaded = load_dataset(cfg.dataset, data_root_arg or cfg.data_root, d)
    loaded = prepare_graph(loaded, d.to_undirected, d.normalize_features)
    model_cfg = load_json(folder / "model.json")["config"] if (folder / "model.json").is_file() else {}
    encoding = model_cfg.get("encoding", "none")
    if encoding != "none" and loaded.level == "graph":
        loaded = with_encodings(loaded, model_cfg.get("rwse_k", 0) if "rwse" in encoding else 0,
                                model_cfg.get("lap_k", 0) if "lap" in encoding else 0, model_cfg.get("lap_norm"))
    split = loaded.split
    if folder.name.startswith("run-fold"):
        split = loaded.folds[int(folder.name[len("run-fold"):])]
    device = resolve_run_device(device)
    model = load(folder, device)
    return TASKS[loaded.level](loaded, split, cfg.train, device), model, loaded, folder


