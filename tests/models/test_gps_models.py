"""GraphGPS, Graph-Mamba and GMN: shapes and gradients, graphs in a batch do not affect each other,
equivariance (attention: any relabelling; Mamba: relabelling with the ordering recomputed), GatedGCN and
hop tokens against dense references, and the graph-set loaders / encodings on exact-format fixtures."""
from __future__ import annotations

import pickle

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphkit.data import DatasetNotFoundError
from graphkit.data.graph_sets import load_peptides, load_zinc, with_encodings
from graphkit.data.root import UntrustedPickleError
from graphkit.metrics import AveragePrecision, MeanAbsoluteError
from graphkit.models import GMN, GMNConfig, GPSConfig, GraphGPS, GraphMambaConfig
from graphkit.nn import GatedGCNConv
from graphkit.ops import Adjacency, hop_tokens, laplacian_pe, random_walk_se


def _mol(n, seed, tasks=1):
    g = torch.Generator().manual_seed(seed)
    src = torch.arange(n - 1)
    ei = torch.stack([src, src + 1])
    extra = torch.randint(0, n, (2, 2), generator=g)
    extra = extra[:, extra[0] != extra[1]]
    ei = torch.cat([ei, extra], 1)
    ei = torch.cat([ei, ei.flip(0)], 1)
    d = Data(x=torch.randint(0, 2, (n, 9), generator=g), edge_index=ei,
             edge_attr=torch.randint(0, 2, (ei.size(1), 3), generator=g), y=torch.rand(1, tasks, generator=g))
    v, lam, ok = laplacian_pe(ei, n, 4)
    d.rwse, d.lap_vecs, d.lap_vals, d.lap_valid = random_walk_se(ei, n, 8), v, lam.expand(n, -1), ok.expand(n, -1)
    return d


SMALL = dict(hidden=16, num_layers=2, heads=2, pe_dim=4, rwse_k=8, lap_k=4, d_state=4, mol=True)
MODELS = {
    "gps": lambda: GraphGPS(GPSConfig(**SMALL, encoding="lap+rwse")),
    "gps-linear": lambda: GraphGPS(GPSConfig(**SMALL, mixer="linear", encoding="rwse")),
    "gps-mpnn-only": lambda: GraphGPS(GPSConfig(**SMALL, mixer="none", local="gine")),
    # one ordering at evaluation: the authors' 5 random ones make eval outputs random (tested below)
    "graph-mamba": lambda: GraphGPS(GraphMambaConfig(**SMALL, encoding="rwse", eval_orderings=1)),
    "gmn": lambda: GMN(GMNConfig(hidden=16, num_layers=2, hops=3, d_state=4, mol=True)),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_graph_models_shapes_grads_and_no_cross_talk(name):
    torch.manual_seed(0)
    model = MODELS[name]()
    graphs = [_mol(n, s) for s, n in enumerate((6, 9, 4))]
    batch = Batch.from_data_list(graphs)
    model.train()
    out = model(batch)
    assert out.shape == (3, 1)
    out.sum().backward()
    for pname, p in model.named_parameters():
        if p.grad is None:  # only the last GatedGCN's edge-feature norm may reach no output
            assert "bn_e" in pname, pname
        else:
            assert torch.isfinite(p.grad).all(), pname
    model.eval()
    ref = model(batch)
    changed = graphs[:]
    changed[1] = _mol(9, 99)
    again = model(Batch.from_data_list(changed))
    assert torch.allclose(again[[0, 2]], ref[[0, 2]], atol=1e-5)
    alone = model(Batch.from_data_list([graphs[2]]))
    assert torch.allclose(alone, ref[2:3], atol=1e-5)


def _relabel(d: Data, perm: torch.Tensor) -> Data:
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel())
    out = Data(x=d.x[perm], edge_index=inv[d.edge_index], edge_attr=d.edge_attr, y=d.y)
    for k in ("rwse", "lap_vecs", "lap_vals", "lap_valid"):
        out[k] = d[k][perm]
    return out


