"""Graph-Mamba (Wang et al. 2024) as its authors' code computes it: the GPS block
(:class:`~graphkit.models.gps.GraphGPS`) with one Mamba (``expand=1``, no projection biases, as
``mamba_ssm.Mamba``) reading each graph's nodes once in ascending degree order, ties broken at random, a
fresh draw in every layer; evaluation averages the mixer over 5 such random orderings (their default
``Mamba_Hybrid_Degree_Noise``). graphkit's bidirectional variant stays available:
``--model.mamba_bidirectional true --model.mamba_expand 2 --model.mamba_bias true --model.eval_orderings 1``.
"""
from __future__ import annotations

from dataclasses import dataclass

from graphkit.models.gps import GPSConfig


@dataclass
class GraphMambaConfig(GPSConfig):
    """Graph-Mamba (Wang et al. 2024): the GPS block with the authors' Mamba mixer over nodes sorted by
    degree, ties broken at random in every layer; evaluation averages 5 random orderings."""

    mixer: str = "mamba"
    ordering: str = "degree"
    order_per_layer: bool = True
    eval_orderings: int = 5
    mamba_expand: int = 1
    mamba_bidirectional: bool = False
    mamba_bias: bool = False
