"""Hypergraph node classifiers: HGNN, HGNN+ and HCHA (hyperedge attention).

The AllSet benchmark's shape (Chien et al., ICLR 2022): ``num_layers``
hypergraph convolutions with ELU and dropout between them.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

from graphkit.nn import HypergraphAttentionConv, HypergraphConv, dropout
from graphkit.ops import Hypergraph

CONVS = ("hgnn", "hgnn+", "hcha")


@dataclass
class HypergraphNetConfig:
    """``conv``: ``"hgnn"`` (symmetric normalisation), ``"hgnn+"`` (two-stage mean) or ``"hcha"`` (attention)."""

    in_channels: int = 1
    out_channels: int = 2
    conv: str = "hgnn"
    hidden: int = 256
    num_layers: int = 2
    dropout: float = 0.5
    heads: int = 1  # hcha only

    def __post_init__(self):
        if self.conv not in CONVS:
            raise ValueError(f"conv must be one of {CONVS}, got {self.conv!r}")


class HypergraphNet(nn.Module):
    """``forward(x: [N, F], graph: Hypergraph | [2, nnz]) -> [N, C]`` logits."""

    def __init__(self, cfg: HypergraphNetConfig):
        super().__init__()
        self.cfg = cfg
        sizes = [cfg.in_channels] + [cfg.hidden] * (cfg.num_layers - 1) + [cfg.out_channels]
        convs = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            if cfg.conv == "hcha":  # heads are averaged, so every layer keeps its width
                convs.append(HypergraphAttentionConv(a, b, heads=cfg.heads, concat=False))
            else:
                convs.append(HypergraphConv(a, b, norm="sym" if cfg.conv == "hgnn" else "mean"))
        self.convs = nn.ModuleList(convs)

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, x: Tensor, graph: Hypergraph | Tensor) -> Tensor:
        for i, conv in enumerate(self.convs):
            x = conv(x, graph)
            if i < len(self.convs) - 1:
                x = dropout(F.elu(x), self.cfg.dropout, self.training)
        return x