def test_gps_attention_is_invariant_to_node_relabelling():
    torch.manual_seed(1)
    model = MODELS["gps"]().eval()
    d = _mol(8, 3)
    perm = torch.randperm(8)
    a = model(Batch.from_data_list([d]))
    b = model(Batch.from_data_list([_relabel(d, perm)]))
    assert torch.allclose(a, b, atol=1e-5)


def test_graph_mamba_is_invariant_when_degrees_are_distinct():
    """Degree order with no ties is a function of the graph: relabelling changes nothing (eval mode)."""
    torch.manual_seed(2)
    model = MODELS["graph-mamba"]().eval()
    n = 5
    ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    ei = torch.cat([ei, ei.flip(0)], 1)
    loops = torch.cat([torch.full((5 * i,), i) for i in range(n)])  # repeated self loops separate degrees
    ei = torch.cat([ei, torch.stack([loops, loops])], 1)
    deg = torch.bincount(ei[1], minlength=n)
    assert deg.unique().numel() == n
    d = Data(x=torch.randint(0, 2, (n, 9)), edge_index=ei, edge_attr=torch.randint(0, 2, (ei.size(1), 3)),
             y=torch.zeros(1, 1))
    d.rwse = random_walk_se(ei, n, 8)
    perm = torch.tensor([3, 0, 4, 1, 2])
    a = model(Batch.from_data_list([d]))
    rel = Data(x=d.x[perm], edge_index=torch.argsort(perm)[ei], edge_attr=d.edge_attr, y=d.y, rwse=d.rwse[perm])
    assert torch.allclose(a, model(Batch.from_data_list([rel])), atol=1e-5)


def test_node_level_models():
    x = torch.randn(30, 5)
    ei = torch.randint(0, 30, (2, 90))
    adj = Adjacency.from_edge_index(ei, num_nodes=30)
    for model in (GraphGPS(GPSConfig(in_channels=5, out_channels=3, level="node", local="gcn", mixer="linear",
                                     hidden=16, heads=2, num_layers=2, norm="layer", head_layers=1)),
                  GraphGPS(GraphMambaConfig(in_channels=5, out_channels=3, level="node", local="gcn", hidden=16,
                                            heads=2, num_layers=2, d_state=4)),
                  GMN(GMNConfig(in_channels=5, out_channels=3, level="node", hidden=16, num_layers=1, hops=2))):
        out = model(x, adj)
        assert out.shape == (30, 3)
        out.sum().backward()


@pytest.mark.parametrize("local", ["gcn", "gin"])
def test_node_level_models_reuse_the_adjacency(local, monkeypatch):
    """A node-level GPS / GMN given an Adjacency builds no other one (every block reuses its CSR and caches)
    and computes what it computes from the edge list."""
    torch.manual_seed(0)
    x = torch.randn(30, 5)
    ei = torch.randint(0, 30, (2, 90))
    adj = Adjacency.from_edge_index(ei, num_nodes=30)
    models = (GraphGPS(GPSConfig(in_channels=5, out_channels=3, level="node", local=local, mixer="attention",
                                 hidden=16, heads=2, num_layers=3, dropout=0.0)),
              GMN(GMNConfig(in_channels=5, out_channels=3, level="node", local=local, hidden=16, num_layers=3,
                            hops=2, dropout=0.0)))
    for model in models:
        model.eval()
        want = model(x, ei)
        built = []
        real = Adjacency.from_edge_index.__func__
        monkeypatch.setattr(Adjacency, "from_edge_index",
                            classmethod(lambda cls, *a, **k: built.append(1) or real(cls, *a, **k)))
        got = model(x, adj)
        monkeypatch.undo()
        assert not built, f"{type(model).__name__} rebuilt the adjacency {len(built)} times"
        assert torch.allclose(got, want, atol=1e-5)


