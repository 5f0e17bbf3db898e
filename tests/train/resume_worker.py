"""Subprocess for the kill -9 test: one GIN experiment on synthetic graphs into argv[1]."""
import sys

import torch

from graphkit.data.synthetic import graph_classification
from graphkit.models import GIN, GINConfig
from graphkit.train import ExperimentConfig, run_experiment

if __name__ == "__main__":
    out, epochs, resume = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
    torch.set_num_threads(1)
    loaded = graph_classification(num_graphs=600, seed=3)
    cfg = ExperimentConfig(model="gin", dataset="synthetic", seeds=2)
    cfg.train.epochs = epochs
    cfg.train.batch_size = 16
    cfg.optim.lr = 0.01
    mcfg = GINConfig(loaded.num_features, 2, hidden=32, num_layers=3)
    report = run_experiment(cfg, loaded, lambda: GIN(mcfg), out, resume=resume, progress=False, log=lambda s: None)
    print(report["summary_line"])
