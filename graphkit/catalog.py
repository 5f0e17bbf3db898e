"""The composition root: the only name -> thing tables (datasets, models, which model fits which data) and
the assembly of an experiment from names. The CLI, examples, benchmarks and scripts import this module (or
the library), never the CLI.

Adding a model: its file in ``graphkit/models/`` and one entry in :data:`MODELS` (a function from the loaded
data to ``(config class, fixed config values, module class)``, or None where the model does not apply).
Adding a dataset: its loader in ``graphkit/data/`` and one branch in :func:`load_dataset` (and its names in
:func:`dataset_names`).

Example::

    >>> from graphkit.catalog import build_experiment            # doctest: +SKIP
    >>> cfg, loaded, build = build_experiment("gcn", "cora", [("train.epochs", "50")], "../shared/data")
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import torch

from graphkit.data import Loaded, load_ogb, load_tu, planetoid_task
from graphkit.data.graph_sets import load_peptides, load_zinc, with_encodings
from graphkit.data.heterophily import PLATONOV_SETS, WEBKB, load_geom_gcn, load_planetoid_geom, load_platonov
from graphkit.data.hypergraph import SETS as HYPERGRAPH_SETS
from graphkit.data.hypergraph import load_hypergraph
from graphkit.data.prepare import prepare_graph
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
# name -> function(loaded) -> (config class, fixed config values, module class)
def _graph_node(d: Loaded) -> bool:
    return d.level == "node" and d.hypergraph is None


def _gcn(d: Loaded):
    if _graph_node(d):
        return GCNConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs}, GCN
    if d.level == "graph" and d.molecules:
        return MolGNNConfig, {"num_tasks": d.num_outputs, "gnn": "gcn"}, MolGNN
    if d.level == "link":
        return LinkConfig, {"in_channels": max(d.num_features, 1), "encoder": "gcn"}, LinkModel
    return None


def _gcn_vn(d: Loaded):
    if d.level == "graph" and d.molecules:
        return MolGNNConfig, {"num_tasks": d.num_outputs, "gnn": "gcn", "virtual_node": True}, MolGNN
    return None


def _gin(d: Loaded):
    if d.level == "graph" and d.molecules:
        return MolGNNConfig, {"num_tasks": d.num_outputs, "gnn": "gin"}, MolGNN
    if d.level == "graph":
        return GINConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs}, GIN
    return None


def _gat(d: Loaded, v2: bool = False):
    if _graph_node(d):
        return GATConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs, "v2": v2}, GAT
    if d.level == "graph" and not d.molecules:  # molecules' integer atom features need an encoder
        return GATConfig, {"in_channels": d.num_features, "out_channels": d.num_outputs, "v2": v2,
                           "graph_level": True}, GAT
    return None


def _gin_vn(d: Loaded):
    if d.level == "graph" and d.molecules:
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
        if d.level == "node" and d.hypergraph is not None:
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
                                     "mol": d.molecules}
            if d.atom_types:
                fixed.update(node_vocab=d.atom_types, edge_vocab=d.bond_types)
            return cfg_cls, fixed, module_cls
        if _graph_node(d):
            return cfg_cls, {"in_channels": d.num_features, "out_channels": d.num_outputs, "level": "node"}, module_cls
        return None
    return spec


def _traffic(cfg_cls: type, module_cls: type, **fixed_extra: Any):
    def spec(d: Loaded):
        if d.level != "forecast":
            return None
        fixed = {"in_channels": d.num_features, "num_nodes": d.forecast.num_nodes, "t_in": d.forecast.t_in,
                 "t_out": d.forecast.t_out, **fixed_extra}
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
    "sttn": (_traffic(STTNConfig, STTN), "STTN as its authors' code computes it: spatial (+ Chebyshev GCN) and "
             "temporal transformers over concatenated position tables"),
    "sttn-paper": (_traffic(PaperSTTNConfig, PaperSTTN),
                   "graphkit's earlier reading of the STTN paper (multi-head, added embeddings, gated GCN fusion)"),
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
                         f"{', molecules' if loaded.molecules else ''}); models that do: {', '.join(fits)}")
    return spec


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
    loaded = prepare_graph(load_dataset(cfg.dataset, data_root_arg or cfg.data_root, cfg.data),
                           cfg.data.to_undirected, cfg.data.normalize_features)
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


