"""scatter / segment / softmax / gather against dense loop references, on every backend."""
from __future__ import annotations

import pytest
import torch
from conftest import DTYPES, GRAPH_CASES, make_graph, tol

from graphkit import backend
from graphkit.ops import gather, ptr_to_index, scatter, segment, softmax

REDUCES = ("sum", "mean", "max", "min")


def ref_scatter(src, index, num_out, reduce):
    """Loop reference: one group at a time with plain torch reductions."""
    rows = []
    for g in range(num_out):
        sel = src[index == g]
        if sel.numel() == 0:
            rows.append(sel.sum(0))  # zeros, still attached to the graph
        elif reduce == "sum":
            rows.append(sel.sum(0))
        elif reduce == "mean":
            rows.append(sel.mean(0))
        elif reduce == "max":
            rows.append(sel.max(0).values)
        else:
            rows.append(sel.min(0).values)
    return torch.stack(rows) if rows else src.new_zeros(0, *src.shape[1:])


def _assert_matches(fn, ref, inputs, dtype, seed):
    """Values and gradients of fn against ref for the same random cotangent."""
    a = [t.clone().requires_grad_(t.is_floating_point()) for t in inputs]
    b = [t.clone().requires_grad_(t.is_floating_point()) for t in inputs]
    out, expect = fn(*a), ref(*b)
    torch.testing.assert_close(out, expect, **tol(dtype))
    cot = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(seed))
    (out * cot).sum().backward()
    (expect * cot).sum().backward()
    for ta, tb in zip(a, b):
        if ta.requires_grad:
            torch.testing.assert_close(ta.grad, tb.grad, **tol(dtype))


@pytest.mark.parametrize("case", GRAPH_CASES)
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_matches_reference(scatter_impl, case, reduce, dtype):
    for seed in range(2):
        ei, _, num_dst = make_graph(case, seed)
        index = ei[1]
        src = torch.randn(index.numel(), 5, dtype=dtype, generator=torch.Generator().manual_seed(seed))
        _assert_matches(lambda s: scatter(s, index, num_dst, reduce),
                 lambda s: ref_scatter(s, index, num_dst, reduce), [src], dtype, seed)


@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_other_dim_and_1d(scatter_impl, reduce):
    index = torch.tensor([2, 0, 2, 1, 2])
    src = torch.randn(3, 5, 4, dtype=torch.float64)
    out = scatter(src, index, 4, reduce, dim=1)
    expect = ref_scatter(src.transpose(0, 1), index, 4, reduce).transpose(0, 1)
    torch.testing.assert_close(out, expect)
    v = torch.randn(5, dtype=torch.float64)
    torch.testing.assert_close(scatter(v, index, 4, reduce), ref_scatter(v, index, 4, reduce))


def test_scatter_empty_groups_are_zero(scatter_impl):
    src = -torch.rand(4, 2) - 1.0  # all negative: a -inf or fill leak would show
    index = torch.tensor([0, 0, 3, 3])
    for reduce in REDUCES:
        out = scatter(src, index, 5, reduce)
        assert torch.equal(out[1:3], torch.zeros(2, 2)), reduce
        assert torch.equal(out[4], torch.zeros(2)), reduce


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_segment_matches_reference(scatter_impl, reduce, dtype):
    g = torch.Generator().manual_seed(3)
    lengths = torch.tensor([3, 0, 1, 7, 0, 2])  # includes empty segments
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)])
    src = torch.randn(int(lengths.sum()), 4, dtype=dtype, generator=g)
    index = ptr_to_index(ptr, src.size(0))
    _assert_matches(lambda s: segment(s, ptr, reduce),
             lambda s: ref_scatter(s, index, lengths.numel(), reduce), [src], dtype, 3)


