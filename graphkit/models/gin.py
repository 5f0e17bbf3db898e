"""GIN for graph classification (Xu et al., 2019), as in the paper's reference code."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from graphkit.nn import GINConv, dropout, global_pool


@dataclass
class GINConfig:
    """Defaults are the reference script's (GIN-0: ``train_eps=False``)."""

    in_channels: int = 1
    out_channels: int = 2
    hidden: int = 64
    num_layers: int = 5  # counts the input layer, as the reference code does: 4 GIN layers
    mlp_layers: int = 2
    dropout: float = 0.5
    train_eps: bool = False
    pooling: str = "sum"

    def __post_init__(self):
        if self.num_layers < 2:
            raise ValueError("GINConfig.num_layers counts the input layer and must be >= 2")
        if self.mlp_layers < 1:
            raise ValueError("GINConfig.mlp_layers must be >= 1")
        if self.pooling not in ("sum", "mean", "max"):
            raise ValueError(f"GINConfig.pooling must be sum, mean or max, got {self.pooling!r}")


def _mlp(cin: int, hidden: int, layers: int) -> nn.Module:
    if layers == 1:
        return nn.Linear(cin, hidden)
    mods: list[nn.Module] = []
    for i in range(layers - 1):
        mods += [nn.Linear(cin if i == 0 else hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU()]
    return nn.Sequential(*mods, nn.Linear(hidden, hidden))


class GIN(nn.Module):
    """GIN layers (MLP -> BN -> ReLU), with a prediction from every layer's pooled states.

    The output is the sum over layers (the input features included) of
    ``dropout(Linear(pool(h_l)))``, the reference code's readout.
    ``forward(batch) -> [B, out_channels]`` logits for a PyG ``Batch``.
    """

    def __init__(self, cfg: GINConfig):
        super().__init__()
        self.cfg = cfg
        layers = cfg.num_layers - 1
        self.convs = nn.ModuleList(
            GINConv(_mlp(cfg.in_channels if i == 0 else cfg.hidden, cfg.hidden, cfg.mlp_layers),
                    train_eps=cfg.train_eps)
            for i in range(layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(cfg.hidden) for _ in range(layers))
        self.heads = nn.ModuleList(nn.Linear(cfg.in_channels if i == 0 else cfg.hidden, cfg.out_channels)
                                   for i in range(cfg.num_layers))

    def forward(self, batch) -> Tensor:
        index, num_graphs, ptr = batch.batch, batch.num_graphs, getattr(batch, "ptr", None)
        h = batch.x.float()
        out = dropout(self.heads[0](global_pool(h, index, num_graphs, self.cfg.pooling, ptr)),
                        self.cfg.dropout, self.training)
        for i, conv in enumerate(self.convs):
            h = self.norms[i](conv(h, batch.edge_index)).relu()
            pooled = global_pool(h, index, num_graphs, self.cfg.pooling, ptr)
            out = out + dropout(self.heads[i + 1](pooled), self.cfg.dropout, self.training)
        return out
