"""MLP baseline for node classification: the graph is ignored (the structure-free reference point)."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from graphkit.nn import Dropout, relu_dropout
from graphkit.ops.adjacency import Graph


@dataclass
class MLPConfig:
    in_channels: int = 1
    out_channels: int = 2
    hidden: int = 64
    num_layers: int = 2
    dropout: float = 0.5


class MLP(nn.Module):
    """Linear, ReLU, dropout stacks: ``forward(x: [N, F], graph=None) -> [N, C]``."""

    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.cfg = cfg
        sizes = [cfg.in_channels] + [cfg.hidden] * (cfg.num_layers - 1) + [cfg.out_channels]
        self.lins = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = Dropout(cfg.dropout)

    def reset_parameters(self) -> None:
        for lin in self.lins:
            lin.reset_parameters()

    def forward(self, x: Tensor, graph: Graph | None = None) -> Tensor:  # the graph is ignored
        x = self.dropout(x)
        for i, lin in enumerate(self.lins):
            x = lin(x)
            if i < len(self.lins) - 1:
                x = relu_dropout(x, self.dropout.p, self.training)
        return x
