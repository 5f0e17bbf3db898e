"""Traffic forecasting on Los-loop with the virtual-node ST-GNN: training, per-horizon errors, two pictures.

Shows the forecasting side of graphkit: a traffic series loaded with its sensor graph, the DCRNN-style
protocol (70/10/20 windows, z-score from the training split, masked MAE on de-normalised outputs), the
trainer's ForecastTask, and what the model learned:

* ``<out>/predictions.png``: predicted vs actual speed of a few sensors over one test day (15 min ahead);
* ``<out>/virtual_adjacency.png``: the learned sensor <-> virtual-node weights as a heat map.

    python examples/traffic_forecast.py                  # 20 epochs
    python examples/traffic_forecast.py --smoke          # 1 epoch of a narrow model
    python examples/traffic_forecast.py --from-run runs/vn-stgnn-los-loop   # pictures of a finished repro

The command-line equivalent of the training run is `graphkit repro vn-stgnn-los-loop`.
"""
import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from graphkit.data.traffic import forecast_task  # noqa: E402
from graphkit.models import GraphWaveNet, VirtualNodeSTGNNConfig  # noqa: E402
from graphkit.train import ExperimentConfig, run_experiment  # noqa: E402
from graphkit.train.config import DataConfig, OptimConfig, TrainConfig  # noqa: E402
from graphkit.train.io import load_checkpoint  # noqa: E402
from graphkit.train.tasks import ForecastTask  # noqa: E402

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--data-root")
p.add_argument("--out", default="runs/example-traffic")
p.add_argument("--epochs", type=int, default=20)
p.add_argument("--virtual-nodes", type=int, default=8)
p.add_argument("--smoke", action="store_true", help="1 epoch of a narrow model")
p.add_argument("--from-run", help="skip training: load the model of a finished `graphkit repro vn-stgnn-los-loop` "
                                  "run directory (its selected epoch is not kept; the last checkpoint is used)")
args = p.parse_args()
out = Path(args.out)

# 1. Los-loop (207 METR-LA sensors, one week at 5 min) under the DCRNN-style protocol.
loaded = forecast_task("los-loop", args.data_root, protocol="dcrnn")
print(loaded.summary())

# 2. The virtual-node ST-GNN (Graph WaveNet backbone, semi-adaptive adjacency with virtual nodes).
width = {"residual_channels": 8, "dilation_channels": 8, "skip_channels": 16, "end_channels": 32} if args.smoke \
    else {}
model_cfg = VirtualNodeSTGNNConfig(in_channels=loaded.num_features, num_nodes=loaded.forecast.num_nodes,
                                   virtual_nodes=args.virtual_nodes, **width)
model = GraphWaveNet(model_cfg)
train = TrainConfig(epochs=1 if args.smoke else args.epochs, batch_size=64, clip_grad=5.0)
if args.from_run:
    run = Path(args.from_run)
    state = load_checkpoint(run / "run-seed00" / "checkpoint.pt")  # tensors and plain values only, never code
    model.load_state_dict(state["model"])
    done = run / "run-seed00" / "results.json"  # a finished run's selected epoch, else the last checkpointed one
    sel = json.loads(done.read_text())["selected"] if done.exists() else state["history"][-1]
    out.mkdir(parents=True, exist_ok=True)
else:
    cfg = ExperimentConfig(model="vn-stgnn", dataset="los-loop", optim=OptimConfig(lr=1e-3, weight_decay=1e-4),
                           train=train, data=DataConfig(protocol="dcrnn"))
    report = run_experiment(cfg, loaded, lambda: model, out, resume=True, progress=False,
                            title="Los-loop vn-stgnn (example)")
    sel = report["runs"][0]["selected"]
print("test MAE per horizon (mph):", " ".join(f"{v:.2f}" for v in sel["test_mae_per_horizon"]))

# 3. Predicted vs actual speed over the first test day, 3 steps (15 min) ahead (the model after its last epoch).
task = ForecastTask(loaded, loaded.split, train, torch.device("cpu"))
y, pred = task.predict(model, "test")
day = slice(0, min(288, y.size(0)))
steps = torch.arange(day.stop) * 5 / 60
fig, axes = plt.subplots(3, 1, figsize=(10, 7), sharex=True)
for ax, sensor in zip(axes, (0, 50, 150)):
    ax.plot(steps, y[day, 2, sensor], label="actual", lw=1)
    ax.plot(steps, pred[day, 2, sensor], label="predicted (15 min ahead)", lw=1)
    ax.set_ylabel(f"sensor {loaded.data.series.sensor_ids[sensor]}\nmph")
axes[0].legend(loc="lower left")
axes[-1].set_xlabel("hours into the test period")
fig.suptitle("Los-loop: virtual-node ST-GNN, predicted vs actual speed")
fig.tight_layout()
fig.savefig(out / "predictions.png", dpi=110)

# 4. The learned virtual-node adjacency: how strongly each virtual node gathers from each sensor.
with torch.no_grad():
    semi = model.semi_adaptive_adjacency(task.graph)
n = model_cfg.num_nodes
fig, ax = plt.subplots(figsize=(10, 3))
im = ax.imshow(semi[n:, :n].numpy(), aspect="auto", cmap="viridis")
ax.set(xlabel="sensor", ylabel="virtual node", title="virtual node <- sensor weights (rows sum to 1)")
fig.colorbar(im, ax=ax)
fig.tight_layout()
fig.savefig(out / "virtual_adjacency.png", dpi=110)
print(f"wrote {out / 'predictions.png'} and {out / 'virtual_adjacency.png'}")
print(f"Los-loop vn-stgnn: test MAE {sel['test_mae']:.3f}, RMSE {sel['test_rmse']:.3f}, "
      f"MAPE {100 * sel['test_mape']:.2f}%")
