"""Persistence ("the last observed speed stays") on Los-loop, under both forecasting protocols.

A floor every learned model should beat; printed as the rows docs/reproductions.md shows.

    python scripts/persistence_baseline.py [--data-root ../shared/data]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from graphkit.data.traffic import forecast_task  # noqa: E402
from graphkit.metrics import ForecastErrors, tgcn_metrics  # noqa: E402


def last_value(loaded):
    d = loaded.data
    x, y = d.windows(loaded.split["test"])
    return d.scaler.inverse(x[:, -1:, :, 0]).expand_as(y), y


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root")
    args = p.parse_args()
    pred, y = last_value(forecast_task("los-loop", args.data_root, protocol="dcrnn"))
    errors = ForecastErrors()
    errors.update(pred, y)
    r = errors.result()
    cells = [f"{r['mae_per_horizon'][h]:.2f} / {r['rmse_per_horizon'][h]:.2f} / {100 * r['mape_per_horizon'][h]:.2f}%"
             for h in (2, 5, 11)]
    print(f"| persistence (clean) | {' | '.join(cells)} | {r['mae']:.3f} | - | computed |")
    for steps, minutes in ((3, 15), (6, 30), (9, 45), (12, 60)):
        pred, y = last_value(forecast_task("los-loop", args.data_root, protocol="tgcn", t_out=steps))
        t = tgcn_metrics(pred, y)
        print(f"| persistence (T-GCN protocol) | {minutes}min | {t['rmse']:.4f} | {t['mae']:.4f} | "
              f"{t['accuracy']:.4f} | {t['r2']:.4f} | {t['explained_variance']:.4f} | - | - | computed |")


if __name__ == "__main__":
    main()
