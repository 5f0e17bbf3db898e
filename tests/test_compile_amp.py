"""torch.compile and mixed precision: the core ops and layers trace into one graph (fullgraph=True, no graph
breaks) once an Adjacency has been prepared by an eager call, compiled outputs equal eager ones, and the
trainer's `train.compile` / `train.amp` options train."""
from __future__ import annotations

import pytest
import torch

from graphkit.nn import GCNConv, GINConv, SAGEConv
from graphkit.ops import Adjacency, scatter, softmax, spmm


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _graph():
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, 40, (2, 160), generator=g)
    return ei, Adjacency.from_edge_index(ei, num_nodes=40), torch.randn(40, 8, generator=g)


def test_core_ops_compile_without_graph_breaks():
    ei, adj, x = _graph()
    cases = {
        "spmm": lambda x: spmm(adj, x),
        "spmm-mean": lambda x: spmm(adj, x, "mean"),
        "scatter-sum": lambda x: scatter(x[ei[0]], ei[1], 40, "sum"),
        "softmax": lambda x: softmax(x[ei[0]], ei[1], 40),
    }
    for name, fn in cases.items():
        want = fn(x)
        got = torch.compile(fn, fullgraph=True)(x)  # raises on any graph break
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5, msg=name)


@pytest.mark.parametrize("layer", ["gcn", "gin", "sage"])
def test_layers_compile_without_graph_breaks_and_backward(layer):
    torch.manual_seed(1)
    _, adj, x = _graph()
    conv = {"gcn": lambda: GCNConv(8, 8), "gin": lambda: GINConv(torch.nn.Linear(8, 8)),
            "sage": lambda: SAGEConv(8, 8)}[layer]()
    want = conv(x, adj)  # the eager call checks the inputs and caches the normalisation on the Adjacency
    fn = torch.compile(lambda x: conv(x, adj), fullgraph=True)
    xc = x.clone().requires_grad_()
    got = fn(xc)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    got.square().sum().backward()
    xe = x.clone().requires_grad_()
    conv(xe, adj).square().sum().backward()
    torch.testing.assert_close(xc.grad, xe.grad, rtol=1e-4, atol=1e-5)


def test_trainer_compile_and_bf16(tmp_path):
    from graphkit.data.synthetic import node_classification
    from graphkit.models import GCN, GCNConfig
    from graphkit.train.config import OptimConfig, TrainConfig
    from graphkit.train.loop import fit
    from graphkit.train.tasks import NodeTask

    loaded = node_classification(seed=1)
    results = {}
    for name, cfg in {"eager": TrainConfig(epochs=3), "compiled": TrainConfig(epochs=3, compile=True),
                      "bf16": TrainConfig(epochs=30, amp="bf16")}.items():
        task = NodeTask(loaded, loaded.split, cfg, torch.device("cpu"))
        # no dropout: compiled code draws dropout masks from another random stream than eager code
        build = lambda: GCN(GCNConfig(loaded.num_features, loaded.num_outputs, hidden=16, dropout=0.0))  # noqa: E731
        results[name] = fit(task, build, OptimConfig(lr=0.01), cfg, 0, tmp_path / name, torch.device("cpu"),
                            loaded.metric, log=lambda s: None)
    eager = [h["loss"] for h in results["eager"]["history"]]
    compiled = [h["loss"] for h in results["compiled"]["history"]]
    assert compiled == pytest.approx(eager, rel=1e-4)  # same seed, same function
    assert results["bf16"]["selected"]["test"] > 0.8  # bf16 autocast still learns the task
    with pytest.raises(ValueError, match="needs CUDA"):
        NodeTask(loaded, loaded.split, TrainConfig(amp="fp16"), torch.device("cpu"))
