"""`make device-check`: everything a rare, short GPU loan should prove, in one command.

Runs on the GPU machine as it is (python3 with torch + CUDA and torch-geometric; no torch-scatter,
torch-sparse or ogb, no network): graphkit comes from the working tree, ogb from the wheels in .whl/
and the data from .device-data/ (both git-ignored; `scripts/device_check_prepare.sh` fills them, and
scripts/device_check.sh installs and points at them). Sections, each timed and recorded even when it
fails, the JSON and markdown rewritten after every one (a run cut short still reports what it did):

  environment   versions, device, backends chosen
  tests         the CUDA test files (every op and layer CUDA vs CPU, models, no host syncs, batching)
  amp_compile   torch.compile vs eager, bf16 autocast, fp16 with GradScaler (CUDA), one training step each
  training      2 epochs of every model on a dataset of its task (node, hypergraph, graph, link, forecast)
  syncs         host-device synchronisations per training step (GIN+VN mini-batch, GCN full batch)
  speed         graphkit vs PyG in this process, interleaved: copy bandwidth, spmm / scatter at ogbn-arxiv
                and ogbn-products scale (GB/s by a lower-bound byte count), GCN / GIN / SAGE layers
                fwd+bwd, OGB's arxiv GCN training epoch, OGB's molhiv GIN+VN epoch on the real molhiv
                (graphkit with device-assembled batches vs PyG's layers with PyG's DataLoader, same
                weights and graphs), the Mamba mixer at 1e4-1e5 tokens
  gat_and_saved GATConv / GATv2Conv fwd+bwd vs PyG at arxiv scale; a run trained on a user's file through the CLI,
                loaded back (graphkit.load), rescored exactly (inference.evaluate_run) and predicted, on the device
  fidelity      Cora GCN over 10 seeds (and, last, MUTAG GIN over 10 folds), against the committed CPU numbers

    scripts/device_check.sh [--out DIR]                 # on the GPU machine ($OUT by default)
    make device-check DEVICE=cpu                        # the same script at toy sizes, on the CPU

Writes device_check.json and device_check.md into the output folder.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks.timing import interleaved, sync  # noqa: E402

# Problem sizes: the GPU runs the real scales, the CPU mode toy ones (the same code paths).
SCALES = {
    "full": dict(arxiv=(169_343, 1_166_243, 128), products=(2_449_029, 61_859_140, 100), layer_width=256,
                 epochs=5, mol_batches=300, mamba=(10_000, 30_000, 100_000), reps=10, seeds=10, folds=10,
                 train_epochs=2),
    "toy": dict(arxiv=(2_000, 8_000, 16), products=(5_000, 40_000, 8), layer_width=16, epochs=2, mol_batches=12,
                mamba=(256,), reps=2, seeds=2, folds=2, train_epochs=1),
}


class Report:
    """Sections of results, written to JSON + markdown after each one."""

    def __init__(self, out: Path, device: torch.device, scale: str, budget_s: float):
        self.out, self.device, self.scale, self.budget_s = out, device, scale, budget_s
        self.t0 = time.perf_counter()
        self.data: dict = {"device": str(device), "scale": scale, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                           "sections": {}}
        out.mkdir(parents=True, exist_ok=True)

    def left(self) -> float:
        return self.budget_s - (time.perf_counter() - self.t0)

    @contextlib.contextmanager
    def section(self, name: str, min_left_s: float = 0.0):
        entry: dict = {"status": "ok"}
        self.data["sections"][name] = entry
        if self.left() < min_left_s:
            entry["status"] = f"skipped: {self.left():.0f} s of the budget left, needs {min_left_s:.0f}"
            self.save()
            yield None
            return
        t = time.perf_counter()
        print(f"[device-check] {name} ...", flush=True)
        try:
            yield entry
        except Exception as exc:  # a failing section is a result, not the end of the check
            entry["status"] = "error"
            entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["traceback"] = traceback.format_exc()[-3000:]
        entry["seconds"] = round(time.perf_counter() - t, 2)
        print(f"[device-check] {name}: {entry['status']} ({entry['seconds']} s)", flush=True)
        self.save()

    def save(self) -> None:
        self.data["seconds"] = round(time.perf_counter() - self.t0, 1)
        (self.out / "device_check.json").write_text(json.dumps(self.data, indent=2, default=str) + "\n")
        (self.out / "device_check.md").write_text(markdown(self.data))


# -- timing helpers ---------------------------------------------------------------------------------------
def random_graph(n: int, e: int, device: torch.device, seed: int = 0) -> torch.Tensor:
    """``[2, 2e]`` symmetric random graph with a heavy-tailed degree (like citation graphs)."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n, (e,), generator=g)
    dst = (torch.rand(e, generator=g).pow(3) * n).long().clamp_(max=n - 1)
    return torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1).to(device)


