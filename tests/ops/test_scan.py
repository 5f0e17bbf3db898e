"""Selective scan: the chunked pure-torch scan against the step-by-step recurrence (values and gradients),
lengths 1, odd lengths and non-multiples of the chunk, a loop over the plain definition, and the ragged layout
(sequences back to back, no padding) against padding, PackedSequence and the reference per sequence."""
from __future__ import annotations

import pytest
import torch

from graphkit import backend
from graphkit.ops import selective_scan, selective_scan_reference
from graphkit.ops.ragged import RaggedBatch
from graphkit.ops.scan import selective_scan_ragged


def _inputs(b, d, n, length, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g, dtype=dtype)
    return dict(u=r(b, d, length), delta=r(b, d, length), A=-torch.rand(d, n, generator=g, dtype=dtype) * 4,
                B=r(b, n, length), C=r(b, n, length), D=r(d), z=r(b, d, length), delta_bias=r(d))


def test_reference_is_the_definition():
    """The reference against three nested loops over the recurrence as written."""
    x = _inputs(2, 3, 4, 6, 0)
    y = selective_scan_reference(**x, delta_softplus=True)
    dt = torch.nn.functional.softplus(x["delta"] + x["delta_bias"].view(1, -1, 1))
    for b in range(2):
        for d in range(3):
            h = torch.zeros(4, dtype=torch.float64)
            for t in range(6):
                h = torch.exp(dt[b, d, t] * x["A"][d]) * h + dt[b, d, t] * x["B"][b, :, t] * x["u"][b, d, t]
                want = (h * x["C"][b, :, t]).sum() + x["D"][d] * x["u"][b, d, t]
                want = want * torch.nn.functional.silu(x["z"][b, d, t])
                assert torch.allclose(y[b, d, t], want, atol=1e-12)


@pytest.mark.parametrize("length", [1, 2, 7, 16, 33, 100])
@pytest.mark.parametrize("chunk", [None, 1, 3, 8, 200])
def test_chunked_scan_matches_reference(length, chunk):
    x = _inputs(2, 5, 3, length, length)
    for k in ("u", "delta", "B", "C", "D", "z", "A"):
        x[k].requires_grad_()
    ref = selective_scan_reference(**x, delta_softplus=True)
    out = selective_scan(**x, delta_softplus=True, chunk=chunk)
    assert torch.allclose(out, ref, atol=1e-10)
    w = torch.randn_like(ref)
    g_ref = torch.autograd.grad((ref * w).sum(), [x[k] for k in ("u", "delta", "B", "C", "D", "z", "A")])
    g_out = torch.autograd.grad((out * w).sum(), [x[k] for k in ("u", "delta", "B", "C", "D", "z", "A")])
    for a, b in zip(g_out, g_ref):
        assert torch.allclose(a, b, atol=1e-9)


def test_optional_arguments_and_float32():
    x = _inputs(1, 4, 2, 21, 3, torch.float32)
    for drop in ({}, {"D": None}, {"z": None}, {"delta_bias": None}):
        args = {**x, **drop}
        torch.testing.assert_close(selective_scan(**args, chunk=5), selective_scan_reference(**args),
                                   rtol=1e-4, atol=1e-4)


def test_long_sequence_does_not_overflow():
    x = _inputs(1, 2, 4, 2000, 4, torch.float32)
    x["delta"] = x["delta"].abs() * 5  # strong decays: the chunk-wise exp would overflow if done naively
    y = selective_scan(**x, chunk=64)
    assert torch.isfinite(y).all()
    torch.testing.assert_close(y, selective_scan_reference(**x), rtol=1e-3, atol=1e-3)


def test_bad_shapes_are_named():
    x = _inputs(1, 2, 3, 5, 0)
    with pytest.raises(ValueError, match="A must be"):
        selective_scan(**{**x, "A": x["A"].t()})
    with pytest.raises(ValueError, match="B must be"):
        selective_scan(**{**x, "B": x["B"][..., :4]})
    with pytest.raises(ValueError, match=r"\[B, D, L\]"):
        selective_scan(**{**x, "u": x["u"][0]})


def test_backend_choice():
    assert backend.scan_backend(torch.device("cpu")) == "torch"
    if not backend.available("mamba_ssm"):
        with pytest.raises(ImportError, match="mamba"):
            with backend.use(scan="mamba_ssm"):
                pass


