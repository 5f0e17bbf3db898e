"""The local message-passing layer of a GPS block or a GMN layer, by name."""
from __future__ import annotations

from torch import nn

from graphkit.nn import GatedGCNConv, GCNConv, GINConv, GINEConv

LOCALS = ("auto", "gatedgcn", "gine", "gin", "gcn", "none")


def local_layer(kind: str, h: int, dropout: float, has_edges: bool, gated_residual: bool = True) -> nn.Module | None:
    """The local message-passing layer of a block (``kind`` in :data:`LOCALS`).

    ``gated_residual``: a GatedGCN adds its input to its node and edge outputs and applies its own dropout,
    as GraphGPS builds it (a :class:`~graphkit.nn.GPSBlock` then adds no second residual). GMN keeps
    ``False``: it adds the node residual itself and carries no edge stream between layers."""
    if kind == "auto":
        kind = "gatedgcn" if has_edges else "gin"
    if kind in ("gatedgcn", "gine") and not has_edges:
        raise ValueError(f"local={kind!r} needs edge features (molecules, ZINC's bond types or edge_channels > 0)")
    if kind == "gatedgcn":
        return GatedGCNConv(h, dropout, residual=gated_residual)
    mlp = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, h))
    if kind == "gine":
        return GINEConv(mlp, train_eps=True)
    if kind == "gin":
        return GINConv(mlp, train_eps=True)
    if kind == "gcn":
        return GCNConv(h, h)
    if kind == "none":
        return None
    raise ValueError(f"local must be one of {LOCALS}, got {kind!r}")
