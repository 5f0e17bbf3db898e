"""What every traffic forecasting model takes, checked once at its entry.

Calling convention: ``model(x, graph) -> [B, t_out, N]`` with ``x: [B, t_in, N, F]`` scaled inputs
(feature 0 the scaled target, then covariates) and ``graph`` a :class:`~graphkit.nn.temporal.SensorGraph`.
Outputs are on the scaled value axis; :class:`~graphkit.train.tasks.ForecastTask` inverts the scaler
before the loss, so losses and metrics are in raw units. The models: STGCN (:mod:`.stgcn`), Graph WaveNet
and the virtual-node ST-GNN (:mod:`.graph_wavenet`), STTN (:mod:`.sttn`), T-GCN (:mod:`.tgcn`).
"""
from __future__ import annotations

from torch import Tensor

from graphkit.ops import SensorGraph


def check_forecast_input(x: Tensor, graph: SensorGraph, t_in: int | None, in_channels: int) -> None:
    """``x: [B, T, N, F]`` with the graph's ``N`` sensors, the model's ``F`` features and (when the model
    fixes it) ``T = t_in`` steps; a named ``ValueError`` otherwise."""
    if x.dim() != 4:
        raise ValueError(f"traffic models take x: [B, T, N, F], got shape {tuple(x.shape)}")
    if x.size(2) != graph.num_nodes:
        raise ValueError(f"x has {x.size(2)} sensors but the graph has {graph.num_nodes}")
    if x.size(3) != in_channels:
        raise ValueError(f"x has {x.size(3)} features per sensor; the model was built for {in_channels}")
    if t_in is not None and x.size(1) != t_in:
        raise ValueError(f"x has {x.size(1)} input steps; the model was built for t_in={t_in}")
