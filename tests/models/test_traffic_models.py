"""Spatio-temporal layers and models: dense references and PyG parity for the graph operators, shapes,
equivariance under sensor permutation (node-indexed parameters permuted with the sensors), input checks."""
from __future__ import annotations

import pytest
import torch

from graphkit.models import (
    STGCN,
    STTN,
    TGCN,
    GraphWaveNet,
    GraphWaveNetConfig,
    PaperSTTN,
    PaperSTTNConfig,
    STGCNConfig,
    STTNConfig,
    TGCNConfig,
    VirtualNodeSTGNNConfig,
)
from graphkit.nn.temporal import ChebGraphConv, FirstOrderGraphConv, GraphGRUCell
from graphkit.ops import Adjacency, SensorGraph, propagate_nodes

N = 7


def _weights(seed=0, n=N, symmetric=False):
    g = torch.Generator().manual_seed(seed)
    w = torch.rand(n, n, generator=g) * (torch.rand(n, n, generator=g) < 0.5)
    w.fill_diagonal_(0)
    w[3] = 0  # a sensor with no outgoing road
    return torch.maximum(w, w.t()) if symmetric else w


def _dense(adj: Adjacency) -> torch.Tensor:
    m = torch.zeros(adj.num_dst, adj.num_src)
    m[adj.row, adj.col] = adj.values(torch.float32)
    return m


def test_propagate_nodes_sparse_and_dense_match_einsum():
    m = _weights()  # m[i, j]: weight of the message j -> i
    dst, src = torch.nonzero(m, as_tuple=True)
    adj = Adjacency.from_edge_index(torch.stack([src, dst]), m[dst, src], num_nodes=N)
    assert torch.equal(_dense(adj), m)
    x = torch.randn(2, 3, N, 4, dtype=torch.float32, requires_grad=True)
    ref = torch.einsum("ij,btjf->btif", m, x)
    out = propagate_nodes(adj, x, node_dim=2)
    assert torch.allclose(out, ref, atol=1e-6)
    assert torch.allclose(propagate_nodes(m, x, node_dim=2), ref, atol=1e-6)
    g1, = torch.autograd.grad(out.square().sum(), x)
    g2, = torch.autograd.grad(ref.square().sum(), x)
    assert torch.allclose(g1, g2, atol=1e-5)
    xc = x.detach().permute(0, 2, 1, 3)  # nodes on axis 1
    assert torch.allclose(propagate_nodes(adj, xc, node_dim=1), ref.permute(0, 2, 1, 3), atol=1e-6)
    with pytest.raises(ValueError, match="nodes"):
        propagate_nodes(adj, torch.randn(2, N + 1, 3), node_dim=1)
    with pytest.raises(ValueError, match="dense adjacency"):
        propagate_nodes(torch.rand(3, 3), x, node_dim=2)


def test_sensor_graph_operators_dense_reference():
    w = _weights()
    g = SensorGraph(w)
    a = w + torch.eye(N)
    d = a.sum(1).pow(-0.5)
    assert torch.allclose(_dense(g.gcn()), d[:, None] * a.t() * d[None, :], atol=1e-6)
    fwd, bwd = g.transitions()
    rs = w.sum(1)
    p = torch.where(rs[:, None] > 0, w / rs.clamp_min(1e-12)[:, None], torch.zeros_like(w))
    assert torch.allclose(_dense(fwd), p.t(), atol=1e-6)  # messages flow along the walk: out = P^T x
    cs = w.sum(0)
    q = torch.where(cs[:, None] > 0, w.t() / cs.clamp_min(1e-12)[:, None], torch.zeros_like(w))
    assert torch.allclose(_dense(bwd), q.t(), atol=1e-6)
    assert g.gcn() is g.gcn()  # cached
    with pytest.raises(ValueError, match="non-negative"):
        SensorGraph(-w)
    with pytest.raises(ValueError, match="square"):
        SensorGraph(torch.rand(3, 4))


