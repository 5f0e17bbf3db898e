"""graphkit's reading of the STTN paper (Xu et al. 2020): multi-head spatial and temporal transformer blocks
with added position embeddings and a gated fusion with a road-graph convolution. Not the authors' code's
function (that is :class:`~graphkit.models.STTN`); kept as ``--model sttn-paper``, the model the
``sttn-*`` rows before 2026-11-30 were trained with.

Calling convention (every forecasting model): ``model(x, graph) -> [B, t_out, N]`` with
``x: [B, t_in, N, F]`` scaled inputs and ``graph`` a :class:`~graphkit.nn.temporal.SensorGraph`
(see :mod:`graphkit.models.forecast_input`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from graphkit.models.forecast_input import check_forecast_input
from graphkit.ops import SensorGraph, propagate_nodes


@dataclass
class PaperSTTNConfig:
    """graphkit's reading of STTN (Xu et al. 2020): blocks of a spatial transformer (multi-head attention over
    sensors, with a learned spatial embedding, fused by a gate with a graph convolution on the fixed road graph)
    and a temporal transformer (attention over steps per sensor); a 1x1 head maps steps to horizons."""

    in_channels: int = 2
    num_nodes: int = 207
    t_in: int = 12
    t_out: int = 12
    hidden: int = 64
    heads: int = 4
    blocks: int = 2
    dropout: float = 0.0
    ff_mult: int = 4

    def __post_init__(self):
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be divisible by heads ({self.heads})")


class _TransformerLayer(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float, ff_mult: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff_mult * dim), nn.ReLU(), nn.Linear(ff_mult * dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, q: Tensor, x: Tensor) -> Tensor:
        """``q``: the input plus its position embeddings, used as queries, keys *and* values (so the values carry
        the embeddings too); ``x``: the input without them, the residual stream. ``[S, L, D]``. This is
        graphkit's reading of the STTN paper, not the authors' code (issue 22 lists the differences)."""
        h = self.norm1(x + self.drop(self.attn(q, q, q, need_weights=False)[0]))
        return self.norm2(h + self.drop(self.ff(h)))


class PaperSTTNBlock(nn.Module):
    """One spatial-temporal transformer block: attention over sensors at each step, then over steps per sensor."""
    def __init__(self, cfg: PaperSTTNConfig):
        super().__init__()
        d = cfg.hidden
        self.spatial_embed = nn.Parameter(torch.randn(cfg.num_nodes, d) / math.sqrt(d))
        self.temporal_embed = nn.Parameter(torch.randn(cfg.t_in, d) / math.sqrt(d))
        self.spatial = _TransformerLayer(d, cfg.heads, cfg.dropout, cfg.ff_mult)
        self.gcn = nn.Linear(d, d)
        self.gate_s, self.gate_g = nn.Linear(d, d), nn.Linear(d, d)
        self.temporal = _TransformerLayer(d, cfg.heads, cfg.dropout, cfg.ff_mult)

    def forward(self, h: Tensor, graph: SensorGraph) -> Tensor:
        b, t, n, d = h.shape
        # spatial: sensors attend to sensors at each step (dynamic dependencies) ...
        hs = h.reshape(b * t, n, d)
        xs = self.spatial(hs + self.spatial_embed, hs).reshape(b, t, n, d)
        # ... fused with a graph convolution over the fixed road graph
        xg = torch.relu(self.gcn(propagate_nodes(graph.gcn(), h, node_dim=2)))
        g = torch.sigmoid(self.gate_s(xs) + self.gate_g(xg))
        h = h + g * xs + (1 - g) * xg
        # temporal: each sensor's steps attend to each other
        ht = h.permute(0, 2, 1, 3).reshape(b * n, t, d)
        ht = self.temporal(ht + self.temporal_embed[:t], ht)
        return ht.reshape(b, n, t, d).permute(0, 2, 1, 3)


class PaperSTTN(nn.Module):
    """graphkit's reading of STTN (Xu et al. 2020): spatial transformers (sensor-to-sensor attention plus a fixed graph
    convolution) and temporal transformers, stacked; ``model(x [B, T, N, F], SensorGraph) -> [B, t_out, N]``.
    """
    def __init__(self, cfg: PaperSTTNConfig):
        super().__init__()
        self.cfg = cfg
        self.inp = nn.Linear(cfg.in_channels, cfg.hidden)
        self.blocks = nn.ModuleList(PaperSTTNBlock(cfg) for _ in range(cfg.blocks))
        self.time_head = nn.Conv2d(cfg.t_in, cfg.t_out, 1)
        self.out = nn.Sequential(nn.ReLU(), nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 1))

    def forward(self, x: Tensor, graph: SensorGraph) -> Tensor:
        check_forecast_input(x, graph, self.cfg.t_in, self.cfg.in_channels)
        h = self.inp(x)  # [B, T, N, D]
        for block in self.blocks:
            h = block(h, graph)
        h = self.time_head(h)  # [B, t_out, N, D]: steps -> horizons
        return self.out(h)[..., 0]
