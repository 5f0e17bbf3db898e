"""Global mixers over each graph's nodes: full attention, linear attention, bidirectional Mamba.

One interface for all: ``mixer(x: [N, C], batch: [N], batch_size: int, order) -> [N, C]``.
Nodes of different graphs never interact (padding is masked, or per-graph sums are used). ``order`` is a
node permutation from :mod:`graphkit.ops.order`, a list of them (the output is then the mean over the
orderings: Graph-Mamba's evaluation), or None; attention ignores it (it is permutation equivariant, so
every ordering gives the same output), Mamba reads each graph's nodes as a sequence in that order.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphkit.ops import check, from_dense_batch, scatter, selective_scan, to_dense_batch
from graphkit.ops.order import check_ordering
from graphkit.ops.ragged import RaggedBatch
from graphkit.ops.scan import selective_scan_ragged
from graphkit.ops.scatter import counts as count_values

Order = Tensor | list[Tensor] | tuple[Tensor, ...] | None  # one node ordering, several (averaged) or none


def check_mixer_input(x: Tensor, batch: Tensor, batch_size: int, channels: int,
                      mixer: nn.Module | None = None) -> None:
    """What every global mixer takes: ``x: [N, channels]`` floats, ``batch: [N]`` graph ids in
    ``[0, batch_size)`` (named errors instead of a reshape or matmul failure deep inside the mixer)."""
    check.check_same_device(("x", x), ("batch", batch), ("the mixer's weights", mixer))
    check.check_size(batch_size, "batch_size")
    check.check_features(x, name="x", min_dim=2, max_dim=2)
    check.check_width(x, channels, "x", "the mixer's width")
    check.check_index(batch, batch_size, length=x.size(0), name="batch")


class AttentionMixer(nn.Module):
    """Multi-head self-attention among each graph's nodes (padding masked out): quadratic in graph size."""

    def __init__(self, channels: int, heads: int = 4, dropout: float = 0.0):
        super().__init__()
        self.channels = channels
        self.attn = nn.MultiheadAttention(channels, heads, dropout=dropout, batch_first=True)

    def forward(self, x: Tensor, batch: Tensor, batch_size: int, order: Order = None) -> Tensor:
        check_mixer_input(x, batch, batch_size, self.channels, self)
        if x.size(0) == 0:  # only empty graphs: nothing to attend to (torch's attention rejects length 0)
            return x * 0.0
        dense, mask = to_dense_batch(x, batch, batch_size)
        out = self.attn(dense, dense, dense, key_padding_mask=~mask, need_weights=False)[0]
        return from_dense_batch(out, mask)


class LinearAttentionMixer(nn.Module):
    """Linear attention per graph: ``out_i = phi(q_i)^T S_g / phi(q_i)^T z_g`` with ``S_g = sum_j phi(k_j) v_j^T``
    and ``z_g = sum_j phi(k_j)`` over the nodes of ``i``'s graph (per-graph sums by scatter, no padding):
    linear in the number of nodes.

    ``kernel="elu"``: ``phi(x) = elu(x) + 1`` (Katharopoulos et al.); ``"performer"``: positive orthogonal
    random features of the softmax kernel (Choromanski et al.), ``features`` of them per head, redrawn with
    :meth:`redraw` (fixed at evaluation).
    """

    def __init__(self, channels: int, heads: int = 4, kernel: str = "elu", features: int = 64,
                 dropout: float = 0.0):
        super().__init__()
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        if kernel not in ("elu", "performer"):
            raise ValueError(f"kernel must be 'elu' or 'performer', got {kernel!r}")
        self.heads, self.dim, self.kernel = heads, channels // heads, kernel
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = nn.Linear(channels, channels)
        self.dropout = nn.Dropout(dropout)
        self.features = features
        if kernel == "performer":
            self.register_buffer("proj", self._orthogonal(features, self.dim))

    @staticmethod
    def _orthogonal(m: int, d: int, generator: torch.Generator | None = None) -> Tensor:
        blocks = []
        for _ in range(math.ceil(m / d)):
            q, _ = torch.linalg.qr(torch.randn(d, d, generator=generator))
            blocks.append(q.t())
        w = torch.cat(blocks)[:m]
        norms = torch.randn(m, d, generator=generator).norm(dim=1, keepdim=True)
        return w * norms

    def redraw(self, generator: torch.Generator | None = None) -> None:
        """Draw new orthogonal random features (Performer kernel only; a no-op for elu+1)."""
        if self.kernel == "performer":
            self.proj.copy_(self._orthogonal(self.features, self.dim, generator).to(self.proj))

    def _phi(self, x: Tensor) -> Tensor:
        if self.kernel == "elu":
            return F.elu(x) + 1
        x = x / self.dim ** 0.25
        proj = x @ self.proj.t()  # [N, H, m]
        # exp(w.x - |x|^2 / 2 - max) / sqrt(m); the max is per node, which cancels in the ratio
        stab = proj.amax(dim=-1, keepdim=True).detach()
        return torch.exp(proj - x.square().sum(-1, keepdim=True) / 2 - stab) / math.sqrt(self.features) + 1e-6

    def forward(self, x: Tensor, batch: Tensor, batch_size: int, order: Order = None) -> Tensor:
        check_mixer_input(x, batch, batch_size, self.qkv.in_features, self)
        n = x.size(0)
        q, k, v = self.qkv(x).view(n, 3, self.heads, self.dim).unbind(1)
        q, k = self._phi(q), self._phi(k)  # [N, H, m]
        kv = scatter(k.unsqueeze(-1) * v.unsqueeze(-2), batch, batch_size, "sum")  # [B, H, m, d]
        z = scatter(k, batch, batch_size, "sum")  # [B, H, m]
        num = (q.unsqueeze(-1) * kv[batch]).sum(-2)  # [N, H, d]
        den = (q * z[batch]).sum(-1, keepdim=True).clamp_min(1e-12)
        return self.out(self.dropout((num / den).reshape(n, self.heads * self.dim)))  # n may be 0


