"""Node orderings for sequence mixers: functions returning a permutation of the nodes.

Every ordering keeps each graph's nodes together (graphs in batch order) and orders nodes inside a
graph; pass the result as ``order=`` to :func:`graphkit.ops.dense.to_dense_batch`. Orderings are plain
functions, so a block takes one as an argument instead of a string switch.

* :func:`degree_order`: by degree, ties (and, with ``noise``, near-ties) broken at random (Graph-Mamba's
  ordering: low degree first, so high-degree nodes see the most context in a forward scan).
* :func:`random_order`: a uniformly random order inside every graph.
* :func:`bfs_order`: breadth-first levels from a root per graph (the highest-degree node), then node id.
* :func:`identity_order`: the nodes as given.
* :func:`check_ordering`: a named error for anything else passed as an ordering.
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphkit.ops import check
from graphkit.ops.graph import degree


def _sort_within_graphs(batch: Tensor, key: Tensor) -> Tensor:
    """Stable sort by ``(batch, key)``; ``key`` is a float tensor."""
    inner = torch.argsort(key, stable=True)
    outer = torch.argsort(batch[inner], stable=True)
    return inner[outer]


def check_ordering(order: Tensor, batch: Tensor, num_nodes: int, name: str = "order") -> None:
    """``order`` is an ordering: a permutation of ``0..num_nodes-1`` that keeps each graph's nodes together,
    graphs in increasing id (what every function here returns). Raises ValueError naming the problem."""
    if not check.enabled():
        return
    check.check_index(order, num_nodes, num_nodes, name)
    if num_nodes and bool((torch.bincount(order, minlength=num_nodes) != 1).any()):
        raise ValueError(f"{name} must be a permutation of the {num_nodes} nodes (each node exactly once)")
    grouped = batch[order]
    if num_nodes > 1 and bool((grouped[1:] < grouped[:-1]).any()):
        raise ValueError(f"{name} must keep each graph's nodes together, graphs in increasing id "
                         "(batch[order] non-decreasing)")


def identity_order(batch: Tensor) -> Tensor:
    """Nodes in their stored order (``arange``), for blocks that take an ordering."""
    return torch.arange(batch.numel(), device=batch.device)


def random_order(batch: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """A uniformly random order of each graph's nodes."""
    key = torch.rand(batch.numel(), generator=generator, device="cpu").to(batch.device)
    return _sort_within_graphs(batch, key)


def degree_order(edge_index: Tensor, batch: Tensor, num_nodes: int, noise: float = 0.0,
                 generator: torch.Generator | None = None, descending: bool = False,
                 random_ties: bool = False) -> Tensor:
    """Nodes of each graph by (in-)degree, ascending unless ``descending``.

    Ties are broken uniformly at random when ``random_ties`` (torch's global generator, so
    ``torch.manual_seed`` and the trainer's checkpoints fix the draws) or when ``generator`` is given
    (or by node id otherwise);
    ``noise > 0`` adds ``U(0, noise)`` to the degrees first (Graph-Mamba perturbs the order during
    training this way), so nodes whose degrees differ by less than ``noise`` may swap.
    """
    check.check_edge_index(edge_index, num_nodes, num_nodes)
    deg = degree(edge_index[1], num_nodes, dtype=torch.float64)
    if descending:
        deg = -deg
    if noise > 0 or generator is not None or random_ties:
        u = torch.rand(num_nodes, generator=generator, dtype=torch.float64, device="cpu").to(deg.device)
        deg = deg + (u * noise if noise > 0 else u * 0.5)  # < 1: reorders only equal degrees
    return _sort_within_graphs(batch, deg)


def bfs_order(edge_index: Tensor, batch: Tensor, num_nodes: int, num_graphs: int) -> Tensor:
    """Breadth-first levels from each graph's highest-degree node (lowest id on ties); nodes in other
    components than the root's come after, in node order. Within a level, node id order."""
    check.check_edge_index(edge_index, num_nodes, num_nodes)
    device = edge_index.device
    deg = degree(edge_index[0], num_nodes, dtype=torch.float64) + degree(edge_index[1], num_nodes,
                                                                           dtype=torch.float64)
    # root per graph: max degree, lowest id first
    key = deg * (num_nodes + 1) - torch.arange(num_nodes, device=device, dtype=torch.float64)
    best = torch.full((num_graphs,), -float("inf"), dtype=torch.float64, device=device)
    best = best.scatter_reduce(0, batch, key, "amax")
    is_root = key == best[batch]
    level = torch.full((num_nodes,), num_nodes + 1, dtype=torch.long, device=device)
    level[is_root] = 0
    src, dst = torch.cat([edge_index[0], edge_index[1]]), torch.cat([edge_index[1], edge_index[0]])
    frontier = is_root
    for step in range(1, num_nodes + 1):
        reached = torch.zeros(num_nodes, dtype=torch.bool, device=device)
        reached[dst[frontier[src]]] = True
        new = reached & (level > num_nodes)
        if not bool(new.any()):
            break
        level[new] = step
        frontier = new
    return _sort_within_graphs(batch, level.double() + torch.arange(num_nodes, device=device) / (num_nodes + 1))


def inverse_permutation(perm: Tensor) -> Tensor:
    """The permutation that undoes ``perm`` (``inv[perm[i]] = i``)."""
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel(), device=perm.device)
    return inv
