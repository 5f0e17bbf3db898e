"""The one place that probes optional packages and picks an implementation.

Every sparse op in :mod:`graphkit.ops` asks this module which implementation to
run; no other module imports ``torch_scatter``, ``torch_sparse``, ``pyg_lib``,
``mamba_ssm`` or ``triton`` directly (they call :func:`require`).

Op families and their implementations:

=========  ==========================================================
family     implementations
=========  ==========================================================
scatter    ``"torch"`` (index_add_ / scatter_reduce_),
           ``"torch_scatter"``
spmm       ``"torch"`` (torch.sparse CSR x dense, MKL on CPU,
           cuSPARSE on CUDA), ``"torch_sparse"``
=========  ==========================================================

Forcing a choice (tests and benchmarks):

* environment: ``GRAPHKIT_BACKEND=torch`` forces the pure-torch path for every
  family; ``GRAPHKIT_SCATTER_BACKEND`` / ``GRAPHKIT_SPMM_BACKEND`` force one family.
* code: ``with graphkit.backend.use(spmm="torch_sparse"): ...``

Asking for a package that is not installed raises :class:`ImportError` with the
install command; nothing silently falls back once a choice was forced.

Validation of user input at public entry points is also switched here
(``GRAPHKIT_VALIDATE=off|shapes|full`` or :func:`validation`): ``shapes``
(default) checks shapes, dtypes and index ranges; ``full`` also rejects NaN/inf
features; ``off`` skips the checks (they cost one reduction and one host sync).
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
from types import ModuleType
from typing import Iterator

import torch

OPTIONAL_PACKAGES = ("torch_scatter", "torch_sparse", "pyg_lib", "mamba_ssm", "triton")

_INSTALL_HINT = {
    "torch_scatter": "pip install --no-build-isolation torch-scatter==2.1.2",
    "torch_sparse": "pip install --no-build-isolation torch-sparse==0.6.18",
    "pyg_lib": "pip install pyg-lib -f https://data.pyg.org/whl/torch-<version>+<cpu|cuXXX>.html",
    "mamba_ssm": "pip install mamba-ssm (CUDA only)",
    "triton": "pip install triton (CUDA only)",
}

FAMILIES = {
    "scatter": ("torch", "torch_scatter"),
    "spmm": ("torch", "torch_sparse"),
    "scan": ("torch", "mamba_ssm"),
    "sample": ("torch", "torch_sparse"),
}

_probed: dict[str, ModuleType | BaseException] = {}


def _probe(name: str) -> ModuleType | BaseException:
    # An import can fail for reasons other than absence (an extension built
    # against another torch raises OSError/RuntimeError); remember why.
    if name not in _probed:
        try:
            _probed[name] = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any failure means "unavailable"
            _probed[name] = exc
    return _probed[name]


def available(name: str) -> bool:
    """Return True if the optional package ``name`` imports cleanly."""
    if name not in OPTIONAL_PACKAGES:
        raise ValueError(f"unknown optional package {name!r}; known: {OPTIONAL_PACKAGES}")
    return isinstance(_probe(name), ModuleType)


def require(name: str) -> ModuleType:
    """Import an optional package or raise ImportError saying how to install it."""
    mod = _probe(name) if name in OPTIONAL_PACKAGES else None
    if isinstance(mod, ModuleType):
        return mod
    why = f" (import failed: {mod!r})" if isinstance(mod, BaseException) else ""
    raise ImportError(
        f"graphkit was asked to use {name!r}, which is not available{why}. "
        f"Install it with: {_INSTALL_HINT.get(name, 'pip install ' + name)}"
    )


def summary() -> dict[str, bool]:
    """Availability of every optional package (for logs and results JSON)."""
    return {name: available(name) for name in OPTIONAL_PACKAGES}


# ---------------------------------------------------------------------------
# Forcing backends

_forced: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("graphkit_forced", default={})


def _check_choice(family: str, impl: str) -> str:
    if family not in FAMILIES:
        raise ValueError(f"unknown op family {family!r}; known: {sorted(FAMILIES)}")
    if impl not in FAMILIES[family]:
        raise ValueError(f"unknown {family} backend {impl!r}; choose one of {FAMILIES[family]}")
    if impl != "torch":
        require(impl)
    return impl


def _env_choice(family: str) -> str | None:
    impl = os.environ.get(f"GRAPHKIT_{family.upper()}_BACKEND") or os.environ.get("GRAPHKIT_BACKEND")
    if not impl:
        return None
    if impl == "torch":
        return impl
    known = sorted(set().union(*FAMILIES.values()))
    if os.environ.get("GRAPHKIT_BACKEND") == impl and impl not in known:
        raise ValueError(f"GRAPHKIT_BACKEND={impl!r} is not a backend; choose one of {known}")
    if impl not in FAMILIES[family] and os.environ.get("GRAPHKIT_BACKEND") == impl:
        # GRAPHKIT_BACKEND=torch_sparse says nothing about the scatter family.
        return None
    return _check_choice(family, impl)


@contextlib.contextmanager
def use(**choices: str) -> Iterator[None]:
    """Force implementations inside a ``with`` block, e.g. ``use(spmm="torch")``.

    ``use(all="torch")`` forces the pure-torch path for every family.
    """
    if "all" in choices:
        impl = choices.pop("all")
        for fam, impls in FAMILIES.items():
            if impl in impls:
                choices.setdefault(fam, impl)
    new = dict(_forced.get())
    for fam, impl in choices.items():
        new[fam] = _check_choice(fam, impl)
    token = _forced.set(new)
    try:
        yield
    finally:
        _forced.reset(token)


def _forced_choice(family: str) -> str | None:
    """The implementation forced for ``family`` (``use()`` or the environment), if any. Inside
    ``torch.compile`` only the environment counts: dynamo cannot read a ContextVar, and a traced graph is
    fixed anyway."""
    if torch.compiler.is_compiling():
        return _env_choice(family)
    return _forced.get().get(family) or _env_choice(family)


def choices(family: str) -> tuple[str, ...]:
    """Implementations of ``family`` usable in this environment."""
    return tuple(i for i in FAMILIES[family] if i == "torch" or available(i))


# ---------------------------------------------------------------------------
# Defaults, with the measurements behind them (2-core x86 CPU, torch 2.13 CPU
# build, torch-scatter 2.1.2 / torch-sparse 0.6.18 compiled from source; see
# benchmarks/bench_ops.py and docs/benchmarks.md for the full tables).


def scatter_backend(device: torch.device, reduce: str = "sum") -> str:
    """Implementation for scatter / segment reductions with ``reduce`` on ``device``."""
    forced = _forced_choice("scatter")
    if forced:
        return forced
    # Measured (benchmarks/bench_ops.py; N=169,343, E=2.33M, F=128, float32,
    # forward+backward, 2-core CPU; the run in docs/benchmarks.md): sum:
    # torch index_add_ 0.81 s vs torch_scatter 1.21 s; max: torch
    # scatter_reduce_ with graphkit's own backward 3.27 s vs torch_scatter
    # 4.25 s (torch's stock scatter_reduce_ backward made it 6.35 s in an
    # earlier run). torch wins both.
    return "torch"


def spmm_backend(device: torch.device, reduce: str) -> str:
    """Implementation for sparse x dense products on ``device`` with ``reduce``."""
    forced = _forced_choice("spmm")
    if forced:
        return forced
    if reduce in ("max", "min"):
        # torch has no CSR max/min product; its path gathers an E x F message
        # tensor and scatters it. Measured (same run as above): torch 4.49 s
        # vs torch_sparse spmm_max 1.27 s.
        return "torch_sparse" if available("torch_sparse") else "torch"
    # Measured (same run): torch CSR x dense (MKL) 0.34 s vs torch_sparse
    # spmm_sum 0.70 s forward+backward; the forward alone is 0.15 s vs 0.74 s
    # for gather + index_add_ over E x F messages. torch for sum/mean.
    return "torch"


def scan_backend(device: torch.device) -> str:
    """Implementation of the selective scan on ``device``: mamba_ssm's fused CUDA kernel when it is
    installed and the tensors are on CUDA (it has no CPU path), else graphkit's chunked pure-torch scan."""
    forced = _forced_choice("scan")
    if forced:
        if forced == "mamba_ssm" and device.type != "cuda":
            raise ValueError("the mamba_ssm selective scan runs on CUDA only; these tensors are on "
                             f"{device}. Use scan='torch'")
        return forced
    return "mamba_ssm" if device.type == "cuda" and available("mamba_ssm") else "torch"


