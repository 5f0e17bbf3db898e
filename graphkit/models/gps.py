"""GraphGPS, Graph-Mamba and GMN: GPS blocks with attention or Mamba mixers, for graphs and for nodes.

* **GraphGPS** (Rampasek et al. 2022): ``mixer="attention"`` (or ``"linear"`` / ``"performer"``), local
  GatedGCN (``local="gatedgcn"``; ``"gine"`` / ``"gin"`` / ``"gcn"`` / ``"none"``), optional RWSE / LapPE
  node encodings, mean pooling and GraphGPS's ``san_graph`` head.
* **Graph-Mamba** (Wang et al. 2024): the same block with ``mixer="mamba"`` (bidirectional) reading nodes in
  degree order, ties broken at random while training (``ordering="degree"``, ``order_noise``).
* **GMN** (Behrouz & Hashemi 2024): :class:`GMN` tokenises every node's neighbourhood into a sequence of
  hop tokens (``A_rw^k X`` for ``k = hops .. 0``: the expected features ``k`` random-walk steps away; or
  sampled walks), runs a bidirectional Mamba over each node's token sequence, and adds a local MPNN.

Calling conventions: graph level ``model(batch) -> [B, out]`` (a PyG batch; ``rwse``, ``lap_vecs``,
``lap_vals``, ``lap_valid`` attributes when encodings are on), node level ``model(x, adj) -> [N, out]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from graphkit.nn import (
    AtomEncoder,
    AttentionMixer,
    BondEncoder,
    GatedGCNConv,
    GCNConv,
    GINConv,
    GINEConv,
    GPSBlock,
    LapPEEncoder,
    LinearAttentionMixer,
    Mamba,
    MambaMixer,
    RWSEEncoder,
    global_pool,
)
from graphkit.ops import Adjacency, bfs_order, degree_order, identity_order, random_order, spmm

MIXERS = ("attention", "linear", "performer", "mamba", "none")
LOCALS = ("auto", "gatedgcn", "gine", "gin", "gcn", "none")
ORDERINGS = ("degree", "random", "bfs", "none")
ENCODINGS = ("none", "rwse", "lap", "lap+rwse")


@dataclass
class GPSConfig:
    in_channels: int = 9
    out_channels: int = 1
    level: str = "graph"  # "graph" (pooled, PyG batches) or "node"
    mol: bool = False  # OGB atom / bond encoders for the inputs
    node_vocab: int = 0  # > 0: x[:, 0] is a type id in 0..node_vocab-1, embedded (ZINC's atoms)
    edge_vocab: int = 0  # > 0: edge_attr is a type id, embedded (ZINC's bonds)
    edge_channels: int = 0  # raw float edge feature width (other sets); 0 = none
    hidden: int = 64
    num_layers: int = 10
    heads: int = 4
    dropout: float = 0.05
    attn_dropout: float = 0.5
    local: str = "auto"  # "auto": GatedGCN when the graphs have edge features, else GIN
    mixer: str = "attention"
    ordering: str = "none"  # node order a Mamba mixer reads
    order_noise: float = 0.0  # degree ordering: U(0, noise) added to degrees while training
    d_state: int = 16
    encoding: str = "none"
    pe_dim: int = 16
    rwse_k: int = 16
    lap_k: int = 8
    lap_norm: str = "sym"  # Laplacian of the eigenvectors: "sym" (normalised) or "none" (D - A)
    norm: str = "batch"
    pooling: str = "mean"
    head_layers: int = 3  # GraphGPS's san_graph head: widths halve per layer

    def __post_init__(self):
        for name, value, allowed in (("mixer", self.mixer, MIXERS), ("local", self.local, LOCALS),
                                     ("ordering", self.ordering, ORDERINGS), ("encoding", self.encoding, ENCODINGS),
                                     ("level", self.level, ("graph", "node"))):
            if value not in allowed:
                raise ValueError(f"GPSConfig.{name} must be one of {allowed}, got {value!r}")
        if self.mixer == "none" and self.local == "none":
            raise ValueError("GPSConfig needs a local layer, a mixer, or both")
        if self.encoding != "none" and self.pe_dim >= self.hidden:
            raise ValueError(f"pe_dim ({self.pe_dim}) must be smaller than hidden ({self.hidden})")
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be divisible by heads ({self.heads})")


def _mixer(cfg: GPSConfig) -> nn.Module | None:
    if cfg.mixer == "attention":
        return AttentionMixer(cfg.hidden, cfg.heads, cfg.attn_dropout)
    if cfg.mixer in ("linear", "performer"):
        return LinearAttentionMixer(cfg.hidden, cfg.heads, "elu" if cfg.mixer == "linear" else "performer",
                                    dropout=cfg.attn_dropout)
    if cfg.mixer == "mamba":
        return MambaMixer(cfg.hidden, d_state=cfg.d_state)
    return None


def local_layer(kind: str, h: int, dropout: float, has_edges: bool) -> nn.Module | None:
    """The local message-passing layer of a block (``kind`` in :data:`LOCALS`)."""
    if kind == "auto":
        kind = "gatedgcn" if has_edges else "gin"
    if kind in ("gatedgcn", "gine") and not has_edges:
        raise ValueError(f"local={kind!r} needs edge features (molecules, ZINC's bond types or edge_channels > 0)")
    if kind == "gatedgcn":
        return GatedGCNConv(h, dropout, residual=False)
    mlp = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, h))
    if kind == "gine":
        return GINEConv(mlp, train_eps=True)
    if kind == "gin":
        return GINConv(mlp, train_eps=True)
    if kind == "gcn":
        return GCNConv(h, h)
    if kind == "none":
        return None
    raise ValueError(f"local must be one of {LOCALS}, got {kind!r}")


def node_order(cfg: GPSConfig, edge_index: Tensor, batch: Tensor, num_nodes: int, num_graphs: int,
               training: bool) -> Tensor | None:
    """The ordering a sequence mixer reads (None for permutation-invariant mixers)."""
    if cfg.mixer != "mamba" or cfg.ordering == "none":
        return None if cfg.mixer != "mamba" else identity_order(batch)
    if cfg.ordering == "degree":
        if training:  # Graph-Mamba: random tie-breaks (and optional jitter) while training
            return degree_order(edge_index, batch, num_nodes, noise=cfg.order_noise, generator=torch.Generator())
        return degree_order(edge_index, batch, num_nodes)
    if cfg.ordering == "random":
        return random_order(batch)
    return bfs_order(edge_index, batch, num_nodes, num_graphs)


def _node_encoder(cfg: Any, width: int) -> nn.Module:
    if cfg.mol:
        return AtomEncoder(width)
    if cfg.node_vocab > 0:
        return nn.Embedding(cfg.node_vocab, width)
    return nn.Linear(cfg.in_channels, width)


def _apply_node_encoder(cfg: Any, enc: nn.Module, x: Tensor) -> Tensor:
    if cfg.mol:
        return enc(x)
    if cfg.node_vocab > 0:
        return enc(x.view(x.size(0), -1)[:, 0].long())
    return enc(x.float())


def _edge_encoder(cfg: Any, width: int) -> nn.Module | None:
    if cfg.mol:
        return BondEncoder(width)
    if getattr(cfg, "edge_vocab", 0) > 0:
        return nn.Embedding(cfg.edge_vocab, width)
    if getattr(cfg, "edge_channels", 0) > 0:
        return nn.Linear(cfg.edge_channels, width)
    return None


def _apply_edge_encoder(cfg: Any, enc: nn.Module | None, edge_attr: Tensor | None) -> Tensor | None:
    if enc is None:
        return None
    if edge_attr is None:
        raise ValueError("this model encodes edge features, but the graphs have no edge_attr")
    if cfg.mol:
        return enc(edge_attr)
    if getattr(cfg, "edge_vocab", 0) > 0:
        return enc(edge_attr.view(edge_attr.size(0), -1)[:, 0].long())
    return enc(edge_attr.float())


@dataclass
class GraphMambaConfig(GPSConfig):
    """Graph-Mamba (Wang et al. 2024): the GPS block with a bidirectional Mamba mixer over nodes sorted by
    degree, ties broken at random while training."""

    mixer: str = "mamba"
    ordering: str = "degree"


class GraphGPS(nn.Module):
    """GraphGPS (Rampasek et al. 2022): encoders, then ``num_layers`` GPS blocks, then a head.

    Each block adds a local message-passing layer (``cfg.local``: GatedGCN, GINE, GIN or GCN) and a global
    mixer (``cfg.mixer``: full attention, linear / Performer attention or bidirectional Mamba over an ordering)
    with residuals, norms and an MLP. Positional / structural encodings (``cfg.encoding``: ``rwse``, ``lap``)
    are concatenated to the node embedding. Graph level: ``model(batch)`` with a PyG ``Batch`` -> ``[B,
    out_channels]``; node level: ``model(x, edge_index_or_adj)`` -> ``[N, out_channels]``. Graph-Mamba is
    this class with :class:`GraphMambaConfig`.
    """
    def __init__(self, cfg: GPSConfig):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        pe = cfg.pe_dim if cfg.encoding != "none" else 0
        self.node_encoder = _node_encoder(cfg, h - pe)
        self.edge_encoder = _edge_encoder(cfg, h)
        has_edges = self.edge_encoder is not None
        self.rwse = RWSEEncoder(cfg.rwse_k, pe if cfg.encoding == "rwse" else pe // 2) \
            if "rwse" in cfg.encoding else None
        self.lap = LapPEEncoder(cfg.lap_k, pe if cfg.encoding == "lap" else pe - pe // 2) \
            if "lap" in cfg.encoding else None
        self.blocks = nn.ModuleList(
            GPSBlock(h, local_layer(cfg.local, h, cfg.dropout, has_edges), _mixer(cfg), cfg.dropout, cfg.norm)
            for _ in range(cfg.num_layers))
        dims = [h // 2 ** i for i in range(cfg.head_layers)]
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.head = nn.Sequential(*layers, nn.Linear(dims[-1], cfg.out_channels))

    def _encode(self, x: Tensor, data: Any, batch: Tensor) -> Tensor:
        parts = [_apply_node_encoder(self.cfg, self.node_encoder, x)]
        if self.rwse is not None:
            parts.append(self.rwse(data.rwse))
        if self.lap is not None:
            parts.append(self.lap(data.lap_vecs, data.lap_vals, data.lap_valid, batch))
        return torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0]

    def embed(self, x: Tensor, edge_index: Tensor, batch: Tensor, num_graphs: int, edge_attr: Tensor | None,
              data: Any = None) -> Tensor:
        """Node embeddings after the last block, ``[N, hidden]`` (before pooling and the head)."""
        h = self._encode(x, data, batch)
        e = _apply_edge_encoder(self.cfg, self.edge_encoder, edge_attr)
        order = node_order(self.cfg, edge_index, batch, h.size(0), num_graphs, self.training)
        for block in self.blocks:
            h, e = block(h, edge_index, batch, num_graphs, e, order)
        return h

    def forward(self, data: Any, adj: Adjacency | None = None) -> Tensor:
        if self.cfg.level == "node":  # model(x, adj): one graph
            x = data
            edge_index = torch.stack([adj.col, adj.row]) if isinstance(adj, Adjacency) else adj
            batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
            return self.head(self.embed(x, edge_index, batch, 1, None))
        h = self.embed(data.x, data.edge_index, data.batch, data.num_graphs, getattr(data, "edge_attr", None), data)
        return self.head(global_pool(h, data.batch, data.num_graphs, self.cfg.pooling))


# ----------------------------------------------------------------------------------------------- GMN
@dataclass
class GMNConfig:
    """GMN: hop tokens per node -> bidirectional Mamba over each node's tokens -> plus a local MPNN."""

    in_channels: int = 9
    out_channels: int = 1
    level: str = "graph"
    mol: bool = False
    node_vocab: int = 0
    edge_vocab: int = 0
    hidden: int = 64
    num_layers: int = 4
    hops: int = 4  # tokens per node: hops .. 0 (the node itself last)
    tokens: str = "hops"  # "hops": exact random-walk averages A_rw^k X; "walks": sampled walk endpoints
    walks: int = 4  # sampled walks per node and hop (tokens="walks")
    d_state: int = 16
    local: str = "auto"  # GINE with edge features, else GIN
    dropout: float = 0.0
    pooling: str = "mean"

    def __post_init__(self):
        if self.local == "none" or self.local not in LOCALS:
            raise ValueError(f"GMNConfig.local must be one of {LOCALS[:-1]}, got {self.local!r}")
        if self.tokens not in ("hops", "walks"):
            raise ValueError(f"GMNConfig.tokens must be 'hops' or 'walks', got {self.tokens!r}")
        if self.hops < 1:
            raise ValueError("GMNConfig.hops must be >= 1")
        if self.level not in ("graph", "node"):
            raise ValueError(f"GMNConfig.level must be 'graph' or 'node', got {self.level!r}")


