"""MolGNN (OGB's mol baselines) against the same model written with PyG's layers."""
import pytest
import torch
from torch_geometric.data import Batch, Data

from graphkit.models import MolGNN, MolGNNConfig
from graphkit.nn.encoders import ATOM_FEATURE_DIMS, BOND_FEATURE_DIMS

pyg_mol = pytest.importorskip("benchmarks.pyg_mol")


def molecules(num=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    graphs = []
    for _ in range(num):
        n = int(torch.randint(2, 9, (1,), generator=g))
        src = torch.randint(0, n, (n,), generator=g)
        dst = (src + torch.randint(1, n, (n,), generator=g)) % n
        ei = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)
        x = torch.stack([torch.randint(0, d, (n,), generator=g) for d in ATOM_FEATURE_DIMS], 1)
        e = torch.stack([torch.randint(0, d, (n,), generator=g) for d in BOND_FEATURE_DIMS], 1).repeat(2, 1)
        graphs.append(Data(x=x, edge_index=ei, edge_attr=e, y=torch.rand(1, 2)))
    return graphs


CONFIGS = [dict(gnn="gin"), dict(gnn="gin", virtual_node=True), dict(gnn="gcn"), dict(gnn="gcn", virtual_node=True),
           dict(gnn="gin", virtual_node=True, residual=True, jk="sum", pooling="sum")]


@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_matches_pyg_twin_in_train_and_eval_mode(kw):
    cfg = MolGNNConfig(num_tasks=2, num_layers=3, hidden=16, dropout=0.0, **kw)
    torch.manual_seed(0)
    theirs = pyg_mol.PygMolGNN(cfg).double()
    ours = MolGNN(cfg).double()
    ours.load_state_dict(theirs.state_dict())
    batch = Batch.from_data_list(molecules())
    for train in (True, False):
        ours.train(train)
        theirs.train(train)
        out, expect = ours(batch), theirs(batch)
        torch.testing.assert_close(out, expect)
        if train:
            cot = torch.randn_like(out)
            (out * cot).sum().backward()
            (expect * cot).sum().backward()
            for (n, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
                torch.testing.assert_close(a.grad, b.grad, msg=n)


def test_virtual_node_starts_at_zero_so_first_layer_equals_plain_model():
    cfg = MolGNNConfig(num_tasks=1, num_layers=1, hidden=8, dropout=0.0, virtual_node=True)
    torch.manual_seed(0)
    vn = MolGNN(cfg)
    plain = MolGNN(MolGNNConfig(num_tasks=1, num_layers=1, hidden=8, dropout=0.0))
    plain.load_state_dict({k: v for k, v in vn.state_dict().items() if not k.startswith("virtual.")})
    batch = Batch.from_data_list(molecules())
    torch.testing.assert_close(vn.eval()(batch), plain.eval()(batch))


def test_graph_predictions_are_invariant_to_node_order():
    torch.manual_seed(0)
    model = MolGNN(MolGNNConfig(num_tasks=2, num_layers=3, hidden=16, virtual_node=True)).eval()
    graphs = molecules()
    permuted = []
    for d in graphs:
        p = torch.randperm(d.num_nodes)
        inv = torch.empty_like(p)
        inv[p] = torch.arange(d.num_nodes)
        permuted.append(Data(x=d.x[p], edge_index=inv[d.edge_index], edge_attr=d.edge_attr, y=d.y))
    torch.testing.assert_close(model(Batch.from_data_list(permuted)), model(Batch.from_data_list(graphs)))


def test_bad_config_values_are_named():
    with pytest.raises(ValueError, match="gnn must be"):
        MolGNNConfig(gnn="gat")
    with pytest.raises(ValueError, match="jk"):
        MolGNNConfig(jk="max")
