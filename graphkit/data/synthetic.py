"""Synthetic tasks with a learnable signal, for tests, examples and smoke runs (no files needed)."""
from __future__ import annotations

import torch
from torch_geometric.data import Data, InMemoryDataset

from graphkit.data.bundle import Loaded
from graphkit.metrics import Accuracy


class _Graphs(InMemoryDataset):
    def __init__(self, graphs: list[Data]):
        super().__init__(None)
        self.data, self.slices = self.collate(graphs)


def graph_classification(num_graphs: int = 200, num_features: int = 8, min_nodes: int = 5, max_nodes: int = 20,
                         seed: int = 0) -> Loaded:
    """Random undirected graphs in two classes; a class shifts the first node feature by +-0.8.

    Split 60/20/20, metric accuracy. ``x: [n, num_features]``, ``y: [1]``.
    """
    g = torch.Generator().manual_seed(seed)
    graphs = []
    for _ in range(num_graphs):
        n = int(torch.randint(min_nodes, max_nodes + 1, (1,), generator=g))
        e = 2 * n
        src = torch.randint(0, n, (e,), generator=g)
        dst = (src + torch.randint(1, n, (e,), generator=g)) % n
        edge_index = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)
        label = int(torch.randint(0, 2, (1,), generator=g))
        x = torch.randn(n, num_features, generator=g)
        x[:, 0] += 0.8 if label else -0.8
        graphs.append(Data(x=x, edge_index=edge_index, y=torch.tensor([label])))
    perm = torch.randperm(num_graphs, generator=g)
    a, b = int(0.6 * num_graphs), int(0.8 * num_graphs)
    split = {"train": perm[:a], "valid": perm[a:b], "test": perm[b:]}
    return Loaded("synthetic-graphs", "graph", "multiclass", num_features, 2, Accuracy(),
                  dataset=_Graphs(graphs), split=split)


def node_classification(num_nodes: int = 300, num_classes: int = 3, num_features: int = 16, p_in: float = 0.05,
                        p_out: float = 0.005, seed: int = 0) -> Loaded:
    """A stochastic block model whose blocks are the classes, with class-shifted Gaussian features.

    Split 60/20/20, metric accuracy. ``x: [N, num_features]``, ``y: [N]``.
    """
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, num_classes, (num_nodes,), generator=g)
    same = y[:, None] == y[None, :]
    prob = torch.where(same, torch.tensor(p_in), torch.tensor(p_out))
    adj = torch.rand(num_nodes, num_nodes, generator=g) < prob
    adj = torch.triu(adj, 1)
    adj = adj | adj.t()
    edge_index = adj.nonzero().t().contiguous()
    centers = torch.randn(num_classes, num_features, generator=g)
    x = centers[y] * 0.5 + torch.randn(num_nodes, num_features, generator=g)
    perm = torch.randperm(num_nodes, generator=g)
    a, b = int(0.6 * num_nodes), int(0.8 * num_nodes)
    split = {"train": perm[:a], "valid": perm[a:b], "test": perm[b:]}
    data = Data(x=x, edge_index=edge_index, y=y, num_nodes=num_nodes)
    return Loaded("synthetic-sbm", "node", "multiclass", num_features, num_classes, Accuracy(), data=data,
                  split=split)
