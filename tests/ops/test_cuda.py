"""CUDA agrees with CPU for every op and layer (skipped where no GPU is present)."""
from __future__ import annotations

import copy

import pytest
import torch
from conftest import GRAPH_CASES, make_graph

from graphkit import backend
from graphkit.nn import GCNConv, GINConv, GINEConv
from graphkit.ops import Adjacency, gcn_aggregate, scatter, segment, softmax, spmm

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
TOL = {"rtol": 1e-5, "atol": 1e-6}


def both(t):
    return t, t.cuda()


def on_cuda(module):
    """A CUDA copy of ``module``: ``module.cuda()`` would move the CPU model's parameters in place, under
    the CPU autograd graph that still has to run backward (and its gradients would then meet CUDA ones)."""
    return copy.deepcopy(module).cuda()


def assert_grads_match(gpu_model, cpu_model):
    for (name, pg), (_, pc) in zip(gpu_model.named_parameters(), cpu_model.named_parameters()):
        if pc.grad is not None:
            torch.testing.assert_close(pg.grad.cpu(), pc.grad, **TOL, msg=lambda m, n=name: f"grad of {n}: {m}")


@pytest.mark.parametrize("case", GRAPH_CASES)
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
def test_ops_match_cpu(case, reduce):
    ei, ns, nd = make_graph(case, 0)
    x = torch.randn(ns, 8, dtype=torch.float64)
    w = torch.rand(ei.size(1), dtype=torch.float64) + 0.5
    for impl in backend.choices("spmm"):
        with backend.use(spmm=impl):
            cpu = spmm(ei, x, reduce, w, num_nodes=(ns, nd))
            gpu = spmm(ei.cuda(), x.cuda(), reduce, w.cuda(), num_nodes=(ns, nd))
            torch.testing.assert_close(gpu.cpu(), cpu, **TOL)
    src = torch.randn(ei.size(1), 4, dtype=torch.float64)
    torch.testing.assert_close(scatter(src.cuda(), ei[1].cuda(), nd, reduce).cpu(),
                               scatter(src, ei[1], nd, reduce), **TOL)
    adj = Adjacency.from_edge_index(ei, num_nodes=(ns, nd))
    msg = src[adj.perm]
    torch.testing.assert_close(segment(msg.cuda(), adj.rowptr.cuda(), reduce).cpu(),
                               segment(msg, adj.rowptr, reduce), **TOL)
    torch.testing.assert_close(softmax(src.cuda(), ei[1].cuda(), nd).cpu(), softmax(src, ei[1], nd), **TOL)


@pytest.mark.parametrize("case", [c for c in GRAPH_CASES if c != "bipartite"])
def test_gradients_and_layers_match_cpu(case):
    ei, n, _ = make_graph(case, 1)
    x = torch.randn(n, 6, dtype=torch.float64)
    e = torch.randn(ei.size(1), 3, dtype=torch.float64)
    xc, xg = x.clone().requires_grad_(), x.cuda().requires_grad_()
    gcn_aggregate(ei, xc).pow(2).sum().backward()
    gcn_aggregate(ei.cuda(), xg).pow(2).sum().backward()
    torch.testing.assert_close(xg.grad.cpu(), xc.grad, **TOL)
    mlp = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4)).double()
    for conv, args in ((GCNConv(6, 4).double(), ()), (GINConv(mlp), ()),
                       (GINEConv(mlp, edge_dim=3).double(), (e,))):
        conv.zero_grad(set_to_none=True)  # GINConv and GINEConv share the MLP
        gconv = on_cuda(conv)
        cpu_out = conv(x, ei, *args)
        gpu_out = gconv(x.cuda(), ei.cuda(), *(a.cuda() for a in args))
        torch.testing.assert_close(gpu_out.cpu(), cpu_out, **TOL)
        cpu_out.square().sum().backward()
        gpu_out.square().sum().backward()
        assert_grads_match(gconv, conv)


