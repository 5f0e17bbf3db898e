"""GraphGPS (Rampasek et al. 2022): GPS blocks of a local message-passing layer and a global mixer.

``mixer="attention"`` (or ``"linear"`` / ``"performer"``), local GatedGCN (``local="gatedgcn"``; ``"gine"`` /
``"gin"`` / ``"gcn"`` / ``"none"``), optional RWSE / LapPE node encodings, mean pooling and GraphGPS's
``san_graph`` head. With ``mixer="mamba"`` and an ordering it is Graph-Mamba (:mod:`.graph_mamba`).

Calling conventions: graph level ``model(batch) -> [B, out]`` (a PyG batch; ``rwse``, ``lap_vecs``,
``lap_vals``, ``lap_valid`` attributes when encodings are on), node level ``model(x, adj) -> [N, out]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from graphkit.models.inputs import InputSpec, edge_encoder, encode_edges, encode_nodes, node_encoder
from graphkit.models.local_layer import LOCALS, local_layer
from graphkit.nn import (
    AttentionMixer,
    GPSBlock,
    LapPEEncoder,
    LinearAttentionMixer,
    MambaMixer,
    RWSEEncoder,
    global_pool,
)
from graphkit.ops import as_adjacency, bfs_order, degree_order, identity_order, random_order
from graphkit.ops.adjacency import Graph

if TYPE_CHECKING:
    from torch_geometric.data import Batch

MIXERS = ("attention", "linear", "performer", "mamba", "none")
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
    order_per_layer: bool = False  # a fresh ordering for every block (random tie-breaks drawn per layer)
    eval_orderings: int = 1  # > 1: evaluation averages the mixer over this many random tie-break orderings
    mamba_expand: int = 2  # Mamba mixer: inner width = expand * hidden
    mamba_bidirectional: bool = True  # a second Mamba reads the order backwards (graphkit's variant)
    mamba_bias: bool = True  # biases on the Mamba projections (mamba_ssm has none)
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
        if self.eval_orderings < 1 or self.mamba_expand < 1:
            raise ValueError("GPSConfig.eval_orderings and mamba_expand must be >= 1")
        if self.mixer in ("attention", "linear", "performer") and self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be divisible by heads ({self.heads}) "
                             f"for the {self.mixer} mixer")

    @property
    def inputs(self) -> InputSpec:
        """How the model reads raw node and edge features."""
        return InputSpec(self.in_channels, self.mol, self.node_vocab, self.edge_vocab, self.edge_channels)


def _mixer(cfg: GPSConfig) -> nn.Module | None:
    if cfg.mixer == "attention":
        return AttentionMixer(cfg.hidden, cfg.heads, cfg.attn_dropout)
    if cfg.mixer in ("linear", "performer"):
        return LinearAttentionMixer(cfg.hidden, cfg.heads, "elu" if cfg.mixer == "linear" else "performer",
                                    dropout=cfg.attn_dropout)
    if cfg.mixer == "mamba":
        return MambaMixer(cfg.hidden, d_state=cfg.d_state, expand=cfg.mamba_expand,
                          bidirectional=cfg.mamba_bidirectional, bias=cfg.mamba_bias)
    return None


def node_order(cfg: GPSConfig, edge_index: Tensor, batch: Tensor, num_nodes: int, num_graphs: int,
               training: bool) -> Tensor | None:
    """The ordering a sequence mixer reads (None for permutation-invariant mixers). Degree order: ties
    broken at random (torch's global generator) while training and when evaluation averages several
    orderings; by node id in a single-ordering evaluation."""
    if cfg.mixer != "mamba" or cfg.ordering == "none":
        return None if cfg.mixer != "mamba" else identity_order(batch)
    if cfg.ordering == "degree":
        if training or cfg.eval_orderings > 1:  # Graph-Mamba: random tie-breaks (and optional jitter)
            return degree_order(edge_index, batch, num_nodes, noise=cfg.order_noise, random_ties=True)
        return degree_order(edge_index, batch, num_nodes)
    if cfg.ordering == "random":
        return random_order(batch)
    return bfs_order(edge_index, batch, num_nodes, num_graphs)


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
        self.node_encoder = node_encoder(cfg.inputs, h - pe)
        self.edge_encoder = edge_encoder(cfg.inputs, h)
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

    def _encode(self, x: Tensor, data: Batch | None, batch: Tensor) -> Tensor:
        parts = [encode_nodes(self.cfg.inputs, self.node_encoder, x)]
        if self.rwse is not None:
            parts.append(self.rwse(data.rwse))
        if self.lap is not None:
            parts.append(self.lap(data.lap_vecs, data.lap_vals, data.lap_valid, batch))
        return torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0]

    def embed(self, x: Tensor, graph: Graph, batch: Tensor, num_graphs: int, edge_attr: Tensor | None,
              data: Batch | None = None) -> Tensor:
        """Node embeddings after the last block, ``[N, hidden]`` (before pooling and the head).

        ``graph``: ``edge_index`` (the order of ``edge_attr``) or, without edge features, an Adjacency that
        every block's local layer reuses."""
        h = self._encode(x, data, batch)
        # orderings read an edge list; an Adjacency gives its CSR order (a view, no sort)
        edge_index = graph if isinstance(graph, Tensor) else torch.stack([graph.col, graph.row])
        e = encode_edges(self.cfg.inputs, self.edge_encoder, edge_attr)
        def orderings() -> Tensor | list[Tensor] | None:  # what one block's mixer reads
            k = 1 if self.training else self.cfg.eval_orderings
            drawn = [node_order(self.cfg, edge_index, batch, h.size(0), num_graphs, self.training) for _ in range(k)]
            return drawn[0] if k == 1 else drawn

        order = orderings()
        for i, block in enumerate(self.blocks):
            if i and self.cfg.order_per_layer:
                order = orderings()
            h, e = block(h, graph, batch, num_graphs, e, order)
        return h

    def forward(self, data: Tensor | Batch, graph: Graph | None = None) -> Tensor:
        if self.cfg.level == "node":  # model(x, graph): one graph, its Adjacency built once for every block
            if graph is None:
                raise ValueError("a node-level GraphGPS is called as model(x, edge_index_or_adjacency)")
            x = data
            batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
            return self.head(self.embed(x, as_adjacency(graph, x.size(0)), batch, 1, None))
        h = self.embed(data.x, data.edge_index, data.batch, data.num_graphs, getattr(data, "edge_attr", None), data)
        return self.head(global_pool(h, data.batch, data.num_graphs, self.cfg.pooling))
