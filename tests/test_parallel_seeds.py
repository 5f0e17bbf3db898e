"""scripts/parallel_seeds.sh: seeds trained in parallel processes and merged give the sequential experiment."""
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import require_data

from graphkit.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_parallel_seeds_merge_to_the_sequential_result(tmp_path):
    root = require_data("planetoid", "Cora")
    env = {**os.environ, "OUT": str(tmp_path / "par"), "GRAPHKIT_DATA": str(Path(root).resolve())}
    proc = subprocess.run([str(ROOT / "scripts" / "parallel_seeds.sh"), "cora-gcn", "2", "--train.epochs", "4"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert main(["repro", "cora-gcn", "--seeds", "2", "--train.epochs", "4", "--data-root", root,
                 "--out", str(tmp_path / "seq"), "--quiet"]) == 0
    par = json.loads((tmp_path / "par" / "cora-gcn" / "results.json").read_text())["summary"]
    seq = json.loads((tmp_path / "seq" / "results.json").read_text())["summary"]
    assert par["test"]["values"] == seq["test"]["values"] and par["runs"] == 2
