"""A fixed training workload for before/after comparisons of a refactor, run against the graphkit of a given
checkout, so that two commits can be timed as whole processes, alternating (A B A B ...).

Workload (one CPU thread): a 3 x 128 GCN, 6 full-batch training steps from a prebuilt Adjacency and 6 from
the edge_index, on a random 40,000-node / 400,000-edge graph with 64 features; then 150 training steps of
a GIN (TU defaults) on a batch of 128 random 25-node graphs.

    git worktree add /tmp/base <old-commit>
    /usr/bin/time -v python benchmarks/ab_workload.py /tmp/base     # and the same with the current checkout
"""
from __future__ import annotations

import sys

import torch


def main(checkout: str) -> None:
    sys.path.insert(0, checkout)
    from torch_geometric.data import Batch, Data

    from graphkit.models import GCN, GIN, GCNConfig, GINConfig
    from graphkit.ops import Adjacency

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    n, e = 40_000, 400_000
    ei = torch.randint(0, n, (2, e), generator=g)
    x = torch.randn(n, 64, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    torch.manual_seed(0)
    model = GCN(GCNConfig(in_channels=64, out_channels=10, hidden=128, num_layers=3))
    opt = torch.optim.Adam(model.parameters(), 0.01)
    for graph in (Adjacency.from_edge_index(ei, num_nodes=n), ei):
        for _ in range(6):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x, graph), y).backward()
            opt.step()
    graphs = [Data(x=torch.randn(25, 16, generator=g), edge_index=torch.randint(0, 25, (2, 60), generator=g),
                   y=torch.tensor([1])) for _ in range(128)]
    batch = Batch.from_data_list(graphs)
    gin = GIN(GINConfig(in_channels=16, out_channels=2))
    opt = torch.optim.Adam(gin.parameters(), 0.01)
    for _ in range(150):
        opt.zero_grad()
        gin(batch).sum().backward()
        opt.step()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
