"""The repository passes its own lint configuration (``[tool.ruff]`` in pyproject.toml): import order, unused and
undefined names, line length. ruff is pinned in the ``test`` extra, so ``make test`` always runs this."""
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ruff_clean():
    pytest.importorskip("ruff", reason="ruff is in the test extra: pip install -e '.[test]'")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           "graphkit", "tests", "scripts", "benchmarks", "examples"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