@pytest.mark.parametrize("chunk", ["whole", "chunks-of-1-to-3-edges"])
def test_attention_ops_and_gat_layers_match_cpu(chunk, monkeypatch):
    """attention_aggregate / pair_score (their CUDA path scatters with scatter_add_) and GATConv / GATv2Conv
    (edge features, from an edge_index and from an Adjacency) on CUDA vs CPU, values and gradients."""
    from graphkit.nn import GATConv, GATv2Conv
    from graphkit.ops import attention, attention_aggregate, pair_score

    if chunk != "whole":
        monkeypatch.setattr(attention, "_EDGE_CHUNK", 17)
        monkeypatch.setattr(attention, "_CHUNK", 24)
    ei, n, _ = make_graph("duplicates", 3)
    g = torch.Generator().manual_seed(0)
    alpha = torch.rand(ei.size(1), 2, generator=g, dtype=torch.float64)
    h = torch.randn(n, 2, 4, generator=g, dtype=torch.float64)
    x_r, term = torch.randn(n, 2, 4, dtype=torch.float64), torch.randn(ei.size(1), 2, 4, dtype=torch.float64)
    att = torch.randn(1, 2, 4, dtype=torch.float64)
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    calls = (lambda a, hh, e, ad: attention_aggregate(a, hh, e[0], e[1], n, ad),
             lambda a, hh, e, ad: pair_score(hh, x_r.to(hh.device), term.to(hh.device), att.to(hh.device), e[0],
                                             e[1], 0.2) * a.sum())
    for fn in calls:
        for use_adj in (False, True):
            grads = []
            for dev in ("cpu", "cuda"):
                a, hh = alpha.to(dev).requires_grad_(), h.to(dev).requires_grad_()
                out = fn(a, hh, ei.to(dev), adj.to(dev) if use_adj else None)
                out.square().sum().backward()
                grads.append((out.detach().cpu(), a.grad.cpu(), hh.grad.cpu()))
            for c, gpu in zip(*grads):
                torch.testing.assert_close(gpu, c, **TOL)
    x, e = torch.randn(n, 6, dtype=torch.float64), torch.randn(ei.size(1), 3, dtype=torch.float64)
    for conv in (GATConv(6, 4, heads=2, edge_dim=3).double(), GATv2Conv(6, 4, heads=2, edge_dim=3).double()):
        gconv = on_cuda(conv)
        for graph in (ei, adj):
            conv.zero_grad(set_to_none=True)
            gconv.zero_grad(set_to_none=True)
            cpu_out = conv(x, graph, e)
            gpu_out = gconv(x.cuda(), graph.to("cuda"), e.cuda())
            torch.testing.assert_close(gpu_out.cpu(), cpu_out, **TOL)
            cpu_out.square().sum().backward()
            gpu_out.square().sum().backward()
            assert_grads_match(gconv, conv)


def test_issue3_layers_and_models_match_cpu():
    """SAGEConv, EdgeGCNConv, pooling and the OGB molecule model (eval mode) on CUDA vs CPU."""
    from torch_geometric.data import Batch, Data

    from graphkit.models import MolGNN, MolGNNConfig
    from graphkit.nn import EdgeGCNConv, SAGEConv, global_pool

    ei, n, _ = make_graph("random", 2)
    x = torch.randn(n, 6, dtype=torch.float64)
    for conv, args in ((SAGEConv(6, 4).double(), ()),
                       (EdgeGCNConv(6).double(), (torch.randn(ei.size(1), 6, dtype=torch.float64),))):
        cpu_out = conv(x, ei, *args)
        gpu_out = on_cuda(conv)(x.cuda(), ei.cuda(), *(a.cuda() for a in args))
        torch.testing.assert_close(gpu_out.cpu(), cpu_out, **TOL)
    batch = torch.sort(torch.randint(0, 3, (n,))).values
    for reduce in ("sum", "mean", "max"):
        torch.testing.assert_close(global_pool(x.cuda(), batch.cuda(), 3, reduce).cpu(),
                                   global_pool(x, batch, 3, reduce), **TOL)
    graphs = [Data(x=torch.randint(0, 2, (4, 9)), edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]),
                   edge_attr=torch.randint(0, 2, (3, 3))) for _ in range(3)]
    b = Batch.from_data_list(graphs)
    model = MolGNN(MolGNNConfig(num_tasks=2, hidden=8, num_layers=2, virtual_node=True)).double().eval()
    cpu_out = model(b)
    torch.testing.assert_close(on_cuda(model)(b.cuda()).cpu(), cpu_out, **TOL)


