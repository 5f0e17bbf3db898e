"""Graph signals with extra axes: ``A @ x`` along the node axis of ``[B, T, N, F]``-shaped tensors.

Spatio-temporal models hold features as ``[batch, time, node, channel]`` (or
with channels first); every spatial step is one product with the sensor graph
along the node axis. :func:`propagate_nodes` is that product: a sparse
:class:`~graphkit.ops.Adjacency` goes through :func:`~graphkit.ops.spmm` once
for all batch, time and channel entries together (the other axes become
columns of one wide dense matrix); a dense ``[N, N]`` tensor (a learned,
adaptive adjacency) is one batched matrix product.

Example::

    >>> adj = Adjacency.from_edge_index(torch.tensor([[0, 1], [1, 0]]), num_nodes=2)
    >>> x = torch.arange(8.).reshape(1, 2, 2, 2)       # [B=1, T=2, N=2, F=2]
    >>> propagate_nodes(adj, x, node_dim=2)[0, 0]      # rows swap: node 0 gets node 1's features
    tensor([[2., 3.],
            [0., 1.]])
"""
from __future__ import annotations

from torch import Tensor

from graphkit.ops import check
from graphkit.ops.adjacency import Adjacency
from graphkit.ops.spmm import spmm


def propagate_nodes(graph: Adjacency | Tensor, x: Tensor, node_dim: int = -2) -> Tensor:
    """``out[..., i, ...] = sum_j A[i, j] x[..., j, ...]`` along axis ``node_dim`` of ``x``.

    Args:
        graph: :class:`~graphkit.ops.Adjacency` (``A[i, j]`` for each edge ``j -> i``), or a dense
            ``[N, N]`` tensor ``A`` (rows = targets), e.g. a learned adjacency.
        x: features with ``N`` entries along ``node_dim`` and any other axes.
        node_dim: the node axis of ``x``.
    """
    check.check_features(x, name="x")
    node_dim = node_dim % x.dim()
    n = x.size(node_dim)
    if isinstance(graph, Tensor) and graph.dim() == 2 and graph.is_floating_point():
        if graph.shape != (n, n):
            raise ValueError(f"the dense adjacency is {tuple(graph.shape)} but x has {n} nodes along "
                             f"dim {node_dim}; expected ({n}, {n})")
        moved = x.movedim(node_dim, -2)  # [..., N, F]
        return (graph.to(x.dtype) @ moved).movedim(-2, node_dim)
    if not isinstance(graph, Adjacency):
        raise TypeError(f"propagate_nodes takes a graphkit.ops.Adjacency or a dense [N, N] tensor, "
                        f"got {type(graph).__name__}")
    if graph.num_src != n:
        raise ValueError(f"the adjacency has {graph.num_src} source nodes but x has {n} along dim {node_dim}")
    moved = x.movedim(node_dim, 0)
    rest = moved.shape[1:]
    out = spmm(graph, moved.reshape(n, -1))
    return out.reshape(graph.num_dst, *rest).movedim(0, node_dim)