def hop_tokens(x: Tensor, edge_index: Tensor, num_nodes: int, hops: int, walks: int = 0,
               generator: torch.Generator | None = None) -> Tensor:
    """``[N, hops + 1, C]``: token ``t`` of node ``v`` summarises its neighbourhood ``hops - t`` steps away.

    ``walks == 0``: the exact expectation over random walks, ``(D^-1 A)^k x`` (mean over in-neighbours,
    repeated); ``walks > 0``: the mean features of the endpoints of ``walks`` sampled walks of ``k`` steps.
    Isolated nodes keep their own features.
    """
    adj = Adjacency.from_edge_index(edge_index, num_nodes=num_nodes)
    deg = adj.in_degree(x.dtype)
    tokens = [x]
    if walks <= 0:
        h = x
        for _ in range(hops):
            h = torch.where(deg[:, None] > 0, spmm(adj, h, reduce="mean"), h)
            tokens.append(h)
    else:
        rowptr, col = adj.rowptr, adj.col
        start = torch.arange(num_nodes, device=x.device).repeat_interleave(walks)
        pos = start
        for _ in range(hops):
            d = (rowptr[pos + 1] - rowptr[pos])
            r = torch.rand(pos.numel(), generator=generator, device="cpu").to(x.device)
            step = rowptr[pos] + (r * d.clamp_min(1)).long().clamp_max((d - 1).clamp_min(0))
            pos = torch.where(d > 0, col[step.clamp_max(max(col.numel() - 1, 0))], pos)
            tokens.append(x[pos].view(num_nodes, walks, -1).mean(1))
    return torch.stack(tokens[::-1], dim=1)


