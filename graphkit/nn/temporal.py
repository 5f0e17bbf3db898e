"""Spatio-temporal building blocks: the sensor graph's operators and layers over ``[B, C, N, T]`` tensors.

Inside the traffic models features are channels-first ``[batch, channel, node, time]`` (what 2-D
convolutions over (node, time) want); every spatial step is :func:`graphkit.ops.propagate_nodes` along
axis 2, so sparse road graphs run through :func:`graphkit.ops.spmm` and learned dense adjacencies
through one batched product.

* the road graph and the operators models derive from it are :class:`graphkit.ops.SensorGraph`
  (graphkit.nn re-exports it).
* :class:`STConvBlock` (STGCN's sandwich), :class:`GatedTemporalConv` (its GLU convolution),
  :class:`ChebGraphConv`, :class:`FirstOrderGraphConv`, :class:`DiffusionConv` (Graph WaveNet),
  :class:`GraphGRUCell` (T-GCN), :class:`ChannelAlign` (residual width matching).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from graphkit.ops import Adjacency, SensorGraph, propagate_nodes


class ChannelAlign(nn.Module):
    """The width change of a residual in STGCN's and STTN's code: a bias-free linear map of the channels when the
    input is wider (or of any other width with ``always_project``), zero channels appended when narrower, else
    the identity. ``dim``: the channel axis (1 for ``[B, C, N, T]``, -1 for channels last)."""

    def __init__(self, c_in: int, c_out: int, dim: int = 1, always_project: bool = False):
        super().__init__()
        self.c_in, self.c_out, self.dim = c_in, c_out, dim
        project = c_in > c_out or (always_project and c_in != c_out)
        self.proj = nn.Linear(c_in, c_out, bias=False) if project else None

    def forward(self, x: Tensor) -> Tensor:
        if self.proj is not None:
            return self.proj(x.movedim(self.dim, -1)).movedim(-1, self.dim)
        if self.c_in < self.c_out:
            shape = list(x.shape)
            shape[self.dim] = self.c_out - self.c_in
            return torch.cat([x, x.new_zeros(shape)], dim=self.dim)
        return x


class GatedTemporalConv(nn.Module):
    """STGCN's temporal convolution (the authors' ``temporal_conv_layer``): kernel ``kt`` over time, then
    ``glu``: ``(P + res) * sigmoid(Q)``, ``relu``: ``relu(h + res)``, or ``sigmoid``: ``sigmoid(h)`` (no
    residual, as in their code).

    ``[B, C_in, N, T] -> [B, C_out, N, T - kt + 1]``; the residual is the input's last ``T - kt + 1``
    steps, channels matched by a 1x1 convolution (C_in > C_out; its bias, which theirs lacks, adds to the
    convolution's and changes nothing) or zero padding (C_in < C_out).
    """

    def __init__(self, in_channels: int, out_channels: int, kt: int, act: str = "glu"):
        super().__init__()
        if act not in ("glu", "relu", "sigmoid"):
            raise ValueError(f"act must be 'glu', 'relu' or 'sigmoid', got {act!r}")
        self.kt, self.act, self.out_channels = kt, act, out_channels
        self.conv = nn.Conv2d(in_channels, out_channels * (2 if act == "glu" else 1), (1, kt))
        self.align = (nn.Conv2d(in_channels, out_channels, 1)
                      if in_channels > out_channels and act != "sigmoid" else None)

    def forward(self, x: Tensor) -> Tensor:
        if self.act == "sigmoid":
            return torch.sigmoid(self.conv(x))
        res = x[..., self.kt - 1:]
        if self.align is not None:
            res = self.align(res)
        elif res.size(1) < self.out_channels:
            res = nn.functional.pad(res, (0, 0, 0, 0, 0, self.out_channels - res.size(1)))
        h = self.conv(x)
        if self.act == "glu":
            p, q = h.chunk(2, dim=1)
            return (p + res) * torch.sigmoid(q)
        return torch.relu(h + res)


class ChebGraphConv(nn.Module):
    """Chebyshev filter of order ``k`` (``k`` terms ``T_0 .. T_{k-1}``) on the scaled Laplacian, per time
    step: ``[B, C_in, N, T] -> [B, C_out, N, T]``."""

    def __init__(self, in_channels: int, out_channels: int, k: int):
        super().__init__()
        if k < 1:
            raise ValueError(f"Chebyshev order must be >= 1, got {k}")
        self.k = k
        self.weight = nn.Parameter(torch.empty(k, in_channels, out_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.kaiming_uniform_(self.weight.view(k * in_channels, out_channels).t(), a=math.sqrt(5))

    def forward(self, x: Tensor, lap: Adjacency) -> Tensor:
        terms = [x]
        if self.k > 1:
            terms.append(propagate_nodes(lap, x, node_dim=2))
        for _ in range(2, self.k):
            terms.append(2 * propagate_nodes(lap, terms[-1], node_dim=2) - terms[-2])
        out = torch.einsum("kbcnt,kco->bont", torch.stack(terms), self.weight)
        return out + self.bias.view(1, -1, 1, 1)


class FirstOrderGraphConv(nn.Module):
    """First-order graph convolution ``D^-1/2 (W + I) D^-1/2 X Theta`` per time step (STGCN's 1st-order
    variant): ``[B, C_in, N, T] -> [B, C_out, N, T]``."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.lin = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: Tensor, adj: Adjacency) -> Tensor:
        return self.lin(propagate_nodes(adj, x, node_dim=2))


class DiffusionConv(nn.Module):
    """Graph WaveNet's graph convolution: ``sum_s sum_{k<=order} A_s^k X`` for each support ``A_s``,
    concatenated with ``X`` and mixed by a 1x1 convolution, then dropout.

    Supports are :class:`~graphkit.ops.Adjacency` (road-graph transitions) or dense ``[N, N]`` tensors
    (the learned adaptive adjacency)."""

    def __init__(self, in_channels: int, out_channels: int, num_supports: int, order: int = 2,
                 dropout: float = 0.3):
        super().__init__()
        self.order = order
        self.mlp = nn.Conv2d(in_channels * (1 + num_supports * order), out_channels, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, supports: list, augmented: Tensor | None = None) -> Tensor:
        """``augmented``: an extra ``[N + M, N + M]`` operator over the sensors and ``M`` added nodes (the
        virtual-node model's semi-adaptive adjacency); the added nodes start at zero and only the sensors'
        rows are kept after each power."""
        out = [x]
        for a in supports:
            h = x
            for _ in range(self.order):
                h = propagate_nodes(a, h, node_dim=2)
                out.append(h)
        if augmented is not None:
            n = x.size(2)
            pad = x.new_zeros(x.size(0), x.size(1), augmented.size(0) - n, x.size(3))
            h = torch.cat([x, pad], dim=2)
            for _ in range(self.order):
                h = propagate_nodes(augmented, h, node_dim=2)
                out.append(h[:, :, :n])
        return self.dropout(self.mlp(torch.cat(out, dim=1)))


class GraphGRUCell(nn.Module):
    """T-GCN's cell: a GRU whose gates are graph convolutions ``A [x, h] W + b`` over the sensors.

    ``x: [B, N, F]``, ``h: [B, N, H]`` -> new ``h``.

    ``gate_layout``: ``"per-node"`` (default) splits each node's ``2H`` gate values into its reset and update
    gates, a standard GRU. ``"flat"`` is what the authors' code (PyTorch and TensorFlow) computes: the gate
    output is flattened node by node to ``[B, N * 2H]`` and that axis is split in half, so node ``i``'s reset
    gate holds node ``i // 2``'s values (half of them update-gate values). It is the function behind T-GCN's
    published numbers, offered to compare with them; the per-node split is the GRU the paper describes.
    """

    def __init__(self, in_channels: int, hidden: int, gate_layout: str = "per-node"):
        super().__init__()
        if gate_layout not in ("per-node", "flat"):
            raise ValueError(f"gate_layout must be 'per-node' or 'flat', got {gate_layout!r}")
        self.hidden, self.gate_layout = hidden, gate_layout
        self.gates = nn.Linear(in_channels + hidden, 2 * hidden)
        self.cand = nn.Linear(in_channels + hidden, hidden)
        nn.init.constant_(self.gates.bias, 1.0)  # T-GCN starts the gates open

    def forward(self, x: Tensor, h: Tensor, adj: Adjacency) -> Tensor:
        ru = torch.sigmoid(self.gates(propagate_nodes(adj, torch.cat([x, h], -1), node_dim=1)))
        if self.gate_layout == "flat":  # the authors' split of the node-major flattened gates
            r, u = (g.reshape(h.shape) for g in ru.reshape(ru.size(0), -1).chunk(2, dim=1))
        else:
            r, u = ru.chunk(2, dim=-1)
        c = torch.tanh(self.cand(propagate_nodes(adj, torch.cat([x, r * h], -1), node_dim=1)))
        return u * h + (1 - u) * c


class STConvBlock(nn.Module):
    """STGCN's sandwich: gated temporal conv -> spatial conv -> temporal conv -> layer norm.

    The spatial step is the authors' (Yu et al.'s TensorFlow code, ``spatio_conv_layer``):
    ``relu(graph_conv(h) + align(h))``, the graph convolution Chebyshev (order ``ks``) or first order, plus a
    residual of the input aligned to the output width (:class:`ChannelAlign`). Without the residual the
    first-order variant is a different class of functions (its filter has no identity term); the Chebyshev
    variant's ``T_0`` term could absorb it, but only under another parametrisation. The layer norm over
    ``[N, C]`` uses the authors' epsilon, 1e-6. ``[B, c_in, N, T] -> [B, channels[2], N, T - 2 (kt - 1)]``;
    ``graph_conv``: ``"cheb"`` (order ``ks``, on the graph's scaled Laplacian) or ``"first"``.
    """
    def __init__(self, c_in: int, channels: tuple[int, int, int], num_nodes: int, kt: int = 3, ks: int = 3,
                 graph_conv: str = "cheb", dropout: float = 0.0):
        super().__init__()
        if graph_conv not in ("cheb", "first"):
            raise ValueError(f"graph_conv must be 'cheb' or 'first', got {graph_conv!r}")
        c_t, c_s, c_o = channels
        self.t1 = GatedTemporalConv(c_in, c_t, kt, "glu")
        self.graph_conv = graph_conv
        self.g = ChebGraphConv(c_t, c_s, ks) if graph_conv == "cheb" else FirstOrderGraphConv(c_t, c_s)
        self.align = ChannelAlign(c_t, c_s)
        self.t2 = GatedTemporalConv(c_s, c_o, kt, "relu")
        self.norm = nn.LayerNorm([num_nodes, c_o], eps=1e-6)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, graph: SensorGraph) -> Tensor:
        h = self.t1(x)
        op = graph.scaled_laplacian() if self.graph_conv == "cheb" else graph.gcn()
        h = torch.relu(self.g(h, op) + self.align(h))
        h = self.t2(h)
        h = self.norm(h.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)
        return self.dropout(h)
