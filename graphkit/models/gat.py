"""GAT (Veličković et al., ICLR 2018): stacked attention layers, for nodes or (pooled) for whole graphs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import Tensor, nn
from torch.nn import functional as F

from graphkit.nn import Dropout, GATConv, GATv2Conv, global_pool
from graphkit.ops import as_adjacency
from graphkit.ops.adjacency import Graph

if TYPE_CHECKING:
    from torch_geometric.data import Batch


@dataclass
class GATConfig:
    """Defaults are the paper's Cora settings: 2 layers, 8 heads of 8 hidden units (concatenated), ELU,
    dropout 0.6 on inputs and attention, one output head. ``v2`` uses GATv2 layers; ``graph_level`` pools
    the last layer's node states per graph (``pooling``) and classifies the graph."""

    in_channels: int = 1
    out_channels: int = 2
    hidden: int = 8
    heads: int = 8
    out_heads: int = 1
    num_layers: int = 2
    dropout: float = 0.6
    v2: bool = False
    graph_level: bool = False
    pooling: str = "mean"

    def __post_init__(self):
        if self.num_layers < 1 or self.heads < 1 or self.out_heads < 1:
            raise ValueError("GATConfig.num_layers, heads and out_heads must be >= 1")
        if self.pooling not in ("sum", "mean", "max"):
            raise ValueError(f"GATConfig.pooling must be sum, mean or max, got {self.pooling!r}")


class GAT(nn.Module):
    """Node level: ``forward(x: [N, F], edge_index | Adjacency) -> [N, out_channels]`` logits. Graph level
    (``graph_level=True``): ``forward(batch) -> [B, out_channels]`` from a PyG ``Batch``: the attention
    layers, then pooling and a linear head."""

    def __init__(self, cfg: GATConfig):
        super().__init__()
        self.cfg = cfg
        conv = GATv2Conv if cfg.v2 else GATConv
        width = cfg.hidden * cfg.heads
        last_out = cfg.hidden if cfg.graph_level else cfg.out_channels
        self.convs = nn.ModuleList()
        for i in range(cfg.num_layers):
            fin = cfg.in_channels if i == 0 else width
            if i < cfg.num_layers - 1:
                self.convs.append(conv(fin, cfg.hidden, heads=cfg.heads, dropout=cfg.dropout))
            else:  # the paper's output layer: its heads averaged
                self.convs.append(conv(fin, last_out, heads=cfg.out_heads, concat=False, dropout=cfg.dropout))
        self.dropout = Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, cfg.out_channels) if cfg.graph_level else None

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()
        if self.head is not None:
            self.head.reset_parameters()

    def encode(self, x: Tensor, edge_index: Graph) -> Tensor:
        """Node states after the attention layers."""
        adj = as_adjacency(edge_index, x.size(0))  # built once, shared by every layer
        for i, conv in enumerate(self.convs):
            x = conv(self.dropout(x), adj)
            if i < len(self.convs) - 1 or self.head is not None:
                x = F.elu(x)
        return x

    def forward(self, x: Tensor | Batch, edge_index: Graph | None = None) -> Tensor:
        if self.head is None:
            return self.encode(x, edge_index)
        batch = x
        h = self.encode(batch.x.float(), batch.edge_index)
        pooled = global_pool(h, batch.batch, batch.num_graphs, self.cfg.pooling, getattr(batch, "ptr", None))
        return self.head(pooled)
