"""Padded batches and node orderings: round trips, masks, grouping by graph, and each ordering's rule."""
from __future__ import annotations

import pytest
import torch

from graphkit.ops import (
    bfs_order,
    degree,
    degree_order,
    from_dense_batch,
    identity_order,
    inverse_permutation,
    random_order,
    to_dense_batch,
)


def _batch(sizes):
    return torch.cat([torch.full((s,), i) for i, s in enumerate(sizes)])


@pytest.mark.parametrize("sizes", [[3, 1, 4], [1], [5, 5], [2, 0, 3]])
def test_dense_batch_round_trip_against_loop(sizes):
    batch = _batch(sizes)
    x = torch.randn(batch.numel(), 3, requires_grad=True)
    dense, mask = to_dense_batch(x, batch, len(sizes))
    assert dense.shape == (len(sizes), max(sizes), 3)
    start = 0
    for g, s in enumerate(sizes):
        assert torch.equal(dense[g, :s], x[start:start + s])
        assert torch.all(dense[g, s:] == 0) and mask[g, :s].all() and not mask[g, s:].any()
        start += s
    assert torch.equal(from_dense_batch(dense, mask), x)
    dense.sum().backward()
    assert torch.all(x.grad == 1)


def test_dense_batch_with_an_order_and_back():
    batch = _batch([3, 4])
    x = torch.arange(7.0).view(7, 1)
    order = torch.tensor([2, 0, 1, 6, 3, 5, 4])
    dense, mask = to_dense_batch(x, batch, 2, order=order)
    assert dense[0, :3, 0].tolist() == [2, 0, 1] and dense[1, :4, 0].tolist() == [6, 3, 5, 4]
    assert torch.equal(from_dense_batch(dense, mask, order), x)
    with pytest.raises(ValueError, match="non-decreasing"):
        to_dense_batch(x, batch, 2, order=torch.tensor([3, 0, 1, 2, 4, 5, 6]))
    with pytest.raises(ValueError, match="max_nodes=2"):
        to_dense_batch(x, batch, 2, max_nodes=2)
    assert to_dense_batch(x, batch, 2, max_nodes=6)[0].shape == (2, 6, 1)


def _grouped(perm, batch):
    assert sorted(perm.tolist()) == list(range(batch.numel()))
    assert torch.all(batch[perm][1:] >= batch[perm][:-1])


def test_orderings_keep_graphs_together_and_follow_their_rule():
    g = torch.Generator().manual_seed(0)
    batch = _batch([6, 5])
    ei = torch.tensor([[0, 0, 0, 1, 2, 6, 7, 8, 9], [1, 2, 3, 2, 4, 7, 8, 9, 10]])
    ei = torch.cat([ei, ei.flip(0)], 1)
    deg = degree(ei[1], 11)
    for perm in (identity_order(batch), random_order(batch, g), degree_order(ei, batch, 11, generator=g),
                 degree_order(ei, batch, 11, noise=0.5, generator=g), bfs_order(ei, batch, 11, 2)):
        _grouped(perm, batch)
    d = degree_order(ei, batch, 11, generator=g)
    for gid in (0, 1):
        nodes = d[batch[d] == gid]
        assert torch.all(deg[nodes][1:] >= deg[nodes][:-1])
    desc = degree_order(ei, batch, 11, descending=True)
    assert desc[0] == 0  # node 0 has the largest degree in graph 0
    # random tie-breaking: equal-degree nodes appear in more than one order over seeds
    seen = {tuple(degree_order(ei, batch, 11, generator=torch.Generator().manual_seed(s)).tolist())
            for s in range(20)}
    assert len(seen) > 1
    bfs = bfs_order(ei, batch, 11, 2)
    assert bfs[:6].tolist() == [0, 1, 2, 3, 4, 5]  # root 0; level 1: 1,2,3; level 2: 4; unreachable 5 last
    assert bfs[6] in (7, 8, 9)  # graph 1's root: a degree-2 node (lowest id among them is 7)
    assert torch.equal(inverse_permutation(bfs)[bfs], torch.arange(11))
