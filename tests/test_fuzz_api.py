"""Generated bad inputs for the public layers and ops: each must end in an error graphkit raises and names.

Every case below is a public callable with a valid call. Each argument has a kind (node features, edge
index, edge features, batch vector, size, categorical ids ...) and every kind has its classes of damage:
wrong Python type, wrong dtype, wrong number of dims (PyG's dense batched ``[B, N, F]`` among them), wrong
length against the graph, indices out of range or negative. Each damaged call is classified as *named* (a
``TypeError`` / ``ValueError`` raised by graphkit's own code, naming the problem), *unnamed* (an error from
deep inside torch, or an ``IndexError`` / ``RuntimeError``) or *accepted* (no error: silent garbage).
The target is at least 95% named over the generated set; the test prints every call that is not.
"""
from __future__ import annotations

import traceback
from pathlib import Path

import pytest
import torch

N, E, F, B = 6, 10, 8, 2
GRAPHKIT = str(Path(__file__).resolve().parents[1] / "graphkit")


def _graph(seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, N, (2, E), generator=g)
    return ei, torch.randn(N, F, generator=g)


def _damage(kind: str, v, ctx: dict) -> dict:
    """name -> damaged value, for an argument of ``kind`` with valid value ``v``."""
    out = {"list": v.tolist()} if isinstance(v, torch.Tensor) else {}
    if kind in ("x", "x_rows"):  # a layer's node features [N, F]; x_rows: N is fixed by another argument
        out.update(int=v.long(), one_dim=v[:, 0], dense_batch=v.unsqueeze(0).expand(2, -1, -1),
                   missing_col=v[:, :-1])
        if kind == "x_rows":
            out["extra_row"] = torch.cat([v, v[:1]])
    elif kind == "src":  # an op's values: any width and dtype; rows fixed by the index or graph
        out.update(extra_row=torch.cat([v, v[:1]]), scalar=v[0, 0])
    elif kind in ("ei", "inc"):  # inc: a hypergraph incidence, row 0 nodes (row 1 hyperedges, any id)
        neg, oob = v.clone(), v.clone()
        neg[0, 0] = -1
        oob[0 if kind == "inc" else 1, 0] = ctx["n"]
        out.update(float=v.float(), three_rows=torch.cat([v, v[:1]]), one_dim=v[0], negative=neg,
                   out_of_range=oob)
    elif kind == "eattr":
        out.update(missing_row=v[:-1], int=v.long(), one_dim=v[:, 0], dense_batch=v.unsqueeze(0))
    elif kind == "ew":
        out.update(missing_row=v[:-1], int=v.long(), two_dim=v.view(-1, 1).expand(-1, 2))
    elif kind == "batch":
        oob, neg = v.clone(), v.clone()
        oob[-1] = ctx["b"]
        neg[0] = -1
        out.update(missing_row=v[:-1], float=v.float(), out_of_range=oob, negative=neg)
    elif kind == "end":  # one end of every edge (src or dst), 1-D, indexing N nodes
        oob, neg = v.clone(), v.clone()
        oob[0] = ctx["n"]
        neg[0] = -1
        out.update(missing_row=v[:-1], float=v.float(), out_of_range=oob, negative=neg, two_dim=v.view(1, -1))
    elif kind == "order":  # a node ordering: a permutation keeping each graph's nodes together
        oob, neg, twice = v.clone(), v.clone(), v.clone()
        oob[0], neg[0], twice[1] = ctx["n"], -1, v[0]
        out.update(missing_row=v[:-1], float=v.float(), out_of_range=oob, negative=neg, repeated=twice,
                   graphs_mixed=v.flip(0), two_dim=v.view(1, -1))
    elif kind == "lengths":  # sequence lengths [S]
        neg = v.clone()
        neg[0] = -1
        out.update(float=v.float(), negative=neg, two_dim=v.view(1, -1))
    elif kind == "heads":  # per-head rows [rows, heads, F]
        out.update(int=v.long(), two_dim=v[:, 0], four_dim=v.unsqueeze(0), missing_head=v[:, :-1])
    elif kind == "size":
        out = {"negative": -1, "float": 2.5, "string": "2"}
    elif kind == "ids":
        oob, neg = v.clone(), v.clone()
        oob[0, 0] = 10**6
        neg[0, 0] = -1
        out.update(float=v.float(), out_of_range=oob, negative=neg, one_dim=v[:, 0])
    return out