def test_wide_default_runs_the_plain_recurrence_with_gradients():
    """batch x channels x state >= 256 takes the one-step-per-position path by default (values, gradients)."""
    x = _inputs(2, 16, 8, 23, 5)
    names = ("u", "delta", "B", "C", "D", "z", "A", "delta_bias")
    for k in names:
        x[k].requires_grad_()
    out = selective_scan(**x, delta_softplus=True)
    ref = selective_scan_reference(**x, delta_softplus=True)
    torch.testing.assert_close(out, ref)
    w = torch.randn_like(ref)
    for a, b in zip(torch.autograd.grad((out * w).sum(), [x[k] for k in names]),
                    torch.autograd.grad((ref * w).sum(), [x[k] for k in names])):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("chunk", [None, 4])
def test_backward_keeps_no_state_sized_tensor(chunk):
    """Only the inputs are saved for backward (the states are recomputed): nothing of B x D x L x N."""
    b, d, n, length = 2, 16, 8, 40
    x = _inputs(b, d, n, length, 6, torch.float32)
    for k in ("u", "delta", "B", "C"):
        x[k].requires_grad_()
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
        y = selective_scan(**x, delta_softplus=True, chunk=chunk)
    assert saved and max(saved) <= b * d * length < b * d * length * n
    y.sum().backward()
    assert all(torch.isfinite(x[k].grad).all() for k in ("u", "delta", "B", "C"))


@pytest.mark.parametrize("d, n, chunk", [(16, 8, None), (2, 3, None), (16, 8, 4)])
def test_lengths_scan_each_row_alone(d, n, chunk):
    """Rows of their own lengths (0, 1, odd, full): each equals the reference on its prefix, the output past
    its end is 0, and gradients equal those of the rows scanned one by one (zero past the ends). (16, 8): the
    packed plain recurrence; (2, 3) and chunk=4: the chunked scan over padded rows, masked."""
    lengths = torch.tensor([5, 0, 11, 1, 8])
    x = _inputs(len(lengths), d, n, 11, 7)
    names = ("u", "delta", "B", "C", "D", "z", "A", "delta_bias")
    for k in names:
        x[k].requires_grad_()
    out = selective_scan(**x, delta_softplus=True, chunk=chunk, lengths=lengths)
    w = torch.randn_like(out)
    loss_ref = 0
    for b, m in enumerate(lengths.tolist()):
        assert (out[b, :, m:] == 0).all()
        if m == 0:
            continue
        row = {k: (v[b:b + 1, ..., :m] if k in ("u", "delta", "B", "C", "z") else v) for k, v in x.items()}
        ref = selective_scan_reference(**row, delta_softplus=True)
        torch.testing.assert_close(out[b:b + 1, :, :m], ref)
        loss_ref = loss_ref + (ref * w[b:b + 1, :, :m]).sum()
    got = torch.autograd.grad((out * w).sum(), [x[k] for k in names])
    want = torch.autograd.grad(loss_ref, [x[k] for k in names])
    for name, a, b in zip(names, got, want):
        torch.testing.assert_close(a, b, msg=name)


def test_bad_lengths_are_named():
    x = _inputs(2, 2, 3, 5, 0)
    with pytest.raises(ValueError, match="lengths must lie in"):
        selective_scan(**x, lengths=torch.tensor([6, 1]))
    with pytest.raises(ValueError, match="lengths must be integers"):
        selective_scan(**x, lengths=torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="lengths must be integers"):
        selective_scan(**x, lengths=torch.tensor([1, 2, 3]))


@pytest.mark.parametrize("lengths", [[5, 0, 11, 1, 8], [7], [3, 3, 3], [0, 0], []])
def test_ragged_layout_against_padding_and_pack_padded_sequence(lengths):
    """RaggedBatch: positions and sequence ids row by row, pad/unpad round trip, and its time-major packing
    equal to torch.nn.utils.rnn.pack_padded_sequence's over the padded rows."""
    seqs = RaggedBatch.from_lengths(torch.tensor(lengths, dtype=torch.long))
    want_seq = [s for s, m in enumerate(lengths) for _ in range(m)]
    want_pos = [t for m in lengths for t in range(m)]
    assert seqs.sequence.tolist() == want_seq and seqs.position.tolist() == want_pos
    assert seqs.steps == [sum(m > t for m in lengths) for t in range(max(lengths, default=0))]
    rows = torch.arange(1.0, seqs.num_rows + 1).unsqueeze(-1).repeat(1, 2)
    dense = seqs.pad(rows)
    for s, m in enumerate(lengths):
        assert dense[s, :m, 0].tolist() == [1.0 + sum(lengths[:s]) + t for t in range(m)]
        assert (dense[s, m:] == 0).all()
    assert torch.equal(seqs.unpad(dense), rows)
    if any(lengths):
        packed = torch.nn.utils.rnn.pack_padded_sequence(dense[torch.tensor(lengths) > 0].transpose(0, 1),
                                                         torch.tensor([m for m in lengths if m]),
                                                         enforce_sorted=False)
        assert torch.equal(rows[seqs.to_time_major], packed.data)
        assert packed.batch_sizes.tolist() == seqs.steps
        assert torch.equal(rows[seqs.to_time_major][seqs.from_time_major], rows)


