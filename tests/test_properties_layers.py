"""More property-based tests (hypothesis): the remaining ops and layers over random graphs, batches and sizes.

For each: agreement with a dense reference (ops), permutation equivariance (or invariance for pools),
batching invariance (graphs in one batch give what they give alone), finite outputs and gradients with
isolated nodes and empty graphs. Layers with batch norm run in eval mode for the batching checks (batch
statistics couple the graphs of a batch by design).
"""
from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import graphs

from graphkit.nn import (
    AttentionMixer,
    ChebGraphConv,
    EdgeGCNConv,
    FirstOrderGraphConv,
    GatedGCNConv,
    GINConv,
    GINEConv,
    GPSBlock,
    HypergraphConv,
    LinearAttentionMixer,
    SensorGraph,
    SheafDiffusionLayer,
    global_add_pool,
    global_max_pool,
    global_mean_pool,
)
from graphkit.ops import Adjacency, Hypergraph, hypergraph_propagate, scatter, segment

SETTINGS = settings(max_examples=20, deadline=None)
F64 = torch.float64


def _perm(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n)
    return perm, inv


def _finite_grads(out: torch.Tensor, *tensors: torch.Tensor, module: torch.nn.Module | None = None) -> None:
    assert torch.isfinite(out).all()
    out.square().sum().backward()
    for t in tensors:
        assert t.grad is None or torch.isfinite(t.grad).all()
    if module is not None:
        assert all(p.grad is None or torch.isfinite(p.grad).all() for p in module.parameters())


# ---------------------------------------------------------------------------------------------------- ops
@SETTINGS
@given(st.integers(0, 30), st.integers(1, 8), st.integers(1, 4), st.sampled_from(["sum", "mean", "max", "min"]),
       st.integers(0, 2**31 - 1))
def test_scatter_matches_a_loop_and_empty_groups_are_zero(items, groups, f, reduce, seed):
    g = torch.Generator().manual_seed(seed)
    src = torch.randn(items, f, generator=g, dtype=F64, requires_grad=True)
    index = torch.randint(0, groups, (items,), generator=g)
    out = scatter(src, index, groups, reduce)
    ref = torch.zeros(groups, f, dtype=F64)
    for k in range(groups):
        rows = src.detach()[index == k]
        if rows.numel():
            ref[k] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.amax(0), "min": rows.amin(0)}[reduce]
    torch.testing.assert_close(out.detach(), ref)
    _finite_grads(out, src)


@SETTINGS
@given(st.lists(st.integers(0, 5), min_size=1, max_size=6), st.integers(1, 3), st.sampled_from(["sum", "mean",
                                                                                                "max", "min"]))
def test_segment_equals_scatter_on_sorted_groups(sizes, f, reduce):
    ptr = torch.tensor([0] + sizes).cumsum(0)
    src = torch.randn(int(ptr[-1]), f, dtype=F64)
    index = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    torch.testing.assert_close(segment(src, ptr, reduce), scatter(src, index, len(sizes), reduce))


@st.composite
def hypergraphs(draw):
    n, m = draw(st.integers(1, 8)), draw(st.integers(1, 6))
    nnz = draw(st.integers(0, 20))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    inc = torch.stack([torch.randint(0, n, (nnz,), generator=g), torch.randint(0, m, (nnz,), generator=g)])
    inc = torch.unique(inc, dim=1) if nnz else inc
    return inc, n, m, torch.randn(n, draw(st.integers(1, 4)), generator=g, dtype=F64)


@SETTINGS
@given(hypergraphs(), st.sampled_from(["sym", "mean"]))
def test_hypergraph_propagation_matches_incidence_formula_and_is_equivariant(case, norm):
    inc, n, m, x = case
    h = torch.zeros(n, m, dtype=F64)
    h[inc[0], inc[1]] = 1.0
    dv, de = h.sum(1), h.sum(0)
    inv = lambda d: torch.where(d > 0, 1.0 / d, torch.zeros_like(d))  # noqa: E731
    if norm == "sym":
        dvs = torch.where(dv > 0, dv.rsqrt(), torch.zeros_like(dv))
        ref = dvs[:, None] * (h @ (inv(de)[:, None] * (h.T @ (dvs[:, None] * x))))
    else:
        ref = inv(dv)[:, None] * (h @ (inv(de)[:, None] * (h.T @ x)))
    xr = x.clone().requires_grad_()
    out = hypergraph_propagate(Hypergraph(inc, n, m), xr, norm=norm)
    torch.testing.assert_close(out.detach(), ref)
    _finite_grads(out, xr)
    pn, qn = _perm(n, 1)
    pe, qe = _perm(m, 2)
    moved = torch.stack([qn[inc[0]], qe[inc[1]]])
    torch.testing.assert_close(hypergraph_propagate(Hypergraph(moved, n, m), x[pn], norm=norm), ref[pn])