def _cases():
    from graphkit.nn import (
        AtomEncoder,
        BondEncoder,
        EdgeGCNConv,
        GatedGCNConv,
        GCNConv,
        GINConv,
        GINEConv,
        GPSBlock,
        HypergraphConv,
        LinearAttentionMixer,
        MambaMixer,
        SAGEConv,
        VirtualNode,
        global_pool,
    )
    from graphkit.ops import (
        RaggedBatch,
        attention_aggregate,
        gcn_aggregate,
        pair_score,
        scatter,
        segment,
        softmax,
        spmm,
        to_dense_batch,
    )

    ei, x = _graph()
    ea = torch.randn(E, F)
    ew = torch.rand(E)
    batch = torch.tensor([0, 0, 0, 1, 1, 1])
    ctx = {"n": N, "b": B}
    inc = torch.stack([torch.arange(N), torch.tensor([0, 0, 1, 1, 2, 2])])
    vn = VirtualNode(F, num_layers=2)
    ptr = torch.tensor([0, 3, 6])
    cases = {
        "GCNConv": (GCNConv(F, 4), dict(x=("x", x), edge_index=("ei", ei), edge_weight=("ew", ew))),
        "GINConv": (GINConv(torch.nn.Linear(F, 4)), dict(x=("x", x), edge_index=("ei", ei))),
        "GINEConv": (GINEConv(torch.nn.Linear(F, 4)), dict(x=("x", x), edge_index=("ei", ei),
                                                           edge_attr=("eattr", ea))),
        "SAGEConv": (SAGEConv(F, 4), dict(x=("x", x), edge_index=("ei", ei))),
        "EdgeGCNConv": (EdgeGCNConv(F), dict(x=("x", x), edge_index=("ei", ei), edge_attr=("eattr", ea))),
        "GatedGCNConv": (GatedGCNConv(F), dict(x=("x", x), edge_index=("ei", ei), edge_attr=("eattr", ea))),
        "HypergraphConv": (HypergraphConv(F, 4), dict(x=("x", x), graph=("inc", inc))),
        "GPSBlock": (GPSBlock(F, GINConv(torch.nn.Linear(F, F)), LinearAttentionMixer(F)),
                     dict(x=("x_rows", x), edge_index=("ei", ei), batch=("batch", batch), batch_size=("size", B))),
        "MambaMixer": (MambaMixer(F), dict(x=("x_rows", x), batch=("batch", batch), batch_size=("size", B))),
        "MambaMixer(order)": (MambaMixer(F, bidirectional=False),
                              dict(x=("x_rows", x), batch=("batch", batch), batch_size=("size", B),
                                   order=("order", torch.tensor([2, 0, 1, 5, 3, 4])))),
        "RaggedBatch.from_lengths": (RaggedBatch.from_lengths, dict(lengths=("lengths", torch.tensor([3, 0, 2])))),
        "LinearAttentionMixer": (LinearAttentionMixer(F), dict(x=("x_rows", x), batch=("batch", batch),
                                                              batch_size=("size", B))),
        "global_pool": (global_pool, dict(x=("x_rows", x), batch=("batch", batch), num_graphs=("size", B))),
        "VirtualNode.update": (lambda h, batch, num_graphs: vn.update(0, h, vn.initial(B), batch, num_graphs),
                               dict(h=("x_rows", x), batch=("batch", batch), num_graphs=("size", B))),
        "AtomEncoder": (AtomEncoder(F), dict(x=("ids", torch.zeros(N, 9, dtype=torch.long)))),
        "BondEncoder": (BondEncoder(F), dict(edge_attr=("ids", torch.zeros(E, 3, dtype=torch.long)))),
        "spmm": (lambda graph, x, edge_weight: spmm(graph, x, "sum", edge_weight, num_nodes=N),
                 dict(graph=("ei", ei), x=("src", x), edge_weight=("ew", ew))),
        "gcn_aggregate": (lambda graph, x: gcn_aggregate(graph, x),
                          dict(graph=("ei", ei), x=("src", x))),
        "scatter": (lambda src, index, num_out: scatter(src, index, num_out, "sum"),
                    dict(src=("src", x), index=("batch", batch), num_out=("size", B))),
        "segment": (lambda src, ptr: segment(src, ptr, "mean"), dict(src=("src", x), ptr=("batch", ptr))),
        "softmax": (lambda src, index, num_out: softmax(src, index, num_out),
                    dict(src=("src", x), index=("batch", batch), num_out=("size", B))),
        "attention_aggregate": (lambda alpha, h, src, dst, n_dst: attention_aggregate(alpha, h, src, dst, n_dst),
                                dict(alpha=("eattr", torch.rand(E, 2)), h=("heads", torch.randn(N, 2, 3)),
                                     src=("end", ei[0]), dst=("end", ei[1]), n_dst=("size", N))),
        "pair_score": (lambda x_l, x_r, edge_term, att, src, dst: pair_score(x_l, x_r, edge_term, att, src, dst, 0.2),
                       dict(x_l=("heads", torch.randn(N, 2, 3)), x_r=("heads", torch.randn(N, 2, 3)),
                            edge_term=("heads", torch.randn(E, 2, 3)), att=("heads", torch.randn(1, 2, 3)),
                            src=("end", ei[0]), dst=("end", ei[1]))),
        "to_dense_batch": (lambda x, batch, batch_size: to_dense_batch(x, batch, batch_size),
                           dict(x=("src", x), batch=("batch", batch), batch_size=("size", B))),
    }
    out = []
    for name, (fn, args) in cases.items():
        valid = {k: v for k, (_, v) in args.items()}
        for arg, (kind, value) in args.items():
            for how, bad in _damage(kind, value, {**ctx, "n": N}).items():
                out.append((name, fn, valid, arg, how, bad))
    return out


