"""GATConv / GATv2Conv against PyG's (same weights: outputs and every gradient), equivariance, errors."""
import pytest
import torch
from conftest import make_graph

from graphkit.nn import GATConv, GATv2Conv
from graphkit.ops import Adjacency, attention

pyg = pytest.importorskip("torch_geometric.nn")
PAIRS = {"gat": (GATConv, lambda *a, **k: pyg.GATConv(*a, **k)),
         "gatv2": (GATv2Conv, lambda *a, **k: pyg.GATv2Conv(*a, **k))}
OPTIONS = [dict(heads=1), dict(heads=3), dict(heads=2, concat=False), dict(heads=2, residual=True),
           dict(heads=2, add_self_loops=False), dict(heads=2, bias=False, negative_slope=0.1)]


def _assert_same_function(ours, theirs, ours_args, theirs_args):
    """Equal outputs, and equal gradients of a random functional for every floating-point input and every
    parameter (by PyG's names); both modules' gradients are cleared afterwards."""
    def leaves(args):
        return [t.detach().clone().requires_grad_() if isinstance(t, torch.Tensor) and t.is_floating_point() else t
                for t in args]

    a, b = leaves(ours_args), leaves(theirs_args)
    out, expect = ours(*a), theirs(*b)
    torch.testing.assert_close(out, expect)
    cot = torch.randn_like(out)
    (out * cot).sum().backward()
    (expect * cot).sum().backward()
    for u, v in zip(a, b):
        if isinstance(u, torch.Tensor) and u.requires_grad:
            torch.testing.assert_close(u.grad, v.grad)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, theirs_params[name].grad, msg=name)
    ours.zero_grad()
    theirs.zero_grad()


@pytest.fixture(params=["one-chunk", "chunks-of-1-to-3-edges"])
def edge_chunk(request, monkeypatch):
    """The edge_index paths work a chunk of edges at a time; 13 numbers per chunk splits the test graphs into
    chunks of 1 .. 3 edges (by heads x out_channels), with a short last chunk."""
    if request.param != "one-chunk":
        monkeypatch.setattr(attention, "_EDGE_CHUNK", 13)


@pytest.mark.usefixtures("edge_chunk")
@pytest.mark.parametrize("kind", ["gat", "gatv2"])
@pytest.mark.parametrize("case", ["random", "isolated", "self_loops", "duplicates", "hub"])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_matches_pyg_values_and_gradients(kind, case, opts):
    ours_cls, theirs_cls = PAIRS[kind]
    ei, n, _ = make_graph(case, 0)
    torch.manual_seed(0)
    theirs = theirs_cls(6, 4, **opts).double()
    ours = ours_cls(6, 4, **opts).double()
    ours.load_state_dict(theirs.state_dict())                       # PyG's parameter names load as they are
    for graph in (ei, Adjacency.from_edge_index(ei, num_nodes=n)):
        x = torch.randn(n, 6, dtype=torch.float64)
        _assert_same_function(ours, theirs, (x, graph), (x, ei))


