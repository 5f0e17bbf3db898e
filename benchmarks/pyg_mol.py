"""OGB's molecule baselines written with PyG's own layers: the reference graphkit is compared with.

Mirrors ``examples/graphproppred/mol`` of snap-stanford/ogb (GIN via
``torch_geometric.nn.GINEConv``, OGB's GCN layer as a PyG ``MessagePassing``,
the virtual node, ``global_mean_pool``). Parameter names follow
``graphkit.models.MolGNN`` so one state dict loads into both; tests use it
for parity, ``bench_train.py`` for speed.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GINEConv, MessagePassing, global_add_pool, global_max_pool, global_mean_pool
from torch_geometric.utils import degree

from graphkit.models import MolGNNConfig
from graphkit.nn import AtomEncoder, BondEncoder

POOL = {"sum": global_add_pool, "mean": global_mean_pool, "max": global_max_pool}


class PygOGBGCNConv(MessagePassing):
    def __init__(self, emb_dim):
        super().__init__(aggr="add")
        self.linear = nn.Linear(emb_dim, emb_dim)
        self.root_emb = nn.Embedding(1, emb_dim)

    def forward(self, x, edge_index, edge_embedding):
        x = self.linear(x)
        row, col = edge_index
        deg = degree(row, x.size(0), dtype=x.dtype) + 1
        deg_inv_sqrt = deg.pow(-0.5)
        norm = deg_inv_sqrt[row] * deg_inv_sqrt[col]
        return (self.propagate(edge_index, x=x, edge_attr=edge_embedding, norm=norm)
                + F.relu(x + self.root_emb.weight) * 1.0 / deg.view(-1, 1))

    def message(self, x_j, edge_attr, norm):
        return norm.view(-1, 1) * F.relu(x_j + edge_attr)


class _PygVirtualNode(nn.Module):
    def __init__(self, h, layers):
        super().__init__()
        self.embedding = nn.Embedding(1, h)
        nn.init.zeros_(self.embedding.weight)
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(h, 2 * h), nn.BatchNorm1d(2 * h), nn.ReLU(),
                          nn.Linear(2 * h, h), nn.BatchNorm1d(h), nn.ReLU()) for _ in range(layers - 1))


class PygMolGNN(nn.Module):
    def __init__(self, cfg: MolGNNConfig):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.atom_encoder = AtomEncoder(h)
        self.bond_encoders = nn.ModuleList(BondEncoder(h) for _ in range(cfg.num_layers))
        if cfg.gnn == "gin":
            self.convs = nn.ModuleList(
                GINEConv(nn.Sequential(nn.Linear(h, 2 * h), nn.BatchNorm1d(2 * h), nn.ReLU(), nn.Linear(2 * h, h)),
                         train_eps=True) for _ in range(cfg.num_layers))
        else:
            self.convs = nn.ModuleList(PygOGBGCNConv(h) for _ in range(cfg.num_layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(h) for _ in range(cfg.num_layers))
        self.virtual = _PygVirtualNode(h, cfg.num_layers) if cfg.virtual_node else None
        self.head = nn.Linear(h, cfg.num_tasks)

    def forward(self, batched):
        cfg = self.cfg
        x, edge_index, edge_attr, batch = batched.x, batched.edge_index, batched.edge_attr, batched.batch
        h_list = [self.atom_encoder(x)]
        if self.virtual is not None:
            vn = self.virtual.embedding(torch.zeros(batched.num_graphs, dtype=torch.long, device=x.device))
        for layer in range(cfg.num_layers):
            if self.virtual is not None:
                h_list[layer] = h_list[layer] + vn[batch]
            h = self.convs[layer](h_list[layer], edge_index, self.bond_encoders[layer](edge_attr))
            h = self.norms[layer](h)
            if layer == cfg.num_layers - 1:
                h = F.dropout(h, cfg.dropout, training=self.training)
            else:
                h = F.dropout(F.relu(h), cfg.dropout, training=self.training)
            if cfg.residual:
                h = h + h_list[layer]
            h_list.append(h)
            if self.virtual is not None and layer < cfg.num_layers - 1:
                tmp = global_add_pool(h_list[layer], batch) + vn
                new = F.dropout(self.virtual.mlps[layer](tmp), cfg.dropout, training=self.training)
                vn = vn + new if cfg.residual else new
        node = h_list[-1] if cfg.jk == "last" else sum(h_list[1:])
        return self.head(POOL[cfg.pooling](node, batch))
