"""Traffic forecasting models: STGCN, Graph WaveNet (and its virtual-node variant), STTN, T-GCN.

Calling convention: ``model(x, graph) -> [B, t_out, N]`` with ``x: [B, t_in, N, F]`` scaled inputs
(feature 0 the scaled target, then covariates) and ``graph`` a :class:`~graphkit.nn.temporal.SensorGraph`.
Outputs are on the scaled value axis; :class:`~graphkit.train.tasks.ForecastTask` inverts the scaler
before the loss, so losses and metrics are in raw units.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from graphkit.nn.temporal import (
    ChebGraphConv,
    DiffusionConv,
    FirstOrderGraphConv,
    GatedTemporalConv,
    GraphGRUCell,
    SensorGraph,
)
from graphkit.ops import propagate_nodes


def _check_input(x: Tensor, graph: SensorGraph, t_in: int | None, in_channels: int) -> None:
    if x.dim() != 4:
        raise ValueError(f"traffic models take x: [B, T, N, F], got shape {tuple(x.shape)}")
    if x.size(2) != graph.num_nodes:
        raise ValueError(f"x has {x.size(2)} sensors but the graph has {graph.num_nodes}")
    if x.size(3) != in_channels:
        raise ValueError(f"x has {x.size(3)} features per sensor; the model was built for {in_channels}")
    if t_in is not None and x.size(1) != t_in:
        raise ValueError(f"x has {x.size(1)} input steps; the model was built for t_in={t_in}")


# ----------------------------------------------------------------------------- STGCN
@dataclass
class STGCNConfig:
    """STGCN (Yu et al., IJCAI 2018): two ST-Conv blocks (temporal GLU conv, graph conv, temporal conv,
    layer norm), an output block. ``graph_conv``: ``cheb`` (order ``ks``) or ``first`` (1st-order)."""

    in_channels: int = 2
    num_nodes: int = 207
    t_in: int = 12
    t_out: int = 12
    channels: str = "64,16,64"  # temporal, spatial, temporal channels of each ST-Conv block
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
        try:
            sizes = tuple(int(c) for c in str(self.channels).split(","))
        except ValueError:
            sizes = ()
        if len(sizes) != 3 or min(sizes) < 1:
            raise ValueError(f"channels must be three positive sizes like '64,16,64', got {self.channels!r}")

    @property
    def channel_sizes(self) -> tuple[int, int, int]:
        """``channels`` ('64,16,64') as three ints: temporal, spatial, output width."""
        a, b, c = (int(v) for v in self.channels.split(","))
        return a, b, c


class STConvBlock(nn.Module):
    """STGCN's sandwich: gated temporal conv -> graph conv (Chebyshev or first order) -> temporal conv -> layer norm."""
    def __init__(self, c_in: int, channels: tuple[int, int, int], num_nodes: int, kt: int, ks: int,
                 graph_conv: str, dropout: float):
        super().__init__()
        c_t, c_s, c_o = channels
        self.t1 = GatedTemporalConv(c_in, c_t, kt, "glu")
        self.graph_conv = graph_conv
        self.g = ChebGraphConv(c_t, c_s, ks) if graph_conv == "cheb" else FirstOrderGraphConv(c_t, c_s)
        self.t2 = GatedTemporalConv(c_s, c_o, kt, "relu")
        self.norm = nn.LayerNorm([num_nodes, c_o])
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, graph: SensorGraph) -> Tensor:
        h = self.t1(x)
        op = graph.scaled_laplacian() if self.graph_conv == "cheb" else graph.gcn()
        h = torch.relu(self.g(h, op))
        h = self.t2(h)
        h = self.norm(h.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)
        return self.dropout(h)