@pytest.mark.usefixtures("edge_chunk")
@pytest.mark.parametrize("kind", ["gat", "gatv2"])
@pytest.mark.parametrize("case", ["random", "self_loops", "duplicates", "isolated"])
@pytest.mark.parametrize("opts", [dict(heads=2, fill_value="mean"), dict(heads=2, fill_value=0.5),
                                  dict(heads=1, fill_value="add", concat=False), dict(heads=2, fill_value="max"),
                                  dict(heads=2, add_self_loops=False), dict(heads=2, edge_dim=1)],
                         ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_edge_features_match_pyg(kind, case, opts):
    """``edge_dim``: PyG's lin_edge / att_edge load, the self loops' features are filled as PyG fills them,
    and outputs and every gradient (edge features included) agree, from an edge_index or an Adjacency."""
    ours_cls, theirs_cls = PAIRS[kind]
    opts = {"edge_dim": 3, **opts}
    ei, n, _ = make_graph(case, 1)
    torch.manual_seed(0)
    theirs = theirs_cls(6, 4, **opts).double()
    ours = ours_cls(6, 4, **opts).double()
    ours.load_state_dict(theirs.state_dict())
    shape = (ei.size(1),) if opts["edge_dim"] == 1 else (ei.size(1), opts["edge_dim"])
    for graph in (ei, Adjacency.from_edge_index(ei, num_nodes=n)):
        x = torch.randn(n, 6, dtype=torch.float64)
        ea = torch.randn(*shape, dtype=torch.float64)
        _assert_same_function(ours, theirs, (x, graph, ea), (x, ei, ea))


@pytest.mark.usefixtures("edge_chunk")
@pytest.mark.parametrize("case", ["random", "self_loops", "hub"])
def test_gatv2_shared_weights_match_pyg(case):
    """share_weights=True: one matrix on both ends of an edge, so its gradient sums both ends' contributions."""
    ei, n, _ = make_graph(case, 2)
    torch.manual_seed(0)
    theirs = pyg.GATv2Conv(6, 4, heads=2, share_weights=True).double()
    ours = GATv2Conv(6, 4, heads=2, share_weights=True).double()
    ours.load_state_dict(theirs.state_dict())
    for graph in (ei, Adjacency.from_edge_index(ei, num_nodes=n)):
        x = torch.randn(n, 6, dtype=torch.float64)
        _assert_same_function(ours, theirs, (x, graph), (x, ei))


@pytest.mark.usefixtures("edge_chunk")
@pytest.mark.parametrize("kind", ["gat", "gatv2"])
@pytest.mark.parametrize("edge_dim", [None, 3])
def test_bfloat16_autocast_matches_pyg(kind, edge_dim):
    """Under CPU autocast (bfloat16 features) outputs and gradients stay within bfloat16 rounding of PyG's, and
    each parameter's gradient has its parameter's dtype (the chunked backward casts what it accumulates)."""
    ours_cls, theirs_cls = PAIRS[kind]
    g = torch.Generator().manual_seed(5)
    n, e = 40, 300
    ei = torch.randint(0, n, (2, e), generator=g)
    x = torch.randn(n, 16, generator=g)
    ea = torch.randn(e, 3, generator=g) if edge_dim else None
    torch.manual_seed(0)
    theirs = theirs_cls(16, 8, heads=4, edge_dim=edge_dim)
    ours = ours_cls(16, 8, heads=4, edge_dim=edge_dim)
    ours.load_state_dict(theirs.state_dict())
    outs = []
    for conv in (ours, theirs):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = conv(x, ei) if ea is None else conv(x, ei, ea)
        (out.float() * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        outs.append(out.float())
    torch.testing.assert_close(outs[0], outs[1], rtol=0.05, atol=0.02)
    expect = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad.dtype == p.dtype, name
        scale = expect[name].grad.abs().max().item() + 1e-6
        assert (p.grad - expect[name].grad).abs().max().item() <= 0.03 * scale, name


@pytest.mark.parametrize("cls", [GATConv, GATv2Conv])
def test_node_permutation_equivariance(cls):
    ei, n, _ = make_graph("random", 3)
    conv = cls(5, 3, heads=2).double()
    x = torch.randn(n, 5, dtype=torch.float64)
    perm = torch.randperm(n)
    inv = perm.argsort()
    torch.testing.assert_close(conv(x, ei)[perm], conv(x[perm], inv[ei]))


def test_training_dropout_and_named_errors():
    ei, n, _ = make_graph("random", 1)
    conv = GATConv(4, 2, heads=2, dropout=0.5).train()
    torch.manual_seed(0)
    a = conv(torch.ones(n, 4), ei)
    b = conv(torch.ones(n, 4), ei)
    assert not torch.equal(a, b)                                    # attention dropout is active in training
    with pytest.raises(ValueError, match="edge_dim=None but edge_attr is given"):
        conv(torch.ones(n, 4), ei, torch.ones(ei.size(1), 3))
    with pytest.raises(ValueError, match="edge_dim=3 but edge_attr is missing"):
        GATConv(4, 2, edge_dim=3)(torch.ones(n, 4), ei)
    with pytest.raises(ValueError, match="edge_attr has 2 features but edge_dim is 3"):
        GATConv(4, 2, edge_dim=3)(torch.ones(n, 4), ei, torch.ones(ei.size(1), 2))
    with pytest.raises(ValueError, match=r"edge_attr has shape \[3, 3\] but there are"):
        GATConv(4, 2, edge_dim=3)(torch.ones(n, 4), ei, torch.ones(3, 3))
    with pytest.raises(ValueError, match="fill_value must be"):
        GATConv(4, 2, edge_dim=3, fill_value="median")(torch.ones(n, 4), ei, torch.ones(ei.size(1), 3))
    with pytest.raises(ValueError, match="share_weights=True needs equal source and target widths"):
        GATv2Conv((4, 5), 2, share_weights=True)
    with pytest.raises(ValueError, match="in_channels must be an int or a"):
        GATConv((4, 5, 6), 2)
    with pytest.raises(ValueError, match="x_dst has 4 features but in_channels is 5"):
        GATConv((4, 5), 2)((torch.ones(n, 4), torch.ones(n, 4)), ei)
    with pytest.raises(ValueError, match="x has 5 features but in_channels is 4"):
        conv(torch.ones(n, 5), ei)
    with pytest.raises(ValueError, match=r"dense batch \[B, N, F\]"):
        conv(torch.ones(2, n, 4), ei)


@pytest.mark.parametrize("dataset, level", [("cora", "node"), ("mutag", "graph")])
def test_cli_trains_gat_on_node_and_graph_tasks(dataset, level, tmp_path, capsys):
    from conftest import require_data

    from graphkit.cli import main

    root = require_data(*(("planetoid", "Cora") if dataset == "cora" else ("tu", "MUTAG")))
    for model in ("gat", "gatv2"):
        assert main(["train", "--model", model, "--dataset", dataset, "--epochs", "2", "--data-root", root,
                     "--out", str(tmp_path / model), "--quiet"]) == 0
        assert "test acc" in capsys.readouterr().out


def _bipartite(seed, n_src, n_dst, e):
    g = torch.Generator().manual_seed(seed)
    ei = torch.stack([torch.randint(0, n_src, (e,), generator=g), torch.randint(0, n_dst, (e,), generator=g)])
    ei[:, :3] = torch.tensor([[0, 1, 2], [0, 1, 2]])  # a few (i, i) pairs: PyG removes and re-adds them
    return ei


@pytest.mark.parametrize("kind", ["gat", "gatv2"])
@pytest.mark.parametrize("sizes", [(9, 5), (5, 9)], ids=["more-sources", "more-targets"])
@pytest.mark.parametrize("opts", [dict(heads=2), dict(heads=1, concat=False, residual=True),
                                  dict(heads=2, add_self_loops=False), dict(heads=2, edge_dim=3),
                                  dict(heads=2, edge_dim=3, fill_value=0.5)],
                         ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_bipartite_matches_pyg(kind, sizes, opts):
    """in_channels=(F_src, F_dst) and x=(x_src, x_dst): PyG's lin_src/lin_dst (lin_l/lin_r) load, self loops
    join nodes 0..min(N_src, N_dst)-1, the output has N_dst rows; values and every gradient agree, from an
    edge_index or a (num_src, num_dst) Adjacency."""
    ours_cls, theirs_cls = PAIRS[kind]
    n_src, n_dst = sizes
    ei = _bipartite(4, n_src, n_dst, 30)
    torch.manual_seed(0)
    theirs = theirs_cls((6, 3), 4, **opts).double()
    ours = ours_cls((6, 3), 4, **opts).double()
    ours.load_state_dict(theirs.state_dict())
    for graph in (ei, Adjacency.from_edge_index(ei, num_nodes=(n_src, n_dst))):
        x_src = torch.randn(n_src, 6, dtype=torch.float64)
        x_dst = torch.randn(n_dst, 3, dtype=torch.float64)
        extra = (torch.randn(ei.size(1), 3, dtype=torch.float64),) if "edge_dim" in opts else ()
        out = ours((x_src, x_dst), graph, *extra)
        assert out.size(0) == n_dst
        if extra and opts.get("fill_value", "mean") == "mean" and n_dst > n_src:
            # PyG's add_self_loops scatters the loops' mean features into min(N_src, N_dst) rows and fails on
            # targets beyond it; compare with PyG on the loops added by hand (mean of each node's in-edges)
            keep = ei[0] != ei[1]
            kept_ei, kept_ea = ei[:, keep], extra[0][keep]
            m = min(n_src, n_dst)
            sums = torch.zeros(n_dst, 3, dtype=torch.float64).index_add_(0, kept_ei[1], kept_ea)
            cnt = torch.zeros(n_dst, dtype=torch.float64).index_add_(0, kept_ei[1], torch.ones(kept_ei.size(1),
                                                                                               dtype=torch.float64))
            loop_ea = (sums / cnt.clamp(min=1).unsqueeze(-1))[:m]
            loops = torch.arange(m).repeat(2, 1)
            theirs.add_self_loops = False
            expect = theirs((x_src, x_dst), torch.cat([kept_ei, loops], 1), torch.cat([kept_ea, loop_ea]))
            theirs.add_self_loops = True
            torch.testing.assert_close(out, expect)
            continue
        # the pair is one argument; compare through a wrapper that takes the tensors separately
        _assert_same_function(_Pair(ours), _Pair(theirs), (x_src, x_dst, graph, *extra), (x_src, x_dst, ei, *extra))


class _Pair(torch.nn.Module):
    def __init__(self, conv):
        super().__init__()
        self.conv = conv

    def forward(self, x_src, x_dst, graph, *extra):
        return self.conv((x_src, x_dst), graph, *extra)


@pytest.mark.parametrize("kind", ["gat", "gatv2"])
def test_square_layer_on_a_pair_matches_pyg(kind):
    """An int in_channels with x given as a pair: one map for both sides, as PyG does."""
    ours_cls, theirs_cls = PAIRS[kind]
    ei = _bipartite(5, 7, 7, 25)
    torch.manual_seed(0)
    theirs = theirs_cls(6, 4, heads=2).double()
    ours = ours_cls(6, 4, heads=2).double()
    ours.load_state_dict(theirs.state_dict())
    x_src, x_dst = torch.randn(7, 6, dtype=torch.float64), torch.randn(7, 6, dtype=torch.float64)
    _assert_same_function(_Pair(ours), _Pair(theirs), (x_src, x_dst, ei), (x_src, x_dst, ei))
