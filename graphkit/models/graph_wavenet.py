"""Graph WaveNet (Wu et al., IJCAI 2019) and the virtual-node ST-GNN built on its backbone (Cao et al. 2025).

Calling convention (every forecasting model): ``model(x, graph) -> [B, t_out, N]`` with
``x: [B, t_in, N, F]`` scaled inputs and ``graph`` a :class:`~graphkit.nn.temporal.SensorGraph`
(see :mod:`graphkit.models.forecast_input`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from graphkit.models.forecast_input import check_forecast_input
from graphkit.nn.temporal import DiffusionConv
from graphkit.ops import SensorGraph


@dataclass
class GraphWaveNetConfig:
    """Graph WaveNet (Wu et al., IJCAI 2019) with its reference defaults (``--gcn_bool --addaptadj
    --randomadj``): 4 blocks x 2 layers of dilated (1, 2) gated TCN + diffusion GCN (order 2) over the
    forward/backward transitions and the adaptive adjacency ``softmax(relu(E1 E2))``.

    ``virtual_nodes > 0`` gives the virtual-node ST-GNN (Cao et al. 2025, "Virtual Nodes Improve
    Long-term Traffic Prediction"): ``virtual_nodes`` extra nodes joined to every sensor through a
    semi-adaptive adjacency whose sensor-sensor block is the distance-based transition matrix and whose
    sensor-virtual blocks are learned from node embeddings; diffusion over it (order >= 2) lets every
    sensor reach every other inside one layer.
    """

    in_channels: int = 2
    num_nodes: int = 207
    t_in: int = 12
    t_out: int = 12
    residual_channels: int = 32
    dilation_channels: int = 32
    skip_channels: int = 256
    end_channels: int = 512
    blocks: int = 4
    layers: int = 2
    kernel_size: int = 2
    order: int = 2
    dropout: float = 0.3
    supports: bool = True  # forward/backward transitions of the road graph
    adaptive: bool = True  # learned adjacency softmax(relu(E1 E2))
    embed_dim: int = 10
    virtual_nodes: int = 0

    def __post_init__(self):
        if not (self.supports or self.adaptive or self.virtual_nodes):
            raise ValueError("Graph WaveNet needs at least one of supports, adaptive, virtual_nodes")
        if self.virtual_nodes < 0:
            raise ValueError(f"virtual_nodes must be >= 0, got {self.virtual_nodes}")


class GraphWaveNet(nn.Module):
    """Graph WaveNet (Wu et al. 2019): dilated gated temporal convolutions with diffusion graph convolutions.

    Diffusion runs over the road graph's forward / backward transitions plus a learned adaptive adjacency
    (node embeddings E1 E2^T); skip connections feed a two-layer output head that predicts all ``t_out``
    steps at once. ``model(x [B, T, N, F], SensorGraph) -> [B, t_out, N]``. With
    :class:`VirtualNodeSTGNNConfig` the adaptive adjacency is the semi-adaptive one over sensors plus virtual
    nodes.
    """
    def __init__(self, cfg: GraphWaveNetConfig):
        super().__init__()
        self.cfg = cfg
        n, e = cfg.num_nodes, cfg.embed_dim
        self.start = nn.Conv2d(cfg.in_channels, cfg.residual_channels, 1)
        if cfg.adaptive:
            self.nodevec1 = nn.Parameter(torch.randn(n, e))
            self.nodevec2 = nn.Parameter(torch.randn(e, n))
        if cfg.virtual_nodes:
            self.sensor_embed = nn.Parameter(torch.randn(n, e))
            self.virtual_embed = nn.Parameter(torch.randn(cfg.virtual_nodes, e))
        num_supports = 2 * cfg.supports + cfg.adaptive + (1 if cfg.virtual_nodes else 0)
        self.filters, self.gates, self.skips, self.residuals, self.norms, self.gconvs = (
            nn.ModuleList() for _ in range(6))
        self.receptive_field = 1
        for _ in range(cfg.blocks):
            extra, dilation = cfg.kernel_size - 1, 1
            for _ in range(cfg.layers):
                self.filters.append(nn.Conv2d(cfg.residual_channels, cfg.dilation_channels, (1, cfg.kernel_size),
                                              dilation=dilation))
                self.gates.append(nn.Conv2d(cfg.residual_channels, cfg.dilation_channels, (1, cfg.kernel_size),
                                            dilation=dilation))
                self.skips.append(nn.Conv2d(cfg.dilation_channels, cfg.skip_channels, 1))
                if len(self.skips) < cfg.blocks * cfg.layers:  # the last layer feeds only the skip path
                    self.norms.append(nn.BatchNorm2d(cfg.residual_channels))
                    self.gconvs.append(DiffusionConv(cfg.dilation_channels, cfg.residual_channels, num_supports,
                                                     cfg.order, cfg.dropout))
                self.receptive_field += extra
                extra *= 2
                dilation *= 2
        self.dilations = [2 ** i for _ in range(cfg.blocks) for i in range(cfg.layers)]
        self.end1 = nn.Conv2d(cfg.skip_channels, cfg.end_channels, 1)
        self.end2 = nn.Conv2d(cfg.end_channels, cfg.t_out, 1)

    def adaptive_adjacency(self) -> Tensor:
        """The learned ``[N, N]`` adjacency ``softmax(relu(E1 E2))`` (rows sum to 1), in message form."""
        return torch.softmax(torch.relu(self.nodevec1 @ self.nodevec2), dim=1).t()

    def semi_adaptive_adjacency(self, graph: SensorGraph) -> Tensor:
        """The ``[(N + M), (N + M)]`` operator of the virtual-node model (rows = receivers): the sensor block is
        the forward transition of the road graph; sensor <- virtual and virtual <- sensor blocks are
        ``softmax(relu(E_s E_v^T))`` over virtual nodes and ``softmax(relu(E_v E_s^T))`` over sensors."""
        if not self.cfg.virtual_nodes:
            raise ValueError("this model has no virtual nodes (virtual_nodes=0)")
        m = self.cfg.virtual_nodes
        w = graph.weights
        d = w.sum(1)
        fwd = (torch.where(d > 0, 1.0 / d, torch.zeros_like(d))[:, None] * w).t()
        scores = torch.relu(self.sensor_embed @ self.virtual_embed.t())  # [N, M]
        s_from_v = torch.softmax(scores, dim=1)  # each sensor: weights over virtual nodes
        v_from_s = torch.softmax(scores.t(), dim=1)  # each virtual node: weights over sensors
        top = torch.cat([fwd, s_from_v], dim=1)
        bottom = torch.cat([v_from_s, w.new_zeros(m, m)], dim=1)
        return torch.cat([top, bottom], dim=0)

    def _supports(self, graph: SensorGraph) -> list:
        sup: list = list(graph.transitions()) if self.cfg.supports else []
        if self.cfg.adaptive:
            sup.append(self.adaptive_adjacency())
        return sup

    def forward(self, x: Tensor, graph: SensorGraph) -> Tensor:
        check_forecast_input(x, graph, None, self.cfg.in_channels)
        h = x.permute(0, 3, 2, 1)  # [B, F, N, T]
        if h.size(-1) < self.receptive_field:
            h = nn.functional.pad(h, (self.receptive_field - h.size(-1), 0))
        h = self.start(h)
        supports = self._supports(graph)
        semi = self.semi_adaptive_adjacency(graph) if self.cfg.virtual_nodes else None
        skip = 0
        for i in range(len(self.filters)):
            res = h
            f = torch.tanh(self.filters[i](h))
            g = torch.sigmoid(self.gates[i](h))
            h = f * g
            s = self.skips[i](h)
            skip = s + (skip[..., -s.size(-1):] if torch.is_tensor(skip) else 0)
            if i == len(self.gconvs):  # the last layer's graph step would reach no output
                break
            h = self.gconvs[i](h, supports, semi)
            h = h + res[..., -h.size(-1):]
            h = self.norms[i](h)
        out = torch.relu(skip)
        out = self.end2(torch.relu(self.end1(out)))  # [B, t_out, N, 1]
        return out[..., -1]


@dataclass
class VirtualNodeSTGNNConfig(GraphWaveNetConfig):
    """The virtual-node ST-GNN: Graph WaveNet's backbone with ``virtual_nodes`` virtual nodes on a
    semi-adaptive adjacency (see :class:`GraphWaveNetConfig`) in place of the fully adaptive one."""

    virtual_nodes: int = 8
    adaptive: bool = False

    def __post_init__(self):
        super().__post_init__()
        if self.virtual_nodes < 1:
            raise ValueError("the virtual-node ST-GNN needs virtual_nodes >= 1 (use gwnet for none)")
