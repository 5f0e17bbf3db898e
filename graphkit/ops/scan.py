"""Selective scan: Mamba's S6 recurrence with input-dependent step, input and output matrices.

For every batch row ``b``, channel ``d`` and state ``n``::

    h_t = exp(delta_t * A[d, n]) * h_{t-1} + delta_t * B_t[n] * u_t        (h_0 = 0)
    y_t = sum_n C_t[n] * h_t[n] + D[d] * u_t       (then y_t * silu(z_t) when z is given)

Shapes follow ``mamba_ssm.ops.selective_scan_interface.selective_scan_fn`` so that its CUDA kernel is a
drop-in: ``u, delta, z: [B, D, L]``, ``A: [D, N]``, ``B, C: [B, N, L]`` (shared by all channels),
``D: [D]``, ``delta_bias: [D]`` (added before the optional softplus).

* :func:`selective_scan_reference`: the recurrence step by step (the definition; ``L`` Python steps).
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
from torch import Tensor

from graphkit import backend


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
    if D is not None:
        y = y + u * D.view(1, -1, 1)
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


def _recurrence(decay: Tensor, h: Tensor, reverse: bool = False) -> Tensor:
    """In place, ``h`` (holding the inputs ``x``, time-major ``[L, ...]``) becomes all states of
    ``h_t = decay_t * h_{t-1} + x_t``; ``reverse``: the adjoint, ``h_t = decay_{t+1} * h_{t+1} + x_t``. One fused
    in-place step per position on contiguous slabs."""
    if reverse:
        for t in range(h.size(0) - 2, -1, -1):
            h[t].addcmul_(decay[t + 1], h[t + 1])
    else:
        for t in range(1, h.size(0)):
            h[t].addcmul_(decay[t], h[t - 1])
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
    """The scan without its ``D``, gate and softplus (those stay with autograd): ``y = sum_n C h``, on
    time-major padded inputs ``u, delta: [L, B, D]``, ``B, C: [L, B, N]``.

    Nothing of size ``[L, B, D, N]`` is kept between forward and backward: the backward recomputes the
    states and runs the adjoint recurrence ``G_t = C_t g_t + exp(delta_{t+1} A) G_{t+1}`` backwards in time,
    then every gradient is a contraction of ``G`` with the inputs (Mamba's fused kernel also recomputes
    instead of storing the states). Three ``[L, B, D, N]`` buffers at most, all updated in place."""

    @staticmethod
    def _states(ctx, u, delta, A, B):
        """States ``h`` and the per-step decay (``None`` in the chunked case, which works on log-decays)."""
        log_decay = delta.unsqueeze(-1) * A
        h = (delta * u).unsqueeze(-1) * B.unsqueeze(2)
        if ctx.chunk == h.size(0):
            decay = log_decay.exp_()
            return _recurrence(decay, h), decay
        return _chunked_states(log_decay, h, ctx.chunk), log_decay

    @staticmethod
    def forward(ctx, u, delta, A, B, C, chunk):
        ctx.save_for_backward(u, delta, A, B, C)
        ctx.chunk = chunk
        h, _ = _Scan._states(ctx, u, delta, A, B)
        return torch.einsum("lbdn,lbn->lbd", h, C)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g):
        u, delta, A, B, C = ctx.saved_tensors
        h, decay = _Scan._states(ctx, u, delta, A, B)
        grad_c = torch.einsum("lbd,lbdn->lbn", g, h)
        G = g.unsqueeze(-1) * C.unsqueeze(2)  # the adjoint: the same recurrence backwards in time
        if ctx.chunk == h.size(0):
            G = _recurrence(decay, G, reverse=True)
        else:
            G = _chunked_states(decay, G, ctx.chunk, reverse=True)
            decay = decay.exp_()
        gb = torch.einsum("lbdn,lbn->lbd", G, B)  # sum_n G B
        grad_b = torch.einsum("lbdn,lbd->lbn", G, delta * u)
        q = G.mul_(decay)  # q_t = G_t decay_t h_{t-1}: the decay's share
        q[1:].mul_(h[:-1])
        q[0].zero_()
        d, n = A.shape  # grad_a = einsum("lbdn,lbd->dn", q, delta) as a batch over channels (einsum copies q)
        grad_a = torch.bmm(delta.reshape(-1, d).t().unsqueeze(1), q.reshape(-1, d, n).transpose(0, 1)).squeeze(1)
        grad_delta = torch.einsum("lbdn,dn->lbd", q, A) + gb * u
        grads = (gb * delta, grad_delta, grad_a, grad_b, grad_c)
        return (*(gr if need else None for gr, need in zip(grads, ctx.needs_input_grad[:5])), None)


def _time_major(t: Tensor, padded: int) -> Tensor:
    """``[B, X, L]`` -> contiguous ``[padded, B, X]``, zeros after ``L`` (padded steps: delta = 0, so decay 1
    and input 0: they change nothing)."""
    return F.pad(t, (0, padded - t.size(-1))).permute(2, 0, 1).contiguous()


def _scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, chunk: int) -> Tensor:
    """``sum_n C h`` in ``[B, D, L]`` (float32 at least) through :class:`_Scan` on time-major inputs."""
    dtype = torch.promote_types(torch.result_type(u, A), torch.float32)
    length = u.size(-1)
    padded = math.ceil(length / chunk) * chunk
    tm = [_time_major(t.to(dtype), padded) for t in (u, delta, B, C)]
    y = _Scan.apply(tm[0], tm[1], A.to(dtype), tm[2], tm[3], chunk)
    return y.permute(1, 2, 0)[..., :length]


def selective_scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None = None,
                   z: Tensor | None = None, delta_bias: Tensor | None = None, delta_softplus: bool = False,
                   chunk: int | None = None) -> Tensor:
    """Selective scan (module docstring): same function as :func:`selective_scan_reference`, fast.

    ``chunk``: steps per chunk of the pure-torch path. By default ``L`` on CPU when
    ``batch x channels x state >= 256`` (the plain recurrence: one fused in-place step per position; the
    chunked path's extra passes over the states then cost more than Python's per-step overhead), else
    ``ceil(sqrt(L))`` (two levels, about ``2 sqrt(L)`` Python steps). On CUDA with ``mamba_ssm`` installed
    its fused kernel runs instead, unless a backend is forced (``graphkit.backend.use(scan="torch")``).
    """
    if backend.scan_backend(u.device) == "mamba_ssm":
        return backend.mamba_scan_fn()(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
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
    return _finish(_scan(u, delta, A, B, C, k), u, D, z)