def _prefix_lengths(mask: Tensor) -> Tensor | None:
    """Each row's length when every row's real positions come first (``to_dense_batch``'s layout) and some
    row is shorter: the scan then stops at each row's end. ``None`` otherwise (scan every position)."""
    lengths = mask.sum(1)
    if bool((lengths == mask.size(1)).all()):
        return None
    prefix = torch.arange(mask.size(1), device=mask.device) < lengths.unsqueeze(1)
    return lengths if bool((prefix == mask).all()) else None


class Mamba(nn.Module):
    """One Mamba (S6) layer over padded sequences ``[B, L, C]`` with a mask: input projection to ``x`` and gate
    ``z``, causal depthwise convolution, input-dependent ``delta, B, C``, :func:`graphkit.ops.selective_scan`,
    gated output projection (Gu & Dao 2023). Padded positions are zeroed before the convolution and the
    scan, so they carry nothing into real positions; when they all come last (``to_dense_batch``'s layout)
    the scan stops at each sequence's end and spends nothing on them."""

    def __init__(self, channels: int, d_state: int = 16, d_conv: int = 4, expand: int = 2,
                 dt_min: float = 1e-3, dt_max: float = 0.1, bias: bool = True):
        """``bias``: biases on the input and output projections (``mamba_ssm.Mamba`` has none: ``False``)."""
        super().__init__()
        inner = expand * channels
        self.inner, self.d_state = inner, d_state
        self.dt_rank = math.ceil(channels / 16)
        self.in_proj = nn.Linear(channels, 2 * inner, bias=bias)
        self.conv = nn.Conv1d(inner, inner, d_conv, groups=inner, padding=d_conv - 1)
        self.x_proj = nn.Linear(inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, inner)
        dt = torch.exp(torch.rand(inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        with torch.no_grad():  # softplus^-1 of dt, so initial steps lie in [dt_min, dt_max]
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(inner, 1))
        self.D = nn.Parameter(torch.ones(inner))
        self.out_proj = nn.Linear(inner, channels, bias=bias)

    def forward(self, seq: Tensor, mask: Tensor) -> Tensor:
        b, length, _ = seq.shape
        keep = mask.unsqueeze(-1).to(seq.dtype)
        xz = self.in_proj(seq) * keep
        x, z = xz.chunk(2, dim=-1)
        x = F.silu(self.conv(x.transpose(1, 2))[..., :length]) * keep.transpose(1, 2)  # [B, inner, L]
        params = self.x_proj(x.transpose(1, 2))  # [B, L, r + 2N]
        dt, bmat, cmat = params.split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        delta = self.dt_proj.weight @ dt.transpose(1, 2)  # [B, inner, L]
        y = selective_scan(x, delta, -torch.exp(self.A_log.float()), bmat.transpose(1, 2), cmat.transpose(1, 2),
                           self.D.float(), z.transpose(1, 2), self.dt_proj.bias.float(), delta_softplus=True,
                           lengths=_prefix_lengths(mask))
        return self.out_proj(y.transpose(1, 2)) * keep

    def forward_ragged(self, rows: Tensor, seqs: RaggedBatch) -> Tensor:
        """The same layer over sequences stored back to back (``rows: [T, C]`` in ``seqs``' layout, no
        padding): every projection runs on the ``T`` real rows only; ``[T, C]``."""
        x, z = self.in_proj(rows).chunk(2, dim=-1)
        x = F.silu(self._causal_conv(x, seqs.position))  # [T, inner]
        dt, bmat, cmat = self.x_proj(x).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        delta = dt @ self.dt_proj.weight.t()  # [T, inner]
        y = selective_scan_ragged(x, delta, -torch.exp(self.A_log.float()), bmat, cmat, seqs, self.D.float(), z,
                                  self.dt_proj.bias.float(), delta_softplus=True)
        return self.out_proj(y)

    def _causal_conv(self, x: Tensor, position: Tensor) -> Tensor:
        """The depthwise causal convolution of :meth:`forward` on back-to-back rows: tap ``k`` reads the row
        ``k`` steps back in the same sequence (nothing before a sequence's start)."""
        w = self.conv.weight[:, 0]  # [inner, d_conv]; the last tap reads the current step
        taps = w.size(1)
        out = torch.addcmul(self.conv.bias, x, w[:, -1])
        for k in range(1, min(taps, x.size(0))):
            lagged = F.pad(x[:-k], (0, 0, k, 0)) * (position >= k).unsqueeze(-1).to(x.dtype)
            out = out + lagged * w[:, -1 - k]
        return out


def reverse_within_graphs(order: Tensor, batch: Tensor, batch_size: int) -> Tensor:
    """The ordering that visits each graph's nodes in the reverse of ``order``."""
    b = batch[order]
    counts = count_values(b, batch_size)
    ptr = torch.zeros(batch_size + 1, dtype=torch.long, device=b.device)
    torch.cumsum(counts, 0, out=ptr[1:])
    pos = torch.arange(order.numel(), device=order.device) - ptr[b]
    return order[ptr[b] + counts[b] - 1 - pos]


class MambaMixer(nn.Module):
    """Mamba over each graph's nodes in the order given.

    ``bidirectional=False`` with ``expand=1, bias=False`` is Graph-Mamba's mixer as its authors' code builds
    it (one ``mamba_ssm.Mamba(d_model, d_state=16, d_conv=4, expand=1)`` reading the nodes once, in the
    order given; :class:`~graphkit.models.GraphMambaConfig`). The default is graphkit's variant: a second
    layer with its own weights reads the sequence backwards, outputs summed, ``expand=2`` with biases."""

    def __init__(self, channels: int, d_state: int = 16, d_conv: int = 4, expand: int = 2,
                 bidirectional: bool = True, bias: bool = True):
        super().__init__()
        self.forward_layer = Mamba(channels, d_state, d_conv, expand, bias=bias)
        self.backward_layer = Mamba(channels, d_state, d_conv, expand, bias=bias) if bidirectional else None

    def forward(self, x: Tensor, batch: Tensor, batch_size: int, order: Order = None) -> Tensor:
        """``order``: one ordering, or several: the mean of the mixer over them, computed as one batch of
        ``len(order) x batch_size`` sequences (one scan, not one per ordering)."""
        check_mixer_input(x, batch, batch_size, self.forward_layer.in_proj.in_features, self)
        if order is None:
            orders = [torch.arange(x.size(0), device=x.device)]
        else:
            orders = list(order) if isinstance(order, (list, tuple)) else [order]
            if not orders:
                raise ValueError("MambaMixer: order is an empty list; give at least one node ordering")
            check.check_same_device(("x", x), *(("order", o) for o in orders))
        out = _read_in_orders(self.forward_layer, x, batch, batch_size, orders)
        if self.backward_layer is not None:
            reversed_orders = [reverse_within_graphs(o, batch, batch_size) for o in orders]
            out = out + _read_in_orders(self.backward_layer, x, batch, batch_size, reversed_orders)
        return out


def _read_in_orders(layer: Mamba, x: Tensor, batch: Tensor, batch_size: int, orders: list[Tensor]) -> Tensor:
    """The mean over ``orders`` of ``layer`` reading each graph's nodes in that order: every (ordering, graph)
    pair is one sequence, all of them back to back without padding (:class:`RaggedBatch`)."""
    for o in orders:
        check_ordering(o, batch, x.size(0))
    nodes = torch.cat(orders) if len(orders) > 1 else orders[0]
    # the same layout for every layer (and both directions) of a forward pass: built once per batch vector
    seqs = check.remembered(batch, f"ragged layout {batch_size} x {len(orders)}", lambda: RaggedBatch.from_lengths(
        count_values(batch, batch_size).repeat(len(orders))))
    y = layer.forward_ragged(x[nodes], seqs)
    out = y.new_zeros(x.size(0), y.size(1)).index_add_(0, nodes, y)
    return out / len(orders) if len(orders) > 1 else out
