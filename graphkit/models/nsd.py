"""Neural Sheaf Diffusion (Bodnar et al., NeurIPS 2022): the discrete NSD models.

``lin1`` lifts node features to ``d * hidden`` (``d`` stalk dimensions of
``hidden`` channels), ``num_layers`` :class:`~graphkit.nn.SheafDiffusionLayer`
steps diffuse them over a sheaf learned per layer, ``lin2`` reads classes out.
``kind`` picks Diag-NSD (``"diag"``), O(d)-NSD (``"orthogonal"``, the
reference code's BundleSheaf) or Gen-NSD (``"general"``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

from graphkit.nn import SheafDiffusionLayer, dropout
from graphkit.ops import as_adjacency
from graphkit.ops.adjacency import Graph


@dataclass
class NSDConfig:
    """Defaults are the reference code's defaults (``exp/parser.py``).

    ``input_dropout`` hits the raw features, ``dropout`` the hidden states and
    (from the second layer on) the sheaf learners' input.
    """

    in_channels: int = 1
    out_channels: int = 2
    kind: str = "diag"  # "diag" | "orthogonal" | "general"
    d: int = 2
    hidden: int = 20  # channels per stalk dimension
    num_layers: int = 2
    input_dropout: float = 0.0
    dropout: float = 0.0
    left_weights: bool = True
    right_weights: bool = True
    use_act: bool = True
    second_linear: bool = False
    orthogonal_map: str = "householder"
    edge_weights: bool = True
    sheaf_act: str = "tanh"
    sparse_learner: bool = False
    add_lp: bool = False
    add_hp: bool = False
    normalised: bool = True
    augmented: bool = True


class NSD(nn.Module):
    """Discrete NSD: ``forward(x: [N, F], graph) -> [N, C]`` logits.

    ``graph`` is an undirected ``edge_index`` without self loops or an
    :class:`~graphkit.ops.Adjacency` of one (the sheaf pattern is cached on it).
    Parameters of the sheaf learners are named ``*.sheaf_learner.*`` so an
    optimiser can give them their own weight decay (NSD's ``sheaf_decay``).
    """

    def __init__(self, cfg: NSDConfig):
        super().__init__()
        self.cfg = cfg
        self.stalk_dim = cfg.d + int(cfg.add_lp) + int(cfg.add_hp)
        width = self.stalk_dim * cfg.hidden
        self.lin1 = nn.Linear(cfg.in_channels, width)
        self.lin12 = nn.Linear(width, width) if cfg.second_linear else None
        self.layers = nn.ModuleList(
            SheafDiffusionLayer(cfg.hidden, cfg.d, cfg.kind, cfg.orthogonal_map, cfg.edge_weights, cfg.left_weights,
                                cfg.right_weights, cfg.use_act, cfg.sheaf_act, cfg.sparse_learner, cfg.add_lp,
                                cfg.add_hp, cfg.normalised, cfg.augmented, cfg.dropout)
            for _ in range(cfg.num_layers))
        self.lin2 = nn.Linear(width, cfg.out_channels)

    def reset_parameters(self) -> None:
        for m in (self.lin1, self.lin12, self.lin2, *self.layers):
            if m is not None:
                m.reset_parameters()

    def forward(self, x: Tensor, graph: Graph) -> Tensor:
        adj = as_adjacency(graph, x.size(0))
        cfg = self.cfg
        x = dropout(x, cfg.input_dropout, self.training)
        x = self.lin1(x)
        if cfg.use_act:
            x = F.elu(x)
        x = dropout(x, cfg.dropout, self.training)
        if self.lin12 is not None:
            x = self.lin12(x)
        x0 = x
        for i, layer in enumerate(self.layers):
            x0 = layer(x0, x0, adj, learner_dropout=0.0 if i == 0 else cfg.dropout)
        return self.lin2(x0)
