"""Sensor graphs from road distances, as each lineage builds them (DCRNN, STGCN, ASTGCN)."""
from __future__ import annotations

import numpy as np


def gaussian_kernel_adjacency(dist: np.ndarray, threshold: float = 0.1, sigma: float | None = None) -> np.ndarray:
    """DCRNN's graph: ``W_ij = exp(-(d_ij / sigma)^2)``, zeroed below ``threshold``; ``sigma`` defaults to
    the std of the finite distances; ``inf`` (no road) gives 0."""
    finite = dist[np.isfinite(dist)]
    if finite.size == 0:
        raise ValueError("no finite distance to build a Gaussian-kernel adjacency from")
    sigma = float(finite.std()) if sigma is None else sigma
    if not sigma > 0:
        raise ValueError(f"Gaussian kernel needs sigma > 0, got {sigma}")
    w = np.exp(-np.square(dist / sigma))
    w[w < threshold] = 0.0
    return w.astype(np.float32)


def stgcn_adjacency(dist: np.ndarray, sigma2: float = 0.1, epsilon: float = 0.5, scale: float = 1e4) -> np.ndarray:
    """STGCN's graph from metres: ``W_ij = exp(-(d_ij/scale)^2 / sigma2)`` where that is ``>= epsilon``,
    no self loops."""
    d = dist / scale
    w = np.exp(-np.square(d) / sigma2)
    w = w * (w >= epsilon)
    np.fill_diagonal(w, 0.0)
    return w.astype(np.float32)


def binary_adjacency(dist: np.ndarray) -> np.ndarray:
    """ASTGCN's connectivity graph: 1 wherever a distance row exists."""
    return np.isfinite(dist).astype(np.float32)
