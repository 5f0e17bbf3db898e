"""GIN (Xu et al.), SAGE and LinkModel: shapes, readout structure, invariance, config errors."""
import pytest
import torch
from torch_geometric.data import Batch, Data

from graphkit.models import GIN, SAGE, GINConfig, LinkConfig, LinkModel, SAGEConfig


def graphs(num=5, f=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(num):
        n = int(torch.randint(2, 7, (1,), generator=g))
        src = torch.randint(0, n, (n,), generator=g)
        dst = (src + 1) % n
        out.append(Data(x=torch.randn(n, f, generator=g), edge_index=torch.cat([torch.stack([src, dst]),
                                                                                 torch.stack([dst, src])], 1)))
    return out


def test_gin_readout_sums_one_prediction_per_layer():
    torch.manual_seed(0)
    model = GIN(GINConfig(4, 3, hidden=8, num_layers=3, dropout=0.0)).eval()
    batch = Batch.from_data_list(graphs())
    assert model(batch).shape == (5, 3)
    assert len(model.heads) == 3 and len(model.convs) == 2
    # the input layer's prediction is a linear map of the summed raw features
    with torch.no_grad():
        for head in model.heads[1:]:
            head.weight.zero_()
            head.bias.zero_()
    pooled = torch.stack([d.x.sum(0) for d in graphs()])
    torch.testing.assert_close(model(batch), model.heads[0](pooled))


def test_gin_is_invariant_to_node_order():
    torch.manual_seed(1)
    model = GIN(GINConfig(4, 2, hidden=8)).eval()
    data = graphs(seed=2)
    permuted = []
    for d in data:
        p = torch.randperm(d.num_nodes)
        inv = torch.empty_like(p)
        inv[p] = torch.arange(d.num_nodes)
        permuted.append(Data(x=d.x[p], edge_index=inv[d.edge_index]))
    torch.testing.assert_close(model(Batch.from_data_list(permuted)), model(Batch.from_data_list(data)))


def test_gin_eps_is_fixed_for_gin0_and_learned_otherwise():
    assert not any(n.endswith("eps") for n, _ in GIN(GINConfig(4, 2)).named_parameters())
    assert any(n.endswith("eps") for n, _ in GIN(GINConfig(4, 2, train_eps=True)).named_parameters())


@pytest.mark.parametrize("kw,msg", [(dict(num_layers=1), "num_layers"), (dict(pooling="attention"), "pooling"),
                                    (dict(mlp_layers=0), "mlp_layers")])
def test_gin_config_errors(kw, msg):
    with pytest.raises(ValueError, match=msg):
        GINConfig(4, 2, **kw)


def test_sage_model_and_link_model_shapes():
    torch.manual_seed(0)
    x, ei = torch.randn(10, 6), torch.randint(0, 10, (2, 30))
    assert SAGE(SAGEConfig(6, 3, hidden=8)).eval()(x, ei).shape == (10, 3)
    for enc in ("gcn", "sage"):
        m = LinkModel(LinkConfig(6, encoder=enc, hidden=8, num_layers=2))
        z = m.encode(x, ei)
        assert m.score(z, torch.tensor([[0, 1, 2], [3, 4, 5]])).shape == (3,)
    with pytest.raises(ValueError, match="encoder"):
        LinkConfig(6, encoder="gat")
