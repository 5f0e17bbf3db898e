"""AtomEncoder / BondEncoder: OGB's table sizes, parameter names and outputs."""
import pytest
import torch
import torch.nn.functional as F

from graphkit.nn import AtomEncoder, BondEncoder
from graphkit.nn.encoders import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS


def _ogb():
    return pytest.importorskip("ogb.utils.features"), pytest.importorskip("ogb.graphproppred.mol_encoder")


def test_dims_match_ogb():
    ogb_features, _ = _ogb()
    assert list(ATOM_FEATURE_DIMS) == ogb_features.get_atom_feature_dims()
    assert list(BOND_FEATURE_DIMS) == ogb_features.get_bond_feature_dims()


@pytest.mark.parametrize("ours_cls,theirs_cls,dims", [(AtomEncoder, "AtomEncoder", ATOM_FEATURE_DIMS),
                                                      (BondEncoder, "BondEncoder", BOND_FEATURE_DIMS)])
def test_state_dict_and_output_match_ogb(ours_cls, theirs_cls, dims):
    _, ogb_enc = _ogb()
    torch.manual_seed(0)
    theirs = getattr(ogb_enc, theirs_cls)(16)
    ours = ours_cls(16)
    ours.load_state_dict(theirs.state_dict())  # same parameter names
    x = torch.stack([torch.randint(0, d, (30,)) for d in dims], 1)
    out, expect = ours(x), theirs(x)
    torch.testing.assert_close(out, expect)
    cot = torch.randn_like(out)
    (out * cot).sum().backward()
    (expect * cot).sum().backward()
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, theirs_params[name].grad, msg=name)


@pytest.mark.parametrize("cls,dims", [(AtomEncoder, ATOM_FEATURE_DIMS), (BondEncoder, BOND_FEATURE_DIMS)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cpu_backward_equals_torchs_embedding_bag(cls, dims, dtype):
    """The per-column index_add_ backward gives torch's own embedding_bag gradients (up to summation order)."""
    torch.manual_seed(1)
    enc = cls(24).to(dtype)
    x = torch.stack([torch.randint(0, d, (500,)) for d in dims], 1)
    x[:100] = x[0]  # many repeated rows
    cot = torch.randn(500, 24, dtype=dtype)
    (enc(x) * cot).sum().backward()
    tables = [p.detach().clone().requires_grad_() for p in enc.parameters()]
    offsets = torch.tensor((0, *dims[:-1])).cumsum(0)
    (F.embedding_bag(x + offsets, torch.cat(tables), mode="sum") * cot).sum().backward()
    for ours, ref in zip(enc.parameters(), tables):
        torch.testing.assert_close(ours.grad, ref.grad)


def test_wrong_input_is_named():
    with pytest.raises(ValueError, match=r"integer features \[\*, 9\]"):
        AtomEncoder(8)(torch.zeros(3, 9))
    with pytest.raises(ValueError, match=r"\[\*, 3\]"):
        BondEncoder(8)(torch.zeros(3, 2, dtype=torch.long))
