"""Global pooling against a per-graph loop, for the scatter and the segment (ptr) paths."""
import pytest
import torch

from graphkit.nn import GlobalPool, global_pool

REF = {"sum": lambda t: t.sum(0), "mean": lambda t: t.mean(0), "max": lambda t: t.max(0).values}


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
@pytest.mark.parametrize("sizes", [[3, 1, 4], [5], [2, 0, 3]])  # includes an empty graph
def test_pool_matches_loop_forward_and_backward(reduce, sizes):
    torch.manual_seed(0)
    x = torch.randn(sum(sizes), 4, dtype=torch.float64, requires_grad=True)
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    ptr = torch.tensor([0] + sizes).cumsum(0)
    parts = x.split(sizes)
    expect = torch.stack([REF[reduce](p) if len(p) else x.new_zeros(4) for p in parts])
    cot = torch.randn_like(expect)
    (g_ref,) = torch.autograd.grad((expect * cot).sum(), x)
    for kw in ({}, {"ptr": ptr}):
        out = global_pool(x, batch, len(sizes), reduce, **kw)
        torch.testing.assert_close(out, expect)
        (g,) = torch.autograd.grad((out * cot).sum(), x)
        torch.testing.assert_close(g, g_ref)


def test_pool_is_invariant_to_node_order_within_graphs():
    torch.manual_seed(1)
    x, batch = torch.randn(7, 3), torch.tensor([0, 0, 0, 1, 1, 1, 1])
    perm = torch.tensor([2, 0, 1, 6, 4, 3, 5])
    for reduce in ("sum", "mean", "max"):
        torch.testing.assert_close(global_pool(x[perm], batch[perm], 2, reduce), global_pool(x, batch, 2, reduce))


def test_pool_errors_name_the_problem():
    x = torch.randn(4, 2)
    with pytest.raises(ValueError, match="batch has 2 entries but the input has 4"):
        global_pool(x, torch.tensor([0, 1]), 2)
    with pytest.raises(ValueError, match="ptr has 3 entries"):
        global_pool(x, torch.zeros(4, dtype=torch.long), 1, ptr=torch.tensor([0, 2, 4]))
    with pytest.raises(ValueError, match="reduce="):
        GlobalPool("median")
    with pytest.raises((ValueError, IndexError), match="batch"):
        global_pool(x, torch.tensor([0, 0, 5, 1]), 2)
