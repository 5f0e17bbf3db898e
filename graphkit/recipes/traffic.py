"""Traffic forecasting: the clean (DCRNN) protocol and T-GCN's own protocol on Los-loop."""
from __future__ import annotations

from graphkit.recipes.recipe import Recipe

RECIPES: dict[str, Recipe] = {}

# Clean protocol (DCRNN / Graph WaveNet lineage): chronological 70/10/20 windows, 12 -> 12 steps, z-score from
# the training inputs, time-of-day covariate, masked MAE on de-normalised outputs as loss and metric, test at the
# best validation MAE. Graph WaveNet's training settings for every model: Adam lr 1e-3, weight decay 1e-4,
# batch 64, gradient norm clipped at 5.
_FORECAST = {"data.protocol": "dcrnn", "train.batch_size": "64", "optim.lr": "1e-3", "optim.weight_decay": "1e-4",
             "train.clip_grad": "5", "train.select": "valid"}
_ONE = {"seeds": "1"}
# Published per-horizon MAE / RMSE / MAPE(%) at 15 / 30 / 60 min (../shared/TARGETS.md).
PUBLISHED_HORIZONS: dict[str, dict[str, tuple[tuple[float, float, float], ...]]] = {
    "metr-la": {"dcrnn": ((2.77, 5.38, 7.30), (3.15, 6.45, 8.80), (3.60, 7.60, 10.50)),
                "stgcn": ((2.88, 5.74, 7.62), (3.47, 7.24, 9.57), (4.59, 9.40, 12.70)),
                "gwnet": ((2.69, 5.15, 6.90), (3.07, 6.22, 8.37), (3.53, 7.37, 10.01))},
    "pems-bay": {"dcrnn": ((1.38, 2.95, 2.90), (1.74, 3.97, 3.90), (2.07, 4.74, 4.90)),
                 "stgcn": ((1.36, 2.96, 2.90), (1.81, 4.27, 4.17), (2.49, 5.69, 5.79)),
                 "gwnet": ((1.30, 2.74, 2.73), (1.63, 3.70, 3.67), (1.95, 4.52, 4.63))},
}
_EPOCHS = {"tgcn": "60", "stgcn": "20", "gwnet": "6", "vn-stgnn": "6", "sttn": "3"}  # CPU budget, see docs
for _m in ("tgcn", "stgcn", "gwnet", "vn-stgnn", "sttn"):
    RECIPES[f"{_m}-los-loop"] = Recipe(
        f"{_m}-los-loop", _m, "los-loop", {**_FORECAST, "train.epochs": _EPOCHS[_m]}, "mae", None,
        "clean DCRNN-style protocol on Los-loop (../shared/TARGETS.md); no published number on this protocol",
        f"{_EPOCHS[_m]} epochs: the CPU budget of this machine, not the reference schedule", runs=_ONE)
    for _ds in ("metr-la", "pems-bay"):
        _ref = PUBLISHED_HORIZONS[_ds].get(_m)
        RECIPES[f"{_m}-{_ds}"] = Recipe(
            f"{_m}-{_ds}", _m, _ds, {**_FORECAST, "train.epochs": "100"}, "mae", None,
            "DCRNN / Graph WaveNet protocol; published per-horizon numbers in graphkit.recipes.PUBLISHED_HORIZONS",
            ("published 15/30/60 min MAE " + " / ".join(str(h[0]) for h in _ref) + "; " if _ref else "")
            + "data not shipped here (download needs internet)", runs={"seeds": "3"})
# T-GCN's own protocol on Los-loop: 80/20 split, no validation, divide by the maximum, loss 0.5 * sum of squared
# errors on the scaled values (its TensorFlow code) with L2 weight 0.0015, hidden 64, lr 1e-3, batch 32, one model
# per horizon (3/6/9/12 steps = 15/30/45/60 min), metrics pooled over the predicted steps, the epoch with the lowest
# *test* RMSE reported (as its code does).
_TGCN = {"data.protocol": "tgcn", "train.loss": "sse", "train.batch_size": "32", "optim.lr": "1e-3",
         "optim.weight_decay": "1.5e-3", "train.select": "test", "train.epochs": "60", "model.hidden": "64"}
_TGCN_PUBLISHED = {3: (5.1264, None)}
for _m in ("tgcn", "stgcn", "gwnet", "vn-stgnn", "sttn"):
    # T-GCN itself as its authors' code computes it: the flat split of the gate output (GraphGRUCell)
    _model_settings = {"model.hidden": "64", "model.gate_layout": "flat"} if _m == "tgcn" else {}
    _base = {k: v for k, v in _TGCN.items() if k != "model.hidden"}
    for _h, _min in ((3, 15), (6, 30), (9, 45), (12, 60)):
        _name = f"{_m}-los-loop-tgcn-{_min}min"
        RECIPES[_name] = Recipe(
            _name, _m, "los-loop", {**_base, **_model_settings, "data.window_out": str(_h),
                                    "train.epochs": "60" if _m == "tgcn" else _EPOCHS[_m]}, "rmse",
            _TGCN_PUBLISHED.get(_h) if _m == "tgcn" else None,
            "Zhao et al. 2019 (T-GCN), Los-loop table; secondary copies (../shared/TARGETS.md)" if _m == "tgcn"
            else "T-GCN's protocol with a graphkit model; T-GCN's row is the comparison",
            "T-GCN's protocol selects on the test set (optimistic by construction); few epochs instead of 5000 "
            "(CPU budget)", runs=_ONE)
