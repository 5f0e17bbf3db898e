"""Residual gated graph convolution with edge features (Bresson & Laurent 2017, as benchmarked by Dwivedi
et al. and used as GraphGPS's local layer).

For an edge ``j -> i`` with features ``e_ji``::

    e'_ji   = D h_i + E h_j + C e_ji
    sigma   = sigmoid(e'_ji)
    h'_i    = A h_i + sum_j sigma_ji * B h_j / (sum_j sigma_ji + eps)

then batch norm, ReLU and dropout on both ``h'`` and ``e'``, and residual connections. Returns
``(h, e)``: the updated edge features feed the next layer. Aggregation is one scatter per term.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from graphkit.nn.dropout import Dropout, norm_relu_dropout
from graphkit.nn.linear import Linear
from graphkit.ops import check, scatter


class GatedGCNConv(nn.Module):
    """Residual gated graph convolution (Bresson & Laurent 2017; GraphGPS's ``gatedgcn`` local layer).

    Edge gates ``sigma(C e_ij + D h_i + E h_j)`` weight the messages ``B h_j``; node and edge states are updated
    together (batch norm, ReLU, dropout, residual). ``conv(x [N, C], edge_index [2, E], edge_attr [E, C]) ->
    (x', edge_attr')``.
    """
    def __init__(self, channels: int, dropout: float = 0.0, batch_norm: bool = True, residual: bool = True,
                 eps: float = 1e-6):
        super().__init__()
        self.A, self.B, self.C, self.D, self.E = (Linear(channels, channels) for _ in range(5))
        self.bn_h = nn.BatchNorm1d(channels) if batch_norm else nn.Identity()
        self.bn_e = nn.BatchNorm1d(channels) if batch_norm else nn.Identity()
        self.dropout = Dropout(dropout)
        self.residual, self.eps = residual, eps

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        check.check_same_device(("x", x), ("edge_index", edge_index), ("edge_attr", edge_attr),
                                ("GatedGCNConv's weights", self))
        check.check_features(x, name="x", min_dim=2, max_dim=2)
        check.check_features(edge_attr, name="edge_attr", min_dim=2, max_dim=2)
        check.check_edge_index(edge_index, x.size(0), x.size(0))
        if edge_attr.shape != (edge_index.size(1), x.size(1)):
            raise ValueError(f"GatedGCNConv needs edge features [E={edge_index.size(1)}, {x.size(1)}], "
                             f"got {tuple(edge_attr.shape)}")
        src, dst = edge_index[0], edge_index[1]
        e = self.D(x)[dst] + self.E(x)[src] + self.C(edge_attr)
        gate = torch.sigmoid(e)
        num = scatter(gate * self.B(x)[src], dst, x.size(0), "sum")
        den = scatter(gate, dst, x.size(0), "sum")
        h = self.A(x) + num / (den + self.eps)
        # dropout(relu(bn(.))) fused, masks drawn as bits on CPU (graphkit.nn.dropout)
        h = norm_relu_dropout(h, self.bn_h, self.dropout.p, self.training)
        e = norm_relu_dropout(e, self.bn_e, self.dropout.p, self.training)
        if self.residual:
            h, e = h + x, e + edge_attr
        return h, e
