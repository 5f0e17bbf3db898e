"""Selective scan: Mamba's S6 recurrence with input-dependent step, input and output matrices.

For every batch row ``b``, channel ``d`` and state ``n``::

    h_t = exp(delta_t * A[d, n]) * h_{t-1} + delta_t * B_t[n] * u_t        (h_0 = 0)
    y_t = sum_n C_t[n] * h_t[n] + D[d] * u_t       (then y_t * silu(z_t) when z is given)

Shapes follow ``mamba_ssm.ops.selective_scan_interface.selective_scan_fn`` so that its CUDA kernel is a
drop-in: ``u, delta, z: [B, D, L]``, ``A: [D, N]``, ``B, C: [B, N, L]`` (shared by all channels),
``D: [D]``, ``delta_bias: [D]`` (added before the optional softplus).

* :func:`selective_scan_reference`: the recurrence step by step (the definition; ``L`` Python steps).
* :func:`selective_scan_ragged`: the same over sequences of different lengths stored back to back as rows
  (:class:`~graphkit.ops.ragged.RaggedBatch`: a batch of graphs without padding).
* :func:`selective_scan`: pure torch, time-major, in place: the plain recurrence when each step's slab is
  wide enough, else a chunked two-level scan (``chunk`` steps inside every chunk at once, then one carry
  per chunk: about ``2 sqrt(L)`` Python steps, no ``exp`` of a positive number, so no overflow). A custom
  backward recomputes the states and runs the adjoint recurrence, so no ``[B, D, L, N]`` tensor is kept
  for backward (``O(B D L)`` saved, like the fused kernel). Or mamba_ssm's kernel on CUDA when installed
  (:func:`graphkit.backend.scan_backend`).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
import torch.nn.utils.rnn as nn_rnn
from torch import Tensor

from graphkit import backend
from graphkit.ops.ragged import RaggedBatch


def _prepare(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None, z: Tensor | None,
             delta_bias: Tensor | None, delta_softplus: bool) -> Tensor:
    if u.dim() != 3:
        raise ValueError(f"selective scan: u must be [B, D, L], got shape {tuple(u.shape)}")
    b, d, length = u.shape
    if delta.shape != u.shape:
        raise ValueError(f"selective scan: delta must match u {tuple(u.shape)}, got {tuple(delta.shape)}")
    if A.dim() != 2 or A.size(0) != d:
        raise ValueError(f"selective scan: A must be [D={d}, N], got {tuple(A.shape)}")
    n = A.size(1)
    for name, t in (("B", B), ("C", C)):
        if t.shape != (b, n, length):
            raise ValueError(f"selective scan: {name} must be [B, N, L] = {(b, n, length)}, got {tuple(t.shape)}")
    if D is not None and D.shape != (d,):
        raise ValueError(f"selective scan: D must be [{d}], got {tuple(D.shape)}")
    if z is not None and z.shape != u.shape:
        raise ValueError(f"selective scan: z must match u {tuple(u.shape)}, got {tuple(z.shape)}")
    if delta_bias is not None:
        delta = delta + delta_bias.view(1, -1, 1)
    return F.softplus(delta) if delta_softplus else delta


def _finish(y: Tensor, u: Tensor, D: Tensor | None, z: Tensor | None) -> Tensor:
    """``(y + D u) * silu(z)``, channels on dim 1 of ``[B, D, L]`` or last of ``[T, D]`` rows."""
    if D is not None:
        y = y + u * (D.view(1, -1, 1) if y.dim() == 3 else D)
    if z is not None:
        y = y * F.silu(z)
    return y


def selective_scan_reference(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None = None,
                             z: Tensor | None = None, delta_bias: Tensor | None = None,
                             delta_softplus: bool = False) -> Tensor:
    """The recurrence one step at a time (see the module docstring); ``[B, D, L]``."""
    delta = _prepare(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    b, d, length = u.shape
    h = u.new_zeros(b, d, A.size(1))
    ys = []
    for t in range(length):
        dt = delta[:, :, t, None]  # [B, D, 1]
        h = torch.exp(dt * A) * h + dt * B[:, None, :, t] * u[:, :, t, None]
        ys.append((h * C[:, None, :, t]).sum(-1))
    y = torch.stack(ys, dim=-1) if ys else u.new_zeros(b, d, 0)
    return _finish(y, u, D, z)


# Per-step slab (batch x channels x state) from which the plain recurrence beats the two-level scan on CPU:
# measured break-even near 256 (benchmarks: 1 x 16 x 10^4 x 16 even, 1 x 32 x 10^4 x 16 plain 13% faster).
_PLAIN_MIN_WIDTH = 256


def _recurrence(decay: Tensor, h: Tensor, steps: list[int], reverse: bool = False) -> Tensor:
    """In place, ``h`` (holding the inputs ``x``) becomes all states of ``h_t = decay_t * h_{t-1} + x_t``;
    ``reverse``: the adjoint, ``h_t = decay_{t+1} * h_{t+1} + x_t``. Rows are packed time-major: step ``t`` is
    the next ``steps[t]`` rows, the sequences still running at ``t`` first (``steps`` never grows), as in
    ``torch.nn.utils.rnn.PackedSequence``. One fused in-place step per position on a contiguous slab."""
    hs, ds = h.split(steps), decay.split(steps)  # every step's rows as views, made in one call
    if reverse:
        for t in range(len(steps) - 2, -1, -1):
            w = steps[t + 1]
            (hs[t] if w == steps[t] else hs[t][:w]).addcmul_(ds[t + 1], hs[t + 1])
    else:
        for t in range(1, len(steps)):
            w = steps[t]
            hs[t].addcmul_(ds[t], hs[t - 1] if w == steps[t - 1] else hs[t - 1][:w])
    return h


def _chunked_states(log_decay: Tensor, h: Tensor, chunk: int, reverse: bool = False) -> Tensor:
    """:func:`_recurrence` with ``decay = exp(log_decay)`` in two levels, for slabs too narrow for one Python
    step per position (``L`` a multiple of ``chunk``): ``chunk`` steps run every chunk at once from zero, then
    one carry per chunk, added with the cumulative decay inside the chunk (``exp`` of sums <= 0 when the
    log-decays are <= 0: no overflow)."""
    if reverse:  # step t of the reversed sequence takes the decay of step t + 1
        shifted = F.pad(log_decay[1:].flip(0), [0, 0] * (h.dim() - 1) + [1, 0])
        return _chunked_states(shifted, h.flip(0), chunk).flip(0)
    length, rest = h.size(0), h.shape[1:]
    m = length // chunk
    h, log_decay = h.view(m, chunk, *rest), log_decay.view(m, chunk, *rest)
    decay = log_decay.exp()
    for j in range(1, chunk):
        h[:, j].addcmul_(decay[:, j], h[:, j - 1])
    within = torch.cumsum(log_decay, dim=1, out=decay)  # decay is not needed any more: reuse it
    total = within[:, -1].exp()  # decay across each whole chunk
    carry = torch.zeros_like(total)  # the state entering each chunk
    for c in range(1, m):
        torch.addcmul(h[c - 1, -1], total[c - 1], carry[c - 1], out=carry[c])
    h.addcmul_(within.exp_(), carry.unsqueeze(1))
    return h.view(length, *rest)


class _Scan(torch.autograd.Function):
    """The scan without its ``D``, gate and softplus (those stay with autograd): ``y = sum_n C h``, on packed
    time-major rows ``u, delta: [T, D]``, ``B, C: [T, N]`` (``steps`` rows per step, see :func:`_recurrence`);
    ``chunk`` (equal lengths only): run the two-level :func:`_chunked_states` instead.

    Nothing of size ``[T, D, N]`` is kept between forward and backward: the backward recomputes the states
    and runs the adjoint recurrence ``G_t = C_t g_t + exp(delta_{t+1} A) G_{t+1}`` backwards in time, then
    every gradient is a contraction of ``G`` with the inputs (Mamba's fused kernel also recomputes instead
    of storing the states). About four ``[T, D, N]`` buffers at the backward's peak, updated in place."""

    @staticmethod
    def _run(ctx, log_decay: Tensor, h: Tensor, reverse: bool = False) -> Tensor:
        if ctx.chunk is None:  # log_decay holds the decay itself here
            return _recurrence(log_decay, h, ctx.steps, reverse)
        shape = (len(ctx.steps), ctx.steps[0], *h.shape[1:])
        return _chunked_states(log_decay.view(shape), h.view(shape), ctx.chunk, reverse).view(h.shape)

    @staticmethod
    def _states(ctx, u, delta, A, B):
        """States ``h`` and the per-step decay (its log in the chunked case, which works on log-decays)."""
        decay = delta.unsqueeze(-1) * A
        if ctx.chunk is None:
            decay = decay.exp_()
        return _Scan._run(ctx, decay, (delta * u).unsqueeze(-1) * B.unsqueeze(1)), decay

    @staticmethod
    def forward(ctx, u, delta, A, B, C, steps, chunk):
        ctx.save_for_backward(u, delta, A, B, C)
        ctx.steps, ctx.chunk = steps, chunk
        h, _ = _Scan._states(ctx, u, delta, A, B)
        return torch.einsum("tdn,tn->td", h, C)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g):
        u, delta, A, B, C = ctx.saved_tensors
        h, decay = _Scan._states(ctx, u, delta, A, B)
        grad_c = torch.einsum("td,tdn->tn", g, h)
        G = _Scan._run(ctx, decay, g.unsqueeze(-1) * C.unsqueeze(1), reverse=True)  # the adjoint
        du = delta * u
        gb = torch.einsum("tdn,tn->td", G, B)  # sum_n G B
        grad_b = torch.einsum("tdn,td->tn", G, du)
        q = G.mul_(h.sub_(du.unsqueeze(-1) * B.unsqueeze(1)))  # G_t (h_t - x_t) = G_t decay_t h_{t-1}
        # grad_a = einsum("tdn,td->dn", q, delta), as a batch over channels (einsum would copy q)
        grad_a = torch.bmm(delta.t().unsqueeze(1), q.transpose(0, 1)).squeeze(1)
        grad_delta = torch.einsum("tdn,dn->td", q, A) + gb * u
        grads = (gb * delta, grad_delta, grad_a, grad_b, grad_c)
        return (*(gr if need else None for gr, need in zip(grads, ctx.needs_input_grad[:5])), None, None)


