"""T-GCN (Zhao et al. 2019): a GRU whose gates are graph convolutions.

Calling convention (every forecasting model): ``model(x, graph) -> [B, t_out, N]`` with
``x: [B, t_in, N, F]`` scaled inputs and ``graph`` a :class:`~graphkit.nn.temporal.SensorGraph`
(see :mod:`graphkit.models.forecast_input`).
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from graphkit.models.forecast_input import check_forecast_input
from graphkit.nn.temporal import GraphGRUCell
from graphkit.ops import SensorGraph


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
        check_forecast_input(x, graph, None, self.cfg.in_channels)
        b, t, n, _ = x.shape
        h = x.new_zeros(b, n, self.cfg.hidden)
        adj = graph.gcn()
        for step in range(t):
            h = self.cell(x[:, step], h, adj)
        return self.head(h).transpose(1, 2)  # [B, t_out, N]