# -- sections -----------------------------------------------------------------------------------------------
def environment(entry: dict, device: torch.device) -> None:
    import torch_geometric

    from graphkit import backend
    entry.update(python=platform.python_version(), torch=torch.__version__, torch_geometric=torch_geometric.__version__,
                 cuda=torch.version.cuda, host=platform.node(), cpus=os.cpu_count(),
                 backends={k: backend.available(k) for k in ("torch_scatter", "torch_sparse", "mamba_ssm", "triton")})
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        entry.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1))
    try:
        import ogb
        entry["ogb"] = ogb.__version__
    except ImportError:
        entry["ogb"] = None


def tests(entry: dict, device: torch.device, out: Path, timeout: float) -> None:
    """The CUDA test files under pytest; counts and failures from its junit XML."""
    import xml.etree.ElementTree as ET

    files = ["tests/ops/test_cuda.py", "tests/train/test_host_syncs.py", "tests/data/test_graph_store.py",
             "tests/test_fuzz_api.py"]
    xml = out / "pytest.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}", *files]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    entry["command"] = " ".join(cmd[2:])
    entry["summary"] = (proc.stdout.strip().splitlines() or [""])[-1]
    suite = ET.parse(xml).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    for k in ("tests", "failures", "errors", "skipped"):
        entry[k] = int(suite.get(k, 0))
    entry["failed"] = [f"{c.get('classname')}::{c.get('name')}: {(c[0].get('message') or '')[:300]}"
                       for c in suite.iter("testcase") if len(c) and c[0].tag in ("failure", "error")]
    if entry["failures"] or entry["errors"]:
        entry["status"] = "failed"


def amp_compile(entry: dict, device: torch.device) -> None:
    """Compiled = eager; one training step under each precision mode is finite."""
    from graphkit.models import GCN, GCNConfig
    from graphkit.ops import Adjacency
    from graphkit.train.tasks import Precision

    torch.manual_seed(0)
    n = 500
    ei = random_graph(n, 2000, device)
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    x = torch.randn(n, 32, device=device)
    y = torch.randint(0, 4, (n,), device=device)
    model = GCN(GCNConfig(in_channels=32, hidden=64, out_channels=4, dropout=0.0)).to(device)
    eager = model(x, adj)
    compiled = torch.compile(model)
    out = compiled(x, adj)
    entry["compile_max_abs_diff"] = float((out - eager).detach().abs().max())
    out.square().mean().backward()
    entry["compile_backward"] = all(p.grad is not None for p in model.parameters())
    if entry["compile_max_abs_diff"] > 1e-4:
        entry["status"] = "failed"
    modes = ["none", "bf16"] + (["fp16"] if device.type == "cuda" else [])
    for amp in modes:
        m = GCN(GCNConfig(in_channels=32, hidden=64, out_channels=4)).to(device)
        opt = torch.optim.Adam(m.parameters(), lr=1e-2)
        prec = Precision(amp, device)
        losses = []
        for _ in range(3):
            with prec.autocast():
                loss = torch.nn.functional.cross_entropy(m(x, adj).float(), y)
            prec.step(loss, m, opt)
            losses.append(float(loss))
        entry[f"loss_{amp}"] = losses
        if not all(v == v and abs(v) < 1e6 for v in losses):
            entry["status"] = "failed"


def training_runs(entry: dict, device: torch.device, data_root: str | None, scale: dict, toy: bool) -> None:
    """Two epochs of each model through the trainer, on a dataset of its task (the Python API the CLI uses)."""
    from graphkit.catalog import build_experiment
    from graphkit.data.ogb_fixture import write_link_fixture
    from graphkit.train import run_experiment

    link_root = tempfile.mkdtemp(prefix="gk-link-")
    write_link_fixture(link_root, "ogbl-ddi", num_nodes=300, num_edges=3000)
    mol = "ogbg-molesol" if toy else "ogbg-molhiv"
    runs = [("gcn", "cora", "node"), ("sage", "cora", "node"), ("mlp", "cora", "node"),
            ("gin", "mutag", "graph"), ("gin-vn", mol, "graph"), ("gcn", "ogbl-ddi", "link"),
            ("stgcn", "los-loop", "forecast")]
    if not toy:
        runs += [("gcn", mol, "graph"), ("gcn-vn", mol, "graph"), ("gin", mol, "graph"),
                 ("nsd-diag", "texas", "node"), ("nsd-orth", "texas", "node"), ("nsd-gen", "texas", "node"),
                 ("hgnn", "cocitation-cora", "hypergraph"), ("hgnn+", "cocitation-cora", "hypergraph"),
                 ("hcha", "cocitation-cora", "hypergraph"), ("gps", "mutag", "graph"),
                 ("graph-mamba", "mutag", "graph"), ("gps", "texas", "node"), ("gmn", "texas", "node"),
                 ("gwnet", "los-loop", "forecast"), ("vn-stgnn", "los-loop", "forecast"),
                 ("sttn", "los-loop", "forecast"), ("tgcn", "los-loop", "forecast")]
    results = []
    for model, dataset, level in runs:
        row = {"model": model, "dataset": dataset, "task": level}
        t = time.perf_counter()
        try:
            overrides = [("train.epochs", str(scale["train_epochs"])), ("train.device", str(device)),
                         ("train.checkpoint", "false")]
            if level == "graph":  # a smoke test of every step's code, not a full epoch of molhiv
                overrides.append(("train.iters_per_epoch", "50"))
            root = link_root if dataset == "ogbl-ddi" else data_root
            cfg, loaded, build = build_experiment(model, dataset, overrides, root)
            if toy and loaded.level == "forecast":  # the CPU mode: the same code on 64 windows per split
                loaded = dataclasses.replace(loaded, split={k: v[:64] for k, v in loaded.split.items()})
            with tempfile.TemporaryDirectory() as out:
                report = run_experiment(cfg, loaded, build, out, progress=False, log=lambda s: None)
            row["status"] = report["summary"]["status"]
            if row["status"] == "ok":
                row["test"] = report["summary"]["test"]["mean"]
        except Exception as exc:
            row["status"] = f"error: {type(exc).__name__}: {str(exc)[:300]}"
        row["seconds"] = round(time.perf_counter() - t, 2)
        results.append(row)
        print(f"  {model:12s} {dataset:16s} {row['status']} {row['seconds']} s", flush=True)
    entry["runs"] = results
    if any(r["status"] != "ok" for r in results):
        entry["status"] = "failed"