def _scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, chunk: int | None,
          lengths: Tensor | None) -> Tensor:
    """``sum_n C h`` in ``[B, D, L]`` (float32 at least) through :class:`_Scan` on packed time-major rows;
    ``chunk``: the two-level scan over equal lengths padded to a multiple of it (padded steps have delta 0:
    decay 1 and input 0, so they change nothing)."""
    dtype = torch.promote_types(torch.result_type(u, A), torch.float32)
    b, _, length = u.shape
    if lengths is None or chunk is not None:  # equal lengths: step t is rows t*B .. (t+1)*B
        padded = length if chunk is None else math.ceil(length / chunk) * chunk
        tm = [F.pad(t.to(dtype), (0, padded - length)).permute(2, 0, 1).reshape(padded * b, -1)
              for t in (u, delta, B, C)]
        y = _Scan.apply(tm[0], tm[1], A.to(dtype), tm[2], tm[3], [b] * padded, chunk)
        return y.view(padded, b, -1).permute(1, 2, 0)[..., :length]
    # sequences of their own lengths: PackedSequence's layout, nothing computed past a sequence's end
    packed = [nn_rnn.pack_padded_sequence(t.to(dtype).permute(2, 0, 1), lengths.clamp(min=1).cpu(),
                                          enforce_sorted=False) for t in (u, delta, B, C)]
    steps = packed[0].batch_sizes.tolist()
    y = _Scan.apply(packed[0].data, packed[1].data, A.to(dtype), packed[2].data, packed[3].data, steps, None)
    y, _ = nn_rnn.pad_packed_sequence(packed[0]._replace(data=y), total_length=length)  # zeros past the ends
    return y.permute(1, 2, 0)  # an empty sequence ran one step: selective_scan's length mask drops it


