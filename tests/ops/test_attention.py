"""attention_aggregate and pair_score (the kernels behind GAT / GATv2) against dense references: values and
gradients, with and without an Adjacency, whole and in chunks of one to three edges, in float32 and float64."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import DTYPES, GRAPH_CASES, make_graph, tol
from hypothesis import given, settings
from hypothesis import strategies as st

from graphkit.ops import Adjacency, attention, attention_aggregate, pair_score

HEADS, WIDTH = 3, 4


@pytest.fixture(params=["whole", "chunks-of-1-to-3-edges"])
def chunked(request, monkeypatch):
    """12 numbers per chunk = one to three edges of ``heads x F`` rows (one row per edge for the gradient of
    alpha); the last chunk of a graph is usually short."""
    if request.param != "whole":
        monkeypatch.setattr(attention, "_EDGE_CHUNK", HEADS * WIDTH * 3 - 1)
        monkeypatch.setattr(attention, "_CHUNK", HEADS * WIDTH * 2)


def dense_aggregate(alpha, h, src, dst, n_dst):
    """Per head ``k``: the dense ``[n_dst, n_src]`` matrix of alpha[:, k] (duplicates summed) times h[:, k]."""
    heads = []
    for k in range(h.size(1)):
        a = torch.zeros(n_dst, h.size(0), dtype=h.dtype).index_put((dst, src), alpha[:, k], accumulate=True)
        heads.append(a @ h[:, k])
    return torch.stack(heads, dim=1)


def dense_pair_score(x_l, x_r, edge_term, att, src, dst, slope):
    pre = x_l[src] + x_r[dst]
    if edge_term is not None:
        pre = pre + edge_term
    return (F.leaky_relu(pre, slope) * att).sum(-1)


def _inputs(case, dtype, seed=0):
    ei, n_src, n_dst = make_graph(case, seed)
    g = torch.Generator().manual_seed(seed)
    e = ei.size(1)
    alpha = torch.rand(e, HEADS, generator=g, dtype=dtype).requires_grad_()
    h = torch.randn(n_src, HEADS, WIDTH, generator=g, dtype=dtype).requires_grad_()
    return ei, n_src, n_dst, alpha, h


def _grads(out, wrt, seed=1):
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    return torch.autograd.grad(out, wrt, upstream, allow_unused=True)


@pytest.mark.usefixtures("chunked")
@pytest.mark.parametrize("case", GRAPH_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_adjacency", [False, True])
def test_aggregate_matches_dense(case, dtype, with_adjacency):
    ei, n_src, n_dst, alpha, h = _inputs(case, dtype)
    src, dst = ei[0], ei[1]
    adj = Adjacency.from_edge_index(ei, num_nodes=(n_src, n_dst)) if with_adjacency else None
    ours = attention_aggregate(alpha, h, src, dst, n_dst, adj)
    ref = dense_aggregate(alpha, h, src, dst, n_dst)
    assert ours.shape == (n_dst, HEADS, WIDTH)
    torch.testing.assert_close(ours, ref, **tol(dtype))
    for a, b in zip(_grads(ours, (alpha, h)), _grads(ref, (alpha, h))):
        torch.testing.assert_close(a, b, **tol(dtype))


@pytest.mark.parametrize("with_adjacency", [False, True])
def test_aggregate_gradient_of_one_input_only(with_adjacency):
    """Asking for only h's (or only alpha's) gradient gives the same one as asking for both."""
    ei, n_src, n_dst, alpha, h = _inputs("random", torch.float64)
    adj = Adjacency.from_edge_index(ei, num_nodes=(n_src, n_dst)) if with_adjacency else None
    both = _grads(attention_aggregate(alpha, h, ei[0], ei[1], n_dst, adj), (alpha, h))
    for i, t in enumerate((alpha, h)):
        (only,) = _grads(attention_aggregate(alpha, h, ei[0], ei[1], n_dst, adj), (t,))
        torch.testing.assert_close(only, both[i])


def test_aggregate_rejects_an_adjacency_of_other_edges():
    ei, n_src, n_dst, alpha, h = _inputs("random", torch.float64)
    other = Adjacency.from_edge_index(ei[:, :-1], num_nodes=(n_src, n_dst))
    with pytest.raises(ValueError, match="Adjacency of exactly these edges"):
        attention_aggregate(alpha, h, ei[0], ei[1], n_dst, other)


@pytest.mark.usefixtures("chunked")
@pytest.mark.parametrize("case", GRAPH_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_edge_term", [False, True])
def test_pair_score_matches_dense(case, dtype, with_edge_term):
    ei, n_src, n_dst, _, _ = _inputs(case, dtype)
    g = torch.Generator().manual_seed(2)
    x_l = torch.randn(n_src, HEADS, WIDTH, generator=g, dtype=dtype).requires_grad_()
    x_r = torch.randn(n_dst, HEADS, WIDTH, generator=g, dtype=dtype).requires_grad_()
    att = torch.randn(1, HEADS, WIDTH, generator=g, dtype=dtype).requires_grad_()
    term = (torch.randn(ei.size(1), HEADS, WIDTH, generator=g, dtype=dtype).requires_grad_()
            if with_edge_term else None)
    wrt = tuple(t for t in (x_l, x_r, att, term) if t is not None)
    ours = pair_score(x_l, x_r, term, att, ei[0], ei[1], 0.2)
    ref = dense_pair_score(x_l, x_r, term, att, ei[0], ei[1], 0.2)
    assert ours.shape == (ei.size(1), HEADS)
    torch.testing.assert_close(ours, ref, **tol(dtype))
    for a, b in zip(_grads(ours, wrt), _grads(ref, wrt)):
        torch.testing.assert_close(a, b, **tol(dtype))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 10), e=st.integers(0, 30), heads=st.integers(1, 3), width=st.integers(1, 4),
       chunk=st.integers(1, 40), seed=st.integers(0, 2**31 - 1))
def test_aggregate_any_graph_and_chunk_size(n, e, heads, width, chunk, seed):
    """Every chunk size, graph shape and head layout gives the dense product's values and gradients."""
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    alpha = torch.rand(e, heads, generator=g, dtype=torch.float64).requires_grad_()
    h = torch.randn(n, heads, width, generator=g, dtype=torch.float64).requires_grad_()
    saved = attention._EDGE_CHUNK, attention._CHUNK
    attention._EDGE_CHUNK = attention._CHUNK = chunk
    try:
        for adj in (None, Adjacency.from_edge_index(ei, num_nodes=n)):
            ours = attention_aggregate(alpha, h, ei[0], ei[1], n, adj)
            ref = dense_aggregate(alpha, h, ei[0], ei[1], n)
            torch.testing.assert_close(ours, ref)
            for a, b in zip(_grads(ours, (alpha, h)), _grads(ref, (alpha, h))):
                torch.testing.assert_close(a, b)
    finally:
        attention._EDGE_CHUNK, attention._CHUNK = saved
