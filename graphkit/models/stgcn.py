"""STGCN (Yu et al., IJCAI 2018): ST-Conv blocks (gated temporal conv, graph conv, temporal conv, layer norm)
and an output block.

Calling convention (every forecasting model): ``model(x, graph) -> [B, t_out, N]`` with
``x: [B, t_in, N, F]`` scaled inputs and ``graph`` a :class:`~graphkit.nn.temporal.SensorGraph`
(see :mod:`graphkit.models.forecast_input`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from graphkit.models.forecast_input import check_forecast_input
from graphkit.nn.temporal import GatedTemporalConv, STConvBlock
from graphkit.ops import SensorGraph


@dataclass
class STGCNConfig:
    """STGCN (Yu et al., IJCAI 2018): two ST-Conv blocks (temporal GLU conv, graph conv, temporal conv,
    layer norm), an output block. ``graph_conv``: ``cheb`` (order ``ks``) or ``first`` (1st-order)."""

    in_channels: int = 2
    num_nodes: int = 207
    t_in: int = 12
    t_out: int = 12
    channels: tuple[int, int, int] = (64, 16, 64)  # temporal, spatial, temporal channels of each ST-Conv block
    blocks: int = 2
    kt: int = 3
    ks: int = 3
    graph_conv: str = "cheb"
    dropout: float = 0.0

    def __post_init__(self):
        if self.graph_conv not in ("cheb", "first"):
            raise ValueError(f"graph_conv must be 'cheb' or 'first', got {self.graph_conv!r}")
        if self.t_in - 2 * self.blocks * (self.kt - 1) < 1:
            raise ValueError(f"t_in={self.t_in} is too short for {self.blocks} blocks of kernel {self.kt}")
        given = self.channels
        # a JSON list from a run's config.json, or the text "64,16,64" of configs saved before list settings
        items = given.split(",") if isinstance(given, str) else given
        try:
            sizes = tuple(int(c) for c in items)
            ok = len(sizes) == 3 and min(sizes) >= 1 and not any(isinstance(c, (bool, float)) for c in items)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"channels must be three positive sizes like 64,16,64, got {given!r}")
        self.channels = sizes

    @property
    def channel_sizes(self) -> tuple[int, int, int]:
        """``channels``: temporal, spatial, output width."""
        return self.channels


class STGCN(nn.Module):
    """Spatio-temporal graph convolutional network (Yu et al. 2018), the authors' function.

    Output block as in their code: a GLU temporal convolution over the remaining steps, layer norm
    (epsilon 1e-6), a 1x1 sigmoid temporal convolution, and a 1x1 map to the output whose bias is per
    sensor. One deliberate difference: the paper (and its code) trains one model per horizon with one
    output channel; here the map has ``t_out`` output channels, one per horizon, each with its own
    per-sensor bias (``fc_bias: [t_out, N]``), so one model serves 12 -> 12 comparisons. With ``t_out=1``
    the output block is the authors'.
    """

    def __init__(self, cfg: STGCNConfig):
        super().__init__()
        self.cfg = cfg
        c_in = cfg.in_channels
        self.blocks = nn.ModuleList()
        for _ in range(cfg.blocks):
            self.blocks.append(STConvBlock(c_in, cfg.channel_sizes, cfg.num_nodes, cfg.kt, cfg.ks, cfg.graph_conv,
                                           cfg.dropout))
            c_in = cfg.channel_sizes[2]
        ko = cfg.t_in - 2 * cfg.blocks * (cfg.kt - 1)
        self.out_t = GatedTemporalConv(c_in, c_in, ko, "glu")
        self.out_norm = nn.LayerNorm([cfg.num_nodes, c_in], eps=1e-6)
        self.out_t2 = GatedTemporalConv(c_in, c_in, 1, "sigmoid")
        self.fc = nn.Conv2d(c_in, cfg.t_out, 1, bias=False)
        self.fc_bias = nn.Parameter(torch.zeros(cfg.t_out, cfg.num_nodes))  # per horizon and sensor

    def forward(self, x: Tensor, graph: SensorGraph) -> Tensor:
        check_forecast_input(x, graph, self.cfg.t_in, self.cfg.in_channels)
        h = x.permute(0, 3, 2, 1)  # [B, F, N, T]
        for block in self.blocks:
            h = block(h, graph)
        h = self.out_t(h)
        h = self.out_norm(h.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)
        h = self.fc(self.out_t2(h))  # [B, t_out, N, 1]
        return h[..., 0] + self.fc_bias