@pytest.mark.parametrize("kind", ["diag", "orthogonal", "general"])
def test_sheaf_models_match_cpu(kind):
    from graphkit.models import NSD, NSDConfig

    g = torch.Generator().manual_seed(0)
    pairs = {(a, b) for a in range(20) for b in range(a + 1, 20) if torch.rand(1, generator=g).item() < 0.2}
    ei = torch.tensor(sorted(pairs)).t()
    ei = torch.cat([ei, ei.flip(0)], 1)
    torch.manual_seed(0)
    model = NSD(NSDConfig(in_channels=6, out_channels=3, kind=kind, d=3, hidden=4, num_layers=2,
                          add_lp=True)).double().eval()
    x = torch.randn(20, 6, dtype=torch.float64, requires_grad=True)
    xg = x.detach().cuda().requires_grad_()
    gmodel = on_cuda(model)
    cpu = model(x, ei)
    gpu = gmodel(xg, ei.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu, **TOL)
    cpu.square().sum().backward()
    gpu.square().sum().backward()
    torch.testing.assert_close(xg.grad.cpu(), x.grad, **TOL)
    assert_grads_match(gmodel, model)


@pytest.mark.parametrize("conv", ["hgnn", "hgnn+", "hcha"])
def test_hypergraph_models_match_cpu(conv):
    from graphkit.models import HypergraphNet, HypergraphNetConfig
    from graphkit.ops import Hypergraph

    g = torch.Generator().manual_seed(1)
    inc = torch.stack([torch.randint(0, 30, (80,), generator=g), torch.randint(0, 12, (80,), generator=g)])
    torch.manual_seed(0)
    model = HypergraphNet(HypergraphNetConfig(in_channels=5, out_channels=3, conv=conv, hidden=8)).double().eval()
    x = torch.randn(30, 5, dtype=torch.float64)
    cpu = model(x, Hypergraph(inc, 30, 12))
    gpu = on_cuda(model)(x.cuda(), Hypergraph(inc.cuda(), 30, 12))
    torch.testing.assert_close(gpu.cpu(), cpu, **TOL)


@pytest.mark.parametrize("name", ["stgcn-cheb", "stgcn-first", "gwnet", "vn-stgnn", "sttn", "sttn-paper", "tgcn"])
def test_traffic_models_match_cpu(name):
    from models.test_traffic_models import MODELS, N, _weights

    from graphkit.ops import SensorGraph

    torch.manual_seed(0)
    model = MODELS[name]().double().eval()
    w = _weights().double()
    x = torch.randn(2, 12, N, 2, dtype=torch.float64, requires_grad=True)
    xg = x.detach().cuda().requires_grad_()
    gmodel = on_cuda(model)
    cpu = model(x, SensorGraph(w))
    gpu = gmodel(xg, SensorGraph(w.cuda()))
    torch.testing.assert_close(gpu.cpu(), cpu, **TOL)
    cpu.square().sum().backward()
    gpu.square().sum().backward()
    torch.testing.assert_close(xg.grad.cpu(), x.grad, **TOL)
    assert_grads_match(gmodel, model)


@pytest.mark.parametrize("d_state", [4, 16])
def test_mamba_mixer_over_a_batch_of_graphs_matches_cpu(d_state):
    """MambaMixer over graphs of different sizes (an empty one too) and several orderings: the ragged rows are
    padded for the chunked scan on CUDA and packed time-major on CPU (d_state 16: a slab wide enough for the
    plain recurrence); outputs and gradients agree."""
    from graphkit.nn import MambaMixer

    torch.manual_seed(0)
    mixer = MambaMixer(8, d_state=d_state, expand=1, bidirectional=False, bias=False).double()
    sizes = [7, 0, 3, 12, 1]
    batch = torch.cat([torch.full((s,), i) for i, s in enumerate(sizes)])
    x = torch.randn(batch.numel(), 8, dtype=torch.float64, requires_grad=True)
    orders = []
    for _ in range(3):
        o = torch.randperm(batch.numel())
        orders.append(o[torch.argsort(batch[o], stable=True)])
    cpu_out = mixer(x, batch, len(sizes), orders)
    gmixer = on_cuda(mixer)
    xg = x.detach().cuda().requires_grad_()
    gpu_out = gmixer(xg, batch.cuda(), len(sizes), [o.cuda() for o in orders])
    torch.testing.assert_close(gpu_out.cpu(), cpu_out, **TOL)
    w = torch.randn_like(cpu_out)
    (cpu_out * w).sum().backward()
    (gpu_out * w.cuda()).sum().backward()
    torch.testing.assert_close(xg.grad.cpu(), x.grad, **TOL)
    assert_grads_match(gmixer, mixer)