def test_gated_gcn_dense_reference():
    torch.manual_seed(3)
    conv = GatedGCNConv(4, batch_norm=False, residual=True)
    x = torch.randn(5, 4)
    ei = torch.tensor([[0, 1, 2, 3, 1], [1, 2, 0, 1, 0]])
    e = torch.randn(5, 4)
    h, e_out = conv(x, ei, e)
    for i in range(5):
        incoming = (ei[1] == i).nonzero().view(-1)
        acc_num, acc_den = torch.zeros(4), torch.zeros(4)
        for k in incoming.tolist():
            j = int(ei[0, k])
            eh = conv.D(x[i]) + conv.E(x[j]) + conv.C(e[k])
            s = torch.sigmoid(eh)
            acc_num += s * conv.B(x[j])
            acc_den += s
            assert torch.allclose(e_out[k], torch.relu(eh) + e[k], atol=1e-5)
        want = torch.relu(conv.A(x[i]) + acc_num / (acc_den + 1e-6)) + x[i]
        assert torch.allclose(h[i], want, atol=1e-5)
    with pytest.raises(ValueError, match="edge features"):
        conv(x, ei, e[:3])


def test_gated_gcn_training_mode_is_batch_norm_relu_then_one_dropout():
    """In training, each stream is dropout(relu(batch_norm(.))) with the batch's statistics, then the residual:
    kept entries equal the reference scaled once by 1 / (1 - p), about p of the positive ones are dropped,
    and the running statistics move exactly as the batch norms' own would (float64)."""
    import copy

    torch.manual_seed(5)
    p = 0.25
    conv = GatedGCNConv(16, dropout=p).double().train()
    twin = copy.deepcopy(conv)
    n, m = 300, 1200
    x = torch.randn(n, 16, dtype=torch.float64)
    ei = torch.randint(0, n, (2, m))
    e = torch.randn(m, 16, dtype=torch.float64)
    h, e_out = conv(x, ei, e)
    src, dst = ei
    pre_e = twin.D(x)[dst] + twin.E(x)[src] + twin.C(e)
    gate = torch.sigmoid(pre_e)
    num = torch.zeros(n, 16, dtype=torch.float64).index_add_(0, dst, gate * twin.B(x)[src])
    den = torch.zeros(n, 16, dtype=torch.float64).index_add_(0, dst, gate)
    pre_h = twin.A(x) + num / (den + 1e-6)
    for out, ref in ((h - x, torch.relu(twin.bn_h(pre_h))), (e_out - e, torch.relu(twin.bn_e(pre_e)))):
        kept = out != 0
        torch.testing.assert_close(out[kept], ref[kept] / (1 - p))
        assert (ref[~kept] >= 0).all()
        dropped = (~kept & (ref > 0)).sum() / (ref > 0).sum()
        assert abs(float(dropped) - p) < 0.03
    for a, b in ((conv.bn_h, twin.bn_h), (conv.bn_e, twin.bn_e)):
        torch.testing.assert_close(a.running_mean, b.running_mean)
        torch.testing.assert_close(a.running_var, b.running_var)


def test_hop_tokens_dense_reference():
    x = torch.randn(6, 3)
    ei = torch.tensor([[0, 1, 2, 3, 4, 1], [1, 2, 3, 4, 0, 0]])
    tok = hop_tokens(x, ei, 6, 2)
    a = torch.zeros(6, 6)
    a[ei[1], ei[0]] = 1
    deg = a.sum(1, keepdim=True)
    p = torch.where(deg > 0, a / deg.clamp_min(1), torch.zeros_like(a))
    h1 = torch.where(deg > 0, p @ x, x)
    h2 = torch.where(deg > 0, p @ h1, h1)
    assert torch.allclose(tok[:, -1], x) and torch.allclose(tok[:, 1], h1, atol=1e-6)
    assert torch.allclose(tok[:, 0], h2, atol=1e-6)
    assert torch.allclose(tok[5], x[5].expand(3, -1))  # node 5 has no in-edges
    sampled = hop_tokens(x, ei, 6, 2, walks=3, generator=torch.Generator().manual_seed(0))
    assert sampled.shape == (6, 3, 3) and torch.allclose(sampled[:, -1], x)
    # a walk from node 2 must go to 1 (its only in-neighbour), then to 0
    assert torch.allclose(sampled[2, 1], x[1]) and torch.allclose(sampled[2, 0], x[0])