@SETTINGS
@given(st.lists(st.integers(0, 6), min_size=1, max_size=5), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_global_pools_are_per_graph_and_order_invariant(sizes, f, seed):
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    x = torch.randn(batch.numel(), f, generator=torch.Generator().manual_seed(seed), dtype=F64)
    perm, _ = _perm(batch.numel(), seed)
    for pool in (global_add_pool, global_mean_pool, global_max_pool):
        out = pool(x, batch, len(sizes))
        torch.testing.assert_close(pool(x[perm], batch[perm], len(sizes)), out)
        for k, s in enumerate(sizes):  # each graph alone
            alone = pool(x[batch == k], torch.zeros(s, dtype=torch.long), 1)
            torch.testing.assert_close(alone[0], out[k])


# ------------------------------------------------------------------------------------------ graph layers
def _edge_layer(kind: str, f: int) -> torch.nn.Module:
    if kind == "gine":
        return GINEConv(torch.nn.Sequential(torch.nn.Linear(f, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3)),
                        edge_dim=2)
    if kind == "edge-gcn":
        return EdgeGCNConv(f)
    return GatedGCNConv(f)


@SETTINGS
@given(graphs(max_nodes=10, max_edges=30), st.sampled_from(["gine", "edge-gcn", "gated-gcn"]), st.integers(1, 4),
       st.integers(0, 2**31 - 1))
def test_edge_feature_layers_equivariant_finite_and_batch_invariant(case, kind, f, seed):
    ei, n, _, _ = case
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(seed)
    layer = _edge_layer(kind, f).double().eval()
    x = torch.randn(n, f, generator=g, dtype=F64)
    e = torch.randn(ei.size(1), 2 if kind == "gine" else f, generator=g, dtype=F64)

    def run(x_, ei_, e_):
        out = layer(x_, ei_, e_)
        return out[0] if isinstance(out, tuple) else out

    xr, er = x.clone().requires_grad_(), e.clone().requires_grad_()
    out = run(xr, ei, er)
    _finite_grads(out, xr, er, module=layer)
    perm, inv = _perm(n, seed)
    torch.testing.assert_close(run(x[perm], inv[ei], e), out.detach()[perm])
    torch.testing.assert_close(run(torch.cat([x, x]), torch.cat([ei, ei + n], 1), torch.cat([e, e])),
                               torch.cat([out, out]).detach())


@SETTINGS
@given(hypergraphs(), st.sampled_from(["sym", "mean"]))
def test_hypergraph_conv_equivariant_and_finite(case, norm):
    inc, n, m, x = case
    torch.manual_seed(0)
    conv = HypergraphConv(x.size(1), 3, norm=norm).double()
    xr = x.clone().requires_grad_()
    out = conv(xr, Hypergraph(inc, n, m))
    _finite_grads(out, xr, module=conv)
    pn, qn = _perm(n, 3)
    moved = Hypergraph(torch.stack([qn[inc[0]], inc[1]]), n, m)
    torch.testing.assert_close(conv(x[pn], moved), out.detach()[pn])


@SETTINGS
@given(graphs(max_nodes=10, max_edges=30, undirected=True), st.sampled_from(["diag", "orthogonal", "general"]),
       st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_sheaf_layer_equivariant_and_finite(case, kind, c, seed):
    ei, n, _, _ = case
    d = 1 if kind == "diag" else 2
    torch.manual_seed(0)
    layer = SheafDiffusionLayer(c, d, kind=kind).double().eval()
    x = torch.randn(n, d * c, generator=torch.Generator().manual_seed(seed), dtype=F64)  # [N, stalk dim x C]
    xr = x.clone().requires_grad_()
    out = layer(xr, xr, Adjacency.from_edge_index(ei, num_nodes=n))
    _finite_grads(out, xr, module=layer)
    perm, inv = _perm(n, seed)
    moved = Adjacency.from_edge_index(inv[ei], num_nodes=n)
    torch.testing.assert_close(layer(x[perm], x[perm], moved), out.detach()[perm])


@SETTINGS
@given(st.integers(2, 7), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_sensor_graph_convs_equivariant_and_batch_independent(n, b, t, seed):
    g = torch.Generator().manual_seed(seed)
    w = torch.rand(n, n, generator=g, dtype=F64) * (torch.rand(n, n, generator=g) < 0.5)
    w.fill_diagonal_(0)
    x = torch.randn(b, 3, n, t, generator=g, dtype=F64)  # [B, C, N, T]
    perm, _ = _perm(n, seed)
    torch.manual_seed(0)
    for conv, op in ((ChebGraphConv(3, 2, 3).double(), lambda s: s.scaled_laplacian()),
                     (FirstOrderGraphConv(3, 2).double(), lambda s: s.gcn())):
        xr = x.clone().requires_grad_()
        out = conv(xr, op(SensorGraph(w)))
        _finite_grads(out, xr, module=conv)
        moved = conv(x[:, :, perm], op(SensorGraph(w[perm][:, perm])))
        # the sensor-graph operators are stored in float32: their rounding, not the layer, sets the tolerance
        torch.testing.assert_close(moved, out.detach()[:, :, perm], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(conv(x[:1], op(SensorGraph(w))), out.detach()[:1])  # batch rows independent


# ------------------------------------------------------------------------------------------ global mixers
@st.composite
def batches(draw):
    sizes = draw(st.lists(st.integers(0, 6), min_size=1, max_size=4))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    x = torch.randn(batch.numel(), 8, generator=g, dtype=F64)
    return sizes, batch, x, seed


@SETTINGS
@given(batches(), st.sampled_from(["attention", "linear", "performer"]))
def test_attention_mixers_batching_invariant_equivariant_and_finite(case, kind):
    sizes, batch, x, seed = case
    torch.manual_seed(0)
    mixer = (AttentionMixer(8, heads=2) if kind == "attention" else
             LinearAttentionMixer(8, heads=2, kernel="elu" if kind == "linear" else "performer", features=16))
    mixer = mixer.double().eval()
    xr = x.clone().requires_grad_()
    out = mixer(xr, batch, len(sizes))
    _finite_grads(out, xr, module=mixer)
    start = 0
    for s in sizes:  # each graph alone gives its rows of the batch
        alone = mixer(x[start:start + s], torch.zeros(s, dtype=torch.long), 1)
        torch.testing.assert_close(alone, out.detach()[start:start + s])
        start += s
    perm = torch.cat([start + _perm(s, seed)[0] for start, s in zip([0] + list(torch.tensor(sizes).cumsum(0)[:-1]),
                                                                   sizes)]).long()  # reorder within each graph
    torch.testing.assert_close(mixer(x[perm], batch[perm], len(sizes)), out.detach()[perm])


@SETTINGS
@given(batches())
def test_gps_block_batching_invariant_and_finite(case):
    sizes, batch, x, seed = case
    g = torch.Generator().manual_seed(seed)
    parts, start = [], 0
    for s in sizes:  # a random graph per batch member
        e = torch.randint(0, max(s, 1), (2, 2 * s), generator=g) if s else torch.zeros(2, 0, dtype=torch.long)
        parts.append(e + start)
        start += s
    ei = torch.cat(parts, 1)
    torch.manual_seed(0)
    block = GPSBlock(8, GINConv(torch.nn.Linear(8, 8)), AttentionMixer(8, heads=2)).double().eval()
    xr = x.clone().requires_grad_()
    out, _ = block(xr, ei, batch, len(sizes))
    _finite_grads(out, xr, module=block)
    start = 0
    for s, e in zip(sizes, parts):
        alone, _ = block(x[start:start + s], e - start, torch.zeros(s, dtype=torch.long), 1)
        torch.testing.assert_close(alone, out.detach()[start:start + s])
        start += s