def test_cheb_conv_matches_pyg():
    from torch_geometric.nn import ChebConv

    w = _weights(symmetric=True)
    g = SensorGraph(w)
    ei = torch.nonzero(w).t()
    ew = w[ei[0], ei[1]]
    ours = ChebGraphConv(3, 5, k=3)
    lam = float(torch.linalg.eigvalsh(torch.eye(N) - _sym_norm(w)).max())
    ref = ChebConv(3, 5, K=3, normalization="sym")
    with torch.no_grad():
        for k in range(3):
            ref.lins[k].weight.copy_(ours.weight[k].t())
        ref.bias.copy_(ours.bias)
    x = torch.randn(2, 3, N, 4)  # [B, C, N, T]
    out = ours(x, g.scaled_laplacian())
    for b in range(2):
        for t in range(4):
            r = ref(x[b, :, :, t].t(), ei, ew, lambda_max=lam)
            assert torch.allclose(out[b, :, :, t].t(), r, atol=1e-5)


def _sym_norm(w):
    d = w.sum(1)
    inv = torch.where(d > 0, d.pow(-0.5), torch.zeros_like(d))
    return inv[:, None] * w * inv[None, :]


def test_first_order_conv_matches_pyg_gcn():
    from torch_geometric.nn import GCNConv

    w = _weights(symmetric=True)
    g = SensorGraph(w)
    ei = torch.nonzero(w).t()
    ours = FirstOrderGraphConv(3, 4)
    ref = GCNConv(3, 4)
    with torch.no_grad():
        ref.lin.weight.copy_(ours.lin.weight[:, :, 0, 0])
        ref.bias.copy_(ours.lin.bias)
    x = torch.randn(1, 3, N, 2)
    out = ours(x, g.gcn())
    r = ref(x[0, :, :, 1].t(), ei, w[ei[0], ei[1]])
    assert torch.allclose(out[0, :, :, 1].t(), r, atol=1e-5)


def test_graph_gru_cell_dense_reference():
    w = _weights()
    g = SensorGraph(w)
    cell = GraphGRUCell(2, 5)
    x, h = torch.randn(3, N, 2), torch.randn(3, N, 5)
    a = _dense(g.gcn())
    ru = torch.sigmoid(cell.gates(a @ torch.cat([x, h], -1)))
    r, u = ru.chunk(2, -1)
    c = torch.tanh(cell.cand(a @ torch.cat([x, r * h], -1)))
    assert torch.allclose(cell(x, h, g.gcn()), u * h + (1 - u) * c, atol=1e-5)


MODELS = {
    "stgcn-cheb": lambda: STGCN(STGCNConfig(in_channels=2, num_nodes=N, channels=(8, 4, 8))),
    "stgcn-first": lambda: STGCN(STGCNConfig(in_channels=2, num_nodes=N, channels=(8, 4, 8), graph_conv="first")),
    "gwnet": lambda: GraphWaveNet(GraphWaveNetConfig(in_channels=2, num_nodes=N, residual_channels=8,
                                                     dilation_channels=8, skip_channels=16, end_channels=16)),
    "vn-stgnn": lambda: GraphWaveNet(VirtualNodeSTGNNConfig(in_channels=2, num_nodes=N, residual_channels=8,
                                                            dilation_channels=8, skip_channels=16, end_channels=16,
                                                            virtual_nodes=3)),
    "sttn": lambda: STTN(STTNConfig(in_channels=2, num_nodes=N, input_channels=4, hidden=8, ff=16, head_hidden=16)),
    "sttn-paper": lambda: PaperSTTN(PaperSTTNConfig(in_channels=2, num_nodes=N, hidden=8, heads=2)),
    "tgcn": lambda: TGCN(TGCNConfig(in_channels=2, num_nodes=N, hidden=8)),
}