# ----------------------------------------------------------------------------- data and metrics
def _write_peptides(raw, tasks, sizes=(5, 2, 3)):
    raw.mkdir(parents=True)
    for split, n in zip(("train", "val", "test"), sizes):
        items = []
        for i in range(n):
            d = _mol(4 + i % 3, i)
            y = torch.randint(0, 2, (1, tasks)).float() if tasks == 10 else torch.randn(1, tasks)
            items.append((d.x, d.edge_attr, d.edge_index, y))
        torch.save(items, raw / f"{split}.pt")


@pytest.mark.parametrize("name,tasks,metric", [("peptides-func", 10, "ap"), ("peptides-struct", 11, "mae")])
def test_peptides_fixture(tmp_path, name, tasks, metric):
    _write_peptides(tmp_path / "lrgb" / name / "raw", tasks)
    loaded = load_peptides(name, tmp_path, download=False)
    assert len(loaded.dataset) == 10 and [len(v) for v in loaded.split.values()] == [5, 2, 3]
    assert loaded.metric.name == metric and loaded.num_outputs == tasks
    assert loaded.dataset[loaded.split["valid"]][0].y.shape == (1, tasks)
    enc = with_encodings(loaded, rwse_k=4, lap_k=3)
    g = enc.dataset[0]
    assert g.rwse.shape == (g.num_nodes, 4) and g.lap_vecs.shape == (g.num_nodes, 3)
    again = with_encodings(loaded, rwse_k=4, lap_k=3)  # read back from the cache
    assert torch.equal(again.dataset[3].rwse, enc.dataset[3].rwse)


def test_peptides_bad_files(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="train.pt"):
        load_peptides("peptides-func", tmp_path, download=False)
    raw = tmp_path / "lrgb" / "peptides-func" / "raw"
    _write_peptides(raw, 10)
    torch.save([(torch.zeros(3, 9), torch.zeros(1, 3), torch.tensor([[0], [7]]), torch.zeros(1, 10))], raw / "val.pt")
    with pytest.raises(ValueError, match="edge to node 7"):
        load_peptides("peptides-func", tmp_path, download=False)
    torch.save([], raw / "val.pt")
    data = (raw / "test.pt").read_bytes()
    (raw / "test.pt").write_bytes(data[:100])
    with pytest.raises(ValueError, match="not a readable tensor file"):
        load_peptides("peptides-func", tmp_path, download=False)


def test_zinc_fixture_and_refused_pickle(tmp_path):
    raw = tmp_path / "zinc" / "raw"
    raw.mkdir(parents=True)
    for split, n in (("train", 4), ("val", 2), ("test", 3)):
        mols = []
        for i in range(n + 1):
            adj = torch.zeros(3, 3, dtype=torch.long)
            adj[0, 1] = adj[1, 0] = 1 + i % 3
            mols.append({"atom_type": torch.tensor([i % 5, 1, 2]), "bond_type": adj,
                         "logP_SA_cycle_normalized": torch.tensor([0.5 * i])})
        with open(raw / f"{split}.pickle", "wb") as f:
            pickle.dump(mols, f)
        (raw / f"{split}.index").write_text(",".join(str(i) for i in range(n)))
    loaded = load_zinc(tmp_path, download=False)
    assert [len(v) for v in loaded.split.values()] == [4, 2, 3]
    g = loaded.dataset[1]
    assert g.x.view(-1).tolist() == [1, 1, 2] and g.edge_attr.tolist() == [2, 2] and g.y.item() == 0.5
    with open(raw / "val.pickle", "wb") as f:
        pickle.dump([{"atom_type": print}], f)
    with pytest.raises(UntrustedPickleError, match="print"):
        load_zinc(tmp_path, download=False)


def test_ap_and_mae_metrics():
    from sklearn.metrics import average_precision_score

    y = torch.tensor([[1, 0], [0, float("nan")], [1, 1], [0, 0]])
    p = torch.tensor([[0.9, 0.2], [0.3, 0.5], [0.4, 0.8], [0.1, 0.7]])
    want = (average_precision_score([1, 0, 1, 0], [0.9, 0.3, 0.4, 0.1])
            + average_precision_score([0, 1, 0], [0.2, 0.8, 0.7])) / 2
    assert AveragePrecision()(y, p) == pytest.approx(want)
    assert MeanAbsoluteError()(torch.tensor([[1.0], [2.0]]), torch.tensor([[1.5], [1.0]])) == pytest.approx(0.75)
    assert not MeanAbsoluteError().higher_is_better


