"""Edge messages ``relu(x_j + e_ji)`` built in one buffer (GINE's and OGB's molecule GCN's messages).

The gathered rows are a fresh tensor, so the edge term and the ReLU go into it in place: one ``E x F`` buffer
instead of three. Where the sum needs a wider type than the rows (bfloat16 rows under autocast plus float32
edge embeddings) it is computed out of place, as the unfused expression promotes it.
"""
from __future__ import annotations

import torch
from torch import Tensor


def add_relu_(a: Tensor, b: Tensor | None = None) -> Tensor:
    """``relu(a + b)`` (``relu(a)`` without ``b``), written into ``a`` when ``a``'s type holds the sum. ``a``
    must be the caller's own fresh tensor (nothing else reads it, and autograd needs it for nothing)."""
    if b is not None:
        a = a.add_(b) if torch.promote_types(a.dtype, b.dtype) == a.dtype else a + b
    return a.relu_()


def gather_add_relu(x: Tensor, index: Tensor, edge: Tensor) -> Tensor:
    """``relu(x[index] + edge)``: the message of each edge from its source row ``x[index[e]]`` and its
    embedding ``edge[e]``; ``index`` checked by the caller."""
    return add_relu_(x.index_select(0, index), edge)
