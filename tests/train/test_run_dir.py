"""Run directories cannot be clobbered: no experiment inside another, one writer at a time, no stale files."""
import os
import stat
import subprocess
import sys

import pytest

from graphkit.data.synthetic import node_classification
from graphkit.models import MLP, MLPConfig
from graphkit.train import ExperimentConfig, run_experiment
from graphkit.train.run_dir import RunDirError, RunLock, remove_stale_temporaries


def _run(out, resume=False, seeds=1):
    loaded = node_classification(num_nodes=80)
    cfg = ExperimentConfig(model="mlp", dataset="synthetic", seeds=seeds)
    cfg.train.epochs = 2
    return run_experiment(cfg, loaded, lambda: MLP(MLPConfig(in_channels=loaded.num_features,
                                                             out_channels=loaded.num_outputs)),
                          out, resume=resume, progress=False, log=lambda s: None)


def test_out_inside_a_finished_run_is_refused(tmp_path):
    exp = tmp_path / "exp"
    _run(exp)
    before = {p: p.read_bytes() for p in exp.rglob("*") if p.is_file() and p.name != ".lock"}
    for inside in (exp / "run-seed00", exp / "run-seed00" / "sub", exp / "elsewhere"):
        with pytest.raises(RunDirError, match="one run of an experiment|lies inside the"):
            _run(inside)
        assert not (inside / "config.json").exists()
    after = {p: p.read_bytes() for p in exp.rglob("*") if p.is_file() and p.name != ".lock"}
    assert before == after                                    # nothing of the finished experiment changed
    assert _run(exp, resume=True)["summary"]["runs"] == 1    # and it still resumes


def test_a_second_writer_gets_a_named_error(tmp_path):
    out = tmp_path / "exp"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                               "from graphkit.train.run_dir import RunLock\n"
                               f"with RunLock({str(out)!r}):\n    print('held', flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunDirError, match=r"is being written by pid \d+"):
            _run(out)
    finally:
        holder.kill()
        holder.wait()
    _run(out)  # a killed holder leaves no lock behind


def test_stale_temporaries_are_removed_and_files_are_readable(tmp_path):
    out = tmp_path / "exp"
    (out / "run-seed00").mkdir(parents=True)
    stale = out / "run-seed00" / ".checkpoint.pt.ab12_xyz"
    stale.write_bytes(b"half a checkpoint")
    keep = out / "run-seed00" / ".hidden-note"
    keep.write_text("mine")
    with RunLock(out):
        assert not stale.exists() and keep.exists()
    assert remove_stale_temporaries(out) == []
    _run(tmp_path / "fresh")
    mask = os.umask(0)
    os.umask(mask)
    mode = stat.S_IMODE((tmp_path / "fresh" / "results.json").stat().st_mode)
    assert mode == 0o666 & ~mask


def test_resume_with_a_changed_setting_names_the_field(tmp_path):
    from graphkit.data.synthetic import node_classification as data

    out = tmp_path / "exp"
    _run(out)
    loaded = data(num_nodes=80)
    cfg = ExperimentConfig(model="mlp", dataset="synthetic")
    cfg.train.epochs, cfg.optim.lr = 2, 0.5
    with pytest.raises(ValueError, match=r"optim\.lr: saved 0\.001, now 0\.5"):
        run_experiment(cfg, loaded, lambda: MLP(MLPConfig(in_channels=loaded.num_features,
                                                          out_channels=loaded.num_outputs)),
                       out, resume=True, progress=False, log=lambda s: None)