@pytest.mark.parametrize("case", GRAPH_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_matches_reference(scatter_impl, case, dtype):
    ei, _, num_dst = make_graph(case, 5)
    index = ei[1]
    src = 3 * torch.randn(index.numel(), 2, dtype=dtype, generator=torch.Generator().manual_seed(5))

    def ref(s):
        out = s * 0  # attached to the graph even with no edges
        for g in range(num_dst):
            m = index == g
            if m.any():
                out = out.index_put((m.nonzero().view(-1),), torch.softmax(s[m], dim=0))
        return out

    _assert_matches(lambda s: softmax(s, index, num_dst), ref, [src], dtype, 5)


def test_softmax_is_stable_for_large_scores(scatter_impl):
    src = torch.tensor([1000.0, 1001.0, -1000.0])
    out = softmax(src, torch.tensor([0, 0, 1]), 2)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[:2].sum(), torch.tensor(1.0))
    torch.testing.assert_close(out[2], torch.tensor(1.0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_matches_indexing(dtype):
    x = torch.randn(7, 3, dtype=dtype, requires_grad=True)
    index = torch.tensor([6, 0, 0, 2])
    out = gather(x, index)
    torch.testing.assert_close(out, x.detach()[index])
    out.sum().backward()
    expect = torch.zeros(7, 3, dtype=dtype)
    expect[0], expect[2], expect[6] = 2, 1, 1
    torch.testing.assert_close(x.grad, expect)


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_tied_extremes_share_the_gradient(scatter_impl, reduce):
    # columns tie in different places; a wrong tie rule shows up per column
    src = torch.tensor([[1.0, 5.0], [3.0, 5.0], [3.0, -2.0], [0.0, 4.0]], dtype=torch.float64)
    if reduce == "min":
        src = -src
    src.requires_grad_()
    out = scatter(src, torch.tensor([0, 0, 0, 0]), 1, reduce)
    out.backward(torch.tensor([[6.0, 10.0]], dtype=torch.float64))
    g = src.grad
    torch.testing.assert_close(g.sum(0), torch.tensor([6.0, 10.0], dtype=torch.float64))
    assert g[0, 0] == 0 and g[3, 0] == 0 and g[2, 1] == 0 and g[3, 1] == 0
    if scatter_impl == "torch":  # split evenly; torch_scatter picks one of the tied entries
        torch.testing.assert_close(g[1:3, 0], torch.tensor([3.0, 3.0], dtype=torch.float64))
        torch.testing.assert_close(g[0:2, 1], torch.tensor([5.0, 5.0], dtype=torch.float64))


def test_fixture_forces_backend(scatter_impl):
    assert backend.scatter_backend(torch.device("cpu"), "max") == scatter_impl


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cuda_sum_path_equals_index_add(dim):
    """The CUDA sum kernel (scatter_add_ over the broadcast index), run here on the CPU: values and
    gradients equal index_add_'s."""
    from graphkit.ops.scatter import _scatter_add_broadcast

    g = torch.Generator().manual_seed(0)
    src = torch.randn(5, 7, 3, dtype=torch.float64, generator=g, requires_grad=True)
    d = dim % src.dim()
    index = torch.randint(0, 4, (src.size(d),), generator=g)
    shape = list(src.shape)
    shape[d] = 4
    ref = src.new_zeros(shape).index_add_(d, index, src)
    out = _scatter_add_broadcast(src, index, shape, d)
    torch.testing.assert_close(out, ref)
    w = torch.randn(shape, dtype=torch.float64, generator=g)
    (g1,) = torch.autograd.grad((out * w).sum(), src)
    (g2,) = torch.autograd.grad((ref * w).sum(), src)
    torch.testing.assert_close(g1, g2)


def test_trusted_ops_equal_the_checked_ones_on_valid_inputs():
    from graphkit.ops import Adjacency, segment, spmm, trusted

    g = torch.Generator().manual_seed(0)
    src = torch.randn(40, 3, generator=g, requires_grad=True)
    index = torch.randint(0, 7, (40,), generator=g)
    for reduce in ("sum", "mean", "max", "min"):
        assert torch.equal(trusted.scatter(src, index, 7, reduce), scatter(src, index, 7, reduce))
    ptr = torch.tensor([0, 5, 5, 40])
    assert torch.equal(trusted.segment(src, ptr, "sum"), segment(src, ptr, "sum"))
    adj = Adjacency.from_edge_index(torch.randint(0, 40, (2, 100), generator=g), num_nodes=40)
    assert torch.equal(trusted.spmm(adj, src), spmm(adj, src))


@pytest.mark.parametrize("shape", [(), (3,), (2, 4)], ids=["1d", "2d", "3d"])
def test_add_rows_in_place_both_formulations(shape):
    """trusted.add_rows_ (index_add_ on the CPU) and its CUDA formulation (scatter_add_ over the broadcast
    index) against a loop, with repeated indices and rows never hit; accumulating into what is there."""
    from graphkit.ops import trusted
    from graphkit.ops.scatter import _scatter_add_rows_

    g = torch.Generator().manual_seed(0)
    index = torch.tensor([4, 0, 4, 2, 4, 0])
    src = torch.randn(6, *shape, generator=g, dtype=torch.float64)
    start = torch.randn(6, *shape, generator=g, dtype=torch.float64)
    expect = start.clone()
    for e in range(6):
        expect[index[e]] += src[e]
    for add in (trusted.add_rows_, _scatter_add_rows_):
        out = start.clone()
        assert add(out, index, src) is out
        torch.testing.assert_close(out, expect)
