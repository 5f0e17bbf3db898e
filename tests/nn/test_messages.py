"""gather_add_relu / add_relu_: the unfused expression's values, types and gradients, in one buffer."""
import pytest
import torch

from graphkit.nn.messages import add_relu_, gather_add_relu


@pytest.mark.parametrize("x_dtype,e_dtype", [(torch.float64, torch.float64), (torch.float32, torch.float32),
                                             (torch.bfloat16, torch.float32), (torch.float32, torch.bfloat16)])
def test_gather_add_relu_is_the_unfused_expression(x_dtype, e_dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(7, 5, generator=g).to(x_dtype).requires_grad_()
    e = torch.randn(12, 5, generator=g).to(e_dtype).requires_grad_()
    index = torch.randint(0, 7, (12,), generator=g)
    out = gather_add_relu(x, index, e)
    expect = (x.index_select(0, index) + e).relu()
    assert out.dtype == expect.dtype  # bfloat16 rows plus float32 embeddings promote, as the sum does
    torch.testing.assert_close(out, expect, rtol=0, atol=0)
    cot = torch.randn(out.shape, generator=g).to(out.dtype)
    ga = torch.autograd.grad((out * cot).sum(), (x, e))
    gb = torch.autograd.grad((expect * cot).sum(), (x, e))
    for a, b in zip(ga, gb):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_add_relu_writes_into_its_first_argument_when_the_type_holds_the_sum():
    a = torch.tensor([-1.0, 2.0])
    assert add_relu_(a, torch.tensor([0.5, -3.0])) is a and a.tolist() == [0.0, 0.0]
    b = torch.tensor([-1.0, 2.0], dtype=torch.bfloat16)
    out = add_relu_(b, torch.tensor([3.0, 1.0]))
    assert out is not b and out.dtype == torch.float32 and out.tolist() == [2.0, 3.0]
    assert b.tolist() == [-1.0, 2.0]  # left alone
