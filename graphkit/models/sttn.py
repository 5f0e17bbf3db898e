"""STTN (Xu et al. 2020) as its authors' code computes it (github.com/xumingxingsjtu/STTN, TensorFlow).

* Inputs pass a 1x1 map to ``input_channels`` (their "aggregation", 32 wide).
* Each block (their ``sttn_conv_block``; their configuration has one, 64 wide):

  - learned position tables are *concatenated* to the features: a ``[N, N]`` spatial table (row ``i`` for
    sensor ``i``) and a ``[T, T]`` temporal table (row ``t`` for step ``t``);
  - spatial layer: ``relu(transformer_over_sensors(h) + proj(h) + 0.1 * cheb_gconv(h))``, where the
    transformer is one BERT layer with a single head (a bias-free projection of the input to the width
    first, attention, output map, residual and layer norm, a 128-wide ReLU feed-forward, residual and
    layer norm), ``proj`` a bias-free 1x1 map and ``cheb_gconv`` a Chebyshev graph convolution of order
    ``ks`` on the scaled Laplacian;
  - temporal layer: another ``[T, T]`` table concatenated, then ``relu(transformer_over_steps(h) +
    align(h))`` per sensor;
  - a layer norm over ``[N, C]`` (epsilon 1e-6).

* Output (their ``output_layer``): a ReLU temporal convolution over the whole window with the last step as
  residual, a layer norm over ``[N, C]``, a 1x1 map to 512 with a bias per sensor, dropout, and a 1x1 map
  to the output with a bias per sensor.

Deliberate differences, both as for STGCN: their code predicts one step and rolls out longer horizons by
feeding predictions back; here the last map has ``t_out`` channels, one per horizon, each with its own
per-sensor bias (with ``t_out=1`` it is theirs). Their position tables are read from graph collections
that their main script fills under another name, so their starting values are not what the code intends;
here they start from N(0, 0.02), their initializer for every other weight. The layer norms inside the
transformer use BERT's epsilon, 1e-12. :class:`~graphkit.models.sttn_paper.PaperSTTN` is graphkit's earlier
reading of the paper (``--model sttn-paper``).

Calling convention (every forecasting model): ``model(x, graph) -> [B, t_out, N]`` with
``x: [B, t_in, N, F]`` scaled inputs and ``graph`` a :class:`~graphkit.nn.temporal.SensorGraph`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from graphkit.models.forecast_input import check_forecast_input
from graphkit.nn.temporal import ChannelAlign, ChebGraphConv
from graphkit.ops import SensorGraph


@dataclass
class STTNConfig:
    """The authors' STTN; defaults are their configuration (one 64-wide block, inputs mapped to 32,
    Chebyshev order 3, a 128-wide feed-forward, a 512-wide output layer, dropout 0.1)."""

    in_channels: int = 2
    num_nodes: int = 207
    t_in: int = 12
    t_out: int = 12
    input_channels: int = 32
    hidden: int = 64
    blocks: int = 1
    ks: int = 3
    ff: int = 128
    head_hidden: int = 512
    dropout: float = 0.1

    def __post_init__(self):
        for name in ("in_channels", "num_nodes", "t_in", "t_out", "input_channels", "hidden", "blocks", "ks", "ff",
                     "head_hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"STTNConfig.{name} must be >= 1, got {getattr(self, name)}")


class BertLayer(nn.Module):
    """One single-head BERT encoder layer over ``[S, L, C_in]`` sequences, the width first changed to
    ``width`` (:class:`~graphkit.nn.temporal.ChannelAlign`): ``a = LN(x + drop(W_o attention(x)))``,
    ``LN(a + drop(FF(a)))``."""

    def __init__(self, c_in: int, width: int, ff: int, dropout: float):
        super().__init__()
        self.inp = ChannelAlign(c_in, width, dim=-1)
        self.query, self.key, self.value = (nn.Linear(width, width) for _ in range(3))
        self.out = nn.Linear(width, width)
        self.norm1 = nn.LayerNorm(width, eps=1e-12)
        self.ff1, self.ff2 = nn.Linear(width, ff), nn.Linear(ff, width)
        self.norm2 = nn.LayerNorm(width, eps=1e-12)
        self.drop = nn.Dropout(dropout)
        self.scale = 1.0 / math.sqrt(width)

    def forward(self, x: Tensor) -> Tensor:
        h = self.inp(x)
        scores = (self.query(h) @ self.key(h).transpose(-1, -2)) * self.scale
        ctx = self.drop(torch.softmax(scores, dim=-1)) @ self.value(h)
        a = self.norm1(h + self.drop(self.out(ctx)))
        return self.norm2(a + self.drop(self.ff2(torch.relu(self.ff1(a)))))


def _table(rows: int, cols: int) -> nn.Parameter:
    return nn.Parameter(nn.init.trunc_normal_(torch.empty(rows, cols), std=0.02, a=-0.04, b=0.04))


class STTNBlock(nn.Module):
    """One block of the authors' STTN: position tables, spatial layer, temporal layer, layer norm over
    ``[N, C]``. ``[B, T, N, C_in] -> [B, T, N, width]``."""

    def __init__(self, c_in: int, width: int, num_nodes: int, t_in: int, ks: int, ff: int, dropout: float):
        super().__init__()
        c_pos = c_in + num_nodes + t_in
        self.spatial_table, self.temporal_table = _table(num_nodes, num_nodes), _table(t_in, t_in)
        self.spatial_residual = ChannelAlign(c_pos, width, dim=-1, always_project=True)
        self.gconv = ChebGraphConv(c_pos, width, ks)
        self.spatial = BertLayer(c_pos, width, ff, dropout)
        self.temporal_table2 = _table(t_in, t_in)
        self.temporal_residual = ChannelAlign(width + t_in, width, dim=-1)
        self.temporal = BertLayer(width + t_in, width, ff, dropout)
        self.norm = nn.LayerNorm([num_nodes, width], eps=1e-6)

    def forward(self, x: Tensor, graph: SensorGraph) -> Tensor:
        b, t, n, _ = x.shape
        x = torch.cat([x, self.spatial_table.expand(b, t, n, n),
                       self.temporal_table[:t, None, :].expand(b, t, n, t)], dim=-1)
        gc = self.gconv(x.permute(0, 3, 2, 1), graph.scaled_laplacian()).permute(0, 3, 2, 1)
        s = self.spatial(x.reshape(b * t, n, -1)).reshape(b, t, n, -1)
        h = torch.relu(s + self.spatial_residual(x) + 0.1 * gc)
        h = torch.cat([h, self.temporal_table2[:t, None, :].expand(b, t, n, t)], dim=-1)
        o = self.temporal(h.transpose(1, 2).reshape(b * n, t, -1)).reshape(b, n, t, -1).transpose(1, 2)
        return self.norm(torch.relu(o + self.temporal_residual(h)))


class STTN(nn.Module):
    """STTN (Xu et al. 2020) as its authors' code computes it (see the module docstring for the one
    deliberate difference, one output channel per horizon). ``model(x [B, T, N, F], SensorGraph) ->
    [B, t_out, N]``."""

    def __init__(self, cfg: STTNConfig):
        super().__init__()
        self.cfg = cfg
        n, t, d = cfg.num_nodes, cfg.t_in, cfg.hidden
        self.inp = nn.Linear(cfg.in_channels, cfg.input_channels)
        self.blocks = nn.ModuleList(
            STTNBlock(cfg.input_channels if i == 0 else d, d, n, t, cfg.ks, cfg.ff, cfg.dropout)
            for i in range(cfg.blocks))
        self.out_conv = nn.Linear(t * d, d)  # a temporal convolution whose kernel is the whole window
        self.out_norm = nn.LayerNorm([n, d], eps=1e-6)
        self.fc1 = nn.Linear(d, cfg.head_hidden, bias=False)
        self.fc1_bias = nn.Parameter(torch.zeros(n, cfg.head_hidden))  # per sensor
        self.fc2 = nn.Linear(cfg.head_hidden, cfg.t_out, bias=False)
        self.fc2_bias = nn.Parameter(torch.zeros(cfg.t_out, n))  # per horizon and sensor
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: Tensor, graph: SensorGraph) -> Tensor:
        check_forecast_input(x, graph, self.cfg.t_in, self.cfg.in_channels)
        h = self.inp(x)  # [B, T, N, C]
        for block in self.blocks:
            h = block(h, graph)
        b, t, n, d = h.shape
        z = torch.relu(self.out_conv(h.transpose(1, 2).reshape(b, n, t * d)) + h[:, -1])  # [B, N, d]
        z = self.out_norm(z)
        y = self.fc2(self.drop(self.fc1(z) + self.fc1_bias))  # [B, N, t_out]
        return y.transpose(1, 2) + self.fc2_bias
