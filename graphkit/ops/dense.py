"""Node features of a batch of graphs as padded sequences, and back.

A batch in PyG's layout stacks the nodes of ``B`` graphs in ``x: [N, F]`` with ``batch: [N]`` (graph id
of each node, non-decreasing). Sequence mixers (attention, Mamba) want ``[B, L_max, F]`` with a mask of
real positions: :func:`to_dense_batch` builds it (optionally in a given node order), and
:func:`from_dense_batch` returns the real rows in the original node order. Padding rows are zeros and the
mask is False there; mixers must ignore them (the tests check that one graph never changes another's
output).

Example::

    >>> x = torch.arange(5.).view(5, 1); batch = torch.tensor([0, 0, 0, 1, 1])
    >>> dense, mask = to_dense_batch(x, batch, batch_size=2)
    >>> dense[..., 0]
    tensor([[0., 1., 2.],
            [3., 4., 0.]])
    >>> mask
    tensor([[ True,  True,  True],
            [ True,  True, False]])
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphkit.ops import check
from graphkit.ops.scatter import counts as count_values


def _positions(batch: Tensor, batch_size: int) -> tuple[Tensor, Tensor]:
    counts = count_values(batch, batch_size)
    ptr = torch.zeros(batch_size + 1, dtype=torch.long, device=batch.device)
    torch.cumsum(counts, 0, out=ptr[1:])
    return torch.arange(batch.numel(), device=batch.device) - ptr[batch], counts


def to_dense_batch(x: Tensor, batch: Tensor, batch_size: int, max_nodes: int | None = None,
                   order: Tensor | None = None, fill_value: float = 0.0) -> tuple[Tensor, Tensor]:
    """``(dense [B, L, *], mask [B, L])`` from ``x: [N, *]`` and ``batch: [N]``.

    Args:
        batch: graph id of every node, non-decreasing (PyG's batches are).
        batch_size: ``B`` (explicit, so no host sync is needed to find it).
        max_nodes: ``L``; default the largest graph (one host sync). Graphs larger than ``L`` raise.
        order: a permutation of ``0..N-1`` that keeps nodes grouped by graph (see
            :mod:`graphkit.ops.order`): position ``p`` of a graph's sequence holds its ``p``-th node in
            this order. Default: the nodes' own order.
    """
    check.check_features(x, name="x")
    check.check_same_device(("x", x), ("batch", batch), ("order", order))
    batch_size = check.check_size(batch_size, "batch_size")
    check.check_index(batch, batch_size, x.size(0), name="batch")
    if order is not None:
        check.check_index(order, x.size(0), x.size(0), name="order")
        x, batch = x[order], batch[order]
    if check.enabled() and batch.numel() > 1 and bool((batch[1:] < batch[:-1]).any()):
        raise ValueError("batch must be non-decreasing (nodes grouped by graph); "
                         "an ordering must keep each graph's nodes together")
    pos, counts = _positions(batch, batch_size)
    longest = int(counts.max()) if counts.numel() else 0
    length = longest if max_nodes is None else check.check_size(max_nodes, "max_nodes")
    if longest > length:
        raise ValueError(f"a graph has {longest} nodes but max_nodes={length}")
    dense = x.new_full((batch_size, length, *x.shape[1:]), fill_value)
    dense[batch, pos] = x
    mask = torch.zeros(batch_size, length, dtype=torch.bool, device=x.device)
    mask[batch, pos] = True
    return dense, mask


def from_dense_batch(dense: Tensor, mask: Tensor, order: Tensor | None = None) -> Tensor:
    """The real rows of ``dense: [B, L, *]`` as ``[N, *]``, in node order (undoing ``order`` if given)."""
    if dense.shape[:2] != mask.shape:
        raise ValueError(f"dense {tuple(dense.shape)} and mask {tuple(mask.shape)} disagree on [B, L]")
    out = dense[mask]
    if order is None:
        return out
    check.check_index(order, out.size(0), out.size(0), name="order")
    restored = torch.empty_like(out)
    restored[order] = out
    return restored
