"""Property-based tests (hypothesis) over random graphs, batches and feature sizes: the core ops agree with
dense references, are permutation equivariant, give finite outputs and gradients on isolated nodes and
empty graphs, and batching graphs changes nothing."""
from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.nn import GCNConv, GINConv, MambaMixer, SAGEConv
from graphkit.ops import Adjacency, scatter, selective_scan, selective_scan_reference, softmax, spmm, to_dense_batch

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def graphs(draw, max_nodes=12, max_edges=40, weighted=False, undirected=False):
    """``(edge_index, num_nodes, x [N, 1..5] float64, edge weights or None)``; ``undirected``: both directions,
    no self loops, no duplicates (what sheaf layers need)."""
    n = draw(st.integers(1, max_nodes))
    e = draw(st.integers(0, max_edges))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    if undirected:
        ei = ei[:, ei[0] != ei[1]]
        ei = torch.unique(torch.cat([ei, ei.flip(0)], 1), dim=1)
    w = torch.rand(e, generator=g, dtype=torch.float64) + 0.1 if weighted else None
    f = draw(st.integers(1, 5))
    x = torch.randn(n, f, generator=g, dtype=torch.float64)
    return ei, n, x, w


def _dense(ei, n, w):
    a = torch.zeros(n, n, dtype=torch.float64)
    a.index_put_((ei[1], ei[0]), torch.ones(ei.size(1), dtype=torch.float64) if w is None else w, accumulate=True)
    return a


@SETTINGS
@given(graphs(weighted=True), st.sampled_from(["sum", "mean", "max", "min"]))
def test_spmm_matches_dense_and_is_equivariant(case, reduce):
    ei, n, x, w = case
    x = x.requires_grad_()
    out = spmm(ei, x, reduce, w, num_nodes=n)
    msg = x[ei[0]] * w[:, None]
    ref = torch.zeros_like(out) if ei.size(1) == 0 else None
    if ref is None:
        if reduce in ("sum", "mean"):
            ref = _dense(ei, n, w) @ x
            if reduce == "mean":
                ref = ref / torch.bincount(ei[1], minlength=n).clamp(min=1).unsqueeze(-1)
        else:
            rows = []
            for i in range(n):
                incoming = msg[ei[1] == i]
                if incoming.numel() == 0:
                    rows.append(torch.zeros(x.size(1), dtype=x.dtype))
                else:
                    rows.append(incoming.amax(0) if reduce == "max" else incoming.amin(0))
            ref = torch.stack(rows)
    torch.testing.assert_close(out, ref)
    grad, = torch.autograd.grad(out.square().sum(), x)
    assert torch.isfinite(grad).all()
    perm = torch.randperm(n)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n)
    torch.testing.assert_close(spmm(inv[ei], x.detach()[perm], reduce, w, num_nodes=n), out.detach()[perm])


@SETTINGS
@given(graphs())
def test_softmax_sums_to_one_per_target(case):
    ei, n, x, _ = case
    s = softmax(x[ei[0]], ei[1], n)
    totals = scatter(s, ei[1], n, "sum")
    has = torch.bincount(ei[1], minlength=n) > 0
    torch.testing.assert_close(totals[has], torch.ones_like(totals[has]))
    assert torch.isfinite(s).all()


@SETTINGS
@given(graphs(), st.sampled_from(["gcn", "gin", "sage"]))
def test_layers_equivariant_finite_and_batch_invariant(case, kind):
    ei, n, x, _ = case
    torch.manual_seed(0)
    f = x.size(1)
    layer = {"gcn": lambda: GCNConv(f, 3), "gin": lambda: GINConv(torch.nn.Linear(f, 3)),
             "sage": lambda: SAGEConv(f, 3)}[kind]().double()
    xr = x.clone().requires_grad_()
    out = layer(xr, ei)
    assert torch.isfinite(out).all()  # isolated nodes included
    out.sum().backward()
    assert torch.isfinite(xr.grad).all() and all(torch.isfinite(p.grad).all() for p in layer.parameters())
    perm = torch.randperm(n)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n)
    torch.testing.assert_close(layer(x[perm], inv[ei]), out.detach()[perm])
    # two copies of the graph in one batch give the graph's output twice
    both = torch.cat([ei, ei + n], 1)
    torch.testing.assert_close(layer(torch.cat([x, x]), both), torch.cat([out, out]).detach())


@SETTINGS
@given(st.lists(st.integers(0, 6), min_size=1, max_size=5), st.integers(1, 4))
def test_dense_batch_round_trip_with_empty_graphs(sizes, f):
    batch = torch.cat([torch.full((s,), i) for i, s in enumerate(sizes)]) if sum(sizes) else \
        torch.empty(0, dtype=torch.long)
    x = torch.randn(batch.numel(), f)
    dense, mask = to_dense_batch(x, batch, len(sizes))
    assert dense.shape[:2] == (len(sizes), max(sizes)) and int(mask.sum()) == batch.numel()
    torch.testing.assert_close(dense[mask], x)


@SETTINGS
@given(st.integers(1, 40), st.integers(1, 4), st.integers(1, 3), st.integers(1, 9), st.integers(0, 2**31 - 1))
def test_selective_scan_matches_recurrence(length, d, n, chunk, seed):
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)
    args = dict(u=r(2, d, length), delta=r(2, d, length), A=-torch.rand(d, n, generator=g, dtype=torch.float64),
                B=r(2, n, length), C=r(2, n, length), D=r(d))
    torch.testing.assert_close(selective_scan(**args, delta_softplus=True, chunk=chunk),
                               selective_scan_reference(**args, delta_softplus=True))


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=4))
def test_mamba_mixer_batching_invariance(sizes):
    torch.manual_seed(0)
    mixer = MambaMixer(4, d_state=2).eval()
    batch = torch.cat([torch.full((s,), i) for i, s in enumerate(sizes)])
    x = torch.randn(batch.numel(), 4)
    out = mixer(x, batch, len(sizes))
    start = 0
    for s in sizes:  # each graph alone gives what it gets inside the batch
        alone = mixer(x[start:start + s], torch.zeros(s, dtype=torch.long), 1)
        torch.testing.assert_close(alone, out[start:start + s], rtol=1e-5, atol=1e-5)
        start += s


def test_adjacency_of_an_empty_graph_is_usable():
    adj = Adjacency.from_edge_index(torch.empty(2, 0, dtype=torch.long), num_nodes=4)
    x = torch.randn(4, 3, requires_grad=True)
    out = spmm(adj, x)
    out.sum().backward()
    assert torch.all(out == 0) and torch.all(x.grad == 0)
