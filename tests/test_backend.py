"""Backend selection: defaults, forcing by env var and context manager, clear errors."""
from __future__ import annotations

import pytest
import torch

from graphkit import backend

CPU = torch.device("cpu")


def test_context_manager_forces_and_restores():
    before = backend.spmm_backend(CPU, "sum")
    with backend.use(spmm="torch", scatter="torch"):
        assert backend.spmm_backend(CPU, "sum") == "torch"
        assert backend.scatter_backend(CPU) == "torch"
    assert backend.spmm_backend(CPU, "sum") == before


def test_use_all_torch():
    with backend.use(all="torch"):
        assert backend.spmm_backend(CPU, "max") == "torch"
        assert backend.scatter_backend(CPU, "max") == "torch"


def test_env_var_forces(monkeypatch):
    monkeypatch.setenv("GRAPHKIT_BACKEND", "torch")
    assert backend.spmm_backend(CPU, "max") == "torch"
    assert backend.scatter_backend(CPU) == "torch"
    assert backend.scatter_backend(CPU, "max") == "torch"
    monkeypatch.delenv("GRAPHKIT_BACKEND")
    monkeypatch.setenv("GRAPHKIT_SPMM_BACKEND", "nonsense")
    with pytest.raises(ValueError, match="unknown spmm backend 'nonsense'"):
        backend.spmm_backend(CPU, "sum")


def test_defaults_with_extensions(monkeypatch):
    import types

    for name in ("torch_scatter", "torch_sparse"):
        monkeypatch.setitem(backend._probed, name, types.ModuleType(name))
    # the measured winners (see the comments in backend.py)
    assert backend.spmm_backend(CPU, "sum") == "torch"
    assert backend.spmm_backend(CPU, "mean") == "torch"
    assert backend.spmm_backend(CPU, "max") == "torch_sparse"
    assert backend.scatter_backend(CPU, "sum") == "torch"
    assert backend.scatter_backend(CPU, "min") == "torch"


def test_unknown_family_and_impl_are_errors():
    with pytest.raises(ValueError, match="unknown op family"):
        with backend.use(fft="torch"):
            pass
    with pytest.raises(ValueError, match="choose one of"):
        with backend.use(spmm="cusparse_magic"):
            pass


def test_missing_package_raises_import_error_with_hint(monkeypatch):
    monkeypatch.setitem(backend._probed, "torch_sparse", ModuleNotFoundError("No module named 'torch_sparse'"))
    assert not backend.available("torch_sparse")
    with pytest.raises(ImportError, match="pip install --no-build-isolation torch-sparse"):
        with backend.use(spmm="torch_sparse"):
            pass
    assert "torch_sparse" not in backend.choices("spmm")


def test_summary_lists_every_optional_package():
    s = backend.summary()
    assert set(s) == set(backend.OPTIONAL_PACKAGES)
    assert all(isinstance(v, bool) for v in s.values())


def test_defaults_without_extensions(monkeypatch):
    for name in ("torch_scatter", "torch_sparse"):
        monkeypatch.setitem(backend._probed, name, ModuleNotFoundError(name))
    assert backend.spmm_backend(CPU, "sum") == "torch"
    assert backend.spmm_backend(CPU, "max") == "torch"
    assert backend.scatter_backend(CPU) == "torch"
