"""Imports go one way: ops <- nn <- models <- train <- catalog (+ inference) <- cli (DESIGN.md)."""
from __future__ import annotations

import ast
import pathlib

RANK = {"backend": -1, "ops": 0, "nn": 1, "data": 1, "metrics": 1, "models": 2, "train": 3, "recipes": 3,
        "catalog": 4, "inference": 4, "cli": 5}
PKG = pathlib.Path(__file__).resolve().parents[1] / "graphkit"
OPTIONAL = {"torch_scatter", "torch_sparse", "pyg_lib", "mamba_ssm", "triton"}


def _imports(path: pathlib.Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def _layer(path: pathlib.Path) -> str | None:
    rel = path.relative_to(PKG).parts
    name = rel[0][:-3] if len(rel) == 1 else rel[0]
    return name if name in RANK else None


def test_imports_only_go_down_the_ladder():
    bad = []
    for path in PKG.rglob("*.py"):
        here = _layer(path)
        if here is None:
            continue
        for mod in _imports(path):
            if mod.startswith("graphkit."):
                there = mod.split(".")[1]
                if there in RANK and RANK[there] > RANK[here]:
                    bad.append(f"{path.relative_to(PKG)} imports {mod}")
    assert not bad, bad


def test_only_backend_imports_optional_packages():
    bad = [f"{p.relative_to(PKG)} imports {m}" for p in PKG.rglob("*.py") if p.name != "backend.py"
           for m in _imports(p) if m.split(".")[0] in OPTIONAL]
    assert not bad, bad


def test_ops_import_nothing_else_from_graphkit():
    bad = [f"{p.relative_to(PKG)} imports {m}" for p in (PKG / "ops").rglob("*.py") for m in _imports(p)
           if m.startswith("graphkit") and not (m.startswith("graphkit.ops") or m == "graphkit.backend"
                                                or m == "graphkit")]
    assert not bad, bad


def test_no_library_code_switches_validation_off():
    """Checks run at the boundary (public ops, layers, models, loaders); code that has checked its inputs calls
    graphkit.ops.trusted instead of toggling the global validation level on the hot path."""
    bad = [str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
           if p.name != "backend.py" and "validation(" in p.read_text()]
    assert not bad, bad
