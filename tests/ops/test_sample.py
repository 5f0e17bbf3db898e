"""Neighbour sampling: structure of the sampled subgraph against the graph, per-node counts, PyG's layout,
and the sampling distribution (uniform k-subsets) for the pure-torch sampler and torch-sparse's kernel,
checked statistically with fixed seeds."""
from __future__ import annotations

import itertools

import pytest
import torch
from scipy.stats import chi2_contingency, chisquare

from graphkit import backend
from graphkit.ops import Adjacency
from graphkit.ops.sample import neighbor_sample

BACKENDS = [pytest.param(b, id=f"sample={b}") for b in backend.choices("sample")]


def _graph(seed=0, n=60, e=400):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    ei = torch.unique(ei[:, ei[0] != ei[1]], dim=1)  # simple graph: a k-subset is a set of distinct edges
    return ei, n


@pytest.mark.parametrize("impl", BACKENDS)
@pytest.mark.parametrize("fanouts", [[3], [4, 2], [-1, 2], [100]])
def test_subgraph_structure(impl, fanouts):
    ei, n = _graph()
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    seeds = torch.tensor([5, 17, 2, 40])
    torch.manual_seed(0)
    with backend.use(sample=impl):
        sub = neighbor_sample(adj, seeds, fanouts, generator=torch.Generator().manual_seed(0))
    assert torch.equal(sub.n_id[:4], seeds) and sub.batch_size == 4
    assert torch.unique(sub.n_id).numel() == sub.n_id.numel()
    assert sum(sub.num_sampled_nodes) == sub.n_id.numel() and sum(sub.num_sampled_edges) == sub.edge_index.size(1)
    src, dst = sub.n_id[sub.edge_index[0]], sub.n_id[sub.edge_index[1]]
    assert torch.equal(ei[0, sub.e_id], src) and torch.equal(ei[1, sub.e_id], dst)  # every edge is real
    # hop 1: each seed got min(deg, k) distinct in-neighbours
    k = fanouts[0]
    deg = torch.bincount(ei[1], minlength=n)
    hop1 = sub.edge_index[:, :sub.num_sampled_edges[0]]
    for i, s in enumerate(seeds.tolist()):
        got = sub.n_id[hop1[0, hop1[1] == i]]
        want = int(deg[s]) if k < 0 else min(int(deg[s]), k)
        assert got.numel() == want and torch.unique(got).numel() == want
    # hop-by-hop numbering: hop h's edges point to nodes first numbered at hop h - 1
    start, lo = 0, 0
    for h, (ne, nn_prev) in enumerate(zip(sub.num_sampled_edges, sub.num_sampled_nodes)):
        cols = sub.edge_index[1, start:start + ne]
        assert bool(((cols >= lo) & (cols < lo + nn_prev)).all()), h
        start, lo = start + ne, lo + nn_prev
    a = sub.adjacency()
    assert a.num_dst == sub.n_id.numel() and a.num_edges == sub.edge_index.size(1)
    ref = Adjacency.from_edge_index(sub.edge_index, num_nodes=sub.n_id.numel())  # the sorting construction
    xs = torch.randn(sub.n_id.numel(), 3, requires_grad=True)
    from graphkit.ops import spmm

    out = spmm(a, xs)
    torch.testing.assert_close(out, spmm(ref, xs))
    g1, = torch.autograd.grad(out.square().sum(), xs)
    g2, = torch.autograd.grad(spmm(ref, xs).square().sum(), xs)
    torch.testing.assert_close(g1, g2)


def test_backends_agree_when_nothing_is_random():
    ei, n = _graph(1)
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    seeds = torch.tensor([3, 9])
    subs = []
    for impl in backend.choices("sample"):
        with backend.use(sample=impl):
            subs.append(neighbor_sample(adj, seeds, [-1, -1]))
    for s in subs[1:]:
        assert torch.equal(s.n_id, subs[0].n_id)
        assert sorted(map(tuple, s.edge_index.t().tolist())) == sorted(map(tuple, subs[0].edge_index.t().tolist()))
        assert s.num_sampled_nodes == subs[0].num_sampled_nodes


def _subset_counts(impl, deg=6, k=2, draws=3000):
    """How often each k-subset of a node's deg in-neighbours is drawn."""
    ei = torch.stack([torch.arange(1, deg + 1), torch.zeros(deg, dtype=torch.long)])
    adj = Adjacency.from_edge_index(ei, num_nodes=deg + 1)
    subsets = {c: 0 for c in itertools.combinations(range(1, deg + 1), k)}
    gen = torch.Generator().manual_seed(123)
    torch.manual_seed(123)
    with backend.use(sample=impl):
        for _ in range(draws):
            sub = neighbor_sample(adj, torch.tensor([0]), [k], generator=gen)
            subsets[tuple(sorted(sub.n_id[sub.edge_index[0]].tolist()))] += 1
    return list(subsets.values())


def test_every_k_subset_is_equally_likely():
    counts = _subset_counts("torch")
    assert sum(counts) == 3000
    assert chisquare(counts).pvalue > 1e-3  # uniform over the 15 pairs
    assert backend.sample_backend(torch.device("cpu")) == "torch"


@pytest.mark.skipif(not backend.available("torch_sparse"), reason="torch-sparse not installed")
def test_torch_sparse_sampler_distribution_is_measured():
    """torch-sparse 0.6.18 draws 2-of-6 subsets far from uniformly (rusty1s/pytorch_sparse#385): subsets with
    the last neighbours are rare. This is why it is not graphkit's default; if a torch-sparse release fixes
    it, this test says so and the default can be reconsidered."""
    ours, theirs = _subset_counts("torch"), _subset_counts("torch_sparse")
    assert chisquare(ours).pvalue > 1e-3
    assert chi2_contingency([ours, theirs]).pvalue < 1e-6, "torch-sparse now samples uniformly: revisit the default"
    assert theirs[-1] < 3000 / 15 / 2  # the pair of the last two neighbours is drawn far less than 1/15


def test_with_replacement_and_bad_arguments():
    ei, n = _graph(2)
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    deg = torch.bincount(ei[1], minlength=n)
    seeds = torch.nonzero(deg > 0).view(-1)[:5]
    with backend.use(sample="torch"):
        sub = neighbor_sample(adj, seeds, [7], replace=True, generator=torch.Generator().manual_seed(0))
    assert sub.num_sampled_edges == [35]
    with pytest.raises(ValueError, match="distinct"):
        neighbor_sample(adj, torch.tensor([1, 1]), [2])
    with pytest.raises(ValueError, match="fanouts"):
        neighbor_sample(adj, torch.tensor([1]), [0])
    with pytest.raises(ValueError, match="seeds"):
        neighbor_sample(adj, torch.tensor([n + 3]), [2])
