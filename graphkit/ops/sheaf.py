"""Sheaf Laplacians with per-edge restriction maps, applied without dense matrices.

A cellular sheaf on an undirected graph gives each node a ``d``-dimensional
stalk and each edge ``e = {v, u}`` two restriction maps ``F_v<e`` and ``F_u<e``
(``d x d``). Its Laplacian acts blockwise (Hansen & Ghrist; Bodnar et al. 2022):

    L_vv = sum_{e ∋ v} F_v<e^T F_v<e          L_vu = -F_v<e^T F_u<e

and the normalised Laplacian is ``D^-1/2 L D^-1/2`` with ``D`` the block
diagonal of ``L`` (``augmented``: ``D + I``, which keeps isolated nodes finite;
Neural Sheaf Diffusion uses it).

Conventions. The graph is given once per direction (``edge_index: [2, E]`` with
both ``(v, u)`` and ``(u, v)``, no self loops). Directed edge ``e = (v, u)``
carries the map of its first node: ``maps[e] = F_v<{v,u}``; the reverse edge
carries ``F_u<{v,u}``. Three kinds of maps:

* ``"diag"``: ``maps: [E, d]`` (diagonal maps),
* ``"orthogonal"``: ``maps: [E, d, d]`` orthogonal, optionally scaled by a
  symmetric positive edge weight ``w_e`` (NSD's O(d) / bundle sheaf),
* ``"general"``: ``maps: [E, d, d]`` arbitrary.

``L @ x`` for ``x: [N * d, C]`` (node-major: row ``v * d + i`` is stalk
dimension ``i`` of node ``v``) is one block-sparse spmm through
:func:`graphkit.ops.spmm` over an ``(N d) x (N d)`` pattern with ``E d`` (diag)
or ``E d^2`` entries, plus a per-node diagonal part. The pattern is built once
per graph (:func:`sheaf_structure`) and cached on the graph's
:class:`~graphkit.ops.Adjacency`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from graphkit.ops import check
from graphkit.ops.adjacency import Adjacency
from graphkit.ops.scatter import counts, scatter
from graphkit.ops.spmm import spmm

KINDS = ("diag", "orthogonal", "general")
ORTHOGONAL_METHODS = ("householder", "matrix_exp", "cayley")


def reverse_edges(edge_index: Tensor, num_nodes: int) -> Tensor:
    """``rev: [E]`` with ``edge_index[:, rev[e]] == edge_index[:, e].flip(0)``.

    Raises ValueError naming an offending edge if the graph has a self loop or
    an edge without its reverse (a sheaf Laplacian needs an undirected graph
    without self loops; symmetrise with :func:`graphkit.ops.to_undirected`).
    """
    check.check_edge_index(edge_index, num_nodes, num_nodes)
    row, col = edge_index[0].long(), edge_index[1].long()
    loops = (row == col).nonzero()
    if loops.numel():
        v = int(row[loops[0, 0]])
        raise ValueError(f"the sheaf Laplacian needs a graph without self loops; node {v} has one "
                         "(drop them with graphkit.ops.remove_self_loops)")
    key = row * num_nodes + col
    order = torch.argsort(key)
    sorted_key = key[order]
    rkey = col * num_nodes + row
    pos = torch.searchsorted(sorted_key, rkey).clamp_(max=max(key.numel() - 1, 0))
    if key.numel() and not bool((sorted_key[pos] == rkey).all()):
        bad = int((sorted_key[pos] != rkey).nonzero()[0, 0])
        raise ValueError(f"the sheaf Laplacian needs an undirected graph; edge ({int(row[bad])}, {int(col[bad])}) "
                         "has no reverse (symmetrise with graphkit.ops.to_undirected)")
    if key.numel() > 1 and bool((sorted_key[1:] == sorted_key[:-1]).any()):
        raise ValueError("edge_index holds duplicate edges; coalesce it first (graphkit.ops.coalesce)")
    return order[pos]


@dataclass
class SheafStructure:
    """Index structure of a sheaf Laplacian on one graph, for one stalk size.

    Attributes:
        row, col: ``[E]`` first / second node of each directed edge.
        rev: ``[E]`` index of the reverse edge.
        num_nodes, d: graph size and stalk dimension.
        block: whether off-diagonal blocks are full ``d x d`` (else diagonal).
        adj: :class:`Adjacency` over ``N * d`` rows holding the off-diagonal
            pattern; its entries are ordered edge-major (then ``i``, then ``j``).
    """

    row: Tensor
    col: Tensor
    rev: Tensor
    num_nodes: int
    d: int
    block: bool
    adj: Adjacency

    @property
    def num_edges(self) -> int:
        """Number of directed edges (each undirected edge counted twice)."""
        return self.row.numel()


def sheaf_structure(graph: Adjacency | Tensor, num_nodes: int, d: int, block: bool) -> SheafStructure:
    """The pattern of a sheaf Laplacian with stalk size ``d`` on ``graph``.

    ``graph`` is an undirected ``edge_index: [2, E]`` or an :class:`Adjacency`;
    for an Adjacency the result is cached on it (built once per graph, reused by
    every layer and step). ``block``: full ``d x d`` off-diagonal blocks.
    """
    d = check.check_size(d, "d")
    if d < 1:
        raise ValueError("the stalk dimension d must be >= 1")
    key = ("sheaf", d, bool(block))
    if isinstance(graph, Adjacency):
        if graph.num_src != num_nodes or graph.num_dst != num_nodes:
            raise ValueError(f"the adjacency is {graph.num_dst} x {graph.num_src} but the features give "
                             f"{num_nodes} nodes")
        return graph.cached(key, lambda: _sheaf_structure(torch.stack([graph.row, graph.col]), num_nodes, d, block))
    return _sheaf_structure(graph, num_nodes, d, block)


def _sheaf_structure(edge_index: Tensor, num_nodes: int, d: int, block: bool) -> SheafStructure:
    rev = reverse_edges(edge_index, num_nodes)
    row, col = edge_index[0].long(), edge_index[1].long()
    ar = torch.arange(d, device=row.device)
    if block:  # entry (e, i, j): output row v*d+i reads input row u*d+j
        dst = (row.view(-1, 1, 1) * d + ar.view(1, -1, 1)).expand(-1, d, d).reshape(-1)
        src = (col.view(-1, 1, 1) * d + ar.view(1, 1, -1)).expand(-1, d, d).reshape(-1)
    else:
        dst = (row.view(-1, 1) * d + ar).reshape(-1)
        src = (col.view(-1, 1) * d + ar).reshape(-1)
    adj = Adjacency.from_edge_index(torch.stack([src, dst]), num_nodes=num_nodes * d)
    return SheafStructure(row, col, rev, num_nodes, d, bool(block), adj)


@dataclass
class SheafLaplacian:
    """A sheaf Laplacian's values on a :class:`SheafStructure`.

    ``diag``: ``[N, d]`` (diagonal blocks that are diagonal) or ``[N, d, d]``;
    ``off``: ``[E, d]`` or ``[E, d, d]``, block ``L[row[e], col[e]]``.
    """

    structure: SheafStructure
    diag: Tensor
    off: Tensor

    def matmul(self, x: Tensor) -> Tensor:
        """``L @ x`` for ``x: [N * d, C]`` (node-major stalks); returns ``[N * d, C]``."""
        s = self.structure
        n, d = s.num_nodes, s.d
        check.check_features(x, n * d, "x")
        if x.dim() != 2:
            raise ValueError(f"x must have shape [N * d, C] = [{n * d}, C], got {list(x.shape)}")
        if (self.off.dim() == 3) != s.block:
            raise ValueError("the Laplacian's block shape does not match its structure")
        if s.block:
            out = _BlockSpMM.apply(self.off.to(x.dtype), x, s)
        else:
            out = spmm(s.adj, x, edge_weight=self.off.reshape(-1).to(x.dtype))
        xs = x.view(n, d, -1)
        if self.diag.dim() == 2:
            out = out + (self.diag.unsqueeze(-1) * xs).view(n * d, -1)
        else:
            out = out + torch.bmm(self.diag.to(x.dtype), xs).view(n * d, -1)
        return out

    def to_dense(self) -> Tensor:
        """The ``[N d, N d]`` matrix (for tests and small-graph baselines only)."""
        s = self.structure
        n, d = s.num_nodes, s.d
        diag = self.diag if self.diag.dim() == 3 else torch.diag_embed(self.diag)
        off = self.off if self.off.dim() == 3 else torch.diag_embed(self.off)
        out = diag.new_zeros(n, n, d, d)
        nodes = torch.arange(n, device=diag.device)
        out[nodes, nodes] = diag
        out.index_put_((s.row, s.col), off, accumulate=True)
        return out.permute(0, 2, 1, 3).reshape(n * d, n * d)


_BLOCK_CHUNK = 1 << 22  # gathered floats per chunk in the block gradient


class _BlockSpMM(torch.autograd.Function):
    """Off-diagonal product ``out[v] += off[e] @ x[u]`` for ``d x d`` blocks.

    Forward and the gradient for ``x`` are CSR products over the ``E d^2``
    scalar entries (:func:`graphkit.ops.spmm`). The gradient for the blocks,
    ``grad_out[v] @ x[u]^T``, is computed per edge with batched matrix products
    (``E d C`` gathered values) instead of once per scalar entry (``E d^2 C``):
    ``d`` times less memory traffic.
    """

    @staticmethod
    def forward(ctx, off: Tensor, x: Tensor, s: SheafStructure) -> Tensor:  # type: ignore[override]
        ctx.s = s
        ctx.save_for_backward(off, x)
        return spmm(s.adj, x, edge_weight=off.reshape(-1))

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        off, x = ctx.saved_tensors
        s: SheafStructure = ctx.s
        d = s.d
        grad_off = grad_x = None
        if ctx.needs_input_grad[1]:
            # (A^T g): the pattern is symmetric in structure, but the values are not: transpose each block
            # and swap the ends, which is the reverse edge's slot.
            grad_x = spmm(s.adj, grad_out, edge_weight=off.transpose(-1, -2).index_select(0, s.rev).reshape(-1))
        if ctx.needs_input_grad[0]:
            c = x.size(1)
            g3, x3 = grad_out.view(-1, d, c), x.view(-1, d, c)
            grad_off = off.new_empty(off.shape)
            step = max(1, _BLOCK_CHUNK // max(d * c, 1))
            for a in range(0, s.num_edges, step):
                r, k = s.row[a:a + step], s.col[a:a + step]
                grad_off[a:a + step] = torch.bmm(g3.index_select(0, r), x3.index_select(0, k).transpose(1, 2))
        return grad_off, grad_x, None


def _sym_inv_sqrt(m: Tensor) -> Tensor:
    """``m^-1/2`` for a batch of symmetric positive definite matrices ``[B, d, d]``.

    The eigendecomposition runs in float64: LAPACK's float32 ``syevd`` can fail to
    converge on these small, nearly degenerate blocks.
    """
    if not bool(torch.isfinite(m).all()):
        raise ValueError("the sheaf Laplacian's diagonal blocks hold NaN or inf (the restriction maps are not "
                         "finite: diverged training or non-finite input features)")
    evals, evecs = torch.linalg.eigh(m.double())
    out = evecs @ torch.diag_embed(evals.clamp_min(1e-12).rsqrt()) @ evecs.transpose(-1, -2)
    return out.to(m.dtype)


def _normaliser(deg: Tensor, augmented: bool) -> Tensor:
    if augmented:
        return (deg + 1).rsqrt()
    return torch.where(deg > 0, deg, torch.ones_like(deg)).rsqrt() * (deg > 0)


def _diagonal_sheaf(s: SheafStructure, maps: Tensor, normalised: bool, augmented: bool) -> tuple[Tensor, Tensor]:
    diag = scatter(maps * maps, s.row, s.num_nodes)
    off = -maps * maps.index_select(0, s.rev)
    if normalised:
        inv = _normaliser(diag, augmented)
        off = inv.index_select(0, s.row) * off * inv.index_select(0, s.col)
        diag = inv * inv * diag
    return diag, off


def _block_pad(blocks: Tensor, extra: Tensor) -> Tensor:
    """``[B, d, d]`` and ``[B, k]`` -> ``[B, d+k, d+k]`` block diagonal with ``diag(extra)`` last."""
    b, d, k = blocks.size(0), blocks.size(1), extra.size(1)
    top = torch.cat([blocks, blocks.new_zeros(b, d, k)], -1)
    bottom = torch.cat([extra.new_zeros(b, k, d), torch.diag_embed(extra)], -1)
    return torch.cat([top, bottom], -2)


def fixed_maps(structure: SheafStructure, low_pass: bool, high_pass: bool,
               dtype: torch.dtype = torch.float32) -> Tensor:
    """Constant diagonal maps ``[E, k]`` for NSD's extra stalk dimensions (``k = low_pass + high_pass``).

    ``high_pass``: both maps 1, so that dimension's block is ``D - A``;
    ``low_pass``: maps +1 / -1 on the two directions, giving ``D + A`` (the
    reference implementation's ``add_lp`` / ``add_hp``).
    """
    s = structure
    cols = []
    if low_pass:
        cols.append(torch.where(s.row < s.col, 1.0, -1.0).to(dtype))
    if high_pass:
        cols.append(torch.ones(s.num_edges, dtype=dtype, device=s.row.device))
    if not cols:
        return torch.zeros(s.num_edges, 0, dtype=dtype, device=s.row.device)
    return torch.stack(cols, -1)


def sheaf_laplacian(structure: SheafStructure, maps: Tensor, kind: str, edge_weight: Tensor | None = None,
                    normalised: bool = True, augmented: bool = True, jitter: Tensor | None = None,
                    fixed: Tensor | None = None) -> SheafLaplacian:
    """Build the (normalised) sheaf Laplacian from per-edge restriction maps.

    Args:
        structure: from :func:`sheaf_structure` with ``d = d_maps + k`` (``k``
            fixed dimensions) and ``block`` False for ``"diag"``, True otherwise.
        maps: ``[E, d_maps]`` for ``"diag"``; ``[E, d_maps, d_maps]`` for
            ``"orthogonal"`` (orthogonal matrices, see :func:`orthogonal_maps`)
            and ``"general"``.
        kind: ``"diag"``, ``"orthogonal"`` or ``"general"``.
        edge_weight: ``"orthogonal"`` only: ``[E]`` positive weights, equal on
            both directions of an edge; the maps become ``w_e * Q_e``.
        normalised: return ``D^-1/2 L D^-1/2`` (else ``L``).
        augmented: normalise with ``D + I`` instead of ``D``.
        jitter: ``"general"`` only: ``[d_maps]`` added to the diagonal of
            ``D + I`` before its inverse square root. NSD perturbs it during
            training so that the eigendecomposition's gradient stays finite.
        fixed: ``[E, k]`` constant diagonal maps for ``k`` extra stalk
            dimensions (:func:`fixed_maps`), normalised on their own and placed
            after the learned ones.

    Returns:
        :class:`SheafLaplacian` (block diagonal ``[N, d]`` for diag/orthogonal
        sheaves, ``[N, d, d]`` for general ones).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    s = structure
    n = s.num_nodes
    k = 0 if fixed is None else fixed.size(-1)
    d = s.d - k
    want = (s.num_edges, d) if kind == "diag" else (s.num_edges, d, d)
    if not isinstance(maps, Tensor) or tuple(maps.shape) != want:
        got = list(maps.shape) if isinstance(maps, Tensor) else type(maps).__name__
        raise ValueError(f"{kind} restriction maps must have shape {list(want)} (one per directed edge, stalk "
                         f"size {s.d} minus {k} fixed dims), got {got}")
    if s.block != (kind != "diag"):
        raise ValueError(f"a {kind} sheaf needs a structure built with block={kind != 'diag'}")
    if fixed is not None and (fixed.dim() != 2 or fixed.size(0) != s.num_edges):
        raise ValueError(f"fixed maps must have shape [{s.num_edges}, k], got {list(fixed.shape)}")
    if edge_weight is not None:
        if kind != "orthogonal":
            raise ValueError("edge_weight is only used by orthogonal (bundle) sheaves")
        check.check_edge_values(edge_weight, s.num_edges)
        edge_weight = edge_weight.reshape(-1)
    row, col, rev = s.row, s.col, s.rev

    if kind == "diag":
        diag, off = _diagonal_sheaf(s, maps, normalised, augmented)
    elif kind == "orthogonal":
        if edge_weight is not None:
            maps = maps * edge_weight.view(-1, 1, 1)
            deg = scatter(edge_weight * edge_weight, row, n)
        else:
            deg = counts(row, n).to(maps.dtype)
        off = -maps.transpose(-1, -2) @ maps.index_select(0, rev)
        if normalised:
            inv = _normaliser(deg, augmented)
            off = (inv.index_select(0, row) * inv.index_select(0, col)).view(-1, 1, 1) * off
            deg = inv * inv * deg
        diag = deg.unsqueeze(-1).expand(n, d)
    else:
        diag = scatter((maps.transpose(-1, -2) @ maps).reshape(-1, d * d), row, n).view(n, d, d)
        off = -maps.transpose(-1, -2) @ maps.index_select(0, rev)
        if normalised:
            eye = torch.eye(d, dtype=maps.dtype, device=maps.device)
            shift = eye if augmented else torch.zeros_like(eye)
            if jitter is not None:
                shift = shift + torch.diag(jitter.to(maps.dtype))
            inv = _sym_inv_sqrt(diag + shift)
            off = inv.index_select(0, row) @ off @ inv.index_select(0, col)
            diag = inv @ diag @ inv
    if k:
        fdiag, foff = _diagonal_sheaf(s, fixed.to(maps.dtype), normalised, augmented)
        if kind == "diag":
            diag, off = torch.cat([diag, fdiag], -1), torch.cat([off, foff], -1)
        else:
            off = _block_pad(off, foff)
            diag = torch.cat([diag, fdiag], -1) if diag.dim() == 2 else _block_pad(diag, fdiag)
    return SheafLaplacian(s, diag, off)


def orthogonal_maps(params: Tensor, d: int, method: str = "householder") -> Tensor:
    """Orthogonal ``[E, d, d]`` matrices from unconstrained parameters.

    * ``"householder"``: ``params: [E, d(d-1)/2]`` fill the strictly lower
      triangle of a unit lower-triangular matrix whose columns are Householder
      vectors; the map is the product of their reflections.
    * ``"matrix_exp"`` / ``"cayley"``: ``params: [E, d(d+1)/2]`` fill a lower
      triangle ``P``; ``A = P - P^T`` is skew-symmetric and the map is
      ``exp(A)`` or the Cayley transform ``(I - A/2)^-1 (I + A/2)``.
    """
    if method not in ORTHOGONAL_METHODS:
        raise ValueError(f"method must be one of {ORTHOGONAL_METHODS}, got {method!r}")
    size = orthogonal_param_size(d, method)
    if params.dim() != 2 or params.size(1) != size:
        raise ValueError(f"{method} maps for d={d} need params of shape [E, {size}], got {list(params.shape)}")
    offset = -1 if method == "householder" else 0
    tri = torch.tril_indices(d, d, offset=offset, device=params.device)
    a = params.new_zeros(params.size(0), d, d)
    a[:, tri[0], tri[1]] = params
    eye = torch.eye(d, dtype=params.dtype, device=params.device)
    if method == "householder":
        a = a + eye
        tau = 2.0 / (a * a).sum(-2)  # one per column: H = I - tau v v^T
        return torch.linalg.householder_product(a, tau)
    skew = a - a.transpose(-1, -2)
    if method == "matrix_exp":
        return torch.matrix_exp(skew)
    return torch.linalg.solve(eye - 0.5 * skew, eye + 0.5 * skew)


def orthogonal_param_size(d: int, method: str) -> int:
    """Number of parameters per map for :func:`orthogonal_maps`."""
    return d * (d - 1) // 2 if method == "householder" else d * (d + 1) // 2