def sample_backend(device: torch.device) -> str:
    """Implementation of neighbour sampling: graphkit's pure-torch sampler unless torch-sparse's kernel is
    forced (``use(sample="torch_sparse")``).

    torch-sparse 0.6.18's sampling without replacement is not uniform: its Robert Floyd loop draws
    ``rand() % j`` where the algorithm needs ``0..j`` inclusive, so the last neighbours of a list are
    under-sampled (rusty1s/pytorch_sparse#385, open; tests/ops/test_sample.py measures it: chi-square
    p < 1e-50 against uniform 2-of-6 subsets). A faster sampler that draws from the wrong distribution
    is not a default.
    """
    forced = _forced_choice("sample")
    if forced:
        return forced
    return "torch"


def mamba_scan_fn():
    """mamba_ssm's ``selective_scan_fn`` (raises ImportError saying how to install it when absent)."""
    require("mamba_ssm")
    return importlib.import_module("mamba_ssm.ops.selective_scan_interface").selective_scan_fn


def spmm_builds_csr(num_edges: int, num_features: int) -> bool:
    """Given a plain edge_index, build a CSR (True) or gather-scatter in edge order (False)?

    Sorting the edges costs a fixed ~0.4 ms (torch's argsort) plus O(E), and a
    backward pass sorts again for the transpose; past that the CSR product
    wins. Measured interleaved, forward (+backward), random graphs, 2-core CPU,
    CSR vs edge order in ms: E=1e4: F=16 0.71 vs 0.24 (1.39 vs 0.49), F=128
    1.49 vs 1.84 (2.96 vs 2.79); E=3e4: F=64 2.97 vs 2.37 (5.80 vs 4.82),
    F=128 3.35 vs 3.52 (5.93 vs 5.87); E=1e5: F=16 4.34 vs 4.61 (7.98 vs 9.72),
    F=128 5.76 vs 27.5 (11.3 vs 61.3). The feature width barely moves the
    crossover, which sits between 3e4 and 1e5 edges.
    """
    forced = _forced_choice("spmm")
    if forced == "torch_sparse":
        return True
    return num_edges >= 50_000


# ---------------------------------------------------------------------------
# Input validation level

VALIDATION_LEVELS = ("off", "shapes", "full")
_validation: contextvars.ContextVar[str | None] = contextvars.ContextVar("graphkit_validation", default=None)


def validation_level() -> str:
    """Current validation level: 'off', 'shapes' (default) or 'full'. Inside ``torch.compile`` it is 'off':
    the checks read tensors on the host (a graph break each); check inputs with an eager call first."""
    if torch.compiler.is_compiling():
        return "off"
    level = _validation.get() or os.environ.get("GRAPHKIT_VALIDATE", "shapes")
    if level not in VALIDATION_LEVELS:
        raise ValueError(f"GRAPHKIT_VALIDATE={level!r}; choose one of {VALIDATION_LEVELS}")
    return level


@contextlib.contextmanager
def validation(level: str) -> Iterator[None]:
    """Set the validation level inside a ``with`` block."""
    if level not in VALIDATION_LEVELS:
        raise ValueError(f"validation level {level!r}; choose one of {VALIDATION_LEVELS}")
    if torch.compiler.is_compiling():  # checks are off while compiling; dynamo cannot set a ContextVar
        yield
        return
    token = _validation.set(level)
    try:
        yield
    finally:
        _validation.reset(token)
