"""The graph preparations some protocols ask for, applied once to a node-level :class:`Loaded` before training."""
from __future__ import annotations

import copy
import dataclasses

from graphkit.data.bundle import Loaded
from graphkit.ops import to_undirected


def prepare_graph(loaded: Loaded, undirected: bool = False, normalize_features: bool = False) -> Loaded:
    """``loaded`` with its graph symmetrised (``undirected``: OGB's arxiv scripts) and/or its feature rows
    scaled to sum to 1 (``normalize_features``: Kipf & Welling's preprocessing; features become float32).
    The input is not modified; with neither option (or no single graph) it is returned as is."""
    if not (undirected or normalize_features) or loaded.level != "node" or loaded.data is None:
        return loaded
    from graphkit.data.memmap import MemmapFeatures

    data = copy.copy(loaded.data)  # a new Data sharing the tensors; only the replaced fields change
    if undirected:
        data.edge_index, _ = to_undirected(data.edge_index, data.num_nodes)
    if normalize_features:
        if isinstance(data.x, MemmapFeatures):
            raise ValueError("memory-mapped features cannot be row-normalised (data.normalize_features): they are "
                             "read from the file per mini-batch")
        x = data.x.float()
        data.x = x / x.sum(-1, keepdim=True).clamp_min(1e-12)
    return dataclasses.replace(loaded, data=data)