def host_syncs(entry: dict, device: torch.device) -> None:
    """Synchronisations per epoch for 2 and 6 batches (equal = none per step), and per full-batch GCN epoch."""
    from tests.train.test_host_syncs import _gin_vn_events  # the same workload the test suite checks

    short, long = _gin_vn_events(str(device), 16), _gin_vn_events(str(device), 48)
    entry["gin_vn_events_2_batches"], entry["gin_vn_events_6_batches"] = short, long
    entry["gin_vn_syncs_per_step"] = (len(long) - len(short)) / 4
    from graphkit.data.synthetic import node_classification
    from graphkit.models import GCN, GCNConfig
    from graphkit.train.config import TrainConfig
    from graphkit.train.host_syncs import HostSyncs
    from graphkit.train.tasks import NodeTask

    loaded = node_classification(num_nodes=500)
    task = NodeTask(loaded, loaded.split, TrainConfig(), device)
    model = GCN(GCNConfig(in_channels=loaded.num_features, hidden=16, out_channels=loaded.num_outputs)).to(device)
    opt = torch.optim.Adam(model.parameters())
    gen = torch.Generator().manual_seed(0)
    task.train_epoch(model, opt, gen)
    with HostSyncs(device) as s:
        task.train_epoch(model, opt, gen)
    entry["gcn_full_batch_events_per_epoch"] = s.events
    if entry["gin_vn_syncs_per_step"] != 0 or len(s.events) > 1:
        entry["status"] = "failed"


def copy_bandwidth(device: torch.device, reps: int) -> float:
    """Device-to-device copy, GB/s (read + write bytes)."""
    n = (1 << 28) if device.type == "cuda" else (1 << 24)
    a = torch.empty(n, dtype=torch.float32, device=device)
    b = torch.empty_like(a)
    t = interleaved({"copy": lambda: b.copy_(a)}, reps, 2, device)["copy"]
    return 2 * a.numel() * 4 / t / 1e9


def speed_sparse(entry: dict, device: torch.device, scale: dict) -> None:
    """spmm (prebuilt CSR) and scatter: graphkit vs PyG's paths, GB/s by a lower-bound byte count."""
    bw = copy_bandwidth(device, scale["reps"])
    entry["copy_gb_s"] = round(bw, 1)
    # One graph at a time in its own call, so its tensors are freed before the next (larger) graph is built.
    entry["rows"] = [row for name in ("arxiv", "products") for row in _sparse_rows(name, device, scale, bw)]


