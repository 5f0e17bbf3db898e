"""The training loop: selection, early stopping, optimiser groups, checkpoints and resume."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from graphkit.data.synthetic import graph_classification, node_classification
from graphkit.metrics import Accuracy, OGBMetric
from graphkit.models import GCN, GIN, GCNConfig, GINConfig
from graphkit.train import ExperimentConfig, NodeTask, TrainConfig, fit, io, run_experiment
from graphkit.train.config import OptimConfig
from graphkit.train.loop import l2_penalty, make_optimizer, select, should_stop

WORKER = Path(__file__).with_name("resume_worker.py")


def _hist(valid, losses=None):
    return [{"epoch": i + 1, "loss": 0.0, "valid": v, "test": v / 2,
             **({"valid_loss": losses[i]} if losses else {})} for i, v in enumerate(valid)]


def test_select_best_valid_first_on_ties_and_lower_is_better_for_rmse():
    h = _hist([0.1, 0.5, 0.5, 0.2])
    assert select(h, Accuracy(), "valid")["epoch"] == 2
    assert select(h, Accuracy(), "last")["epoch"] == 4
    rmse = OGBMetric("ogbg-molesol")
    assert not rmse.higher_is_better
    assert select(h, rmse, "valid")["epoch"] == 1


def test_select_ignores_nan_scores():
    h = _hist([float("nan"), 0.3, float("nan")])
    assert select(h, Accuracy(), "valid")["epoch"] == 2


def test_patience_and_kipf_loss_window():
    cfg = TrainConfig(patience=2)
    assert not should_stop(_hist([0.1, 0.5, 0.4]), Accuracy(), cfg)
    assert should_stop(_hist([0.1, 0.5, 0.4, 0.4]), Accuracy(), cfg)
    cfg = TrainConfig(loss_window=3)
    losses = [1.0, 0.9, 0.8, 0.85]  # 0.85 < mean(1.0, 0.9, 0.8)
    assert not should_stop(_hist([0.1] * 4, losses), Accuracy(), cfg)
    losses = [1.0, 0.9, 0.8, 0.7, 0.95]  # 0.95 > mean(0.9, 0.8, 0.7)
    assert should_stop(_hist([0.1] * 5, losses), Accuracy(), cfg)


def test_select_and_stop_on_validation_loss():
    h = _hist([0.1, 0.9, 0.2, 0.3], losses=[1.0, 0.7, 0.5, 0.5])
    assert select(h, Accuracy(), "valid-loss")["epoch"] == 3  # lowest loss, first on ties
    assert select(h, Accuracy(), "valid")["epoch"] == 2
    cfg = TrainConfig(patience=2, select="valid-loss")
    assert not should_stop(h, Accuracy(), cfg)  # best loss at epoch 3, one epoch ago
    assert should_stop(h + _hist([0.1] * 5, [1.0] * 5)[:1] + [{"epoch": 5, "valid": 0.9, "valid_loss": 0.6}],
                       Accuracy(), cfg)
    assert should_stop(h, Accuracy(), TrainConfig(patience=2, select="valid"))  # best accuracy at epoch 2
    with pytest.raises(ValueError, match="valid-loss"):
        TrainConfig(select="loss")


def test_group_weight_decay_for_named_parameters():
    from graphkit.models import NSD, NSDConfig

    model = NSD(NSDConfig(in_channels=4, out_channels=2, kind="diag", d=2, num_layers=2))
    opt, _ = make_optimizer(model, OptimConfig(weight_decay=5e-4, group="sheaf_learner", group_weight_decay=1e-3))
    special = {id(p) for n, p in model.named_parameters() if "sheaf_learner" in n}
    assert {id(p) for p in opt.param_groups[0]["params"]} == special
    assert opt.param_groups[0]["weight_decay"] == 1e-3 and opt.param_groups[1]["weight_decay"] == 5e-4
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(model.parameters()))
    with pytest.raises(ValueError, match="matches no parameter"):
        make_optimizer(model, OptimConfig(group="nothing"))


def test_decay_only_prefix_builds_two_groups_and_rejects_unknown_prefix():
    model = GCN(GCNConfig(4, 2, hidden=8))
    opt, _ = make_optimizer(model, OptimConfig(lr=0.01, weight_decay=5e-4, decay_only="convs.0."))
    decayed = {id(p) for p in opt.param_groups[0]["params"]}
    assert decayed == {id(p) for p in model.convs[0].parameters()}
    assert opt.param_groups[1]["weight_decay"] == 0.0
    with pytest.raises(ValueError, match="matches no parameter"):
        make_optimizer(model, OptimConfig(weight_decay=1e-3, decay_only="conv1."))
    expected = 0.5 * 5e-4 * sum(float(p.detach().pow(2).sum()) for p in model.convs[0].parameters())
    assert l2_penalty(model, OptimConfig(weight_decay=5e-4, decay_only="convs.0.")) == pytest.approx(expected)


def test_step_schedule_halves_the_learning_rate():
    model = torch.nn.Linear(2, 2)
    opt, sched = make_optimizer(model, OptimConfig(lr=0.01, step_size=2, gamma=0.5))
    for _ in range(4):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0025)


def _node_run(tmp_path, epochs, resume=False, name="run"):
    loaded = node_classification(seed=1)
    cfg = TrainConfig(epochs=epochs)
    task = NodeTask(loaded, loaded.split, cfg, torch.device("cpu"))
    build = lambda: GCN(GCNConfig(loaded.num_features, loaded.num_outputs, hidden=16))  # noqa: E731
    return fit(task, build, OptimConfig(lr=0.01), cfg, 0, tmp_path / name, torch.device("cpu"), loaded.metric,
               resume=resume, log=lambda s: None)


def test_node_training_learns_the_synthetic_task(tmp_path):
    result = _node_run(tmp_path, 60)
    assert result["selected"]["test"] > 0.8  # chance is 1/3
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert len(log) == 61 and log[0].startswith("epoch,loss,valid")


def test_resume_from_a_mid_run_checkpoint_gives_identical_results(tmp_path):
    full = _node_run(tmp_path, 12, name="full")
    # a run stopped after 5 epochs (its checkpoint is what a killed run leaves) ...
    _node_run(tmp_path, 5, name="cut")
    (tmp_path / "cut" / "results.json").unlink()
    # ... continued to 12 epochs with resume
    resumed = _node_run(tmp_path, 12, resume=True, name="cut")
    assert [h["loss"] for h in resumed["history"]] == [h["loss"] for h in full["history"]]
    assert resumed["selected"] == full["selected"]


def test_resume_returns_a_finished_run_without_training(tmp_path):
    first = _node_run(tmp_path, 3)
    again = _node_run(tmp_path, 3, resume=True)
    assert again == json.loads(json.dumps(first))


def _worker(out, epochs, resume):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(WORKER), str(out), str(epochs), "1" if resume else "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.slow
def test_kill_9_then_resume_matches_an_uninterrupted_run(tmp_path):
    epochs = 12
    ref = _worker(tmp_path / "ref", epochs, False)
    victim = _worker(tmp_path / "victim", epochs, False)
    log = tmp_path / "victim" / "run-seed00" / "log.csv"
    deadline = time.time() + 120
    while time.time() < deadline:  # kill once a few epochs are checkpointed, mid-run
        if log.exists() and len(log.read_text().splitlines()) >= 4:
            break
        time.sleep(0.02)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert not (tmp_path / "victim" / "results.json").exists(), "run finished before it could be killed"
    out, err = ref.communicate(timeout=300)
    assert ref.returncode == 0, err
    resumed = _worker(tmp_path / "victim", epochs, True)
    out2, err2 = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err2
    a = json.loads((tmp_path / "ref" / "results.json").read_text())
    b = json.loads((tmp_path / "victim" / "results.json").read_text())
    for ra, rb in zip(a["runs"], b["runs"]):
        assert [h["loss"] for h in ra["history"]] == [h["loss"] for h in rb["history"]]
        assert ra["selected"]["test"] == rb["selected"]["test"]
    assert a["summary"]["test"] == b["summary"]["test"]


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    from graphkit.train import io

    path = tmp_path / "c.pt"
    io.save_checkpoint(path, {"model": {"w": torch.ones(1)}})

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        io.save_checkpoint(path, {"model": {"w": torch.zeros(1)}})
    assert torch.equal(io.load_checkpoint(path)["model"]["w"], torch.ones(1))
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left behind


def test_graph_experiment_writes_every_artifact(tmp_path):
    loaded = graph_classification(num_graphs=120, seed=0)
    cfg = ExperimentConfig(model="gin", dataset="synthetic", seeds=2)
    cfg.train.epochs = 3
    build = lambda: GIN(GINConfig(loaded.num_features, 2, hidden=16, num_layers=3))  # noqa: E731
    report = run_experiment(cfg, loaded, build, tmp_path, progress=False, log=lambda s: None)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"config.json", "results.json", "runs.csv", "curves.png", "run-seed00", "run-seed01"} <= names
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["summary"]["runs"] == 2 and len(saved["runs"][0]["history"]) == 3
    assert {"versions", "device", "hardware"} <= set(saved["environment"])
    vals = saved["summary"]["test"]["values"]
    assert saved["summary"]["test"]["std"] == pytest.approx(torch.tensor(vals).std(unbiased=True).item())
    assert report["summary_line"] == saved["summary_line"]
    with pytest.raises(FileExistsError, match="--resume"):
        run_experiment(cfg, loaded, build, tmp_path, progress=False, log=lambda s: None)
    cfg.optim.lr = 0.5
    with pytest.raises(ValueError, match="differs"):
        run_experiment(cfg, loaded, build, tmp_path, resume=True, progress=False, log=lambda s: None)


def test_mean_curve_selection_picks_one_epoch_for_all_folds():
    from graphkit.train import summarize

    runs = [{"history": [{"epoch": 1, "test": 0.5}, {"epoch": 2, "test": 0.9}, {"epoch": 3, "test": 0.6}],
             "selected": {}, "seconds_per_epoch": 1.0, "train_seconds_per_epoch": 1.0, "epochs_run": 3},
            {"history": [{"epoch": 1, "test": 0.8}, {"epoch": 2, "test": 0.7}, {"epoch": 3, "test": 0.9}],
             "selected": {}, "seconds_per_epoch": 1.0, "train_seconds_per_epoch": 1.0, "epochs_run": 3}]
    s = summarize(runs, "acc", "mean-curve")
    assert s["epoch"] == 2 and s["test"]["values"] == [0.9, 0.7]  # mean 0.8 beats 0.65 and 0.75


@pytest.mark.parametrize("n", [100, 97, 65, 1])
def test_training_batches_equal_pyg_shuffle_except_a_lone_last_graph(n):
    from torch_geometric.loader import DataLoader

    from graphkit.train.batches import ShuffledBatches

    g = torch.Generator().manual_seed(5)
    ours = list(DataLoader(range(n), batch_sampler=ShuffledBatches(n, 32, g), generator=g))
    ours = [t.tolist() for t in ours]
    theirs = list(DataLoader(range(n), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(5)))
    theirs = [t.tolist() if hasattr(t, "tolist") else list(t) for t in theirs]
    if n % 32 == 1 and n > 1:  # the single leftover graph joins the previous batch
        theirs[-2] += theirs.pop()
    assert ours == theirs
    assert len(ShuffledBatches(n, 32, torch.Generator())) == len(ours)


def test_cosine_schedule_with_warmup_and_adamw():
    model = torch.nn.Linear(2, 2)
    opt, sched = make_optimizer(model, OptimConfig(lr=1.0, optimizer="adamw", cosine=True, warmup_epochs=2), epochs=6)
    assert isinstance(opt, torch.optim.AdamW)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(1 / 3) and lrs[1] == pytest.approx(2 / 3) and lrs[2] == pytest.approx(1.0)
    assert lrs[3] > lrs[4] > lrs[5] > 0  # cosine decay after the warm-up
    with pytest.raises(ValueError, match="two schedules"):
        OptimConfig(cosine=True, step_size=5)
    with pytest.raises(ValueError, match="adamw"):
        OptimConfig(optimizer="sgd")


def test_resume_accepts_a_config_saved_before_new_settings_existed(tmp_path):
    """A run started before a setting was added resumes: the missing key takes its default."""
    from graphkit.train.config import ExperimentConfig
    from graphkit.train.experiment import _check_out

    cfg = ExperimentConfig(model="gcn", dataset="cora")
    saved = cfg.to_dict()
    saved["optim"].pop("cosine")
    saved["train"].pop("amp")
    (tmp_path / "config.json").write_text(json.dumps(saved))
    _check_out(tmp_path, cfg, resume=True)  # no error
    cfg.optim.lr = 0.5
    with pytest.raises(ValueError, match="differs"):
        _check_out(tmp_path, cfg, resume=True)


def test_resume_accepts_list_settings_saved_as_text(tmp_path):
    """Configs written before list settings were tuples held them as text ("" and "64,16,64"): they still resume,
    and a real change of a list setting is still named."""
    from graphkit.train.config import ExperimentConfig
    from graphkit.train.experiment import _check_out

    cfg = ExperimentConfig(model="stgcn", dataset="los-loop", model_cfg={"channels": (64, 16, 64)})
    saved = cfg.to_dict()
    saved["train"]["fanouts"] = ""
    saved["model_cfg"]["channels"] = "64,16,64"
    (tmp_path / "config.json").write_text(json.dumps(saved))
    _check_out(tmp_path, cfg, resume=True)  # no error
    assert ExperimentConfig.from_dict(saved).train.fanouts == ()
    cfg.model_cfg["channels"] = (32, 16, 64)
    with pytest.raises(ValueError, match="model_cfg.channels"):
        _check_out(tmp_path, cfg, resume=True)


def test_becomes_selected_follows_select_first_on_ties():
    from graphkit.train.loop import _becomes_selected

    h = _hist([0.1, 0.5], losses=[1.0, 0.7])
    assert _becomes_selected(h, 3, Accuracy(), "valid")({"valid": 0.6})
    assert not _becomes_selected(h, 3, Accuracy(), "valid")({"valid": 0.5})  # a tie keeps the earlier epoch
    assert not _becomes_selected(h, 3, Accuracy(), "valid")({"valid": float("nan")})
    assert _becomes_selected(h, 3, Accuracy(), "valid-loss")({"valid": 0.0, "valid_loss": 0.6})
    assert not _becomes_selected(h, 3, Accuracy(), "valid-loss")({"valid": 0.9, "valid_loss": 0.7})
    assert _becomes_selected([], 1, Accuracy(), "valid")({"valid": 0.0})  # the first epoch is always selected
    # the history holds valid loss + the L2 term (Kipf & Welling's rule): the candidate is compared the same way
    assert not _becomes_selected(h, 3, Accuracy(), "valid-loss", loss_penalty=0.2)({"valid": 0.0, "valid_loss": 0.6})


def test_splits_to_score_puts_test_last_and_asks_before_scoring_it():
    from graphkit.train.tasks.scoring import splits_to_score

    scores: dict = {}
    asked = []

    def wants_test(so_far):
        asked.append(dict(so_far))
        return so_far["valid"] > 0.5

    names = splits_to_score(["train", "test", "valid"], False, scores, wants_test)
    assert next(names) == "valid"
    scores["valid"] = 0.7
    assert list(names) == ["test"] and asked == [{"valid": 0.7}]
    scores["valid"] = 0.2
    assert list(splits_to_score(["train", "test", "valid"], True, scores, wants_test)) == ["train", "valid"]
    assert list(splits_to_score(["train", "valid", "test"], False, scores, None)) == ["valid", "test"]


@pytest.mark.parametrize("rule", ["valid", "valid-loss"])
def test_eval_test_selected_reports_the_same_runs_and_skips_test_elsewhere(tmp_path, monkeypatch, rule):
    """Scoring test only at newly selected epochs changes nothing reported, and really skips the other passes
    (selecting on validation loss, with the L2 term Kipf & Welling's rule adds to it, too)."""
    from graphkit.train.tasks.graph import GraphTask

    loaded = graph_classification(num_graphs=120, seed=0)
    build = lambda: GIN(GINConfig(loaded.num_features, 2, hidden=16, num_layers=3))  # noqa: E731
    scored: list[str] = []
    predict = GraphTask.predict

    def counting(self, model, name, progress=False):
        scored.append(name)
        return predict(self, model, name, progress)

    monkeypatch.setattr(GraphTask, "predict", counting)
    reports = {}
    for how in ("every", "selected"):
        cfg = ExperimentConfig(model="gin", dataset="synthetic", seeds=1)
        cfg.train.epochs, cfg.train.eval_test, cfg.optim.lr, cfg.train.select = 8, how, 0.05, rule
        if rule == "valid-loss":
            cfg.train.loss_window, cfg.optim.weight_decay = 100, 1e-2  # the L2 term joins the validation loss
        scored.clear()
        reports[how] = run_experiment(cfg, loaded, build, tmp_path / how, progress=False, log=lambda s: None)
        reports[how]["scored"] = list(scored)
    every, sel = reports["every"]["runs"][0], reports["selected"]["runs"][0]
    assert sel["selected"] == every["selected"] and sel["selected_epoch"] == every["selected_epoch"]
    assert [h["loss"] for h in sel["history"]] == [h["loss"] for h in every["history"]]
    key, sign = ("valid", 1) if rule == "valid" else ("valid_loss", -1)
    improved = [h["epoch"] for i, h in enumerate(every["history"])
                if all(sign * h[key] > sign * g[key] for g in every["history"][:i])]
    assert [h["epoch"] for h in sel["history"] if "test" in h] == improved
    assert reports["every"]["scored"].count("test") == 8
    assert reports["selected"]["scored"].count("test") == len(improved) < 8  # else the test proves nothing
    assert (tmp_path / "selected" / "curves.png").exists()
    with pytest.raises(ValueError, match="eval_test"):
        TrainConfig(select="last", eval_test="selected")


def test_a_resumed_run_records_the_machine_of_each_stretch(tmp_path):
    """A run resumed on another machine (here: another thread count) keeps one segment per stretch of epochs, so
    its seconds per epoch can be read per machine; checkpoints from before segments were kept still resume."""
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        _node_run(tmp_path, 4, name="cut")
        (tmp_path / "cut" / "results.json").unlink()
        torch.set_num_threads(2)
        resumed = _node_run(tmp_path, 7, resume=True, name="cut")
        assert [(s["from_epoch"], s["threads"]) for s in resumed["segments"]] == [(1, 1), (5, 2)]
        assert all(s["hardware"] for s in resumed["segments"])
        # an old checkpoint (no "segments"): the stretch before it is unknown, the new one is recorded
        ckpt = tmp_path / "cut" / "checkpoint.pt"
        state = io.load_checkpoint(ckpt)
        del state["segments"]
        io.save_checkpoint(ckpt, state)
        (tmp_path / "cut" / "results.json").unlink()
        again = _node_run(tmp_path, 9, resume=True, name="cut")
        assert [(s["from_epoch"], s["threads"]) for s in again["segments"]] == [(8, 2)]
    finally:
        torch.set_num_threads(threads)


def test_cpu_name_names_the_widest_vector_instructions(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n"
                    "processor\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n")
    assert io._cpu_name(info) == f"AMD EPYC ({os.cpu_count()} cores, AVX-512)"
    info.write_text("model name\t: Intel Xeon\nflags\t\t: fpu sse2 avx2\n")
    assert io._cpu_name(info) == f"Intel Xeon ({os.cpu_count()} cores, AVX2)"
    info.write_text("model name\t: Old\nflags\t\t: fpu sse2\n")
    assert io._cpu_name(info) == f"Old ({os.cpu_count()} cores)"
