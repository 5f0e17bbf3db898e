"""Edge-list utilities: degree, self loops, coalesce, undirected, normalisations.

All functions take explicit node counts and return new tensors (inputs are
never modified). Edge weights travel with their edges through every function.

Example::

    >>> ei = torch.tensor([[0, 1, 1], [1, 0, 0]])
    >>> coalesce(ei, num_nodes=2)[0]       # duplicate 1 -> 0 merged, sorted by (source, target)
    tensor([[0, 1],
            [1, 0]])
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphkit.ops import check
from graphkit.ops.scatter import scatter, scatter_trusted


def degree(index: Tensor, num_nodes: int, edge_weight: Tensor | None = None,
           dtype: torch.dtype = torch.float32) -> Tensor:
    """``[num_nodes]`` (weighted) count of each node in ``index: [E]``.

    Pass ``edge_index[1]`` for in-degrees (PyG's default flow), ``edge_index[0]`` for out-degrees.
    """
    num_nodes = check.check_size(num_nodes, "num_nodes")
    check.check_index(index, num_nodes, name="index")
    check.check_edge_values(edge_weight, index.numel())
    w = torch.ones(index.numel(), dtype=dtype, device=index.device) if edge_weight is None else edge_weight
    return torch.zeros(num_nodes, dtype=w.dtype, device=index.device).index_add_(0, index.long(), w)


def remove_self_loops(edge_index: Tensor, edge_weight: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Drop every edge ``i -> i``; ``edge_weight: [E, ...]`` follows its edges."""
    check.check_edge_index(edge_index)
    check.check_edge_values(edge_weight, edge_index.size(1))
    keep = edge_index[0] != edge_index[1]
    return edge_index[:, keep], None if edge_weight is None else edge_weight[keep]


def add_self_loops(edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None,
                   fill_value: float = 1.0) -> tuple[Tensor, Tensor | None]:
    """Append one loop ``i -> i`` per node (existing loops are kept, so a node may get two)."""
    num_nodes = check.check_size(num_nodes, "num_nodes")
    check.check_edge_index(edge_index, num_nodes, num_nodes)
    check.check_edge_values(edge_weight, edge_index.size(1))
    loops = torch.arange(num_nodes, device=edge_index.device, dtype=edge_index.dtype).repeat(2, 1)
    out = torch.cat([edge_index, loops], dim=1)
    if edge_weight is None:
        return out, None
    fill = edge_weight.new_full((num_nodes, *edge_weight.shape[1:]), fill_value)
    return out, torch.cat([edge_weight, fill], dim=0)


def add_remaining_self_loops(edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None,
                             fill_value: float = 1.0) -> tuple[Tensor, Tensor | None]:
    """Give every node exactly one self loop.

    Existing loops are removed and replaced by one loop per node, placed after
    the other edges; a node that had a loop keeps its weight (the last one in
    edge order), the others get ``fill_value``. Same output as PyG's function.
    """
    num_nodes = check.check_size(num_nodes, "num_nodes")
    check.check_edge_index(edge_index, num_nodes, num_nodes)
    check.check_edge_values(edge_weight, edge_index.size(1))
    is_loop = edge_index[0] == edge_index[1]
    loops = torch.arange(num_nodes, device=edge_index.device, dtype=edge_index.dtype).repeat(2, 1)
    out = torch.cat([edge_index[:, ~is_loop], loops], dim=1)
    if edge_weight is None:
        return out, None
    loop_w = edge_weight.new_full((num_nodes, *edge_weight.shape[1:]), fill_value)
    pos = torch.nonzero(is_loop).view(-1)
    if pos.numel():
        nodes = edge_index[0, pos].long()
        # Keep the last loop of each node: the largest edge position per node.
        last = scatter(pos, nodes, num_nodes, "max")
        has = torch.zeros(num_nodes, dtype=torch.bool, device=pos.device)
        has[nodes] = True
        loop_w[has] = edge_weight[last[has]]
    return out, torch.cat([edge_weight[~is_loop], loop_w], dim=0)


def coalesce(edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None,
             reduce: str = "sum") -> tuple[Tensor, Tensor | None]:
    """Sort edges by ``(source, target)`` and merge duplicates, reducing their weights.

    ``reduce`` is ``"sum"``, ``"mean"``, ``"max"`` or ``"min"``.
    """
    num_nodes = check.check_size(num_nodes, "num_nodes")
    check.check_edge_index(edge_index, num_nodes, num_nodes)
    check.check_edge_values(edge_weight, edge_index.size(1))
    key = edge_index[0].long() * num_nodes + edge_index[1].long()
    key_sorted, order = torch.sort(key)
    unique_key, inverse = torch.unique_consecutive(key_sorted, return_inverse=True)
    out = torch.stack([unique_key // max(num_nodes, 1), unique_key % max(num_nodes, 1)]).to(edge_index.dtype)
    if edge_weight is None:
        return out, None
    w = scatter_trusted(edge_weight[order], inverse, unique_key.numel(), reduce)
    return out, w


def to_undirected(edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None,
                  reduce: str = "sum") -> tuple[Tensor, Tensor | None]:
    """Add every reverse edge and coalesce (weights of merged duplicates are reduced)."""
    check.check_edge_index(edge_index, num_nodes, num_nodes)
    both = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    w = None if edge_weight is None else torch.cat([edge_weight, edge_weight], dim=0)
    return coalesce(both, num_nodes, w, reduce)


def gcn_norm(edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None,
             improved: bool = False, add_self_loops: bool = True,
             dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """Symmetric normalisation: weights ``w_ji / sqrt(deg_j deg_i)`` of ``D^-1/2 (A + I) D^-1/2``.

    Degrees are in-degrees (``edge_index[1]``), self loops as in
    :func:`add_remaining_self_loops` with ``fill_value = 2 if improved else 1``
    (also for unweighted graphs). Returns ``(edge_index, edge_weight)`` with the
    loops appended. :func:`graphkit.ops.gcn_aggregate` computes the same
    product without building these new edge lists.
    """
    num_nodes = check.check_size(num_nodes, "num_nodes")
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.size(1), dtype=dtype, device=edge_index.device)
    if add_self_loops:
        edge_index, edge_weight = add_remaining_self_loops(
            edge_index, num_nodes, edge_weight, 2.0 if improved else 1.0)
    else:
        check.check_edge_index(edge_index, num_nodes, num_nodes)
    src, dst = edge_index[0].long(), edge_index[1].long()
    deg = torch.zeros(num_nodes, dtype=edge_weight.dtype, device=src.device).index_add_(0, dst, edge_weight)
    d = deg.pow(-0.5)
    d = d.masked_fill(torch.isinf(d), 0.0)
    return edge_index, d[src] * edge_weight * d[dst]


def rw_norm(edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None,
            add_self_loops: bool = False, dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """Random-walk normalisation ``D^-1 A``: weights ``w_ji / deg_i`` (each target's in-weights sum to 1)."""
    num_nodes = check.check_size(num_nodes, "num_nodes")
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.size(1), dtype=dtype, device=edge_index.device)
    if add_self_loops:
        edge_index, edge_weight = add_remaining_self_loops(edge_index, num_nodes, edge_weight, 1.0)
    else:
        check.check_edge_index(edge_index, num_nodes, num_nodes)
    dst = edge_index[1].long()
    deg = torch.zeros(num_nodes, dtype=edge_weight.dtype, device=dst.device).index_add_(0, dst, edge_weight)
    inv = deg.reciprocal()
    inv = inv.masked_fill(torch.isinf(inv), 0.0)
    return edge_index, edge_weight * inv[dst]
