"""Link prediction: a node encoder plus OGB's MLP scorer on Hadamard products."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from graphkit.models.gcn import GCN, GCNConfig
from graphkit.models.sage import SAGE, SAGEConfig
from graphkit.nn import relu_dropout
from graphkit.ops.adjacency import Graph


@dataclass
class LinkConfig:
    """Defaults follow OGB's ``ogbl-collab`` GCN/SAGE baselines (3 layers, 256 wide)."""

    in_channels: int = 1
    encoder: str = "gcn"  # "gcn" | "sage"
    hidden: int = 256
    num_layers: int = 3
    predictor_layers: int = 3
    dropout: float = 0.0

    def __post_init__(self):
        if self.encoder not in ("gcn", "sage"):
            raise ValueError(f"LinkConfig.encoder must be 'gcn' or 'sage', got {self.encoder!r}")


class LinkPredictor(nn.Module):
    """``score(z_i, z_j) = MLP(z_i * z_j)``: ``[P, F], [P, F] -> [P]`` logits."""

    def __init__(self, channels: int, layers: int, dropout: float):
        super().__init__()
        self.lins = nn.ModuleList(nn.Linear(channels, channels if i < layers - 1 else 1) for i in range(layers))
        self.dropout = dropout

    def forward(self, z_i: Tensor, z_j: Tensor) -> Tensor:
        x = z_i * z_j
        for lin in self.lins[:-1]:
            x = relu_dropout(lin(x), self.dropout, self.training)
        return self.lins[-1](x).squeeze(-1)


class LinkModel(nn.Module):
    """Encoder (GCN or SAGE, no BatchNorm) -> node embeddings; predictor -> pair logits.

    ``encode(x: [N, F], edge_index) -> [N, H]``; ``score(z, pairs: [2, P]) -> [P]``.
    """

    def __init__(self, cfg: LinkConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.encoder == "gcn":
            self.encoder = GCN(GCNConfig(cfg.in_channels, cfg.hidden, cfg.hidden, cfg.num_layers, cfg.dropout,
                                         input_dropout=False))
        else:
            self.encoder = SAGE(SAGEConfig(cfg.in_channels, cfg.hidden, cfg.hidden, cfg.num_layers, cfg.dropout,
                                           batch_norm=False))
        self.predictor = LinkPredictor(cfg.hidden, cfg.predictor_layers, cfg.dropout)

    def encode(self, x: Tensor, edge_index: Graph) -> Tensor:
        """Node embeddings ``[N, hidden]`` from the encoder GNN."""
        return self.encoder(x, edge_index)

    def score(self, z: Tensor, pairs: Tensor) -> Tensor:
        """Logits for node pairs ``pairs: [2, P]`` given embeddings ``z`` -> ``[P]``."""
        return self.predictor(z.index_select(0, pairs[0]), z.index_select(0, pairs[1]))