def _assert_same_function(out, ref, inputs):
    """Equal values, and equal gradients of a random functional with respect to ``inputs``."""
    torch.testing.assert_close(out, ref)
    w = torch.randn_like(out)
    for a, b in zip(torch.autograd.grad((out * w).sum(), inputs), torch.autograd.grad((ref * w).sum(), inputs)):
        torch.testing.assert_close(a, b)


def _graphgps_gatedgcn_layer(blk, x, ei, e):
    """GraphGPS's GPSLayer with its GatedGCN local model and no global model, written out (eval mode)."""
    conv = blk.local
    src, dst = ei[0], ei[1]
    e_hat = conv.D(x)[dst] + conv.E(x)[src] + conv.C(e)
    sig = torch.sigmoid(e_hat)
    h = conv.A(x).clone()
    for i in range(x.size(0)):  # node by node: sum_j sigma_ji B h_j / (sum_j sigma_ji + eps)
        into = dst == i
        h[i] = h[i] + (sig[into] * conv.B(x)[src[into]]).sum(0) / (sig[into].sum(0) + conv.eps)
    h = x + torch.relu(conv.bn_h(h))  # GatedGCN's own residual, node stream
    e_out = e + torch.relu(conv.bn_e(e_hat))  # ... and edge stream
    h = blk.norm_local(h)  # GPSLayer: no second residual, no second dropout for GatedGCN
    return blk.norm_out(h + blk.mlp(h)), e_out


def test_gps_gatedgcn_layers_equal_graphgps():
    """Two GPS layers with GraphGPS's GatedGCN (residual on the node and edge streams, dropout once) against
    the layer written out, float64, outputs and gradients: the edge residual matters from layer two on."""
    from graphkit.models.local_layer import local_layer
    from graphkit.nn import GPSBlock

    torch.manual_seed(0)
    h = 6
    blocks = torch.nn.ModuleList(GPSBlock(h, local_layer("gatedgcn", h, 0.2, True), None, 0.2)
                                 for _ in range(2)).double()
    for p in blocks.parameters():  # batch norm weights away from 1 / 0, so every term shows
        torch.nn.init.normal_(p, std=0.5)
    for m in blocks.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.normal_(std=0.3)
            m.running_var.uniform_(0.5, 2.0)
    blocks.eval()
    ei = torch.tensor([[0, 1, 1, 2, 3, 4, 4, 0], [1, 0, 2, 1, 4, 3, 0, 4]])
    x = torch.randn(5, h, dtype=torch.float64, requires_grad=True)
    e = torch.randn(ei.size(1), h, dtype=torch.float64, requires_grad=True)
    batch = torch.zeros(5, dtype=torch.long)
    out, eo = x, e
    ref, er = x, e
    for blk in blocks:
        out, eo = blk(out, ei, batch, 1, eo)
        ref, er = _graphgps_gatedgcn_layer(blk, ref, ei, er)
    torch.testing.assert_close(eo, er)
    _assert_same_function(out, ref, (x, e))
    assert all(blk.local.residual and blk.local_residual_inside for blk in blocks)