def _sparse_rows(name: str, device: torch.device, scale: dict, bw: float) -> list[dict]:
    from torch_geometric.utils import scatter as pyg_scatter
    from torch_geometric.utils import spmm as pyg_spmm

    from graphkit.ops import Adjacency, scatter, spmm

    rows = []
    n, e, f = scale[name]
    ei = random_graph(n, e, device)
    x = torch.randn(n, f, device=device)
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    csr = torch.sparse_csr_tensor(adj.rowptr, adj.col, torch.ones(adj.num_edges, device=device), (n, n))
    e2 = ei.size(1)
    t = interleaved({  # the gather+scatter path materialises an E x F message tensor (50 GB at products)
        "graphkit spmm": lambda: spmm(adj, x),
        "pyg spmm (torch.sparse CSR)": lambda: pyg_spmm(csr, x, reduce="sum"),
        "pyg gather+scatter": lambda: pyg_scatter(x.index_select(0, ei[0]), ei[1], 0, n, reduce="sum"),
    }, scale["reps"], 2, device)
    spmm_bytes = 4 * (2 * n * f) + 8 * (e2 + n)          # read x, write out, read col + rowptr
    for k, s in t.items():
        rows.append({"graph": name, "nodes": n, "edges": e2, "width": f, "op": k, "ms": round(s * 1e3, 3),
                     "gb_s": round(spmm_bytes / s / 1e9, 1), "of_copy": round(spmm_bytes / s / 1e9 / bw, 3)})
    fs = max(1, min(f, 2**31 // e2))  # scatter's E x F input, capped at 8 GB
    src = torch.randn(e2, fs, device=device)
    t = interleaved({"graphkit scatter": lambda: scatter(src, ei[1], n, "sum"),
                     "pyg scatter": lambda: pyg_scatter(src, ei[1], 0, n, reduce="sum")}, scale["reps"], 2, device)
    scatter_bytes = 4 * (e2 * fs + n * fs) + 8 * e2          # read src, write out, read index
    for k, s in t.items():
        rows.append({"graph": name, "nodes": n, "edges": e2, "width": fs, "op": k, "ms": round(s * 1e3, 3),
                     "gb_s": round(scatter_bytes / s / 1e9, 1),
                     "of_copy": round(scatter_bytes / s / 1e9 / bw, 3)})
    return rows


def speed_layers(entry: dict, device: torch.device, scale: dict) -> None:
    """GCN / GIN / SAGE forward+backward at arxiv scale, input layer and hidden layer: graphkit vs PyG."""
    import torch_geometric.nn as pyg

    from graphkit.nn import GCNConv, GINConv, SAGEConv
    from graphkit.ops import Adjacency

    n, e, f = scale["arxiv"]
    h = scale["layer_width"]
    ei = random_graph(n, e, device)
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    x = torch.randn(n, f, device=device)

    def mlp():
        return torch.nn.Sequential(torch.nn.Linear(f, h), torch.nn.ReLU(), torch.nn.Linear(h, h))

    def step(conv, graph):
        def run():
            xi = x.detach().requires_grad_()
            conv(xi, graph).sum().backward()
        return run

    pairs = {"GCNConv": (GCNConv(f, h), pyg.GCNConv(f, h)), "GINConv": (GINConv(mlp()), pyg.GINConv(mlp())),
             "SAGEConv": (SAGEConv(f, h), pyg.SAGEConv(f, h))}
    rows = []
    for name, (ours, theirs) in pairs.items():
        ours, theirs = ours.to(device), theirs.to(device)
        t = interleaved({"graphkit (Adjacency)": step(ours, adj), "graphkit (edge_index)": step(ours, ei),
                         "pyg (edge_index)": step(theirs, ei)}, scale["reps"], 2, device)
        rows.append({"layer": name, **{k: round(v * 1e3, 2) for k, v in t.items()},
                     "speedup_vs_pyg": round(t["pyg (edge_index)"] / t["graphkit (Adjacency)"], 2)})
    entry["rows"] = rows


def gat_and_saved(entry: dict, device: torch.device, scale: dict, out: Path) -> None:
    """GATConv / GATv2Conv forward+backward at arxiv scale (graphkit from an Adjacency and from edge_index vs
    PyG's), and the trained-model round trip on this device: a run on a user's file through the CLI, the
    selected model loaded back (graphkit.load) and rescored (inference.evaluate_run), which must reproduce
    the run's reported scores exactly."""
    import torch_geometric.nn as pyg
    from torch_geometric.data import Data

    import graphkit
    from graphkit.cli import main as cli
    from graphkit.inference import evaluate_run, predict_split
    from graphkit.nn import GATConv, GATv2Conv
    from graphkit.ops import Adjacency

    n, e, f = scale["arxiv"]
    heads, width = 4, max(1, scale["layer_width"] // 4)
    ei = random_graph(n, e, device)
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    x = torch.randn(n, f, device=device)

    def step(conv, graph):
        def run():
            xi = x.detach().requires_grad_()
            conv(xi, graph).sum().backward()
        return run

    rows = []
    for name, ours, theirs in (("GATConv", GATConv(f, width, heads=heads), pyg.GATConv(f, width, heads=heads)),
                               ("GATv2Conv", GATv2Conv(f, width, heads=heads), pyg.GATv2Conv(f, width, heads=heads))):
        ours, theirs = ours.to(device), theirs.to(device)
        t = interleaved({"graphkit (Adjacency)": step(ours, adj), "graphkit (edge_index)": step(ours, ei),
                         "pyg (edge_index)": step(theirs, ei)}, scale["reps"], 2, device)
        rows.append({"layer": name, "heads": heads, "width": width, **{k: round(v * 1e3, 2) for k, v in t.items()},
                     "speedup_vs_pyg": round(t["pyg (edge_index)"] / t["graphkit (Adjacency)"], 2)})
        if device.type == "cuda":  # the edge_index paths keep no E x heads x F tensor for the backward; PyG's do
            for who, conv in (("graphkit (edge_index)", ours), ("pyg (edge_index)", theirs)):
                torch.cuda.synchronize(device)
                base = torch.cuda.memory_allocated(device)
                torch.cuda.reset_peak_memory_stats(device)
                step(conv, ei)()
                rows[-1][f"{who} peak MiB"] = round((torch.cuda.max_memory_allocated(device) - base) / 2**20)
    entry["gat_rows"] = rows

    g = torch.Generator().manual_seed(0)
    nodes = 400
    y = torch.randint(0, 3, (nodes,), generator=g)
    feats = torch.randn(nodes, 8, generator=g) + torch.nn.functional.one_hot(y, 3).float().repeat(1, 3)[:, :8]
    path = out / "own-graph.pt"
    torch.save(Data(x=feats, edge_index=torch.randint(0, nodes, (2, 2000), generator=g), y=y), path)
    run = out / "own-graph-run"
    code = cli(["train", "--model", "gcn", "--dataset", str(path), "--epochs", "20", "--device", str(device),
                "--out", str(run), "--quiet"])
    if code != 0:
        raise RuntimeError(f"graphkit train on a user's file exited with {code}")
    reported = json.loads((run / "run-seed00" / "results.json").read_text())["selected"]
    model = graphkit.load(run, device=str(device))
    ev = evaluate_run(run, device=str(device))
    pred = predict_split(run, "test", device=str(device))
    entry["saved_round_trip"] = {"reported": {k: reported[k] for k in ("valid", "test")}, "rescored": ev.scores,
                                 "exact": ev.scores == {k: reported[k] for k in ("valid", "test")},
                                 "model_device": str(next(model.parameters()).device),
                                 "predictions": int(pred.prediction.size(0))}
    if not entry["saved_round_trip"]["exact"]:
        raise AssertionError(f"the loaded model rescored {ev.scores}, the run reported {reported}")


def speed_arxiv_epoch(entry: dict, device: torch.device, scale: dict) -> None:
    """OGB's arxiv GCN (3 x 256, batch norm, dropout 0.5, Adam): one full-batch training epoch (the models and
    the epoch of benchmarks/bench_epoch.py, at this check's sizes and on its device)."""
    from benchmarks.bench_epoch import OgbNet, epoch_fn
    from graphkit.models import GCN, GCNConfig
    from graphkit.ops import Adjacency

    n, e, f = scale["arxiv"]
    h = scale["layer_width"]
    ei = random_graph(n, e, device)
    x = torch.randn(n, f, device=device)
    y = torch.randint(0, 40, (n,), device=device)
    train = torch.randperm(n, device=device)[: n // 2]
    adj = Adjacency.from_edge_index(ei, num_nodes=n)
    ours = GCN(GCNConfig(in_channels=f, hidden=h, out_channels=40, num_layers=3, batch_norm=True,
                         input_dropout=False)).to(device)
    adj_t = torch.sparse_csr_tensor(adj.rowptr, adj.col, torch.ones(adj.num_edges, device=device), (n, n))
    t = interleaved({"graphkit GCN (Adjacency)": epoch_fn(ours, x, adj, y, train, graphkit_optimizer=True),
                     "graphkit GCN (edge_index)": epoch_fn(ours, x, ei, y, train, graphkit_optimizer=True),
                     "PyG GCNConv(cached), torch.sparse adj_t": epoch_fn(OgbNet("gcn", f, h, 40).to(device), x, adj_t,
                                                                         y, train),
                     "PyG GCNConv(cached), edge_index": epoch_fn(OgbNet("gcn", f, h, 40).to(device), x, ei, y, train)},
                    scale["epochs"], 2, device)
    entry["ms_per_epoch"] = {k: round(v * 1e3, 1) for k, v in t.items()}
    entry["speedup_vs_pyg_adj_t"] = round(t["PyG GCNConv(cached), torch.sparse adj_t"]
                                          / t["graphkit GCN (Adjacency)"], 2)
    entry["speedup_vs_pyg_edge_index"] = round(t["PyG GCNConv(cached), edge_index"] / t["graphkit GCN (Adjacency)"], 2)


def speed_molhiv(entry: dict, device: torch.device, scale: dict, data_root: str | None, toy: bool) -> None:
    """OGB's molhiv GIN+VN training: graphkit (MolGNN, device-assembled batches) vs the same model on PyG's
    layers fed by PyG's DataLoader (collate on the host + copy), same weights and the same graphs per step."""
    import torch.nn.functional as F
    from torch_geometric.loader import DataLoader

    from benchmarks.pyg_mol import PygMolGNN
    from graphkit.data import load_ogb
    from graphkit.data.graph_store import GraphStore
    from graphkit.models import MolGNN, MolGNNConfig

    name = "ogbg-molesol" if toy else "ogbg-molhiv"
    d = load_ogb(name, data_root)
    train = d.dataset[d.split["train"]]
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(0)).tolist()
    batches = [order[i:i + 32] for i in range(0, 32 * scale["mol_batches"], 32)]
    t = time.perf_counter()
    store = GraphStore.from_dataset(train, device)
    entry["store_build_s"] = round(time.perf_counter() - t, 3)
    entry["store_mib"] = round(store.nbytes() / 2**20, 1)
    cfg = MolGNNConfig(num_tasks=1, gnn="gin", virtual_node=True)
    torch.manual_seed(0)
    pyg = PygMolGNN(cfg).to(device).train()
    ours = MolGNN(cfg).to(device).train()
    ours.load_state_dict(pyg.state_dict())
    fused = MolGNN(cfg).to(device).train()  # the trainer's optimiser on a GPU: fused Adam
    fused.load_state_dict(pyg.state_dict())
    opts = {"graphkit": torch.optim.Adam(ours.parameters(), lr=1e-3),
            "pyg": torch.optim.Adam(pyg.parameters(), lr=1e-3),
            "graphkit, fused Adam": torch.optim.Adam(fused.parameters(), lr=1e-3,
                                                     **({"fused": True} if device.type == "cuda" else {}))}

    def step(model, opt, batch):
        y = batch.y.float()
        out = model(batch)
        w = (y == y).float()
        loss = (F.binary_cross_entropy_with_logits(out, y.nan_to_num(), reduction="none") * w).sum() / w.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    def pyg_batch(ids):
        return next(iter(DataLoader(train[ids], batch_size=len(ids)))).to(device, non_blocking=True)

    # collation alone, per batch
    entry["collate_ms"] = {k: round(v * 1e3, 3) for k, v in interleaved(
        {"graphkit GraphStore": lambda: store.batch(batches[0]), "PyG DataLoader + to(device)":
         lambda: pyg_batch(batches[0])}, scale["reps"] * 5, 2, device).items()}
    block, times = 10, {"graphkit": [], "pyg": [], "graphkit, fused Adam": []}
    for i in range(0, len(batches), block):
        chunk = batches[i:i + block]
        for name_, run in (("graphkit", lambda b: step(ours, opts["graphkit"], store.batch(b))),
                           ("pyg", lambda b: step(pyg, opts["pyg"], pyg_batch(b))),
                           ("graphkit, fused Adam", lambda b: step(fused, opts["graphkit, fused Adam"],
                                                                    store.batch(b)))):
            sync(device)
            t = time.perf_counter()
            for b in chunk:
                run(b)
            sync(device)
            times[name_].append((time.perf_counter() - t) / len(chunk))
    per_step = {k: statistics.median(v[1:] or v) for k, v in times.items()}  # first block: warm-up
    n_steps = (len(train) + 31) // 32
    entry.update(dataset=name, batches=len(batches), step_ms={k: round(v * 1e3, 3) for k, v in per_step.items()},
                 epoch_s_estimate={k: round(v * n_steps, 2) for k, v in per_step.items()},
                 speedup=round(per_step["pyg"] / per_step["graphkit"], 2))
    # where a step's time goes: host (Python + kernel launches) against device kernels
    entry["profile_graphkit"] = _profile_steps(
        lambda b: step(fused, opts["graphkit, fused Adam"], store.batch(b)), batches[:10], device)


def _profile_steps(run, batches: list, device: torch.device, top: int = 12) -> dict:
    """torch.profiler over ``batches``: per step, the host's wall time and the device's kernel time, and the
    ops with the most self time on each side."""
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    sync(device)
    t = time.perf_counter()
    with profile(activities=acts) as prof:
        for b in batches:
            run(b)
        sync(device)
    wall = (time.perf_counter() - t) / len(batches)
    events = prof.key_averages()
    dev_attr = "self_device_time_total" if hasattr(events[0], "self_device_time_total") else "self_cuda_time_total"
    n = len(batches)

    def rows(attr):
        ranked = sorted(events, key=lambda e: getattr(e, attr, 0), reverse=True)[:top]
        return [[e.key, round(getattr(e, attr, 0) / 1e3 / n, 3), e.count // n] for e in ranked]

    device_ms = sum(getattr(e, dev_attr, 0) for e in events) / 1e3 / n
    return {"steps": n, "wall_ms_per_step_profiled": round(wall * 1e3, 3),
            "device_kernel_ms_per_step": round(device_ms, 3),
            "ops_per_step": sum(e.count for e in events) // n,
            "top_host_self_ms_per_step": rows("self_cpu_time_total"),
            "top_device_self_ms_per_step": rows(dev_attr) if device.type == "cuda" else []}


def speed_mamba(entry: dict, device: torch.device, scale: dict) -> None:
    """The Mamba mixer (mamba_ssm's kernel when installed, else graphkit's scan) forward+backward."""
    from graphkit import backend
    from graphkit.nn import MambaMixer

    entry["kernel"] = "mamba_ssm" if backend.available("mamba_ssm") else "graphkit selective_scan (pure torch)"
    rows = []
    mixer = MambaMixer(64).to(device)
    for n in scale["mamba"]:
        x = torch.randn(n, 64, device=device, requires_grad=True)
        batch = torch.zeros(n, dtype=torch.long, device=device)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        t = interleaved({"fwd+bwd": lambda: mixer(x, batch, 1).sum().backward()}, 1, 1, device)["fwd+bwd"]
        row = {"tokens": n, "ms": round(t * 1e3, 1)}
        if device.type == "cuda":
            row["peak_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20)
        rows.append(row)
    entry["rows"] = rows


def _fold_worker(args):
    """One MUTAG fold (its own process: folds run in parallel on one GPU)."""
    fold, device, data_root, overrides = args
    sys.path.insert(0, str(ROOT))
    from graphkit.catalog import build_experiment
    from graphkit.train import run_experiment

    cfg, loaded, build = build_experiment("gin", "mutag", overrides + [("train.device", device),
                                                                       ("train.checkpoint", "false")], data_root)
    one = dataclasses.replace(loaded, folds=[loaded.folds[fold]], split=loaded.folds[fold])
    cfg.folds = 1
    with tempfile.TemporaryDirectory() as out:
        report = run_experiment(cfg, one, build, out, progress=False, log=lambda s: None)
    return report["runs"][0]


def fidelity(entry: dict, device: torch.device, scale: dict, data_root: str | None, toy: bool,
             which: str) -> None:
    """The recipe cora-gcn (10 seeds, ``which="cora-gcn"``) or mutag-gin (10 folds, GIN's mean-curve rule) on
    this device. mutag-gin is its own, last section: 10 folds x 350 epochs of 6 small batches are bound by kernel
    launches, about 300 s on an H200 with the folds in parallel processes (2026-11-30)."""

    from graphkit.catalog import build_experiment
    from graphkit.recipes import RECIPES
    from graphkit.train import run_experiment

    committed = {n: json.loads((ROOT / "docs" / "reproductions" / f"{n}.json").read_text())["summary"]["test"]
                 for n in ("cora-gcn", "mutag-gin")}
    if which == "mutag-gin":
        _fidelity_mutag(entry, committed["mutag-gin"], device, scale, data_root, toy)
        return
    r = RECIPES["cora-gcn"]
    pairs = [*r.settings.items(), *r.runs.items(), ("seeds", str(scale["seeds"])), ("train.device", str(device)),
             ("train.checkpoint", "false")] + ([("train.epochs", "20")] if toy else [])
    cfg, loaded, build = build_experiment(r.model, r.dataset, pairs, data_root)
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        rep = run_experiment(cfg, loaded, build, out, progress=False, log=lambda s: None)
    ours = rep["summary"]["test"]
    entry["cora-gcn"] = {"ours": [ours["mean"], ours["std"]], "cpu_committed": [committed["cora-gcn"]["mean"],
                         committed["cora-gcn"]["std"]], "runs": len(ours["values"]),
                         "seconds": round(time.perf_counter() - t, 1)}
    _within(entry["cora-gcn"])


def _within(row: dict) -> None:
    (m, s), (cm, cs) = row["ours"], row["cpu_committed"]
    row["within_one_std_of_cpu"] = abs(m - cm) <= max(s, cs)


def _fidelity_mutag(entry: dict, committed: dict, device: torch.device, scale: dict, data_root: str | None,
                    toy: bool) -> None:
    import multiprocessing as mp

    from graphkit.recipes import RECIPES
    from graphkit.train.experiment import summarize

    r = RECIPES["mutag-gin"]
    pairs = [*r.settings.items(), *((k, v) for k, v in r.runs.items() if k != "folds")]
    pairs = [(k, v) for k, v in pairs if not k.startswith("folds")]
    if toy:
        pairs += [("train.epochs", "2"), ("train.iters_per_epoch", "5")]
    t = time.perf_counter()
    jobs = [(k, str(device), data_root, pairs) for k in range(scale["folds"])]
    with mp.get_context("spawn").Pool(min(len(jobs), max(1, (os.cpu_count() or 2) - 2))) as pool:
        runs = pool.map(_fold_worker, jobs)
    summ = summarize(runs, "acc", "mean-curve")
    entry["mutag-gin"] = {"ours": [summ["test"]["mean"], summ["test"]["std"]],
                          "cpu_committed": [committed["mean"], committed["std"]],
                          "folds": len(runs), "seconds": round(time.perf_counter() - t, 1)}
    _within(entry["mutag-gin"])


# -- report ------------------------------------------------------------------------------------------------
def _layer_table(title: str, rows: list[dict] | None) -> list[str]:
    """Markdown lines of a per-layer timing table (one row per layer, its other keys as columns)."""
    if not rows:
        return []
    keys = [k for k in rows[0] if k != "layer"]
    return (["", f"**{title}**", "", "| layer | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
            + ["| " + " | ".join(str(r[k]) for k in ["layer"] + keys) + " |" for r in rows])


def markdown(data: dict) -> str:
    s = data["sections"]
    lines = [f"# make device-check: {data['device']} ({data['scale']} sizes), {data['started']}, "
             f"{data.get('seconds', 0)} s", ""]
    env = s.get("environment", {})
    if env:
        lines += [f"torch {env.get('torch')}, CUDA {env.get('cuda')}, torch-geometric {env.get('torch_geometric')}, "
                  f"GPU {env.get('gpu', '-')}, backends {env.get('backends')}", ""]
    lines += ["| section | status | seconds |", "|---|---|---|"]
    lines += [f"| {k} | {v.get('status')} | {v.get('seconds', '-')} |" for k, v in s.items()]
    t = s.get("tests", {})
    if "tests" in t:
        lines += ["", f"**tests**: {t['tests']} run, {t['failures']} failed, {t['errors']} errors, "
                  f"{t['skipped']} skipped"] + [f"- {f}" for f in t.get("failed", [])]
    sp = s.get("speed_sparse", {})
    if sp.get("rows"):
        lines += ["", f"**spmm / scatter** (copy bandwidth {sp['copy_gb_s']} GB/s)", "",
                  "| graph | op | ms | GB/s | of copy |", "|---|---|---|---|---|"]
        lines += [f"| {r['graph']} ({r['nodes']:,} nodes, {r['edges']:,} edges, {r['width']} wide) | {r['op']} "
                  f"| {r['ms']} | {r['gb_s']} | {r['of_copy']:.0%} |" for r in sp["rows"]]
    lines += _layer_table("layers fwd+bwd, arxiv scale (ms)", s.get("speed_layers", {}).get("rows"))
    ga = s.get("gat_and_saved", {})
    lines += _layer_table("attention layers fwd+bwd, arxiv scale (ms)", ga.get("gat_rows"))
    if ga.get("saved_round_trip"):
        lines += ["", f"**trained model round trip** (train on a user's file, load, rescore): "
                  f"`{json.dumps(ga['saved_round_trip'], default=str)}`"]
    for name, title in (("speed_arxiv_epoch", "arxiv GCN epoch"), ("speed_molhiv", "molhiv GIN+VN"),
                        ("speed_mamba", "Mamba mixer"), ("syncs", "host syncs"), ("fidelity", "fidelity"),
                        ("fidelity_mutag", "fidelity (MUTAG)"), ("amp_compile", "AMP / compile")):
        sec = s.get(name, {})
        body = {k: v for k, v in sec.items() if k not in ("status", "seconds", "traceback")}
        if body:
            lines += ["", f"**{title}**: `{json.dumps(body, default=str)}`"]
    tr = s.get("training", {})
    if tr.get("runs"):
        lines += ["", "**2-epoch training runs**", "", "| model | dataset | task | status | s |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r['model']} | {r['dataset']} | {r['task']} | {r['status']} | {r['seconds']} |"
                  for r in tr["runs"]]
    errors = [(k, v["error"]) for k, v in s.items() if v.get("error")]
    if errors:
        lines += ["", "**errors**"] + [f"- {k}: {e}" for k, e in errors]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", help="cuda, cpu or auto (cuda when available)")
    p.add_argument("--out", default=os.environ.get("OUT") or "device-check-out")
    p.add_argument("--data-root", default=os.environ.get("GRAPHKIT_DATA"))
    p.add_argument("--budget", type=float, default=None, help="seconds; sections past it are skipped "
                   "(default 420 on a GPU, unlimited on the CPU)")
    p.add_argument("--only", default="", help="comma-separated sections to run (default: all)")
    args = p.parse_args(argv)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    toy = device.type != "cuda"
    scale = SCALES["toy" if toy else "full"]
    budget = args.budget if args.budget is not None else (420.0 if not toy else 1e9)
    rep = Report(Path(args.out), device, "toy" if toy else "full", budget)
    only = set(filter(None, args.only.split(",")))

    def want(name: str) -> bool:
        return not only or name in only

    steps = [
        ("environment", 0, lambda e: environment(e, device)),
        ("tests", 60, lambda e: tests(e, device, rep.out, timeout=max(60.0, min(240.0, rep.left() - 120)))),
        ("syncs", 20, lambda e: host_syncs(e, device)),
        ("amp_compile", 40, lambda e: amp_compile(e, device)),
        ("speed_sparse", 40, lambda e: speed_sparse(e, device, scale)),
        ("speed_layers", 30, lambda e: speed_layers(e, device, scale)),
        ("speed_arxiv_epoch", 30, lambda e: speed_arxiv_epoch(e, device, scale)),
        ("speed_molhiv", 40, lambda e: speed_molhiv(e, device, scale, args.data_root, toy)),
        ("fidelity", 30, lambda e: fidelity(e, device, scale, args.data_root, toy, "cora-gcn")),
        ("training", 60, lambda e: training_runs(e, device, args.data_root, scale, toy)),
        ("speed_mamba", 30, lambda e: speed_mamba(e, device, scale)),
        ("gat_and_saved", 30, lambda e: gat_and_saved(e, device, scale, rep.out)),
        ("fidelity_mutag", 330, lambda e: fidelity(e, device, scale, args.data_root, toy, "mutag-gin")),
    ]
    for name, min_left, fn in steps:
        if not want(name):
            continue
        with rep.section(name, min_left) as entry:
            if entry is not None:
                fn(entry)
                if device.type == "cuda":
                    torch.cuda.empty_cache()
    rep.save()
    bad = [k for k, v in rep.data["sections"].items() if v["status"] not in ("ok",) and
           not v["status"].startswith("skipped")]
    print(f"[device-check] wrote {rep.out / 'device_check.json'} and device_check.md; "
          f"{'problems in: ' + ', '.join(bad) if bad else 'all sections ok'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
