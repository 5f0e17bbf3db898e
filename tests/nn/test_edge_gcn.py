"""EdgeGCNConv (OGB's mol GCN layer) against a dense loop reference; equivariance; errors."""
import pytest
import torch

from graphkit.nn import EdgeGCNConv


def dense_reference(conv, x, ei, e):
    n = x.size(0)
    h = conv.linear(x)
    deg = torch.ones(n, dtype=x.dtype)
    for s in ei[0].tolist():
        deg[s] += 1
    rows = []
    for i in range(n):
        acc = torch.relu(h[i] + conv.root_emb.weight[0]) / deg[i]
        for k in range(ei.size(1)):
            if ei[1, k] == i:
                j = int(ei[0, k])
                acc = acc + torch.relu(h[j] + e[k]) / torch.sqrt(deg[i] * deg[j])
        rows.append(acc)
    return torch.stack(rows)


def graph(seed=0, n=6, m=10):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n, (m,), generator=g)
    dst = torch.randint(0, n, (m,), generator=g)
    return torch.stack([src, dst]), n


def test_matches_dense_reference_values_and_gradients():
    torch.manual_seed(0)
    ei, n = graph()
    conv = EdgeGCNConv(5).double()
    x = torch.randn(n, 5, dtype=torch.float64, requires_grad=True)
    e = torch.randn(ei.size(1), 5, dtype=torch.float64, requires_grad=True)
    out, expect = conv(x, ei, e), dense_reference(conv, x, ei, e)
    torch.testing.assert_close(out, expect)
    cot = torch.randn_like(out)
    ga = torch.autograd.grad((out * cot).sum(), (x, e, conv.linear.weight, conv.root_emb.weight))
    gb = torch.autograd.grad((expect * cot).sum(), (x, e, conv.linear.weight, conv.root_emb.weight))
    for a, b in zip(ga, gb):
        torch.testing.assert_close(a, b)


def test_permutation_equivariance():
    torch.manual_seed(1)
    ei, n = graph(1)
    conv = EdgeGCNConv(4).double()
    x = torch.randn(n, 4, dtype=torch.float64)
    e = torch.randn(ei.size(1), 4, dtype=torch.float64)
    p = torch.randperm(n)
    inv = torch.empty_like(p)
    inv[p] = torch.arange(n)
    torch.testing.assert_close(conv(x[p], inv[ei], e), conv(x, ei, e)[p])


def test_errors_name_the_problem():
    conv = EdgeGCNConv(4)
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="edge_attr has 3 features"):
        conv(torch.randn(2, 4), ei, torch.randn(2, 3))
    with pytest.raises(ValueError, match="edge_attr"):
        conv(torch.randn(2, 4), ei, torch.randn(5, 4))
    with pytest.raises((ValueError, IndexError), match="edge_index"):
        conv(torch.randn(2, 4), torch.tensor([[0, 7], [1, 0]]), torch.randn(2, 4))