def _length_mask(lengths: Tensor, u: Tensor) -> Tensor:
    if lengths.shape != (u.size(0),) or lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
        raise ValueError(f"selective scan: lengths must be integers of shape [B={u.size(0)}], got "
                         f"{lengths.dtype} {tuple(lengths.shape)}")
    if lengths.numel() and (int(lengths.min()) < 0 or int(lengths.max()) > u.size(-1)):
        raise ValueError(f"selective scan: lengths must lie in [0, L={u.size(-1)}], got "
                         f"{int(lengths.min())}..{int(lengths.max())}")
    return (torch.arange(u.size(-1), device=u.device) < lengths.to(u.device).view(-1, 1)).unsqueeze(1)


def selective_scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None = None,
                   z: Tensor | None = None, delta_bias: Tensor | None = None, delta_softplus: bool = False,
                   chunk: int | None = None, lengths: Tensor | None = None) -> Tensor:
    """Selective scan (module docstring): same function as :func:`selective_scan_reference`, fast.

    ``lengths``: ``[B]`` integers, row ``b`` is a sequence of its first ``lengths[b]`` positions (a padded
    batch of graphs): nothing is computed past its end, where the output is 0. The pure-torch path then
    packs the rows time-major (``PackedSequence``'s layout), so its work follows the real positions, not
    ``B x max length``.

    ``chunk``: steps per chunk of the pure-torch path. By default ``L`` on CPU when
    ``batch x channels x state >= 256`` (the plain recurrence: one fused in-place step per position; the
    chunked path's extra passes over the states then cost more than Python's per-step overhead), else
    ``ceil(sqrt(L))`` (two levels, about ``2 sqrt(L)`` Python steps; with ``lengths`` it runs over the
    padded rows). On CUDA with ``mamba_ssm`` installed its fused kernel runs instead, unless a backend is
    forced (``graphkit.backend.use(scan="torch")``).
    """
    mask = None if lengths is None else _length_mask(lengths, u)
    if backend.scan_backend(u.device) == "mamba_ssm":
        y = backend.mamba_scan_fn()(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
        return y if mask is None else y * mask
    delta = _prepare(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    length = u.size(-1)
    if length == 0:
        return _finish(u.new_zeros(u.shape), u, D, z)
    if chunk is None:  # on CPU with slabs of >= 256 values per step the plain recurrence; else ~sqrt(L) chunks
        wide = u.device.type == "cpu" and u.size(0) * u.size(1) * A.size(1) >= _PLAIN_MIN_WIDTH
        k = length if wide else math.isqrt(length - 1) + 1
    elif chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    else:
        k = min(chunk, length)
    y = _finish(_scan(u, delta, A, B, C, k if k < length else None, lengths if k == length else None), u, D, z)
    return y if mask is None else y * mask


def selective_scan_ragged(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, seqs: RaggedBatch,
                          D: Tensor | None = None, z: Tensor | None = None, delta_bias: Tensor | None = None,
                          delta_softplus: bool = False) -> Tensor:
    """:func:`selective_scan` over the sequences of ``seqs`` stored back to back: ``u, delta, z: [T, D]``,
    ``B, C: [T, N]`` (rows in ``seqs``' layout), ``A: [D, N]``, ``D, delta_bias: [D]``; returns ``[T, D]``.

    On CPU with slabs of at least 256 values per step (the plain recurrence, see :func:`selective_scan`) the
    rows go straight to the time-major packing and back (two gathers per tensor, nothing padded); otherwise
    (narrow slabs, CUDA, mamba_ssm's kernel) they are padded to ``[S, D, L_max]`` and scanned with
    ``lengths``."""
    if not isinstance(u, Tensor) or u.dim() != 2 or u.size(0) != seqs.num_rows:
        got = tuple(u.shape) if isinstance(u, Tensor) else type(u).__name__
        raise ValueError(f"selective scan: u must be [T={seqs.num_rows}, D] (the layout's rows), got {got}")
    t, d = u.shape
    for name, x in (("delta", delta), ("z", z)):
        if x is not None and x.shape != u.shape:
            raise ValueError(f"selective scan: {name} must match u {tuple(u.shape)}, got {tuple(x.shape)}")
    if A.dim() != 2 or A.size(0) != d:
        raise ValueError(f"selective scan: A must be [D={d}, N], got {tuple(A.shape)}")
    n = A.size(1)
    for name, x in (("B", B), ("C", C)):
        if x.shape != (t, n):
            raise ValueError(f"selective scan: {name} must be [T, N] = {(t, n)}, got {tuple(x.shape)}")
    for name, x in (("D", D), ("delta_bias", delta_bias)):
        if x is not None and x.shape != (d,):
            raise ValueError(f"selective scan: {name} must be [{d}], got {tuple(x.shape)}")
    plain = (u.device.type == "cpu" and backend.scan_backend(u.device) != "mamba_ssm"
             and bool(seqs.steps) and seqs.steps[0] * d * n >= _PLAIN_MIN_WIDTH)
    if not plain:
        def padded(x: Tensor | None) -> Tensor | None:
            return None if x is None else seqs.pad(x).transpose(1, 2)
        y = selective_scan(padded(u), padded(delta), A, padded(B), padded(C), D, padded(z), delta_bias,
                           delta_softplus, lengths=seqs.lengths)
        return seqs.unpad(y.transpose(1, 2))
    if delta_bias is not None:
        delta = delta + delta_bias
    if delta_softplus:
        delta = F.softplus(delta)
    dtype = torch.promote_types(torch.result_type(u, A), torch.float32)
    packed = [x.to(dtype)[seqs.to_time_major] for x in (u, delta, B, C)]
    y = _Scan.apply(*packed[:2], A.to(dtype), *packed[2:], seqs.steps, None)[seqs.from_time_major]
    return _finish(y, u, D, z)
