"""`make device-check DEVICE=cpu`: the GPU check's script runs end to end at toy sizes, so it cannot rot
between GPU loans (every section runs: tests, syncs, AMP/compile, the speed comparisons, fidelity, training)."""
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import require_data

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_device_check_cpu_mode(tmp_path):
    root = require_data("ogb", "ogbg_molesol")
    for part in ("planetoid/Cora", "tu/MUTAG", "traffic/los-loop"):
        require_data(*part.split("/"))
    env = {**os.environ, "OUT": str(tmp_path / "out"), "GRAPHKIT_DATA": str(Path(root).resolve()),
           "GRAPHKIT_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(["make", "-s", "device-check", "DEVICE=cpu"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    report = json.loads((tmp_path / "out" / "device_check.json").read_text())
    bad = {k: v.get("error", v["status"]) for k, v in report["sections"].items() if v["status"] != "ok"}
    assert proc.returncode == 0 and not bad, (bad, proc.stdout[-3000:], proc.stderr[-3000:])
    s = report["sections"]
    assert set(s) == {"environment", "tests", "syncs", "amp_compile", "speed_sparse", "speed_layers",
                      "speed_arxiv_epoch", "speed_molhiv", "fidelity", "training", "speed_mamba",
                      "gat_and_saved", "fidelity_mutag"}
    assert s["syncs"]["gin_vn_syncs_per_step"] == 0
    assert {r["task"] for r in s["training"]["runs"]} == {"node", "graph", "link", "forecast"}
    assert s["tests"]["tests"] > 0 and s["tests"]["failures"] == 0
    assert s["gat_and_saved"]["saved_round_trip"]["exact"] and len(s["gat_and_saved"]["gat_rows"]) == 2
    assert "| speed_molhiv | ok |" in (tmp_path / "out" / "device_check.md").read_text()