def _permute_node_params(model, perm):
    """Permute every parameter indexed by sensor (STGCN's [N, C] layer norms, embeddings)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("norm.weight", "norm.bias")) and p.dim() == 2 and p.size(0) == N:
                p.copy_(p[perm])
            elif name.endswith(("fc_bias", "fc2_bias")):  # per-sensor output biases [t_out, N]
                p.copy_(p[:, perm])
            elif name.endswith(("fc1_bias", "spatial_table")):  # STTN: [N, *] rows per sensor
                p.copy_(p[perm])
            elif name.endswith(("nodevec1", "sensor_embed", "spatial_embed")):
                p.copy_(p[perm])
            elif name.endswith("nodevec2"):
                p.copy_(p[:, perm])


@pytest.mark.parametrize("name", list(MODELS))
def test_model_shapes_backward_and_permutation_equivariance(name):
    torch.manual_seed(0)
    model = MODELS[name]().eval()
    w = _weights()
    g = SensorGraph(w)
    x = torch.randn(3, 12, N, 2)
    model.train()
    model(x, g).square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(gr is not None and torch.isfinite(gr).all() for gr in grads)
    model.eval()  # (after the training step: batch norm's running statistics are fixed from here on)
    out = model(x, g)
    assert out.shape == (3, 12, N)
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(1))
    _permute_node_params(model, perm)
    out_p = model(x[:, :, perm], SensorGraph(w[perm][:, perm]))
    assert torch.allclose(out_p, out[:, :, perm], atol=1e-4), name


def test_virtual_node_adjacency_structure():
    model = MODELS["vn-stgnn"]()
    w = _weights()
    s = model.semi_adaptive_adjacency(SensorGraph(w))
    assert s.shape == (N + 3, N + 3)
    assert torch.allclose(s[:N, N:].sum(1), torch.ones(N))  # each sensor spreads over the virtual nodes
    assert torch.allclose(s[N:, :N].sum(1), torch.ones(3))  # each virtual node gathers from every sensor
    assert torch.all(s[N:, N:] == 0)
    # a sensor's output depends on a far sensor within one layer through the virtual nodes
    x = torch.zeros(1, 12, N, 2, requires_grad=True)
    model.eval()(x, SensorGraph(torch.zeros(N, N)))[0, -1, 0].backward()
    assert x.grad[0, :, 5].abs().sum() > 0
    with pytest.raises(ValueError, match="no virtual nodes"):
        MODELS["gwnet"]().semi_adaptive_adjacency(SensorGraph(w))


def test_models_reject_bad_inputs():
    model = MODELS["stgcn-cheb"]()
    g = SensorGraph(_weights())
    with pytest.raises(ValueError, match=r"\[B, T, N, F\]"):
        model(torch.randn(12, N, 2), g)
    with pytest.raises(ValueError, match="sensors"):
        model(torch.randn(1, 12, N + 1, 2), g)
    with pytest.raises(ValueError, match="features"):
        model(torch.randn(1, 12, N, 3), g)
    with pytest.raises(ValueError, match="t_in"):
        model(torch.randn(1, 10, N, 2), g)
    with pytest.raises(ValueError, match="too short"):
        STGCNConfig(t_in=8)
    with pytest.raises(ValueError, match="three positive sizes"):
        STGCNConfig(channels="64,16")
    with pytest.raises(ValueError, match="divisible"):
        PaperSTTNConfig(hidden=10, heads=4)
    with pytest.raises(ValueError, match="hidden must be >= 1"):
        STTNConfig(hidden=0)
    with pytest.raises(ValueError, match="virtual_nodes >= 1"):
        VirtualNodeSTGNNConfig(virtual_nodes=0)


def _reference_tgcn_cell(a, x, h, wg, bg, wc, bc, layout):
    """T-GCN's cell written out node by node (float64): gates = sigmoid(A [x, h] W_g + b_g), split per node
    ("per-node", a GRU) or, as the authors' code does, flattened node-major to [B, N*2H] and halved ("flat");
    candidate = tanh(A [x, r*h] W_c + b_c); h' = u*h + (1-u)*c."""
    b, n, hid = h.shape

    def gconv(z, w, bias):                                 # z: [B, N, K] -> [B, N, O], node by node
        rows = []
        for i in range(n):
            agg = sum(a[i, j] * z[:, j] for j in range(n))
            rows.append(agg @ w.t() + bias)
        return torch.stack(rows, 1)

    g = torch.sigmoid(gconv(torch.cat([x, h], -1), wg, bg))    # [B, N, 2H]
    if layout == "flat":
        flat = g.reshape(b, n * 2 * hid)
        r, u = flat[:, : n * hid].reshape(b, n, hid), flat[:, n * hid:].reshape(b, n, hid)
    else:
        r, u = g[..., :hid], g[..., hid:]
    c = torch.tanh(gconv(torch.cat([x, r * h], -1), wc, bc))
    return u * h + (1 - u) * c


