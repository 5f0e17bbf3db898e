"""Train OGB's molecule baseline (GIN + virtual node by default) with the Python API.

    python examples/ogb_mol.py --dataset ogbg-molhiv --seeds 10           # the leaderboard protocol
    python examples/ogb_mol.py --dataset ogbg-molesol --epochs 5          # a quick look
    python examples/ogb_mol.py --dataset ogbg-molfreesolv --smoke         # 1 epoch of a small model (tests)

Data comes from the data root (--data-root, else $GRAPHKIT_DATA, else ./datasets); the
command-line equivalent is `graphkit repro ogbg-molhiv-gin-vn`.
"""
import argparse

from graphkit.data import load_ogb
from graphkit.models import MolGNN, MolGNNConfig
from graphkit.train import ExperimentConfig, run_experiment

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--dataset", default="ogbg-molhiv")
p.add_argument("--gnn", default="gin", choices=["gin", "gcn"])
p.add_argument("--no-virtual-node", action="store_true")
p.add_argument("--epochs", type=int, default=100)
p.add_argument("--seeds", type=int, default=1)
p.add_argument("--hidden", type=int, default=300)
p.add_argument("--data-root")
p.add_argument("--out", default=None)
p.add_argument("--smoke", action="store_true", help="1 epoch, hidden 16: checks the script end to end")
args = p.parse_args()
if args.smoke:
    args.epochs, args.hidden, args.seeds = 1, 16, 1

# 1. Data: the ogb package's dataset, official split and official Evaluator.
data = load_ogb(args.dataset, args.data_root)
print(data.summary())

# 2. Model: OGB's baseline, configured by a dataclass.
model_cfg = MolGNNConfig(num_tasks=data.num_outputs, gnn=args.gnn, virtual_node=not args.no_virtual_node,
                         hidden=args.hidden)

# 3. Experiment: Adam 1e-3, batch 32, test score at the best validation epoch, one run per seed.
cfg = ExperimentConfig(model=f"{args.gnn}{'' if args.no_virtual_node else '-vn'}", dataset=args.dataset,
                       seeds=args.seeds)
cfg.train.epochs = args.epochs
cfg.optim.lr = 1e-3
out = args.out or f"runs/example-{args.dataset}"
report = run_experiment(cfg, data, lambda: MolGNN(model_cfg), out)

# 4. The summary line: mean ± std over seeds (results.json in `out` has everything else).
print(report["summary_line"])
