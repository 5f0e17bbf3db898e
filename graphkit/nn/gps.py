"""The GPS block (Rampasek et al. 2022): local message passing and a global mixer side by side.

``x -> norm(x + dropout(local(x)))`` and ``x -> norm(x + dropout(mixer(x)))`` are summed, then
``h -> norm(h + MLP(h))``. The block does not know which mixer it holds: any module with the mixer
interface of :mod:`graphkit.nn.mixers` (attention, linear attention, Mamba) or None (an MPNN block);
the node ordering a sequence mixer reads is an argument, computed by the caller with a function from
:mod:`graphkit.ops.order`.
"""
from __future__ import annotations

from torch import Tensor, nn

from graphkit.nn.dropout import Dropout
from graphkit.nn.gated_gcn import GatedGCNConv
from graphkit.nn.linear import Linear
from graphkit.ops import check
from graphkit.ops.adjacency import Graph


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(channels)
    if kind == "layer":
        return nn.LayerNorm(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'layer' or 'none', got {kind!r}")


class GPSBlock(nn.Module):
    """``local``: a graphkit conv called as ``local(x, edge_index)`` or, with edge features,
    ``local(x, edge_index, edge_attr)``, returning ``h`` or ``(h, new edge features)`` (None: no local
    branch); ``mixer``: a global mixer (None: none).

    As in GraphGPS's ``GPSLayer``: a local layer's output gets dropout and the input added back
    (``norm(x + dropout(local(x)))``), except a :class:`GatedGCNConv` built with ``residual=True`` (GraphGPS
    builds its GatedGCN so), which applies its own dropout and adds its input to both the node and the edge
    stream; the block then only normalises its node output (``norm(local(x))``). A GatedGCN with
    ``residual=False`` gets the block's node residual and dropout but no edge residual: a different function
    from the second layer on."""

    def __init__(self, channels: int, local: nn.Module | None, mixer: nn.Module | None, dropout: float = 0.0,
                 norm: str = "batch", mlp_ratio: int = 2):
        super().__init__()
        self.channels = channels
        if local is None and mixer is None:
            raise ValueError("a GPS block needs a local layer, a global mixer, or both")
        self.local, self.mixer = local, mixer
        # GraphGPS's GatedGCN does its residual (node and edge streams) and dropout itself
        self.local_residual_inside = isinstance(local, GatedGCNConv) and local.residual
        self.norm_local = _norm(norm, channels) if local is not None else None
        self.norm_global = _norm(norm, channels) if mixer is not None else None
        # graphkit's Dropout: the same function, masks drawn as bits on CPU (parameter keys mlp.0 / mlp.3 as before)
        self.mlp = nn.Sequential(Linear(channels, mlp_ratio * channels), nn.ReLU(), Dropout(dropout),
                                 Linear(mlp_ratio * channels, channels), Dropout(dropout))
        self.norm_out = _norm(norm, channels)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor, edge_index: Graph, batch: Tensor, batch_size: int,
                edge_attr: Tensor | None = None,
                order: Tensor | list[Tensor] | None = None) -> tuple[Tensor, Tensor | None]:
        """``(node features, edge features)``; edge features are the local layer's update when it returns
        one (GatedGCN), else passed through. ``order``: the node ordering the mixer reads, or a list of
        orderings whose mixer outputs are averaged (Graph-Mamba's evaluation over random tie-breaks)."""
        orders = order if isinstance(order, (list, tuple)) else [order]
        check.check_same_device(("x", x), ("edge_index", edge_index), ("batch", batch), ("edge_attr", edge_attr),
                                *(("order", o) for o in orders), ("GPSBlock's weights", self))
        check.check_size(batch_size, "batch_size")
        check.check_features(x, name="x", min_dim=2, max_dim=2)
        check.check_width(x, self.channels, "x", "the block's width")
        check.check_index(batch, batch_size, length=x.size(0), name="batch")
        out = 0
        if self.local is not None:
            h = self.local(x, edge_index) if edge_attr is None else self.local(x, edge_index, edge_attr)
            if isinstance(h, tuple):
                h, edge_attr = h
            out = out + self.norm_local(h if self.local_residual_inside else x + self.dropout(h))
        if self.mixer is not None:
            h = self.mixer(x, batch, batch_size, order)  # several orderings: the mixer returns their mean
            out = out + self.norm_global(x + self.dropout(h))
        return self.norm_out(out + self.mlp(out)), edge_attr
