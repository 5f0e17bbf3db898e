"""Neural Sheaf Diffusion layers (Bodnar, Di Giovanni, Chamberlain, Liò, Bronstein; NeurIPS 2022).

Node states live in stalks: ``x: [N, d * C]`` is read as ``[N, d, C]`` (``d``
stalk dimensions, ``C`` channels). One :class:`SheafDiffusionLayer` step is

    maps  = learner(x_v || x_u)                  per directed edge (restriction maps)
    L     = normalised sheaf Laplacian(maps)     graphkit.ops.sheaf
    h     = L (W_left ⊗ W_right) dropout(x)      one block-sparse spmm
    x0    = (1 + tanh(eps)) * x0 - act(h)        eps: one per stalk dimension

with diagonal, orthogonal (O(d), "bundle") or general ``d x d`` maps. Options
follow the reference implementation: left/right weights, ELU, a learned
symmetric edge weight for orthogonal maps, the "sparse" learner variant, and
fixed extra stalk dimensions (``add_lp``/``add_hp``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphkit.nn.dropout import dropout
from graphkit.ops import Adjacency, fixed_maps, orthogonal_maps, orthogonal_param_size, sheaf_laplacian, sheaf_structure

_ACTS = {"tanh": torch.tanh, "elu": F.elu, "id": lambda t: t}


class SheafLearner(nn.Module):
    """Restriction-map parameters from the two endpoint states: ``act(W [x_v || x_u])``.

    Args:
        stalk_dim: ``d`` of the node states (learned + fixed dimensions).
        channels: ``C`` channels per stalk dimension.
        out_size: parameters per directed edge (``d``, ``d*d`` or the
            orthogonal parametrisation's size).
        act: ``"tanh"`` (default), ``"elu"`` or ``"id"``.
        sparse: the reference code's ``sparse_learner`` variant, which sums the
            concatenated endpoint states over ``d`` chunks of ``2C`` before the
            linear map (fewer parameters).
    """

    def __init__(self, stalk_dim: int, channels: int, out_size: int, act: str = "tanh", sparse: bool = False):
        super().__init__()
        if act not in _ACTS:
            raise ValueError(f"sheaf act must be one of {sorted(_ACTS)}, got {act!r}")
        self.stalk_dim, self.channels, self.sparse, self.act_name = stalk_dim, channels, sparse, act
        in_size = 2 * channels if sparse else 2 * stalk_dim * channels
        self.linear = nn.Linear(in_size, out_size, bias=False)

    def reset_parameters(self) -> None:
        self.linear.reset_parameters()

    def forward(self, x: Tensor, row: Tensor, col: Tensor) -> Tensor:
        """``x: [N, d*C]``, ``row``/``col: [E]`` -> ``[E, out_size]``."""
        return _ACTS[self.act_name](_pair_linear(self.weight(), x, row, col))

    def weight(self) -> Tensor:
        """The linear map on ``[x_v || x_u]`` (``[out_size, 2 d C]``); the sparse variant's summing over
        ``d`` chunks of ``2C`` is the same as tiling its weight ``d`` times."""
        return self.linear.weight.repeat(1, self.stalk_dim) if self.sparse else self.linear.weight


def _pair_linear(weight: Tensor, x: Tensor, row: Tensor, col: Tensor) -> Tensor:
    """``weight @ [x[row] || x[col]]`` computed as ``(x W_a^T)[row] + (x W_b^T)[col]``: the products
    run once per node (``N x F``) instead of once per edge (``E x 2F``), and only ``E x out`` is gathered."""
    half = x.size(1)
    both = x @ torch.cat([weight[:, :half], weight[:, half:]], 0).t()  # [N, 2 * out]
    out = weight.size(0)
    return both[:, :out].index_select(0, row) + both[:, out:].index_select(0, col)


class EdgeWeightLearner(nn.Module):
    """Symmetric edge weights ``w_vu = s(v, u) * s(u, v)`` with ``s = sigmoid(W [x_v || x_u])``."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.linear = nn.Linear(2 * in_channels, 1, bias=False)

    def reset_parameters(self) -> None:
        self.linear.reset_parameters()

    def forward(self, x: Tensor, row: Tensor, col: Tensor, rev: Tensor) -> Tensor:
        s = torch.sigmoid(_pair_linear(self.linear.weight, x, row, col)).view(-1)
        return s * s.index_select(0, rev)


class SheafDiffusionLayer(nn.Module):
    """One discrete sheaf diffusion step with its own sheaf learner.

    Args:
        channels: ``C``, channels per stalk dimension.
        d: learned stalk dimension (>= 1 for ``"diag"``, >= 2 otherwise).
        kind: ``"diag"``, ``"orthogonal"`` or ``"general"``.
        orthogonal_map: ``"householder"``, ``"matrix_exp"`` or ``"cayley"``.
        edge_weights: orthogonal sheaves: learn a symmetric weight per edge.
        left_weights: the ``d x d`` linear map (identity init) applied before diffusion.
        right_weights: the ``C x C`` linear map (orthogonal init) applied before diffusion.
        use_act: ELU after the Laplacian product.
        sheaf_act: activation of the sheaf learner.
        sparse_learner: see :class:`SheafLearner`.
        add_lp: fixed extra low-pass stalk dimensions (see :func:`graphkit.ops.fixed_maps`); the node
            states then have ``d + add_lp + add_hp`` stalk dimensions.
        add_hp: fixed extra high-pass stalk dimensions (likewise).
        normalised: normalise the Laplacian (see :func:`graphkit.ops.sheaf_laplacian`).
        augmented: NSD's augmented degree ``D + I`` in the normalisation.
        dropout: on the states before diffusion (and on the learner's input
            except in the first layer, where the model passes ``learner_dropout=0``).
    """

    def __init__(self, channels: int, d: int, kind: str = "diag", orthogonal_map: str = "householder",
                 edge_weights: bool = True, left_weights: bool = True, right_weights: bool = True,
                 use_act: bool = True, sheaf_act: str = "tanh", sparse_learner: bool = False,
                 add_lp: bool = False, add_hp: bool = False, normalised: bool = True, augmented: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        if kind not in ("diag", "orthogonal", "general"):
            raise ValueError(f"kind must be 'diag', 'orthogonal' or 'general', got {kind!r}")
        if d < (1 if kind == "diag" else 2):
            raise ValueError(f"a {kind} sheaf needs d >= {1 if kind == 'diag' else 2}, got {d}")
        self.channels, self.d, self.kind = channels, d, kind
        self.orthogonal_map = orthogonal_map
        self.add_lp, self.add_hp = add_lp, add_hp
        self.stalk_dim = d + int(add_lp) + int(add_hp)
        self.normalised, self.augmented = normalised, augmented
        self.use_act, self.dropout = use_act, dropout
        if kind == "diag":
            out = d
        elif kind == "orthogonal":
            out = orthogonal_param_size(d, orthogonal_map)
        else:
            out = d * d
        self.sheaf_learner = SheafLearner(self.stalk_dim, channels, out, sheaf_act, sparse_learner)
        self.weight_learner = (EdgeWeightLearner(self.stalk_dim * channels)
                               if kind == "orthogonal" and edge_weights else None)
        self.left = nn.Linear(self.stalk_dim, self.stalk_dim, bias=False) if left_weights else None
        self.right = nn.Linear(channels, channels, bias=False) if right_weights else None
        self.epsilon = nn.Parameter(torch.zeros(self.stalk_dim, 1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.sheaf_learner.reset_parameters()
        if self.weight_learner is not None:
            self.weight_learner.reset_parameters()
        if self.left is not None:
            nn.init.eye_(self.left.weight)
        if self.right is not None:
            nn.init.orthogonal_(self.right.weight)
        nn.init.zeros_(self.epsilon)

    def laplacian(self, x: Tensor, graph: Adjacency, learner_dropout: float):
        """The sheaf Laplacian learned from ``x: [N, d*C]`` on ``graph``."""
        n = x.size(0)
        s = sheaf_structure(graph, n, self.stalk_dim, self.kind != "diag")
        h = dropout(x, learner_dropout, self.training)
        params = self.sheaf_learner(h, s.row, s.col)
        weight = jitter = None
        if self.kind == "diag":
            maps = params
        elif self.kind == "orthogonal":
            maps = orthogonal_maps(params, self.d, self.orthogonal_map)
            if self.weight_learner is not None:
                weight = self.weight_learner(h, s.row, s.col, s.rev)
        else:
            maps = params.view(-1, self.d, self.d)
            if self.training:  # distinct eigenvalues keep eigh's gradient finite (as the reference does)
                jitter = torch.empty(self.d, device=x.device, dtype=x.dtype).uniform_(-1e-3, 1e-3)
        fixed = fixed_maps(s, self.add_lp, self.add_hp, x.dtype) if (self.add_lp or self.add_hp) else None
        lap = sheaf_laplacian(s, maps, self.kind, weight, self.normalised, self.augmented, jitter, fixed)
        if self.kind == "general" and self.normalised:  # the reference clamps normalised general blocks
            lap.off, lap.diag = lap.off.clamp(-1, 1), lap.diag.clamp(-1, 1)
        return lap

    def forward(self, x: Tensor, x0: Tensor, graph: Adjacency, learner_dropout: float | None = None) -> Tensor:
        """``x, x0: [N, d*C]`` -> new ``x0: [N, d*C]``."""
        n, sd, c = x.size(0), self.stalk_dim, self.channels
        if x.dim() != 2 or x.size(1) != sd * c:
            raise ValueError(f"sheaf layer expects x of shape [N, {sd} * {c}] (stalk dim x channels), "
                             f"got {list(x.shape)}")
        lap = self.laplacian(x, graph, self.dropout if learner_dropout is None else learner_dropout)
        h = dropout(x, self.dropout, self.training).view(n, sd, c)
        if self.left is not None:
            h = torch.einsum("ij,njc->nic", self.left.weight, h)
        if self.right is not None:
            h = self.right(h)
        h = lap.matmul(h.reshape(n * sd, c)).view(n, sd * c)
        if self.use_act:
            h = F.elu(h)
        coeff = (1 + torch.tanh(self.epsilon)).expand(sd, c).reshape(1, sd * c)
        return coeff * x0 - h

    def extra_repr(self) -> str:
        return (f"channels={self.channels}, d={self.d}, kind={self.kind!r}, stalk_dim={self.stalk_dim}"
                + (f", map={self.orthogonal_map!r}" if self.kind == "orthogonal" else ""))

