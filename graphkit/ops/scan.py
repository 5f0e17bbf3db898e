"""Selective scan: Mamba's S6 recurrence with input-dependent step, input and output matrices.

For every batch row ``b``, channel ``d`` and state ``n``::

    h_t = exp(delta_t * A[d, n]) * h_{t-1} + delta_t * B_t[n] * u_t        (h_0 = 0)
    y_t = sum_n C_t[n] * h_t[n] + D[d] * u_t       (then y_t * silu(z_t) when z is given)

Shapes follow ``mamba_ssm.ops.selective_scan_interface.selective_scan_fn`` so that its CUDA kernel is a
drop-in: ``u, delta, z: [B, D, L]``, ``A: [D, N]``, ``B, C: [B, N, L]`` (shared by all channels),
``D: [D]``, ``delta_bias: [D]`` (added before the optional softplus).

* :func:`selective_scan_reference`: the recurrence step by step (the definition; ``L`` Python steps).
* :func:`selective_scan`: the chunked two-level scan in pure torch (``chunk`` steps inside every chunk
  at once, then one carry per chunk: about ``2 sqrt(L)`` Python steps, ``O(L)`` memory, no ``exp`` of a
  positive number, so no overflow), or mamba_ssm's kernel on CUDA when installed
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


def _chunked(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, chunk: int) -> Tensor:
    b, d, length = u.shape
    n = A.size(1)
    k = max(1, min(chunk, length))
    m = math.ceil(length / k)
    pad = m * k - length
    if pad:  # padded steps have delta = 0: decay 1, input 0, so they change nothing
        u, delta = F.pad(u, (0, pad)), F.pad(delta, (0, pad))
        B, C = F.pad(B, (0, pad)), F.pad(C, (0, pad))
    # [B, D, m, k, N] per-step decay and input
    dA = (delta.view(b, d, m, k, 1) * A.view(1, d, 1, 1, n))
    x = delta.view(b, d, m, k, 1) * B.view(b, 1, n, m, k).permute(0, 1, 3, 4, 2) * u.view(b, d, m, k, 1)
    decay = torch.exp(dA)
    # 1) inside every chunk at once, starting from zero: k steps over [B, D, m, N]. Steps are taken with
    # unbind (its backward is one stack), not indexing (whose backward writes a full-size zero tensor per step).
    local = []
    h = torch.zeros_like(x[:, :, :, 0])
    for decay_t, x_t in zip(decay.unbind(3), x.unbind(3)):
        h = decay_t * h + x_t
        local.append(h)
    local_h = torch.stack(local, dim=3)  # [B, D, m, k, N]
    # 2) the state entering each chunk: one carry per chunk over [B, D, N]
    total = torch.exp(dA.sum(dim=3)).unbind(2)  # decay across each whole chunk
    ends = local[-1].unbind(2)  # each chunk's last local state
    carries = [torch.zeros_like(ends[0])]
    for c in range(m - 1):
        carries.append(total[c] * carries[-1] + ends[c])
    carry = torch.stack(carries, dim=2)  # [B, D, m, N]
    # 3) add the decayed carry to every step: cumulative decay inside the chunk (exp of sums <= 0)
    within = torch.exp(torch.cumsum(dA, dim=3))
    states = local_h + within * carry.unsqueeze(3)
    y = (states * C.view(b, 1, n, m, k).permute(0, 1, 3, 4, 2)).sum(-1)  # [B, D, m, k]
    return y.reshape(b, d, m * k)[..., :length]


def selective_scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None = None,
                   z: Tensor | None = None, delta_bias: Tensor | None = None, delta_softplus: bool = False,
                   chunk: int | None = None) -> Tensor:
    """Selective scan (module docstring): same function as :func:`selective_scan_reference`, fast.

    ``chunk``: steps per chunk of the pure-torch path (default ``ceil(sqrt(L))``, which minimises the
    number of Python steps). On CUDA with ``mamba_ssm`` installed its fused kernel runs instead, unless a
    backend is forced (``graphkit.backend.use(scan="torch")``).
    """
    if backend.scan_backend(u.device) == "mamba_ssm":
        return backend.mamba_scan_fn()(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    delta = _prepare(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
    length = u.size(-1)
    if length == 0:
        return _finish(u.new_zeros(u.shape), u, D, z)
    k = chunk if chunk is not None else max(1, math.isqrt(length - 1) + 1)
    if k < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    return _finish(_chunked(u, delta, A, B, C, k), u, D, z)
