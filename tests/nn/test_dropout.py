"""Dropout: same function as torch's (keep rate, scaling, gradient through the same mask)."""
import pytest
import torch

from graphkit.nn import Dropout, dropout, keep_mask, norm_relu_dropout, relu_dropout


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


@pytest.mark.parametrize("p", [0.5, 0.1, 0.3, 0.9])
def test_keep_mask_rate_and_independence(p):
    torch.manual_seed(4)
    keep = keep_mask((300, 1000), p)
    assert keep.dtype == torch.bool and keep.shape == (300, 1000)
    rate = keep.float().mean().item()
    assert abs(rate - (1 - p)) < 4 * (p * (1 - p) / keep.numel()) ** 0.5 + 2**-16
    # neighbouring entries (same bit word / same 16-bit draw) are uncorrelated
    a, b = keep.view(-1)[:-1].float(), keep.view(-1)[1:].float()
    assert abs(((a - a.mean()) * (b - b.mean())).mean().item()) < 0.005
    # every row and column sees the rate (no bit position is stuck)
    assert keep.float().mean(0).sub(1 - p).abs().max() < 0.15
    assert keep.float().mean(1).sub(1 - p).abs().max() < 0.08


def test_keep_mask_odd_sizes_and_seeding():
    for shape in [(1,), (7,), (3, 5), (65,), (2, 3, 11)]:
        assert keep_mask(shape, 0.5).shape == shape
        assert keep_mask(shape, 0.2).shape == shape
    torch.manual_seed(5)
    first = keep_mask((40, 40), 0.5)
    torch.manual_seed(5)
    assert torch.equal(first, keep_mask((40, 40), 0.5))
    assert not keep_mask((10, 10), 1.0 - 2**-20).any()


@pytest.mark.parametrize("p", [0.5, 0.25, 0.3])
def test_relu_dropout_is_dropout_of_relu(p):
    x = torch.randn(64, 33, dtype=torch.float64, requires_grad=True)
    torch.manual_seed(6)
    ours = relu_dropout(x, p)
    (g_ours,) = torch.autograd.grad((ours * torch.arange(33.0, dtype=torch.float64)).sum(), x)
    torch.manual_seed(6)
    ref = dropout(x.relu(), p)  # same draws: the mask comes from the same generator calls
    (g_ref,) = torch.autograd.grad((ref * torch.arange(33.0, dtype=torch.float64)).sum(), x)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(g_ours, g_ref)
    kept = ref != 0
    torch.testing.assert_close(ours[kept], x.relu()[kept] / (1 - p))
    assert torch.equal(relu_dropout(x, p, training=False), x.relu())


def _bn_pair(affine=True, momentum=0.1, track=True):
    torch.manual_seed(7)
    a = torch.nn.BatchNorm1d(33, affine=affine, momentum=momentum, track_running_stats=track).double()
    if affine:
        with torch.no_grad():
            a.weight.uniform_(0.5, 1.5)
            a.bias.uniform_(-0.5, 0.5)
    b = torch.nn.BatchNorm1d(33, affine=affine, momentum=momentum, track_running_stats=track).double()
    b.load_state_dict(a.state_dict())
    return a, b


@pytest.mark.parametrize("p", [0.5, 0.3])
@pytest.mark.parametrize("affine,momentum,track", [(True, 0.1, True), (False, 0.1, True), (True, None, True),
                                                   (True, 0.1, False)])
def test_norm_relu_dropout_equals_the_unfused_layers(p, affine, momentum, track):
    ours_bn, ref_bn = _bn_pair(affine, momentum, track)
    for step in range(3):  # running statistics and num_batches_tracked evolve alike
        x = torch.randn(50, 33, dtype=torch.float64, requires_grad=True)
        torch.manual_seed(10 + step)
        ours = norm_relu_dropout(x, ours_bn, p, training=True)
        torch.manual_seed(10 + step)
        ref = dropout(ref_bn(x).relu(), p)
        torch.testing.assert_close(ours, ref)
        w = torch.randn_like(ref)
        params_o = [x] + list(ours_bn.parameters())
        params_r = [x] + list(ref_bn.parameters())
        for go, gr in zip(torch.autograd.grad((ours * w).sum(), params_o),
                          torch.autograd.grad((ref * w).sum(), params_r)):
            torch.testing.assert_close(go, gr)
    for name, buf in ref_bn.named_buffers():
        torch.testing.assert_close(dict(ours_bn.named_buffers())[name], buf)
    ours_bn.eval(), ref_bn.eval()
    x = torch.randn(9, 33, dtype=torch.float64)
    torch.testing.assert_close(norm_relu_dropout(x, ours_bn, p, training=False), ref_bn(x).relu())
    # any other module is applied as it is
    torch.testing.assert_close(norm_relu_dropout(x, torch.nn.Identity(), p, training=False), x.relu())
