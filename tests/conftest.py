"""Shared fixtures: graph edge cases, dtypes, backends, tolerances."""
from __future__ import annotations

import os

import pytest
import torch
from hypothesis import settings

from graphkit import backend

# Property-based tests draw the same examples on every run, so the suite cannot pass or fail by chance;
# HYPOTHESIS_PROFILE=explore draws fresh examples on each run to hunt for new counterexamples.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# A relative data root (the README's `GRAPHKIT_DATA=../shared/data make test`) means relative to where the
# suite started; tests that change directory or start subprocesses elsewhere must still find it.
if os.environ.get("GRAPHKIT_DATA"):
    os.environ["GRAPHKIT_DATA"] = os.path.abspath(os.environ["GRAPHKIT_DATA"])

GRAPH_CASES = ("random", "isolated", "self_loops", "duplicates", "empty", "hub", "bipartite")
DTYPES = (torch.float32, torch.float64)


def tol(dtype: torch.dtype) -> dict:
    return {"rtol": 1e-4, "atol": 1e-5} if dtype == torch.float32 else {"rtol": 1e-9, "atol": 1e-10}


def make_graph(case: str, seed: int) -> tuple[torch.Tensor, int, int]:
    """``(edge_index, num_src, num_dst)`` for one edge case, fresh per seed."""
    g = torch.Generator().manual_seed(seed)
    if case == "random":
        n = 40
        return torch.randint(0, n, (2, 200), generator=g), n, n
    if case == "isolated":  # nodes 30..39 have no edges at all
        return torch.randint(0, 30, (2, 150), generator=g), 40, 40
    if case == "self_loops":  # some loops, one node with two loops
        n = 30
        ei = torch.randint(0, n, (2, 100), generator=g)
        loops = torch.tensor([[0, 3, 3, 7, 12], [0, 3, 3, 7, 12]])
        ei = torch.cat([ei, loops, ei[:, :5]], dim=1)
        return ei[:, torch.randperm(ei.size(1), generator=g)], n, n
    if case == "duplicates":
        n = 20
        ei = torch.randint(0, n, (2, 40), generator=g)
        return torch.cat([ei, ei, ei[:, :10]], dim=1), n, n
    if case == "empty":
        return torch.empty(2, 0, dtype=torch.long), 12, 12
    if case == "hub":  # node 0 receives from every node, and a few random edges
        n = 600
        hub = torch.stack([torch.arange(n), torch.zeros(n, dtype=torch.long)])
        return torch.cat([hub, torch.randint(0, n, (2, 100), generator=g)], dim=1), n, n
    if case == "bipartite":  # 25 sources -> 15 targets
        return torch.stack([torch.randint(0, 25, (90,), generator=g),
                            torch.randint(0, 15, (90,), generator=g)]), 25, 15
    raise ValueError(case)


def _family_params(family: str) -> list:
    return [pytest.param(impl, id=f"{family}={impl}") for impl in backend.choices(family)]


@pytest.fixture(params=_family_params("scatter"))
def scatter_impl(request):
    with backend.use(scatter=request.param):
        yield request.param


@pytest.fixture(params=_family_params("spmm"))
def spmm_impl(request):
    with backend.use(spmm=request.param):
        yield request.param


ALL_BACKENDS = [pytest.param((s, m), id=f"scatter={s},spmm={m}")
                for s in backend.choices("scatter") for m in backend.choices("spmm")]


@pytest.fixture(params=ALL_BACKENDS)
def any_backend(request):
    """Every combination of available scatter and spmm implementations."""
    s, m = request.param
    with backend.use(scatter=s, spmm=m):
        yield request.param


def data_root() -> str | None:
    root = os.environ.get("GRAPHKIT_DATA")
    return root if root and os.path.isdir(root) else None


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Processed caches go to a per-session folder: tests never touch ~/.cache/graphkit."""
    old = os.environ.get("GRAPHKIT_CACHE")
    os.environ["GRAPHKIT_CACHE"] = str(tmp_path_factory.mktemp("graphkit-cache"))
    yield
    if old is None:
        os.environ.pop("GRAPHKIT_CACHE", None)
    else:
        os.environ["GRAPHKIT_CACHE"] = old


def require_data(*parts: str) -> str:
    """The data root, or skip with a message saying what is missing."""
    root = data_root()
    if root is None or not os.path.exists(os.path.join(root, *parts)):
        pytest.skip(f"GRAPHKIT_DATA does not hold {'/'.join(parts)} (set it to ../shared/data)")
    return root