@pytest.mark.parametrize("layout", ["per-node", "flat"])
def test_tgcn_cell_equals_the_written_out_equations(layout):
    from graphkit.nn import GraphGRUCell

    torch.manual_seed(0)
    n, f, hid = 5, 2, 3
    a = torch.rand(n, n, dtype=torch.float64)
    cell = GraphGRUCell(f, hid, gate_layout=layout).double()
    x = torch.randn(2, n, f, dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, n, hid, dtype=torch.float64, requires_grad=True)
    out = cell(x, h, a)
    ref = _reference_tgcn_cell(a, x, h, cell.gates.weight, cell.gates.bias, cell.cand.weight, cell.cand.bias,
                               layout)
    torch.testing.assert_close(out, ref)
    cot = torch.randn_like(out)
    grads = torch.autograd.grad((out * cot).sum(), [x, h, cell.gates.weight, cell.cand.weight])
    ref_grads = torch.autograd.grad((ref * cot).sum(), [x, h, cell.gates.weight, cell.cand.weight])
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want)
    if layout == "flat":                                   # the authors' split is a different function
        other = GraphGRUCell(f, hid).double()
        other.load_state_dict(cell.state_dict())
        assert not torch.allclose(other(x, h, a), out)


@pytest.mark.parametrize("graph_conv", ["first", "cheb"])
@pytest.mark.parametrize("channels", [(8, 4, 8), (4, 8, 8), (6, 6, 6)])  # spatial narrower / wider / equal
def test_stgcn_block_is_the_authors_spatial_layer(graph_conv, channels):
    """STGCN's ST-Conv block written out as the authors' code computes it (channels last, dense operators,
    float64): relu(graph_conv(h) + align(h)) with align a bias-free 1x1 map (C_in > C_out), zero channels
    (C_in < C_out) or the identity; then the temporal conv and a layer norm over [N, C] with epsilon 1e-6."""
    from graphkit.nn import STConvBlock

    torch.manual_seed(0)
    c_t, c_s, c_o = channels
    block = STConvBlock(2, channels, N, kt=3, ks=3, graph_conv=graph_conv, dropout=0.0).double()
    g = SensorGraph(_weights().double())
    x = torch.randn(2, 2, N, 12, dtype=torch.float64, requires_grad=True)
    h = block.t1(x).permute(0, 3, 2, 1)  # [B, T, N, C_t], the authors' layout
    if graph_conv == "first":
        a = _dense(g.gcn()).double()
        lin = block.g.lin
        gc = torch.einsum("ij,btjc->btic", a, h) @ lin.weight[:, :, 0, 0].t() + lin.bias
    else:
        lap = _dense(g.scaled_laplacian()).double()
        terms = [h, torch.einsum("ij,btjc->btic", lap, h)]
        while len(terms) < 3:
            terms.append(2 * torch.einsum("ij,btjc->btic", lap, terms[-1]) - terms[-2])
        gc = sum(t @ block.g.weight[k] for k, t in enumerate(terms)) + block.g.bias
    if c_t > c_s:
        res = h @ block.align.proj.weight.t()
    elif c_t < c_s:
        res = torch.cat([h, h.new_zeros(*h.shape[:3], c_s - c_t)], dim=-1)
    else:
        res = h
    assert block.align.proj is None or block.align.proj.bias is None
    s = torch.relu(gc + res)
    ref = block.t2(s.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)  # [B, T, N, C_o]
    mu = ref.mean(dim=(2, 3), keepdim=True)
    var = ref.var(dim=(2, 3), keepdim=True, unbiased=False)
    ref = (ref - mu) / torch.sqrt(var + 1e-6) * block.norm.weight + block.norm.bias
    out = block(x, g).permute(0, 3, 2, 1)
    torch.testing.assert_close(out, ref, rtol=1e-6, atol=1e-6)
    g1, = torch.autograd.grad(out.square().sum(), x)
    g2, = torch.autograd.grad(ref.square().sum(), x)
    torch.testing.assert_close(g1, g2, rtol=1e-6, atol=1e-6)


def test_stgcn_output_bias_is_per_sensor():
    """The authors' output layer adds a bias per sensor (per horizon here: one output channel each)."""
    torch.manual_seed(0)
    model = STGCN(STGCNConfig(in_channels=2, num_nodes=N, channels=(8, 4, 8), t_out=3)).eval()
    g = SensorGraph(_weights())
    x = torch.randn(2, 12, N, 2)
    base = model(x, g)
    with torch.no_grad():
        model.fc_bias[1, 4] += 2.0
    diff = model(x, g) - base
    expected = torch.zeros_like(base)
    expected[:, 1, 4] = 2.0
    torch.testing.assert_close(diff, expected, atol=1e-5, rtol=0)


