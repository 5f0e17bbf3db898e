"""Global mixers and the GPS block: padding never leaks between graphs, attention is permutation
equivariant, an ordering-based mixer gives the same outputs for a permuted graph once the ordering is
recomputed, linear attention against a dense per-graph reference, Mamba against the step-by-step scan,
and PE encoders (dense references, sign-flip invariance where claimed)."""
from __future__ import annotations

import pytest
import torch

from graphkit.nn import (
    AttentionMixer,
    GINConv,
    GPSBlock,
    LapPEEncoder,
    LinearAttentionMixer,
    Mamba,
    MambaMixer,
    RWSEEncoder,
)
from graphkit.nn.mixers import reverse_within_graphs
from graphkit.ops import degree_order, laplacian_pe, random_walk_se, to_dense_batch
from graphkit.ops.ragged import RaggedBatch

C = 8


def _batch(sizes):
    return torch.cat([torch.full((s,), i) for i, s in enumerate(sizes)])


def _ring(sizes):
    """A ring per graph (both directions), node ids consecutive per graph."""
    edges, start = [], 0
    for s in sizes:
        idx = torch.arange(start, start + s)
        if s > 1:
            edges.append(torch.stack([idx, idx.roll(-1)]))
            edges.append(torch.stack([idx.roll(-1), idx]))
        start += s
    return torch.cat(edges, 1) if edges else torch.empty(2, 0, dtype=torch.long)


MIXERS = {
    "attention": lambda: AttentionMixer(C, heads=2),
    "linear-elu": lambda: LinearAttentionMixer(C, heads=2),
    "linear-performer": lambda: LinearAttentionMixer(C, heads=2, kernel="performer", features=16),
    "mamba": lambda: MambaMixer(C, d_state=4),
    "mamba-forward": lambda: MambaMixer(C, d_state=4, bidirectional=False),
}


@pytest.mark.parametrize("name", list(MIXERS))
def test_padding_never_leaks_between_graphs(name):
    torch.manual_seed(0)
    mixer = MIXERS[name]().eval()
    sizes = [5, 2, 7]
    batch = _batch(sizes)
    x = torch.randn(batch.numel(), C)
    out = mixer(x, batch, 3)
    y = x.clone()
    y[batch == 1] = torch.randn(2, C) * 10  # change graph 1 only
    out2 = mixer(y, batch, 3)
    keep = batch != 1
    assert torch.allclose(out[keep], out2[keep], atol=1e-5)
    assert not torch.allclose(out[~keep], out2[~keep])
    # a graph alone gives what it gives inside the batch
    alone = mixer(x[batch == 2], torch.zeros(7, dtype=torch.long), 1)
    assert torch.allclose(alone, out[batch == 2], atol=1e-5)


@pytest.mark.parametrize("name", ["attention", "linear-elu", "linear-performer"])
def test_attention_mixers_are_permutation_equivariant(name):
    torch.manual_seed(1)
    mixer = MIXERS[name]().eval()
    batch = _batch([6, 4])
    x = torch.randn(10, C)
    perm = torch.cat([torch.randperm(6), 6 + torch.randperm(4)])
    assert torch.allclose(mixer(x[perm], batch, 2), mixer(x, batch, 2)[perm], atol=1e-5)


def test_ordered_mixer_is_equivariant_when_the_ordering_is_recomputed():
    """With no degree ties the degree ordering is a function of the graph, so relabelling the nodes and
    recomputing it feeds Mamba the same sequences: the outputs are the relabelled outputs."""
    torch.manual_seed(2)
    mixer = MIXERS["mamba"]().eval()
    sizes = [6, 5]
    batch = _batch(sizes)
    # in-degrees all different inside each graph (repeated edges count): node k of a graph gets k + 1
    src, dst, start = [], [], 0
    for s in sizes:
        for k, d in enumerate(torch.randperm(s).tolist()):
            src += [start] * (d + 1)
            dst += [start + k] * (d + 1)
        start += s
    ei = torch.tensor([src, dst])
    x = torch.randn(11, C)
    out = mixer(x, batch, 2, degree_order(ei, batch, 11))
    perm = torch.cat([torch.randperm(6), 6 + torch.randperm(5)])
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(11)
    out_p = mixer(x[perm], batch, 2, degree_order(inv[ei], batch, 11))  # new node i is old node perm[i]
    assert torch.allclose(out_p, out[perm], atol=1e-5)
    # and the order matters: another order gives other outputs
    assert not torch.allclose(mixer(x, batch, 2, None), out, atol=1e-3)


