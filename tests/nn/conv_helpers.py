"""Shared machinery for the layer tests: PyG twins with identical weights, parity and equivariance checks."""
from __future__ import annotations

import pytest
import torch
from conftest import GRAPH_CASES, make_graph
from torch import nn

from graphkit.nn import GCNConv, GINConv, GINEConv

pyg = pytest.importorskip("torch_geometric.nn")
SQUARE = [c for c in GRAPH_CASES if c != "bipartite"]
TOL = {"rtol": 1e-9, "atol": 1e-10}  # float64 throughout


def mlp(i, o):
    return nn.Sequential(nn.Linear(i, 2 * o), nn.ReLU(), nn.Linear(2 * o, o))


def pair(kind, fin, fout, **kw):
    """(ours, PyG's) with identical weights, float64."""
    if kind == "gcn":
        theirs = pyg.GCNConv(fin, fout, **kw).double()
        ours = GCNConv(fin, fout, **kw).double()
    elif kind == "gin":
        theirs = pyg.GINConv(mlp(fin, fout), **kw).double()
        ours = GINConv(mlp(fin, fout), **kw).double()
    else:
        theirs = pyg.GINEConv(mlp(fin, fout), edge_dim=3, **kw).double()
        ours = GINEConv(mlp(fin, fout), edge_dim=3, **kw).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def run(conv, kind, x, graph, w, e):
    if kind == "gcn":
        return conv(x, graph, w)
    if kind == "gin":
        return conv(x, graph)
    return conv(x, graph, e)


def check_parity(ours, theirs, kind, x, ei, w, e, graph=None):
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    wa = None if w is None else w.clone().requires_grad_()
    wb = None if w is None else w.clone().requires_grad_()
    ea, eb = e.clone().requires_grad_(), e.clone().requires_grad_()
    out = run(ours, kind, xa, ei if graph is None else graph, wa, ea)
    expect = run(theirs, kind, xb, ei, wb, eb)
    torch.testing.assert_close(out, expect, **TOL)
    cot = torch.randn_like(out)
    (out * cot).sum().backward()
    (expect * cot).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, **TOL)
    if w is not None and kind == "gcn":
        # A node with several self loops keeps only the last one's weight, so the
        # others have zero gradient (finite differences agree); PyG's index_put
        # backward hands them the kept loop's gradient, so skip them there.
        shadowed = shadowed_loops(ei) if ours.add_self_loops else torch.zeros(ei.size(1), dtype=torch.bool)
        torch.testing.assert_close(wa.grad[~shadowed], wb.grad[~shadowed], **TOL)
        assert torch.all(wa.grad[shadowed].abs() < 1e-12)
    if kind == "gine":
        torch.testing.assert_close(ea.grad, eb.grad, **TOL)
    for (na, pa), (nb, pb) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert na == nb
        torch.testing.assert_close(pa.grad, pb.grad, **TOL, msg=na)
        pa.grad = pb.grad = None


def shadowed_loops(ei):
    """Self loops that a later self loop of the same node replaces."""
    out = torch.zeros(ei.size(1), dtype=torch.bool)
    seen = set()
    for e in reversed(range(ei.size(1))):
        if ei[0, e] == ei[1, e]:
            out[e] = int(ei[0, e]) in seen
            seen.add(int(ei[0, e]))
    return out


def graph_inputs(case, seed, fin=6):
    ei, n, _ = make_graph(case, seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, fin, dtype=torch.float64, generator=g)
    w = torch.rand(ei.size(1), dtype=torch.float64, generator=g) + 0.5
    e = torch.randn(ei.size(1), 3, dtype=torch.float64, generator=g)
    return ei, n, x, w, e


def check_equivariance(conv, kind, case, seed=6):
    """Relabel nodes and shuffle edges: outputs must follow the node permutation."""
    ei, n, x, w, e = graph_inputs(case, seed)
    perm = torch.randperm(n)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n)
    edge_perm = torch.randperm(ei.size(1))  # edge order must not matter either
    ei2 = inv[ei][:, edge_perm]
    x2 = torch.empty_like(x)
    x2[inv] = x
    out = run(conv, kind, x, ei, w, e)
    out2 = run(conv, kind, x2, ei2, w[edge_perm], e[edge_perm])
    torch.testing.assert_close(out2[inv], out, **TOL)


def check_sparse_tensor_parity(kind):
    """The layer given a torch_sparse SparseTensor adj_t matches PyG's layer given the same."""
    ts = pytest.importorskip("torch_sparse")
    torch.manual_seed(3)
    ei, n, x, w, e = graph_inputs("duplicates", 5)
    adj_t = ts.SparseTensor(row=ei[1], col=ei[0], sparse_sizes=(n, n))
    ours, theirs = pair(kind, 6, 4)
    torch.testing.assert_close(run(ours, kind, x, adj_t, None, e), run(theirs, kind, x, adj_t, None, e), **TOL)
