"""VirtualNode: zero start, broadcast, update = MLP(sum-pool + state), residual form."""
import pytest
import torch

from graphkit.nn import VirtualNode


def test_initial_state_is_zero_and_learned():
    vn = VirtualNode(6, num_layers=3)
    init = vn.initial(4)
    assert init.shape == (4, 6) and torch.count_nonzero(init) == 0
    assert vn.embedding.weight.requires_grad
    assert len(vn.mlps) == 2


@pytest.mark.parametrize("residual", [False, True])
def test_update_matches_manual_computation(residual):
    torch.manual_seed(0)
    vn_mod = VirtualNode(5, num_layers=2, residual=residual).double().eval()
    h = torch.randn(7, 5, dtype=torch.float64)
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2])
    vn = torch.randn(3, 5, dtype=torch.float64)
    pooled = torch.stack([h[batch == g].sum(0) for g in range(3)])
    expect = vn_mod.mlps[0](pooled + vn)
    if residual:
        expect = expect + vn
    torch.testing.assert_close(vn_mod.update(0, h, vn, batch, 3), expect)
    torch.testing.assert_close(vn_mod.broadcast(h, vn, batch), h + vn[batch])


def test_update_is_invariant_to_node_order():
    torch.manual_seed(1)
    vn_mod = VirtualNode(4, num_layers=2).double().eval()
    h, batch = torch.randn(6, 4, dtype=torch.float64), torch.tensor([0, 0, 0, 1, 1, 1])
    vn = torch.randn(2, 4, dtype=torch.float64)
    p = torch.tensor([2, 1, 0, 5, 3, 4])
    torch.testing.assert_close(vn_mod.update(0, h[p], vn, batch[p], 2), vn_mod.update(0, h, vn, batch, 2))


def test_bad_layer_count():
    with pytest.raises(ValueError, match="num_layers"):
        VirtualNode(4, num_layers=0)
