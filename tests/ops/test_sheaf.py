"""Sheaf Laplacians against a dense reference built entry by entry, plus their algebra.

The reference follows the definition directly (Hansen & Ghrist; Bodnar et al. 2022): for every edge
{v, u} with maps F_v, F_u, L_vv += F_v^T F_v, L_vu = -F_v^T F_u, then D^-1/2 L D^-1/2 with D the block
diagonal (+I when augmented). Nothing is shared with graphkit's implementation.
"""
import pytest
import torch

from graphkit.ops import (
    Adjacency,
    fixed_maps,
    orthogonal_maps,
    orthogonal_param_size,
    reverse_edges,
    sheaf_laplacian,
    sheaf_structure,
)

KINDS = ("diag", "orthogonal", "general")


def undirected_graph(n=8, p=0.45, seed=0, isolated=1):
    g = torch.Generator().manual_seed(seed)
    pairs = [(a, b) for a in range(n - isolated) for b in range(a + 1, n - isolated)
             if torch.rand(1, generator=g).item() < p]
    ei = torch.tensor(pairs, dtype=torch.long).t()
    ei = torch.cat([ei, ei.flip(0)], 1)
    return ei[:, torch.randperm(ei.size(1), generator=g)], n


def inv_sqrt(m):
    w, v = torch.linalg.eigh(m)
    return v @ torch.diag(w.rsqrt()) @ v.T


def dense_reference(ei, n, maps, kind, weight=None, normalised=True, augmented=True, fixed=None):
    """Dense [n*D, n*D] sheaf Laplacian from per-directed-edge maps (D = d + fixed dims)."""
    dd = maps.size(1)
    k = 0 if fixed is None else fixed.size(1)
    big = dd + k
    zero = torch.zeros(big, big, dtype=maps.dtype)
    full = []
    for e in range(ei.size(1)):
        m = torch.diag(maps[e]) if kind == "diag" else maps[e]
        if weight is not None:
            m = m * weight[e]
        f = torch.block_diag(m, torch.diag(fixed[e])) if k else m
        full.append(f)
    index = {(int(a), int(b)): e for e, (a, b) in enumerate(ei.t())}
    blocks = {}
    for v in range(n):
        blocks[v, v] = sum((full[e].T @ full[e] for (a, _), e in index.items() if a == v), zero)
    for (v, u), e in index.items():
        blocks[v, u] = -full[e].T @ full[index[(u, v)]]
    if normalised:
        norms = []
        for v in range(n):
            dv = blocks[v, v]
            if kind != "general":  # diagonal blocks: scalar normalisation per entry
                dg = torch.diagonal(dv)
                norms.append(torch.diag((dg + 1).rsqrt() if augmented else
                                        torch.where(dg > 0, dg.clamp_min(1e-300).rsqrt(), 0)))
            else:  # general learned block, fixed dims scalar
                eye = torch.eye(dd, dtype=maps.dtype)
                s = inv_sqrt(dv[:dd, :dd] + (eye if augmented else 0))
                if k:
                    dg = torch.diagonal(dv)[dd:]
                    s = torch.block_diag(s, torch.diag((dg + 1).rsqrt() if augmented else dg.rsqrt()))
                norms.append(s)
        blocks = {(v, u): norms[v] @ b @ norms[u] for (v, u), b in blocks.items()}
    rows = [torch.cat([blocks.get((v, u), zero) for u in range(n)], 1) for v in range(n)]
    return torch.cat(rows, 0)


