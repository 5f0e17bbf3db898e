"""Dropout: same function as torch's (keep rate, scaling, gradient through the same mask)."""
import pytest
import torch

from graphkit.nn import Dropout, dropout


def test_keep_rate_and_scale():
    torch.manual_seed(0)
    x = torch.ones(200, 500)
    out = dropout(x, 0.3)
    kept = out != 0
    assert abs(kept.float().mean().item() - 0.7) < 0.01
    torch.testing.assert_close(out[kept], torch.full_like(out[kept], 1 / 0.7))


def test_gradient_uses_the_forward_mask():
    torch.manual_seed(1)
    x = torch.randn(50, 40, dtype=torch.float64, requires_grad=True)
    out = dropout(x, 0.5)
    (g,) = torch.autograd.grad(out.sum(), x)
    torch.testing.assert_close(g, (out != 0).double() * 2.0)

    def same_mask(t):  # reseed so every evaluation draws the same mask
        torch.manual_seed(3)
        return dropout(t, 0.5)

    assert torch.autograd.gradcheck(same_mask, (torch.randn(4, 3, dtype=torch.float64, requires_grad=True),))


def test_eval_and_edge_probabilities():
    x = torch.randn(5, 4)
    m = Dropout(0.5).eval()
    assert torch.equal(m(x), x)
    assert torch.equal(dropout(x, 0.0), x)
    assert torch.count_nonzero(dropout(x, 1.0)) == 0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Dropout(1.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dropout(x, -0.1)


def test_same_statistics_as_torch_dropout():
    torch.manual_seed(2)
    x = torch.randn(100_000)
    ours, theirs = dropout(x, 0.5), torch.nn.functional.dropout(x, 0.5)
    assert abs(ours.mean().item() - theirs.mean().item()) < 0.02
    assert abs(ours.std().item() - theirs.std().item()) < 0.02
