"""The benchmark scripts still run against the current API: every one imports, and the traffic benchmark
builds each of its models through the catalog (it broke once when the catalog's tables became typed)."""
from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace

import pytest

BENCHMARKS = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py")
                    if p.stem != "__init__")


@pytest.mark.parametrize("name", BENCHMARKS)
def test_imports_and_says_how_to_run(name):
    """Each script imports against the current API and opens with a docstring (what it measures, its command);
    the ones run from the command line have a main()."""
    module = importlib.import_module(f"benchmarks.{name}")
    assert (module.__doc__ or "").strip(), f"benchmarks/{name}.py has no module docstring"
    if name.startswith("bench_") or name in ("ab_workload", "amp_fidelity"):
        assert callable(getattr(module, "main", None)), f"benchmarks/{name}.py has no main()"


@pytest.mark.parametrize("model", ["tgcn", "stgcn", "gwnet", "vn-stgnn", "sttn"])
def test_traffic_benchmark_builds_its_models(model):
    from benchmarks import bench_traffic

    assert model in bench_traffic.MODELS
    built = bench_traffic.build(model, SimpleNamespace(num_features=2), 7)
    assert sum(p.numel() for p in built.parameters()) > 0
