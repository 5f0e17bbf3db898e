"""OGB's molecule baselines (``mol/main_pyg.py``): GIN / GCN, with or without a virtual node."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from graphkit.nn import (
    AtomEncoder,
    BondEncoder,
    EdgeGCNConv,
    GINEConv,
    VirtualNode,
    dropout,
    global_pool,
    norm_relu_dropout,
)
from graphkit.nn.linear import Linear


@dataclass
class MolGNNConfig:
    """Defaults are OGB's (5 layers, 300 wide, dropout 0.5, mean pooling, JK last)."""

    num_tasks: int = 1
    gnn: str = "gin"  # "gin" (GINE layers, learned eps) or "gcn" (EdgeGCNConv)
    virtual_node: bool = False
    num_layers: int = 5
    hidden: int = 300
    dropout: float = 0.5
    pooling: str = "mean"  # "sum" | "mean" | "max"
    jk: str = "last"  # "last" | "sum"
    residual: bool = False

    def __post_init__(self):
        if self.gnn not in ("gin", "gcn"):
            raise ValueError(f"MolGNNConfig.gnn must be 'gin' or 'gcn', got {self.gnn!r}")
        if self.jk not in ("last", "sum"):
            raise ValueError(f"MolGNNConfig.jk must be 'last' or 'sum', got {self.jk!r}")
        if self.pooling not in ("sum", "mean", "max"):
            raise ValueError(f"MolGNNConfig.pooling must be sum, mean or max, got {self.pooling!r}")
        if self.num_layers < 1:
            raise ValueError("MolGNNConfig.num_layers must be >= 1")


class MolGNN(nn.Module):
    """Graph-level predictor for OGB molecules.

    Layer ``l``: (``h += vn[batch]``) -> conv -> BatchNorm -> ReLU (not after
    the last layer) -> dropout; the virtual node is then updated from the
    layer's input, exactly as OGB's ``GNN_node_Virtualnode``. Readout: pool
    the JK node states per graph, then one linear layer to ``num_tasks`` logits.

    ``forward(batch)`` takes a PyG ``Batch`` with ``x: [N, 9]`` atom ids,
    ``edge_index: [2, E]``, ``edge_attr: [E, 3]`` bond ids, ``batch: [N]``
    and returns ``[B, num_tasks]``.
    """

    def __init__(self, cfg: MolGNNConfig):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.atom_encoder = AtomEncoder(h)
        self.bond_encoders = nn.ModuleList(BondEncoder(h) for _ in range(cfg.num_layers))
        if cfg.gnn == "gin":
            self.convs = nn.ModuleList(
                GINEConv(nn.Sequential(Linear(h, 2 * h), nn.BatchNorm1d(2 * h), nn.ReLU(), Linear(2 * h, h)),
                         train_eps=True)
                for _ in range(cfg.num_layers))
        else:
            self.convs = nn.ModuleList(EdgeGCNConv(h) for _ in range(cfg.num_layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(h) for _ in range(cfg.num_layers))
        self.virtual = VirtualNode(h, cfg.num_layers, cfg.dropout, cfg.residual) if cfg.virtual_node else None
        self.head = nn.Linear(h, cfg.num_tasks)

    def forward(self, batch) -> Tensor:
        cfg = self.cfg
        index, num_graphs = batch.batch, batch.num_graphs
        ptr = getattr(batch, "ptr", None)
        hs = [self.atom_encoder(batch.x)]
        vn = self.virtual.initial(num_graphs) if self.virtual is not None else None
        for layer in range(cfg.num_layers):
            h_in = hs[layer]
            if vn is not None:
                h_in = hs[layer] = self.virtual.broadcast(h_in, vn, index)
            h = self.convs[layer](h_in, batch.edge_index, self.bond_encoders[layer](batch.edge_attr))
            if layer < cfg.num_layers - 1:
                h = norm_relu_dropout(h, self.norms[layer], cfg.dropout, self.training)
            else:
                h = dropout(self.norms[layer](h), cfg.dropout, self.training)
            if cfg.residual:
                h = h + h_in
            hs.append(h)
            if vn is not None and layer < cfg.num_layers - 1:
                vn = self.virtual.update(layer, h_in, vn, index, num_graphs, ptr)
        node = hs[-1] if cfg.jk == "last" else sum(hs[1:])
        return self.head(global_pool(node, index, num_graphs, cfg.pooling, ptr))