def test_temporal_conv_sigmoid_has_no_residual():
    """The authors' temporal_conv_layer with act 'sigmoid' returns sigmoid(conv(x)) (STGCN's output block)."""
    from graphkit.nn.temporal import GatedTemporalConv

    torch.manual_seed(0)
    conv = GatedTemporalConv(4, 4, 1, "sigmoid").double()
    x = torch.randn(2, 4, N, 5, dtype=torch.float64)
    torch.testing.assert_close(conv(x), torch.sigmoid(conv.conv(x)))
    assert conv.align is None


def _ln(h, norm):
    """Layer norm over the trailing dims of ``norm.normalized_shape``, written out."""
    dims = tuple(range(-len(norm.normalized_shape), 0))
    mu = h.mean(dim=dims, keepdim=True)
    var = h.var(dim=dims, keepdim=True, unbiased=False)
    return (h - mu) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias


def _align(h, lin, width, always=False):
    c = h.size(-1)
    if c > width or (always and c != width):
        return h @ lin.weight.t()
    if c < width:
        return torch.cat([h, h.new_zeros(*h.shape[:-1], width - c)], dim=-1)
    return h


def _bert(layer, seq):
    """One single-head BERT layer on one sequence [L, C] (their transformer with one layer and one head)."""
    d = layer.out.in_features
    h = _align(seq, layer.inp.proj, d)
    q, k, v = (h @ m.weight.t() + m.bias for m in (layer.query, layer.key, layer.value))
    att = torch.softmax(q @ k.t() / d ** 0.5, dim=-1) @ v
    a = _ln(h + att @ layer.out.weight.t() + layer.out.bias, layer.norm1)
    f = torch.relu(a @ layer.ff1.weight.t() + layer.ff1.bias) @ layer.ff2.weight.t() + layer.ff2.bias
    return _ln(a + f, layer.norm2)


def test_sttn_is_the_authors_function():
    """STTN written out as the authors' TensorFlow code computes it (sequence by sequence, dense Chebyshev
    polynomials, float64, eval mode), two blocks: outputs and input gradients equal the model's."""
    torch.manual_seed(0)
    t_in, d = 6, 8
    cfg = STTNConfig(in_channels=2, num_nodes=N, t_in=t_in, t_out=2, input_channels=5, hidden=d, blocks=2, ks=3,
                     ff=16, head_hidden=12)
    model = STTN(cfg).double().eval()
    with torch.no_grad():  # every bias and table away from its start, so each term shows
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    g = SensorGraph(_weights().double())
    lap = _dense(g.scaled_laplacian()).double()
    x = torch.randn(2, t_in, N, 2, dtype=torch.float64, requires_grad=True)
    h = x @ model.inp.weight.t() + model.inp.bias
    for blk in model.blocks:
        b, t, n, _ = h.shape
        pos = torch.cat([h, blk.spatial_table.expand(b, t, n, n), blk.temporal_table[:, None, :].expand(b, t, n, t)],
                        dim=-1)
        cheb = [pos, torch.einsum("ij,btjc->btic", lap, pos)]
        cheb.append(2 * torch.einsum("ij,btjc->btic", lap, cheb[1]) - cheb[0])
        gc = sum(tk @ blk.gconv.weight[k] for k, tk in enumerate(cheb)) + blk.gconv.bias
        s = torch.stack([torch.stack([_bert(blk.spatial, pos[i, j]) for j in range(t)]) for i in range(b)])
        hs = torch.relu(s + _align(pos, blk.spatial_residual.proj, d, always=True) + 0.1 * gc)
        ht = torch.cat([hs, blk.temporal_table2[:, None, :].expand(b, t, n, t)], dim=-1)
        o = torch.stack([torch.stack([_bert(blk.temporal, ht[i, :, v]) for v in range(n)], dim=1) for i in range(b)])
        h = _ln(torch.relu(o + _align(ht, blk.temporal_residual.proj, d)), blk.norm)
    w = model.out_conv.weight.view(d, t_in, d)  # the whole-window temporal kernel [out, step, in]
    z = torch.relu(torch.einsum("btnc,otc->bno", h, w) + model.out_conv.bias + h[:, -1])
    z = _ln(z, model.out_norm)
    y = ((z @ model.fc1.weight.t() + model.fc1_bias) @ model.fc2.weight.t()).transpose(1, 2) + model.fc2_bias
    out = model(x, g)
    torch.testing.assert_close(out, y)
    g1, = torch.autograd.grad(out.square().sum(), x)
    g2, = torch.autograd.grad(y.square().sum(), x)
    torch.testing.assert_close(g1, g2)
    assert model.blocks[0].spatial.norm1.eps == 1e-12 and model.blocks[0].norm.eps == 1e-6