def test_graph_mamba_is_the_authors_mixer():
    """Graph-Mamba as its authors' code builds it: one Mamba (expand=1, no projection biases) reading each
    graph's nodes once in the order given (written out graph by graph, float64), no reversed pass; orderings
    by degree with random tie-breaks drawn per layer; evaluation averages the mixer over 5 orderings."""
    from graphkit.nn import GPSBlock, MambaMixer
    from graphkit.ops import degree_order

    torch.manual_seed(0)
    model = GraphGPS(GraphMambaConfig(**SMALL))
    for blk in model.blocks:
        mixer = blk.mixer
        assert isinstance(mixer, MambaMixer) and mixer.backward_layer is None
        assert mixer.forward_layer.inner == SMALL["hidden"]  # expand=1
        assert mixer.forward_layer.in_proj.bias is None and mixer.forward_layer.out_proj.bias is None
    mixer = MambaMixer(6, d_state=4, expand=1, bidirectional=False, bias=False).double()
    x = torch.randn(9, 6, dtype=torch.float64, requires_grad=True)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1])
    order = torch.tensor([2, 0, 3, 1, 8, 4, 6, 5, 7])
    out = mixer(x, batch, 2, order)
    ref = torch.zeros_like(x)
    for gid in range(2):
        nodes = order[batch[order] == gid]  # the graph's nodes in the order read
        seq = mixer.forward_layer(x[nodes].unsqueeze(0), torch.ones(1, nodes.numel(), dtype=torch.bool))[0]
        ref = ref.index_put((nodes,), seq)
    torch.testing.assert_close(out, ref)
    g1, = torch.autograd.grad(out.square().sum(), x)
    g2, = torch.autograd.grad(ref.square().sum(), x)
    torch.testing.assert_close(g1, g2)
    # a block given several orderings averages the mixer over them
    blk = GPSBlock(6, None, mixer, 0.0, "none").double().eval()
    other = torch.tensor([3, 2, 1, 0, 7, 8, 4, 5, 6])
    both = blk(x, torch.zeros(2, 0, dtype=torch.long), batch, 2, None, [order, other])[0]
    mix = (mixer(x, batch, 2, order) + mixer(x, batch, 2, other)) / 2
    torch.testing.assert_close(both, blk.norm_out((x + mix) + blk.mlp(x + mix)))
    # degree orders with random ties: degrees ascend, equal degrees come in varying order
    ei = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]])  # a 4-cycle: all degree 2
    seen = {tuple(degree_order(ei, torch.zeros(4, dtype=torch.long), 4, random_ties=True).tolist())
            for _ in range(20)}
    assert len(seen) > 1
    # evaluation: 5 random orderings per layer, so two calls differ unless the generator is reset
    batch_ = Batch.from_data_list([_mol(n, s) for s, n in enumerate((6, 9))])
    model.eval()
    torch.manual_seed(1)
    a = model(batch_)
    torch.manual_seed(1)
    assert torch.equal(model(batch_), a)


def test_gps_gine_attention_layer_equals_graphgps():
    """GraphGPS's GPSLayer with GINE and full attention, written out (node by node for the GINE sum, graph by
    graph for the attention, eval mode, float64): h = BN1(x + GINE(x, e)) + BN2(x + MHA(x)), then
    BN(h + FF(h)); outputs and gradients equal the GPS block's."""
    from graphkit.models.local_layer import local_layer
    from graphkit.nn import AttentionMixer, GPSBlock

    torch.manual_seed(0)
    h = 8
    blk = GPSBlock(h, local_layer("gine", h, 0.1, True), AttentionMixer(h, 2, 0.1), 0.1).double()
    for m in blk.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.normal_(std=0.3)
            m.running_var.uniform_(0.5, 2.0)
    with torch.no_grad():
        blk.local.eps.fill_(0.3)
    blk.eval()
    ei = torch.tensor([[0, 1, 1, 2, 3, 4, 5, 6, 6, 5], [1, 0, 2, 1, 4, 3, 6, 5, 4, 4]])
    batch = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    x = torch.randn(7, h, dtype=torch.float64, requires_grad=True)
    e = torch.randn(ei.size(1), h, dtype=torch.float64, requires_grad=True)
    out, _ = blk(x, ei, batch, 2, e)
    conv, mha = blk.local, blk.mixer.attn
    agg = torch.stack([(1 + conv.eps[0]) * x[i] + sum((torch.relu(x[j] + e[k]) for k, (j, t) in
                       enumerate(ei.t().tolist()) if t == i), torch.zeros(h, dtype=torch.float64))
                       for i in range(7)])
    h_local = blk.norm_local(x + conv.nn(agg))
    att = torch.zeros_like(x)
    for gid in range(2):
        idx = (batch == gid).nonzero().view(-1)
        seq = x[idx].unsqueeze(0)
        att = att.index_put((idx,), mha(seq, seq, seq, need_weights=False)[0][0])
    h_attn = blk.norm_global(x + att)
    s = h_local + h_attn
    ref = blk.norm_out(s + blk.mlp(s))
    _assert_same_function(out, ref, (x, e))