class STGCN(nn.Module):
    """Spatio-temporal graph convolutional network. The output block maps the remaining time steps to
    ``t_out`` horizons at once (the paper trains one model per horizon; 12 -> 12 comparisons need all)."""

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
        self.out_norm = nn.LayerNorm([cfg.num_nodes, c_in])
        self.out_t2 = GatedTemporalConv(c_in, c_in, 1, "sigmoid")
        self.fc = nn.Conv2d(c_in, cfg.t_out, 1)

    def forward(self, x: Tensor, graph: SensorGraph) -> Tensor:
        _check_input(x, graph, self.cfg.t_in, self.cfg.in_channels)
        h = x.permute(0, 3, 2, 1)  # [B, F, N, T]
        for block in self.blocks:
            h = block(h, graph)
        h = self.out_t(h)
        h = self.out_norm(h.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)
        h = self.fc(self.out_t2(h))  # [B, t_out, N, 1]
        return h[..., 0]


# ----------------------------------------------------------------------------- Graph WaveNet
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
        _check_input(x, graph, None, self.cfg.in_channels)
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


# ----------------------------------------------------------------------------- STTN
@dataclass
class STTNConfig:
    """STTN (Xu et al. 2020): blocks of a spatial transformer (multi-head attention over sensors, with a
    learned spatial embedding, fused by a gate with a graph convolution on the fixed road graph) and a
    temporal transformer (attention over steps per sensor); a 1x1 head maps steps to horizons."""

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


class STTNBlock(nn.Module):
    """One spatial-temporal transformer block: attention over sensors at each step, then over steps per sensor."""
    def __init__(self, cfg: STTNConfig):
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


class STTN(nn.Module):
    """STTN (Xu et al. 2020): spatial transformers (dynamic sensor-to-sensor attention plus a fixed graph
    convolution) and temporal transformers, stacked; ``model(x [B, T, N, F], SensorGraph) -> [B, t_out, N]``.
    """
    def __init__(self, cfg: STTNConfig):
        super().__init__()
        self.cfg = cfg
        self.inp = nn.Linear(cfg.in_channels, cfg.hidden)
        self.blocks = nn.ModuleList(STTNBlock(cfg) for _ in range(cfg.blocks))
        self.time_head = nn.Conv2d(cfg.t_in, cfg.t_out, 1)
        self.out = nn.Sequential(nn.ReLU(), nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 1))

    def forward(self, x: Tensor, graph: SensorGraph) -> Tensor:
        _check_input(x, graph, self.cfg.t_in, self.cfg.in_channels)
        h = self.inp(x)  # [B, T, N, D]
        for block in self.blocks:
            h = block(h, graph)
        h = self.time_head(h)  # [B, t_out, N, D]: steps -> horizons
        return self.out(h)[..., 0]


# ----------------------------------------------------------------------------- T-GCN
@dataclass
class TGCNConfig:
    """T-GCN (Zhao et al. 2019): a GRU whose gates are graph convolutions, unrolled over the input steps;
    a linear map from the last hidden state to the ``t_out`` horizons."""

    in_channels: int = 1
    num_nodes: int = 207
    t_in: int = 12
    t_out: int = 12
    hidden: int = 64
    # "per-node": a standard GRU split of the gates; "flat": the authors' code's split (GraphGRUCell explains)
    gate_layout: str = "per-node"

    def __post_init__(self):
        if self.gate_layout not in ("per-node", "flat"):
            raise ValueError(f"TGCNConfig.gate_layout must be 'per-node' or 'flat', got {self.gate_layout!r}")


class TGCN(nn.Module):
    """T-GCN (Zhao et al. 2019): a GRU whose gates are graph convolutions, read over the input window;
    a linear head maps the last hidden state to all ``t_out`` steps. ``model(x [B, T, N, F], graph) ->
    [B, t_out, N]``.
    """
    def __init__(self, cfg: TGCNConfig):
        super().__init__()
        self.cfg = cfg
        self.cell = GraphGRUCell(cfg.in_channels, cfg.hidden, cfg.gate_layout)
        self.head = nn.Linear(cfg.hidden, cfg.t_out)

    def forward(self, x: Tensor, graph: SensorGraph) -> Tensor:
        _check_input(x, graph, None, self.cfg.in_channels)
        b, t, n, _ = x.shape
        h = x.new_zeros(b, n, self.cfg.hidden)
        adj = graph.gcn()
        for step in range(t):
            h = self.cell(x[:, step], h, adj)
        return self.head(h).transpose(1, 2)  # [B, t_out, N]


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