# The device a mismatched argument is put on: CUDA where there is one; elsewhere the meta device, which
# exercises the same checks (a tensor's device is host metadata, compared before any kernel runs).
OTHER_DEVICE = torch.device("cuda" if torch.cuda.is_available() else "meta")


def _device_cases():
    """The same calls with one tensor argument on another device than the rest (and the module); calls of a
    single tensor and no module have no other device to disagree with."""
    for name, fn, valid, arg, how, bad in _cases():
        alone = not isinstance(fn, torch.nn.Module) and sum(isinstance(v, torch.Tensor) for v in valid.values()) == 1
        if how == "list" and not alone:  # one per argument
            value = valid[arg]
            if isinstance(value, torch.Tensor):
                yield name, fn, valid, arg, f"on {OTHER_DEVICE.type}, the rest on the CPU", value.to(OTHER_DEVICE)


def _classify(fn, kwargs) -> str:
    try:
        fn(**kwargs)
    except (TypeError, ValueError) as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return "named" if last.filename.startswith(GRAPHKIT) else f"unnamed ({type(exc).__name__}: {exc})"[:160]
    except Exception as exc:  # noqa: BLE001 - classifying, not handling
        return f"unnamed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"[:160]
    return "accepted"


def test_generated_bad_inputs_get_named_errors():
    results = []
    for name, fn, valid, arg, how, bad in _cases():
        verdict = _classify(fn, {**valid, arg: bad})
        results.append((f"{name}({arg}={how})", verdict))
    named = sum(v == "named" for _, v in results)
    gaps = [f"{call}: {v}" for call, v in results if v != "named"]
    print(f"{named} of {len(results)} bad calls named ({named / len(results):.1%})")
    print("\n".join(gaps))
    assert named / len(results) >= 0.95, "\n".join(gaps)


def test_device_mismatch_gets_named_errors():
    results = [(f"{name}({arg} {how})", _classify(fn, {**valid, arg: bad}))
               for name, fn, valid, arg, how, bad in _device_cases()]
    named = sum(v == "named" for _, v in results)
    gaps = [f"{call}: {v}" for call, v in results if v != "named"]
    print(f"{named} of {len(results)} device-mismatched calls named")
    assert named / len(results) >= 0.95, "\n".join(gaps)


@pytest.mark.parametrize("name", ["GCNConv", "GINEConv", "GPSBlock", "spmm"])
def test_valid_calls_of_the_fuzzed_cases_run(name):
    """The base calls are valid (so every damaged one differs from a working call in one argument)."""
    for case, fn, valid, *_ in _cases():
        if case == name:
            out = fn(**valid)
            out = out[0] if isinstance(out, tuple) else out
            assert isinstance(out, torch.Tensor) and bool(torch.isfinite(out).all())
            break
