"""Positional and structural encodings of one graph: Laplacian eigenvectors and random-walk return
probabilities (computed once per graph, as a data transform; dense, so meant for graphs up to a few
thousand nodes).

* :func:`laplacian_pe`: the ``k`` eigenvectors of the symmetric normalised Laplacian
  ``I - D^-1/2 A D^-1/2`` with the smallest eigenvalues (the trivial one included, as GraphGPS does),
  zero-padded (eigenvalue NaN-free zeros, flagged in a mask) when the graph has fewer than ``k`` nodes.
  Eigenvectors are defined up to sign (and rotation inside repeated eigenvalues); encoders either train
  with random sign flips or are sign invariant (:class:`graphkit.nn.pe.LapPEEncoder`).
* :func:`random_walk_se`: ``[P^1_ii, ..., P^k_ii]`` with ``P = D^-1 A`` (RWSE, Dwivedi et al. 2022).
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphkit.ops import check

MAX_DENSE_NODES = 20_000


def _dense_adjacency(edge_index: Tensor, num_nodes: int) -> Tensor:
    num_nodes = check.check_size(num_nodes, "num_nodes")
    check.check_edge_index(edge_index, num_nodes, num_nodes)
    if num_nodes > MAX_DENSE_NODES:
        raise ValueError(f"positional encodings are computed densely; {num_nodes} nodes exceed "
                         f"{MAX_DENSE_NODES} (compute them per subgraph instead)")
    a = torch.zeros(num_nodes, num_nodes, dtype=torch.float64, device=edge_index.device)
    a[edge_index[1], edge_index[0]] = 1.0  # duplicates collapse; direction kept as given
    a.fill_diagonal_(0.0)
    return a


def laplacian_pe(edge_index: Tensor, num_nodes: int, k: int, normalization: str = "sym"
                 ) -> tuple[Tensor, Tensor, Tensor]:
    """``(eigvecs [N, k], eigvals [k], valid [k])`` of the symmetrised graph's Laplacian: ``"sym"``
    ``I - D^-1/2 A D^-1/2`` or ``"none"`` ``D - A`` (GraphGPS's LapPE on Peptides); unit-norm eigenvectors."""
    if normalization not in ("sym", "none"):
        raise ValueError(f"normalization must be 'sym' or 'none', got {normalization!r}")
    a = _dense_adjacency(edge_index, num_nodes)
    a = torch.maximum(a, a.t())
    deg = a.sum(1)
    if normalization == "none":
        lap = torch.diag(deg) - a
    else:
        inv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
        lap = torch.eye(num_nodes, dtype=a.dtype, device=a.device) - inv[:, None] * a * inv[None, :]
    vals, vecs = torch.linalg.eigh(lap)
    m = min(k, num_nodes)
    out_vecs = torch.zeros(num_nodes, k, dtype=torch.float32, device=a.device)
    out_vals = torch.zeros(k, dtype=torch.float32, device=a.device)
    out_vecs[:, :m] = vecs[:, :m].float()
    out_vals[:m] = vals[:m].clamp_min(0).float()
    valid = torch.arange(k, device=a.device) < m
    return out_vecs, out_vals, valid


def random_walk_se(edge_index: Tensor, num_nodes: int, k: int) -> Tensor:
    """``[N, k]`` return probabilities of 1..k-step random walks (0 for isolated nodes)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    a = _dense_adjacency(edge_index, num_nodes)
    deg = a.sum(1)
    p = torch.where(deg[:, None] > 0, a / deg.clamp_min(1)[:, None], torch.zeros_like(a))
    out, power = [], p
    for _ in range(k):
        out.append(torch.diagonal(power))
        power = power @ p
    return torch.stack(out, dim=1).float()
