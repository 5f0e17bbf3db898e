"""The documentation is part of the product: the guide's code runs, the site builds strictly, docstrings exist."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest import data_root

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "docs" / "index.md"] + sorted((ROOT / "docs" / "guide").glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
NEEDS_DATA = re.compile(r"\bload_\w+\(|planetoid_task\(|forecast_task\(")


def _check_docstrings():
    spec = importlib.util.spec_from_file_location("check_docstrings", ROOT / "scripts" / "check_docstrings.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_public_symbol_has_a_docstring():
    missing = _check_docstrings().missing_docstrings()
    assert not missing, f"public symbols without a docstring: {missing}"


def test_docstring_check_notices_a_missing_docstring(monkeypatch):
    import graphkit.ops.order as order

    def undocumented(x):
        return x

    undocumented.__module__ = order.__name__
    monkeypatch.setattr(order, "undocumented", undocumented, raising=False)
    assert "graphkit.ops.order.undocumented" in _check_docstrings().missing_docstrings()


def test_guide_pages_are_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in PAGES:
        assert str(page.relative_to(ROOT / "docs")) in nav, f"{page.name} is not in mkdocs.yml's nav"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_guide_python_blocks_run(page, tmp_path, monkeypatch, capsys):
    """Every ```python block of a page, in order, in one namespace (as a reader pastes them)."""
    blocks = BLOCK.findall(page.read_text())
    if not blocks:
        pytest.skip("no python blocks")
    source = "\n".join(blocks)
    if NEEDS_DATA.search(source) and data_root() is None:
        pytest.skip("the page reads datasets; set GRAPHKIT_DATA (CI uses ../shared/data)")
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType(f"docs_{page.stem.replace('-', '_')}")  # a real module, as a REPL's __main__ is
    monkeypatch.setitem(sys.modules, module.__name__, module)  # (dataclasses look their module up there)
    import graphkit.catalog

    monkeypatch.setattr(graphkit.catalog, "MODELS", dict(graphkit.catalog.MODELS))  # a page may add a model
    namespace = module.__dict__
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{page.name} (block {i + 1})", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"{page.name}, python block {i + 1} fails: {exc!r}\n{block}") from exc
    assert capsys.readouterr().out.strip(), "the page's code printed nothing to show the reader"


def _mkdocs(config: Path, site: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=config.parent, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_site_builds_strictly(tmp_path):
    done = _mkdocs(ROOT / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 0, done.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "ops" / "index.html").read_text()
    assert "graphkit.ops.spmm.spmm" in api and "sparse-dense product" in api.lower()


def test_a_broken_reference_fails_the_build(tmp_path):
    copy = tmp_path / "proj"
    shutil.copytree(ROOT / "docs", copy / "docs", ignore=shutil.ignore_patterns("reproductions"))
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    (copy / "graphkit").symlink_to(ROOT / "graphkit")
    page = copy / "docs" / "guide" / "install.md"
    page.write_text(page.read_text() + "\nSee [the scan][graphkit.ops.no_such_function].\n")
    done = _mkdocs(copy / "mkdocs.yml", tmp_path / "site")
    assert done.returncode != 0 and "no_such_function" in done.stderr + done.stdout
