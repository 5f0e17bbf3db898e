"""AtomEncoder / BondEncoder: OGB's table sizes, parameter names and outputs."""
import pytest
import torch

from graphkit.nn import AtomEncoder, BondEncoder
from graphkit.nn.encoders import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS

ogb_features = pytest.importorskip("ogb.utils.features")
ogb_enc = pytest.importorskip("ogb.graphproppred.mol_encoder")


def test_dims_match_ogb():
    assert list(ATOM_FEATURE_DIMS) == ogb_features.get_atom_feature_dims()
    assert list(BOND_FEATURE_DIMS) == ogb_features.get_bond_feature_dims()


@pytest.mark.parametrize("ours_cls,theirs_cls,dims", [(AtomEncoder, "AtomEncoder", ATOM_FEATURE_DIMS),
                                                      (BondEncoder, "BondEncoder", BOND_FEATURE_DIMS)])
def test_state_dict_and_output_match_ogb(ours_cls, theirs_cls, dims):
    torch.manual_seed(0)
    theirs = getattr(ogb_enc, theirs_cls)(16)
    ours = ours_cls(16)
    ours.load_state_dict(theirs.state_dict())  # same parameter names
    x = torch.stack([torch.randint(0, d, (30,)) for d in dims], 1)
    torch.testing.assert_close(ours(x), theirs(x))


def test_wrong_input_is_named():
    with pytest.raises(ValueError, match=r"integer features \[\*, 9\]"):
        AtomEncoder(8)(torch.zeros(3, 9))
    with pytest.raises(ValueError, match=r"\[\*, 3\]"):
        BondEncoder(8)(torch.zeros(3, 2, dtype=torch.long))
