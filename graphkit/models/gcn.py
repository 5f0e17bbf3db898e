"""GCN (Kipf & Welling, 2017): stacked GCNConv layers for node classification."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn

from graphkit.nn import GCNConv
from graphkit.ops import as_adjacency


@dataclass
class GCNConfig:
    """Defaults are the paper's Cora/CiteSeer settings."""

    in_channels: int
    out_channels: int
    hidden: int = 16
    num_layers: int = 2
    dropout: float = 0.5


class GCN(nn.Module):
    """``num_layers`` GCNConv layers with ReLU and dropout between them.

    Dropout is applied to the input of every layer, as in the reference code.
    ``forward(x: [N, F], edge_index: [2, E] | Adjacency) -> [N, C]`` logits; the
    adjacency is built once per call and shared by all layers.
    """

    def __init__(self, cfg: GCNConfig):
        super().__init__()
        self.cfg = cfg
        sizes = [cfg.in_channels] + [cfg.hidden] * (cfg.num_layers - 1) + [cfg.out_channels]
        self.convs = nn.ModuleList(GCNConv(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = nn.Dropout(cfg.dropout)

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, x: Tensor, edge_index: Any) -> Tensor:
        adj = as_adjacency(edge_index, x.size(0))
        for i, conv in enumerate(self.convs):
            x = conv(self.dropout(x), adj)
            if i < len(self.convs) - 1:
                x = x.relu()
        return x