def test_mamba_layer_matches_its_definition():
    """Mamba's output against a loop over the recurrence with its own projections."""
    torch.manual_seed(3)
    layer = Mamba(C, d_state=3, d_conv=2, expand=2).double()
    seq = torch.randn(2, 5, C, dtype=torch.float64)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    out = layer(seq, mask)
    for b, n in ((0, 5), (1, 3)):
        x, z = layer.in_proj(seq[b, :n]).chunk(2, -1)  # [n, inner]
        xc = torch.nn.functional.silu(layer.conv(x.t().unsqueeze(0))[0, :, :n]).t()
        p = layer.x_proj(xc)
        dt, bm, cm = p.split([layer.dt_rank, 3, 3], -1)
        delta = torch.nn.functional.softplus(dt @ layer.dt_proj.weight.t() + layer.dt_proj.bias)
        a = -torch.exp(layer.A_log)
        h = torch.zeros(layer.inner, 3, dtype=torch.float64)
        ys = []
        for t in range(n):
            h = torch.exp(delta[t, :, None] * a) * h + delta[t, :, None] * bm[t] * xc[t, :, None]
            ys.append(((h * cm[t]).sum(-1) + layer.D * xc[t]) * torch.nn.functional.silu(z[t]))
        want = layer.out_proj(torch.stack(ys))
        assert torch.allclose(out[b, :n], want, atol=1e-10)
    assert torch.all(out[1, 3:] == 0)


@pytest.mark.parametrize("name", sorted(MIXERS))
def test_several_orderings_give_the_mean_over_them(name):
    """A list of orderings: the mean of the mixer over them (Mamba runs them as one batch of sequences, so
    graphs of different sizes and both reading directions are checked), outputs and gradients, float64."""
    torch.manual_seed(5)
    mixer = MIXERS[name]().double().eval()
    sizes = [4, 1, 6]
    batch = _batch(sizes)
    x = torch.randn(len(batch), C, dtype=torch.float64, requires_grad=True)
    orders = [degree_order(_ring(sizes), batch, len(batch), random_ties=True) for _ in range(3)]
    mean = mixer(x, batch, 3, orders)
    ref = sum(mixer(x, batch, 3, o) for o in orders) / 3
    torch.testing.assert_close(mean, ref)
    g1, = torch.autograd.grad(mean.square().sum(), x)
    g2, = torch.autograd.grad(ref.square().sum(), x)
    torch.testing.assert_close(g1, g2)
    torch.testing.assert_close(mixer(x, batch, 3, tuple(orders[:1])), mixer(x, batch, 3, orders[0]))
    if name.startswith("mamba"):
        assert not torch.allclose(mixer(x, batch, 3, orders[0]), mixer(x, batch, 3, orders[1]))
        with pytest.raises(ValueError, match="empty list"):
            mixer(x, batch, 3, [])


@pytest.mark.parametrize("d_conv, expand, bias", [(4, 1, False), (2, 2, True)])
def test_mamba_on_back_to_back_rows_equals_the_padded_layer(d_conv, expand, bias):
    """Mamba.forward_ragged (sequences back to back, no padding) against Mamba.forward on the padded batch:
    outputs, input gradients and every parameter's gradient, float64; sequences shorter than the
    convolution, an empty one, and both scan routes (wide slabs: time-major; narrow: padded)."""
    for channels, d_state in ((C, 3), (32, 16)):
        torch.manual_seed(4)
        layer = Mamba(channels, d_state=d_state, d_conv=d_conv, expand=expand, bias=bias).double()
        seqs = RaggedBatch.from_lengths(torch.tensor([1, 6, 0, 2, 9]))
        rows = torch.randn(seqs.num_rows, channels, dtype=torch.float64, requires_grad=True)
        out = layer.forward_ragged(rows, seqs)
        dense = seqs.pad(rows)
        ref = seqs.unpad(layer(dense, seqs.pad(torch.ones(seqs.num_rows, dtype=torch.bool))))
        torch.testing.assert_close(out, ref)
        w = torch.randn_like(out)
        params = [rows, *layer.parameters()]
        for a, b in zip(torch.autograd.grad((out * w).sum(), params), torch.autograd.grad((ref * w).sum(), params)):
            torch.testing.assert_close(a, b)


def test_orderings_that_are_not_orderings_are_named():
    mixer = MambaMixer(C, d_state=4, bidirectional=False)
    batch = _batch([3, 2])
    x = torch.randn(5, C)
    with pytest.raises(ValueError, match="permutation"):
        mixer(x, batch, 2, torch.tensor([0, 0, 2, 3, 4]))
    with pytest.raises(ValueError, match="together"):
        mixer(x, batch, 2, torch.tensor([3, 0, 1, 2, 4]))
    with pytest.raises(ValueError, match="order"):
        mixer(x, batch, 2, torch.tensor([0, 1, 2, 3]))


def test_reverse_within_graphs():
    batch = _batch([3, 2])
    order = torch.tensor([2, 0, 1, 4, 3])
    assert reverse_within_graphs(order, batch, 2).tolist() == [1, 0, 2, 3, 4]