def _asym(w):
    """Graph WaveNet's asym_adj: D^-1 W (rows with no weight stay 0)."""
    d = w.sum(1)
    return torch.where(d > 0, 1.0 / d, torch.zeros_like(d))[:, None] * w


def _nconv(x, a):
    """Graph WaveNet's nconv: einsum('ncvl,vw->ncwl') (x: [B, C, N, T])."""
    return torch.einsum("ncvl,vw->ncwl", x, a)


@pytest.mark.parametrize("virtual", [0, 3])
def test_graph_wavenet_is_the_authors_function(virtual):
    """Graph WaveNet written out as its authors' PyTorch code computes it (gcn_bool, addaptadj, supports =
    [asym_adj(W), asym_adj(W^T)], nconv as x . A), eval mode, float64, outputs and input gradients; with
    ``virtual`` > 0 the virtual-node model, whose extra support is the semi-adaptive matrix over N + M nodes
    (virtual nodes start at zero, sensors' rows kept after each power)."""
    torch.manual_seed(0)
    cfg_cls = VirtualNodeSTGNNConfig if virtual else GraphWaveNetConfig
    extra = {"virtual_nodes": virtual} if virtual else {}
    cfg = cfg_cls(in_channels=2, num_nodes=N, t_in=12, t_out=3, residual_channels=4, dilation_channels=4,
                  skip_channels=8, end_channels=8, blocks=2, layers=2, embed_dim=3, **extra)
    model = GraphWaveNet(cfg).double()
    for m in model.modules():  # batch norm statistics away from 0 / 1
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(std=0.2)
            m.running_var.uniform_(0.5, 2.0)
    model.eval()
    w = _weights().double()
    g = SensorGraph(w)
    x = torch.randn(2, 12, N, 2, dtype=torch.float64, requires_grad=True)
    supports = [_asym(w), _asym(w.t())]
    if cfg.adaptive:
        supports.append(torch.softmax(torch.relu(model.nodevec1 @ model.nodevec2), dim=1))
    semi = model.semi_adaptive_adjacency(g).t() if virtual else None  # the authors' orientation: x . A
    h = x.permute(0, 3, 2, 1)
    h = torch.nn.functional.pad(h, (model.receptive_field - h.size(-1), 0))
    h = model.start(h)
    skip = None
    for i in range(len(model.filters)):
        res = h
        h = torch.tanh(model.filters[i](h)) * torch.sigmoid(model.gates[i](h))
        s = model.skips[i](h)
        skip = s if skip is None else s + skip[..., -s.size(-1):]
        if i == len(model.gconvs):
            break
        out = [h]
        for a in supports:
            p = h
            for _ in range(cfg.order):
                p = _nconv(p, a)
                out.append(p)
        if semi is not None:
            p = torch.cat([h, h.new_zeros(h.size(0), h.size(1), virtual, h.size(3))], dim=2)
            for _ in range(cfg.order):
                p = _nconv(p, semi)
                out.append(p[:, :, :N])
        h = model.gconvs[i].mlp(torch.cat(out, dim=1)) + res[..., -h.size(-1):]
        h = model.norms[i](h)
    ref = model.end2(torch.relu(model.end1(torch.relu(skip))))[..., -1]
    out = model(x, g)
    torch.testing.assert_close(out, ref)
    g1, = torch.autograd.grad(out.square().sum(), x)
    g2, = torch.autograd.grad(ref.square().sum(), x)
    torch.testing.assert_close(g1, g2)