def random_maps(kind, e, d, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    if kind == "diag":
        return torch.randn(e, d, generator=g, dtype=dtype)
    if kind == "orthogonal":
        return orthogonal_maps(torch.randn(e, orthogonal_param_size(d, "householder"), generator=g, dtype=dtype), d)
    return torch.randn(e, d, d, generator=g, dtype=dtype)


@pytest.mark.parametrize("kind,weighted", [("diag", False), ("orthogonal", False), ("orthogonal", True),
                                            ("general", False)])
@pytest.mark.parametrize("normalised", [True, False])
@pytest.mark.parametrize("fixed_dims", [0, 2])
def test_matches_dense_reference(kind, normalised, fixed_dims, weighted):
    ei, n = undirected_graph(seed=1)
    d = 3
    s = sheaf_structure(ei, n, d + fixed_dims, kind != "diag")
    maps = random_maps(kind, ei.size(1), d)
    weight = None
    if weighted:
        w = torch.rand(ei.size(1), dtype=torch.float64) + 0.1
        weight = w * w[s.rev]
    fixed = fixed_maps(s, True, True, torch.float64) if fixed_dims else None
    lap = sheaf_laplacian(s, maps, kind, weight, normalised=normalised, fixed=fixed)
    ref = dense_reference(ei, n, maps, kind, weight, normalised, True, fixed)
    torch.testing.assert_close(lap.to_dense(), ref)
    x = torch.randn(n * (d + fixed_dims), 5, dtype=torch.float64)
    torch.testing.assert_close(lap.matmul(x), ref @ x)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_dense_reference(kind):
    ei, n = undirected_graph(n=6, seed=2)
    d = 2
    s = sheaf_structure(ei, n, d, kind != "diag")
    if kind == "orthogonal":
        params = torch.randn(ei.size(1), 1, dtype=torch.float64, requires_grad=True)
        make = lambda p: orthogonal_maps(p, d)  # noqa: E731
    else:
        params = random_maps(kind, ei.size(1), d).requires_grad_()
        make = lambda p: p  # noqa: E731
    x = torch.randn(n * d, 3, dtype=torch.float64, requires_grad=True)
    out = sheaf_laplacian(s, make(params), kind).matmul(x)
    ref = dense_reference(ei, n, make(params), kind) @ x
    cot = torch.randn_like(out)
    ga = torch.autograd.grad((out * cot).sum(), (params, x))
    gb = torch.autograd.grad((ref * cot).sum(), (params, x))
    for a, b in zip(ga, gb):
        torch.testing.assert_close(a, b)
    torch.autograd.gradcheck(lambda p, xx: sheaf_laplacian(s, make(p), kind).matmul(xx), (params, x))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("normalised", [True, False])
def test_symmetric_positive_semidefinite(kind, normalised):
    ei, n = undirected_graph(n=10, seed=3)
    s = sheaf_structure(ei, n, 4, kind != "diag")
    lap = sheaf_laplacian(s, random_maps(kind, ei.size(1), 4, seed=4), kind, normalised=normalised).to_dense()
    torch.testing.assert_close(lap, lap.T)
    assert torch.linalg.eigvalsh(lap).min() > -1e-10
    if normalised:  # the augmented normalisation keeps the spectrum in [0, 2)
        assert torch.linalg.eigvalsh(lap).max() < 2


def test_permutation_equivariance():
    ei, n = undirected_graph(n=9, seed=5)
    d = 3
    maps = random_maps("general", ei.size(1), d)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    inv = torch.argsort(perm)  # node v becomes inv[v]
    lap = sheaf_laplacian(sheaf_structure(ei, n, d, True), maps, "general").to_dense()
    lap_p = sheaf_laplacian(sheaf_structure(inv[ei], n, d, True), maps, "general").to_dense()
    idx = (perm.view(-1, 1) * d + torch.arange(d)).reshape(-1)  # new row r holds old row idx[r]
    torch.testing.assert_close(lap_p, lap[idx][:, idx])


@pytest.mark.parametrize("method", ["householder", "matrix_exp", "cayley"])
@pytest.mark.parametrize("d", [2, 3, 5])
def test_orthogonal_maps_are_orthogonal(method, d):
    p = torch.randn(50, orthogonal_param_size(d, method), dtype=torch.float64) * 3
    q = orthogonal_maps(p, d, method)
    eye = torch.eye(d, dtype=torch.float64).expand(50, d, d)
    torch.testing.assert_close(q @ q.transpose(1, 2), eye)
    torch.testing.assert_close(q.transpose(1, 2) @ q, eye)
    p32 = p.float().requires_grad_()
    q32 = orthogonal_maps(p32, d, method)
    torch.testing.assert_close(q32 @ q32.transpose(1, 2), eye.float(), atol=1e-5, rtol=1e-5)
    q32.sum().backward()
    assert torch.isfinite(p32.grad).all()


def test_householder_zero_params_give_reflection_product():
    # zero parameters: every Householder vector is a unit basis vector, so Q = prod(I - 2 e_i e_i^T) = -I
    q = orthogonal_maps(torch.zeros(1, 3), 3)
    torch.testing.assert_close(q[0], -torch.eye(3))


def test_structure_is_cached_on_the_adjacency():
    ei, n = undirected_graph()
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    assert sheaf_structure(adj, n, 3, True) is sheaf_structure(adj, n, 3, True)
    assert sheaf_structure(adj, n, 3, False) is not sheaf_structure(adj, n, 3, True)


def test_reverse_edges():
    ei, n = undirected_graph(seed=7)
    rev = reverse_edges(ei, n)
    torch.testing.assert_close(ei[:, rev], ei.flip(0))


@pytest.mark.parametrize("bad,match", [
    (torch.tensor([[0, 1, 1], [1, 0, 1]]), "self loops"),
    (torch.tensor([[0, 1, 2], [1, 0, 0]]), r"edge \(2, 0\) has no reverse"),
    (torch.tensor([[0, 1, 0, 1], [1, 0, 1, 0]]), "duplicate"),
    (torch.tensor([[0, 5], [5, 0]]), "out of range"),
])
def test_bad_graphs_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        sheaf_structure(bad, 3, 2, False)


def test_bad_map_shapes_are_named():
    ei, n = undirected_graph()
    s = sheaf_structure(ei, n, 3, True)
    with pytest.raises(ValueError, match=r"maps must have shape \[\d+, 3, 3\]"):
        sheaf_laplacian(s, torch.randn(ei.size(1), 3), "general")
    with pytest.raises(ValueError, match="block=False"):
        sheaf_laplacian(s, torch.randn(ei.size(1), 3), "diag")
    with pytest.raises(ValueError, match="kind must be one of"):
        sheaf_laplacian(s, torch.randn(ei.size(1), 3, 3), "bundle")
    with pytest.raises(ValueError, match="only used by orthogonal"):
        sheaf_laplacian(s, torch.randn(ei.size(1), 3, 3), "general", edge_weight=torch.ones(ei.size(1)))
    with pytest.raises(ValueError, match=r"need params of shape \[E, 3\]"):
        orthogonal_maps(torch.randn(4, 2), 3)
    lap = sheaf_laplacian(s, random_maps("general", ei.size(1), 3, torch.float32), "general")
    with pytest.raises(ValueError, match="rows but the graph has"):
        lap.matmul(torch.randn(n * 2, 4))


def test_fixed_dimensions_are_signless_and_plain_graph_laplacians():
    ei, n = undirected_graph(seed=8, isolated=0)
    s = sheaf_structure(ei, n, 3, False)
    lap = sheaf_laplacian(s, torch.zeros(ei.size(1), 1, dtype=torch.float64), "diag", normalised=False,
                          fixed=fixed_maps(s, True, True, torch.float64)).to_dense()
    a = torch.zeros(n, n, dtype=torch.float64)
    a[ei[0], ei[1]] = 1
    deg = torch.diag(a.sum(1))
    torch.testing.assert_close(lap[1::3, 1::3], deg + a)  # low pass: D + A (the reference code's add_lp)
    torch.testing.assert_close(lap[2::3, 2::3], deg - a)  # high pass: D - A


def test_non_finite_maps_get_a_named_error():
    ei, n = undirected_graph()
    s = sheaf_structure(ei, n, 2, True)
    maps = torch.randn(ei.size(1), 2, 2)
    maps[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="not finite"):
        sheaf_laplacian(s, maps, "general")
