"""graphkit.ops.linear (widths padded to a multiple of 8 on CPU) against torch.nn.functional.linear: values
and gradients of x, weight and bias, every combination of aligned / unaligned widths, leading dims, no
bias, and the cases that take the plain product (float64, autocast, few rows); graphkit.nn.Linear is
torch's Linear (parameters, initialisation, state-dict keys) with this forward."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import graphkit.ops.linear as linear_module
from graphkit.nn.linear import Linear
from graphkit.ops.linear import linear, padded_path


@pytest.fixture
def few_rows(monkeypatch):
    monkeypatch.setattr(linear_module, "MIN_ROWS", 4)


@pytest.mark.parametrize("fin, fout", [(5, 7), (8, 13), (13, 8), (16, 16), (235, 235)])
@pytest.mark.parametrize("lead", [(9,), (3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_padded_product_equals_torch_linear(few_rows, fin, fout, lead, bias):
    g = torch.Generator().manual_seed(fin * fout)
    x = torch.randn(*lead, fin, generator=g, requires_grad=True)
    w = torch.randn(fout, fin, generator=g, requires_grad=True)
    b = torch.randn(fout, generator=g, requires_grad=True) if bias else None
    assert padded_path(x, w) == bool(fin % 8 or fout % 8)
    out, ref = linear(x, w, b), F.linear(x, w, b)
    assert out.shape == ref.shape and out.is_contiguous()
    torch.testing.assert_close(out, ref)
    grad = torch.randn(ref.shape, generator=g)
    inputs = [t for t in (x, w, b) if t is not None]
    for a, r in zip(torch.autograd.grad(out, inputs, grad), torch.autograd.grad(ref, inputs, grad)):
        torch.testing.assert_close(a, r)
    # only some inputs need gradients
    x2 = x.detach().requires_grad_()
    got, = torch.autograd.grad(linear(x2, w.detach(), None if b is None else b.detach()), [x2], grad)
    torch.testing.assert_close(got, torch.autograd.grad(F.linear(x2, w.detach()), [x2], grad)[0])


def test_plain_product_where_padding_does_not_pay(few_rows):
    x, w = torch.randn(9, 5), torch.randn(7, 5)
    assert padded_path(x, w)
    assert not padded_path(x.double(), w.double())
    assert not padded_path(torch.randn(9, 8), torch.randn(16, 8))  # aligned
    assert not padded_path(torch.randn(3, 5), w)  # fewer rows than MIN_ROWS
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not padded_path(x, w)
        assert linear(x, w).dtype == torch.bfloat16  # autocast's product, as F.linear
    with pytest.raises(RuntimeError):  # a width mismatch is torch's own error, as with F.linear
        linear(torch.randn(9, 4), w)


def test_default_threshold_is_rows_not_entries():
    w = torch.randn(235, 235)
    assert not padded_path(torch.randn(linear_module.MIN_ROWS - 1, 235), w)
    assert padded_path(torch.randn(linear_module.MIN_ROWS, 235), w)


def test_graphkit_linear_is_torch_linear_with_this_forward(few_rows):
    torch.manual_seed(0)
    ours = Linear(13, 7)
    torch.manual_seed(0)
    theirs = torch.nn.Linear(13, 7)
    assert isinstance(ours, torch.nn.Linear)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    for k, v in ours.state_dict().items():
        assert torch.equal(v, theirs.state_dict()[k])
    x = torch.randn(10, 13)
    torch.testing.assert_close(ours(x), theirs(x))
    assert Linear(13, 7, bias=False).bias is None