class GMN(nn.Module):
    """GMN (Behrouz & Hashemi 2024): each node's neighbourhood as a sequence of tokens, read by Mamba.

    Tokens are hop aggregates (exact random-walk averages for hops 1..k) or sampled random walks; a
    bidirectional Mamba reads each node's token sequence (far to near), and its output joins a local MPNN
    layer's. Graph level: ``model(batch)`` -> ``[B, out_channels]``; node level: ``model(x, edge_index)``.
    """
    def __init__(self, cfg: GMNConfig):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.node_encoder = _node_encoder(cfg, h)
        self.edge_encoders = nn.ModuleList(_edge_encoder(cfg, h) for _ in range(cfg.num_layers)) \
            if _edge_encoder(cfg, h) is not None else None
        self.fwd = nn.ModuleList(Mamba(h, d_state=cfg.d_state) for _ in range(cfg.num_layers))
        self.bwd = nn.ModuleList(Mamba(h, d_state=cfg.d_state) for _ in range(cfg.num_layers))
        has_edges = self.edge_encoders is not None
        kind = ("gine" if has_edges else "gin") if cfg.local == "auto" else cfg.local
        self.locals = nn.ModuleList(local_layer(kind, h, cfg.dropout, has_edges) for _ in range(cfg.num_layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(h) for _ in range(cfg.num_layers))
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, cfg.out_channels))

    def embed(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None) -> Tensor:
        """Node embeddings ``[N, hidden]`` from the token sequences plus the local layer."""
        h = _apply_node_encoder(self.cfg, self.node_encoder, x)
        n = h.size(0)
        walks = self.cfg.walks if self.cfg.tokens == "walks" else 0
        mask = torch.ones(n, self.cfg.hops + 1, dtype=torch.bool, device=h.device)
        for i in range(self.cfg.num_layers):
            seq = hop_tokens(h, edge_index, n, self.cfg.hops, walks)  # [N, hops + 1, C], the node last
            # forwards: farthest hop first, the node last; backwards: the node first, farthest last
            glob = self.fwd[i](seq, mask)[:, -1] + self.bwd[i](seq.flip(1), mask)[:, -1]
            if self.edge_encoders is not None:
                loc = self.locals[i](h, edge_index, _apply_edge_encoder(self.cfg, self.edge_encoders[i], edge_attr))
            else:
                loc = self.locals[i](h, edge_index)
            if isinstance(loc, tuple):  # a GatedGCN also updates edge features; GMN keeps its inputs'
                loc = loc[0]
            h = h + self.dropout(torch.relu(self.norms[i](glob + loc)))
        return h

    def forward(self, data: Any, adj: Adjacency | None = None) -> Tensor:
        if self.cfg.level == "node":
            edge_index = torch.stack([adj.col, adj.row]) if isinstance(adj, Adjacency) else adj
            return self.head(self.embed(data, edge_index, None))
        h = self.embed(data.x, data.edge_index, getattr(data, "edge_attr", None))
        return self.head(global_pool(h, data.batch, data.num_graphs, self.cfg.pooling))
