"""Graph-Mamba (Wang et al. 2024): the GPS block (:class:`~graphkit.models.gps.GraphGPS`) with a
bidirectional Mamba mixer reading nodes in degree order, ties broken at random while training
(``ordering="degree"``, ``order_noise``)."""
from __future__ import annotations

from dataclasses import dataclass

from graphkit.models.gps import GPSConfig


@dataclass
class GraphMambaConfig(GPSConfig):
    """Graph-Mamba (Wang et al. 2024): the GPS block with a bidirectional Mamba mixer over nodes sorted by
    degree, ties broken at random while training."""

    mixer: str = "mamba"
    ordering: str = "degree"
