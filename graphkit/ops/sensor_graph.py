"""The graph of a traffic network: a dense sensor weight matrix and the operators models derive from it.

:class:`SensorGraph` holds ``W: [N, N]`` (``W[i, j]`` = weight of the road link ``i -> j``) and builds,
once per graph and cached, the GCN-normalised operator (T-GCN), the forward/backward random-walk
transitions (Graph WaveNet, DCRNN) and the scaled Laplacian of Chebyshev filters (STGCN, STTN), each as
an :class:`~graphkit.ops.Adjacency` for :func:`~graphkit.ops.propagate_nodes`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import Tensor

from graphkit.ops.adjacency import Adjacency

T = TypeVar("T")


def _sparse(mat: Tensor) -> Adjacency:
    """Adjacency with ``A[i, j] = mat[i, j]`` (entry of target row ``i``, source ``j``) for nonzero entries."""
    dst, src = torch.nonzero(mat, as_tuple=True)
    return Adjacency.from_edge_index(torch.stack([src, dst]), mat[dst, src].float(), num_nodes=mat.size(0))


class SensorGraph:
    """A sensor graph ``W: [N, N]`` (``W[i, j]`` = weight of the road link ``i -> j``) and its operators.

    Every operator is returned as ``M`` with ``propagate_nodes(M, x)[i] = sum_j M[i, j] x[j]``; sparse ones
    as :class:`~graphkit.ops.Adjacency`, computed once per graph (and device) and cached.
    """

    def __init__(self, weights: Tensor):
        if weights.dim() != 2 or weights.size(0) != weights.size(1):
            raise ValueError(f"a sensor graph needs a square [N, N] weight matrix, got {tuple(weights.shape)}")
        if not torch.isfinite(weights).all():
            raise ValueError("the sensor graph's weights hold NaN or inf")
        if (weights < 0).any():
            raise ValueError("the sensor graph's weights must be non-negative")
        self.weights = weights.float()
        self._cache: dict[str, Any] = {}

    @property
    def num_nodes(self) -> int:
        """Number of sensors."""
        return self.weights.size(0)

    def to(self, device: torch.device | str) -> "SensorGraph":
        return SensorGraph(self.weights.to(device))

    def _get(self, key: str, build: Callable[[], T]) -> T:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def gcn(self) -> Adjacency:
        """``D^-1/2 (W + I)^T D^-1/2`` with ``D`` the row sums of ``W + I`` (T-GCN's normalisation; for a
        symmetric graph Kipf & Welling's)."""
        def build():
            a = self.weights + torch.eye(self.num_nodes, device=self.weights.device)
            d = a.sum(1).pow(-0.5)
            d[torch.isinf(d)] = 0
            return _sparse(d[:, None] * a.t() * d[None, :])
        return self._get("gcn", build)

    def transitions(self) -> list[Adjacency]:
        """Graph WaveNet / DCRNN diffusion: forward ``P_f = D_o^-1 W`` and backward ``P_b = D_i^-1 W^T``
        random walks, applied as messages along the walk (``out = P^T x``)."""
        def build():
            out = []
            for w in (self.weights, self.weights.t()):
                d = w.sum(1)
                inv = torch.where(d > 0, 1.0 / d, torch.zeros_like(d))
                out.append(_sparse((inv[:, None] * w).t()))
            return out
        return self._get("transitions", build)

    def scaled_laplacian(self) -> Adjacency:
        """STGCN's Chebyshev operator ``2 L / lambda_max - I`` with ``L = I - D^-1/2 W D^-1/2``
        (``W`` symmetrised, no self loops)."""
        def build():
            w = self.weights.double()
            w = torch.maximum(w, w.t()) * (1 - torch.eye(self.num_nodes, dtype=w.dtype, device=w.device))
            d = w.sum(1)
            inv = torch.where(d > 0, d.pow(-0.5), torch.zeros_like(d))
            lap = torch.eye(self.num_nodes, dtype=w.dtype, device=w.device) - inv[:, None] * w * inv[None, :]
            lam = float(torch.linalg.eigvalsh(lap.cpu()).max())
            lam = lam if lam > 1e-8 else 2.0
            return _sparse((2.0 / lam * lap - torch.eye(self.num_nodes, dtype=w.dtype, device=w.device)).float())
        return self._get("cheb", build)
