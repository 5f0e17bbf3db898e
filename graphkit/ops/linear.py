"""Dense affine maps ``x W^T + b``: on CPU, widths padded to a multiple of 8 for the product.

This CPU's BLAS (MKL under torch, AVX-512) is up to 2.6 times slower on a product whose output width is
not a multiple of 8 once there are a few thousand rows. Measured, one thread, ``[n, w] @ [w, w]`` against
the same product with the weight padded by zero columns to the next multiple of 8 and the output sliced
back (one copy): w = 235 (Peptides-func GCN's width): 1.10x faster at n = 800, 1.46x at 4,000, 1.95x at
8,000, 1.80x at 20,000; w = 300: 1.03x at 800, 2.58x at 8,000; w = 95 (GatedGCN's): 1.27-1.82x; never
slower (widths that are multiples of 8 take the plain product). The backward's ``grad_x = g W`` has the
input width as its output width and is padded the same way.

:func:`linear` computes the same function as ``torch.nn.functional.linear`` (zero columns add nothing;
only the rounding order inside the product may differ) and takes the padded path on CPU in float32
outside autocast, from :data:`MIN_ROWS` rows (below, the gain is within 1.1x and the copy would eat it).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

ALIGN = 8  # pad product widths to a multiple of this
MIN_ROWS = 2048  # rows (all leading dims together) from which the padded product pays


def _pad_to(width: int) -> int:
    return -width % ALIGN


def padded_path(x: Tensor, weight: Tensor) -> bool:
    """Whether :func:`linear` pads this product (see the module notes)."""
    return (x.device.type == "cpu" and x.dtype == torch.float32 and weight.dtype == torch.float32
            and weight.dim() == 2 and x.dim() >= 2 and x.size(-1) == weight.size(1)
            and (_pad_to(weight.size(0)) or _pad_to(weight.size(1)))
            and x.numel() >= MIN_ROWS * max(x.size(-1), 1) and not torch.is_autocast_enabled("cpu"))


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` (``torch.nn.functional.linear``'s function and shapes), with the product's
    widths padded to a multiple of 8 on CPU where that is faster (module notes)."""
    if not padded_path(x, weight):
        return F.linear(x, weight, bias)
    return _PaddedLinear.apply(x, weight, bias)


class _PaddedLinear(torch.autograd.Function):
    """``x W^T + b`` through products whose output widths are multiples of :data:`ALIGN`."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:  # type: ignore[override]
        out_f, in_f = weight.shape
        rows = x.reshape(-1, in_f)
        pad = _pad_to(out_f)
        w = F.pad(weight, (0, 0, 0, pad)).t() if pad else weight.t()  # [in, out (padded)]
        if bias is None:
            y = torch.mm(rows, w)
        else:
            y = torch.addmm(F.pad(bias, (0, pad)) if pad else bias, rows, w)
        if pad:
            y = y[:, :out_f].contiguous()
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return y.view(*x.shape[:-1], out_f)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        x, weight = ctx.saved_tensors
        out_f, in_f = weight.shape
        g = grad.reshape(-1, out_f)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            pad = _pad_to(in_f)
            gx = torch.mm(g, F.pad(weight, (0, pad)) if pad else weight)  # [rows, in (padded)]
            grad_x = (gx[:, :in_f].contiguous() if pad else gx).view(x.shape)
        if ctx.needs_input_grad[1]:
            grad_w = torch.mm(g.t(), x.reshape(-1, in_f))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = g.sum(0)
        return grad_x, grad_w, grad_b