def test_linear_attention_matches_dense_reference():
    torch.manual_seed(4)
    mixer = LinearAttentionMixer(C, heads=2).eval()
    batch = _batch([4, 3])
    x = torch.randn(7, C)
    out = mixer(x, batch, 2)
    q, k, v = mixer.qkv(x).view(7, 3, 2, C // 2).unbind(1)
    q, k = torch.nn.functional.elu(q) + 1, torch.nn.functional.elu(k) + 1
    want = torch.zeros(7, 2, C // 2)
    for i in range(7):
        same = batch == batch[i]
        w = (q[i].unsqueeze(0) * k[same]).sum(-1)  # [n_g, H]
        want[i] = (w.unsqueeze(-1) * v[same]).sum(0) / w.sum(0).unsqueeze(-1)
    assert torch.allclose(out, mixer.out(want.reshape(7, C)), atol=1e-5)


@pytest.mark.parametrize("with_local,with_mixer", [(True, True), (True, False), (False, True)])
def test_gps_block_shapes_and_no_leak(with_local, with_mixer):
    torch.manual_seed(5)
    local = GINConv(torch.nn.Sequential(torch.nn.Linear(C, C), torch.nn.ReLU())) if with_local else None
    block = GPSBlock(C, local, AttentionMixer(C, 2) if with_mixer else None, dropout=0.1).eval()
    sizes = [4, 6]
    batch, ei = _batch(sizes), _ring(sizes)
    x = torch.randn(10, C)
    out, e = block(x, ei, batch, 2)
    assert out.shape == (10, C) and e is None
    y = x.clone()
    y[:4] += 1
    assert torch.allclose(block(y, ei, batch, 2)[0][4:], out[4:], atol=1e-5)
    with pytest.raises(ValueError, match="needs a local layer"):
        GPSBlock(C, None, None)


def test_laplacian_pe_and_rwse_against_dense():
    ei = _ring([5])
    vecs, vals, valid = laplacian_pe(ei, 5, 7)
    assert vecs.shape == (5, 7) and valid.tolist() == [True] * 5 + [False] * 2
    assert torch.all(vecs[:, 5:] == 0)
    a = torch.zeros(5, 5)
    a[ei[1], ei[0]] = 1
    lap = torch.eye(5) - a / 2  # a ring is 2-regular
    assert torch.allclose(lap @ vecs[:, :5], vecs[:, :5] * vals[:5], atol=1e-5)
    assert vals[0].abs() < 1e-6
    rw = random_walk_se(ei, 5, 4)
    p = a / 2
    want = torch.stack([torch.diagonal(torch.linalg.matrix_power(p, i)) for i in range(1, 5)], 1)
    assert torch.allclose(rw, want, atol=1e-6)
    assert rw[0, 0] == 0 and rw[0, 1] == pytest.approx(0.5)
    iso = random_walk_se(torch.empty(2, 0, dtype=torch.long), 3, 2)
    assert torch.all(iso == 0)


def test_lap_pe_encoder_sign_invariance_where_claimed():
    torch.manual_seed(6)
    batch = _batch([5, 4])
    parts = [laplacian_pe(_ring([5]), 5, 4), laplacian_pe(_ring([4]), 4, 4)]
    vecs = torch.cat([p[0] for p in parts])
    vals = torch.cat([p[1].expand(n, -1) for p, n in zip(parts, (5, 4))])
    valid = torch.cat([p[2].expand(n, -1) for p, n in zip(parts, (5, 4))])
    flips = torch.tensor([[1, -1, 1, -1], [-1, -1, 1, 1]])[batch]
    inv = LapPEEncoder(4, 6, sign_invariant=True).eval()
    assert torch.allclose(inv(vecs, vals, valid, batch), inv(vecs * flips, vals, valid, batch), atol=1e-6)
    plain = LapPEEncoder(4, 6, sign_flip=True).eval()
    assert not torch.allclose(plain(vecs, vals, valid, batch), plain(vecs * flips, vals, valid, batch))
    plain.train()  # training draws random signs per graph and eigenvector
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)
    assert not torch.allclose(plain(vecs, vals, valid, batch, g1), plain(vecs, vals, valid, batch, g2))
    assert RWSEEncoder(4, 6)(random_walk_se(_ring([9]), 9, 4)).shape == (9, 6)
    with pytest.raises(ValueError, match="k=4"):
        inv(vecs[:, :3], vals, valid, batch)


def test_to_dense_batch_feeds_mixers_in_order():
    batch = _batch([2, 3])
    x = torch.arange(5.0).view(5, 1).expand(5, C)
    dense, mask = to_dense_batch(x, batch, 2, order=torch.tensor([1, 0, 4, 2, 3]))
    assert dense[0, :, 0].tolist() == [1, 0, 0] and dense[1, :, 0].tolist() == [4, 2, 3]


def test_ragged_layout_is_built_once_per_batch_vector(monkeypatch):
    """Every Mamba layer of a forward pass reads the same graphs: the layout is built once per batch vector
    (and again after the vector is written in place)."""
    calls = []
    build = RaggedBatch.from_lengths
    monkeypatch.setattr(RaggedBatch, "from_lengths", staticmethod(lambda lengths: calls.append(1) or build(lengths)))
    mixer = MambaMixer(C, d_state=4, bidirectional=True)
    batch = _batch([3, 2])
    x = torch.randn(5, C)
    for _ in range(3):
        mixer(x, batch, 2, degree_order(_ring([3, 2]), batch, 5, random_ties=True))
    assert len(calls) == 1
    mixer(x, batch, 2, [torch.arange(5), torch.arange(5)])  # two orderings: another layout
    batch.add_(0)
    mixer(x, batch, 2, None)
    assert len(calls) == 3