@pytest.mark.parametrize("d, n", [(16, 8), (2, 3)])
def test_ragged_scan_equals_each_sequence_alone(d, n):
    """selective_scan_ragged on back-to-back rows: every sequence equals the reference scanned alone, values
    and gradients of every input (float64). (16, 8): the time-major plain recurrence; (2, 3): the padded
    chunked route."""
    lengths = [5, 0, 11, 1, 8]
    seqs = RaggedBatch.from_lengths(torch.tensor(lengths))
    t = seqs.num_rows
    g = torch.Generator().manual_seed(11)
    x = {k: torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True) for k, shape in
         (("u", (t, d)), ("delta", (t, d)), ("B", (t, n)), ("C", (t, n)), ("z", (t, d)), ("D", (d,)),
          ("delta_bias", (d,)))}
    x["A"] = (-torch.rand(d, n, generator=g, dtype=torch.float64) * 4).requires_grad_()
    out = selective_scan_ragged(seqs=seqs, **x, delta_softplus=True)
    w = torch.randn_like(out)
    loss_ref, start = 0, 0
    for m in lengths:
        if m:
            seq = {k: (v[start:start + m].t().unsqueeze(0) if v.dim() == 2 and k != "A" else v) for k, v in x.items()}
            ref = selective_scan_reference(**seq, delta_softplus=True)[0].t()
            torch.testing.assert_close(out[start:start + m], ref)
            loss_ref = loss_ref + (ref * w[start:start + m]).sum()
        start += m
    names = sorted(x)
    got = torch.autograd.grad((out * w).sum(), [x[k] for k in names])
    want = torch.autograd.grad(loss_ref, [x[k] for k in names])
    for name, a, b in zip(names, got, want):
        torch.testing.assert_close(a, b, msg=name)
    # without the optional inputs, and in float32
    args = {k: v.detach().float() for k, v in x.items()}
    for drop in ({"D": None}, {"z": None}, {"delta_bias": None}):
        full = {**args, **drop}
        start, y = 0, selective_scan_ragged(seqs=seqs, **full)
        for m in lengths:
            seq = {k: (v[start:start + m].t().unsqueeze(0) if v is not None and v.dim() == 2 and k != "A" else v)
                   for k, v in full.items()}
            torch.testing.assert_close(y[start:start + m], selective_scan_reference(**seq)[0].t(),
                                       rtol=1e-4, atol=1e-4)
            start += m


def test_ragged_bad_inputs_are_named():
    seqs = RaggedBatch.from_lengths(torch.tensor([2, 3]))
    u = torch.randn(5, 4)
    ok = dict(u=u, delta=u, A=-torch.ones(4, 2), B=torch.randn(5, 2), C=torch.randn(5, 2), seqs=seqs)
    for bad, match in (({"u": torch.randn(6, 4)}, "u must be \\[T=5, D\\]"), ({"delta": torch.randn(5, 3)}, "delta"),
                       ({"A": torch.ones(3, 2)}, "A must be"), ({"B": torch.randn(5, 3)}, "B must be"),
                       ({"D": torch.ones(3)}, "D must be"), ({"z": torch.randn(4, 4)}, "z must match")):
        with pytest.raises(ValueError, match=match):
            selective_scan_ragged(**{**ok, **bad})
    with pytest.raises(ValueError, match="lengths must be >= 0"):
        RaggedBatch.from_lengths(torch.tensor([2, -1]))
    with pytest.raises(TypeError, match="lengths"):
        RaggedBatch.from_lengths(torch.tensor([2.0]))
    with pytest.raises(ValueError, match="1-D"):
        RaggedBatch.from_lengths(torch.tensor([[2]]))
    with pytest.raises(ValueError, match="5 rows"):
        seqs.pad(torch.randn(4, 2))
    with pytest.raises(ValueError, match="dense must be"):
        seqs.unpad(torch.randn(2, 2, 1))
