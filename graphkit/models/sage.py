"""GraphSAGE for full-batch node classification (OGB's ``arxiv`` / ``products`` ``--use_sage``)."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from graphkit.nn import SAGEConv, norm_relu_dropout
from graphkit.ops import as_adjacency
from graphkit.ops.adjacency import Graph


@dataclass
class SAGEConfig:
    """Defaults are OGB's arxiv script: 3 layers, 256 wide, dropout 0.5, BatchNorm."""

    in_channels: int = 1
    out_channels: int = 2
    hidden: int = 256
    num_layers: int = 3
    dropout: float = 0.5
    batch_norm: bool = True


class SAGE(nn.Module):
    """SAGEConv -> (BN) -> ReLU -> dropout, repeated; the last layer gives logits.

    ``forward(x: [N, F], edge_index: [2, E] | Adjacency) -> [N, C]``; the
    adjacency is built once per call and shared by all layers.
    """

    def __init__(self, cfg: SAGEConfig):
        super().__init__()
        self.cfg = cfg
        sizes = [cfg.in_channels] + [cfg.hidden] * (cfg.num_layers - 1) + [cfg.out_channels]
        self.convs = nn.ModuleList(SAGEConv(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(cfg.hidden) if cfg.batch_norm else nn.Identity()
                                   for _ in range(cfg.num_layers - 1))

    def forward(self, x: Tensor, edge_index: Graph) -> Tensor:
        adj = as_adjacency(edge_index, x.size(0))
        for i, conv in enumerate(self.convs[:-1]):
            x = norm_relu_dropout(conv(x, adj), self.norms[i], self.cfg.dropout, self.training)
        return self.convs[-1](x, adj)
