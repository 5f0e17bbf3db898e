"""GCN (Kipf & Welling, 2017): stacked GCNConv layers for node classification."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from graphkit.nn import Dropout, GCNConv, norm_relu_dropout
from graphkit.ops import as_adjacency
from graphkit.ops.adjacency import Graph


@dataclass
class GCNConfig:
    """Defaults are the paper's Cora/CiteSeer settings.

    OGB's arxiv baseline is ``hidden=256, num_layers=3, batch_norm=True,
    input_dropout=False``: dropout after each hidden layer, not on the input.
    """

    in_channels: int = 1
    out_channels: int = 2
    hidden: int = 16
    num_layers: int = 2
    dropout: float = 0.5
    batch_norm: bool = False
    input_dropout: bool = True


class GCN(nn.Module):
    """``num_layers`` GCNConv layers with (BN,) ReLU and dropout between them.

    With ``input_dropout`` (the reference code) dropout also hits the input
    features. ``forward(x: [N, F], edge_index: [2, E] | Adjacency) -> [N, C]``
    logits; the adjacency is built once per call and shared by all layers.
    """

    def __init__(self, cfg: GCNConfig):
        super().__init__()
        self.cfg = cfg
        sizes = [cfg.in_channels] + [cfg.hidden] * (cfg.num_layers - 1) + [cfg.out_channels]
        self.convs = nn.ModuleList(GCNConv(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(cfg.hidden) if cfg.batch_norm else nn.Identity()
                                   for _ in range(cfg.num_layers - 1))
        self.dropout = Dropout(cfg.dropout)

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, x: Tensor, edge_index: Graph) -> Tensor:
        adj = as_adjacency(edge_index, x.size(0))
        if self.cfg.input_dropout:
            x = self.dropout(x)
        for i, conv in enumerate(self.convs):
            x = conv(x, adj)
            if i < len(self.convs) - 1:
                x = norm_relu_dropout(x, self.norms[i], self.dropout.p, self.training)
        return x
