"""Hypergraph propagation (node -> hyperedge -> node) and graph <-> hypergraph conversions.

A hypergraph is an incidence index ``incidence: [2, nnz]``: column ``k`` says
node ``incidence[0, k]`` belongs to hyperedge ``incidence[1, k]`` (PyG's
``hyperedge_index``). With ``H`` the ``N x M`` incidence matrix, ``W`` the
diagonal hyperedge weights, ``D_v = diag(H W 1)`` (weighted node degree) and
``D_e = diag(H^T 1)`` (hyperedge size), :func:`hypergraph_propagate` computes

* ``"sym"`` (HGNN, Feng et al. 2019): ``D_v^-1/2 H W D_e^-1 H^T D_v^-1/2 x``
* ``"mean"`` (HGNN+ two-stage mean, Gao et al. 2022; PyG's HypergraphConv
  normalisation): ``D_v^-1 H W D_e^-1 H^T x``: each hyperedge averages its
  nodes, each node takes the weighted mean of its hyperedges.

Both stages are sparse products through :func:`graphkit.ops.spmm`; zero
degrees give zero rows, never inf.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from graphkit.ops import check
from graphkit.ops.adjacency import Adjacency
from graphkit.ops.graph import coalesce, remove_self_loops
from graphkit.ops.scatter import counts
from graphkit.ops.spmm import spmm

NORMS = ("sym", "mean")


def check_incidence(incidence: object, num_nodes: int, num_edges: int) -> None:
    """``incidence``: integer ``[2, nnz]`` with node ids < ``num_nodes`` and hyperedge ids < ``num_edges``."""
    if not check.enabled():
        return
    if isinstance(incidence, Tensor) and (incidence.dim() != 2 or incidence.size(0) != 2):
        raise ValueError(f"incidence must have shape [2, nnz] (row 0: nodes, row 1: hyperedges), "
                         f"got {list(incidence.shape)}")
    try:
        check.check_edge_index(incidence, num_nodes, num_edges, name="incidence")
    except ValueError as exc:
        raise ValueError(str(exc).replace("source nodes", "nodes").replace("target nodes", "hyperedges")
                         .replace(f"for {num_edges} nodes", f"for {num_edges} hyperedges")) from None


def _inverse(t: Tensor, power: float) -> Tensor:
    out = torch.where(t > 0, t, torch.ones_like(t)).pow(-power)
    return torch.where(t > 0, out, torch.zeros_like(out))


@dataclass
class Hypergraph:
    """An incidence structure with cached sparse operators.

    Attributes:
        incidence: ``[2, nnz]`` (nodes, hyperedges).
        num_nodes, num_edges: ``N`` and ``M``.
        edge_weight: ``[M]`` hyperedge weights or None (all ones).
    """

    incidence: Tensor
    num_nodes: int
    num_edges: int
    edge_weight: Tensor | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        self.num_nodes = check.check_size(self.num_nodes, "num_nodes")
        self.num_edges = check.check_size(self.num_edges, "num_edges")
        check_incidence(self.incidence, self.num_nodes, self.num_edges)
        self.incidence = self.incidence.long()
        if self.edge_weight is not None:
            check.check_edge_values(self.edge_weight, self.num_edges, "edge_weight (one per hyperedge)")

    @property
    def device(self) -> torch.device:
        """The device the incidence lives on."""
        return self.incidence.device

    @classmethod
    def from_incidence(cls, incidence: Tensor, num_nodes: int | None = None, num_edges: int | None = None,
                       edge_weight: Tensor | None = None) -> "Hypergraph":
        """Sizes default to the largest ids + 1 (one host sync; pass them when known)."""
        if num_nodes is None:
            num_nodes = int(incidence[0].max()) + 1 if incidence.numel() else 0
        if num_edges is None:
            num_edges = int(incidence[1].max()) + 1 if incidence.numel() else 0
        return cls(incidence, num_nodes, num_edges, edge_weight)

    @property
    def nnz(self) -> int:
        """Number of (node, hyperedge) memberships."""
        return self.incidence.size(1)

    def to(self, device: torch.device | str) -> "Hypergraph":
        w = None if self.edge_weight is None else self.edge_weight.to(device)
        return Hypergraph(self.incidence.to(device), self.num_nodes, self.num_edges, w)

    def node_to_edge(self) -> Adjacency:
        """``H^T`` as an Adjacency (``num_src = N`` nodes, ``num_dst = M`` hyperedges), built once."""
        if "v2e" not in self._cache:
            self._cache["v2e"] = Adjacency.from_edge_index(self.incidence, num_nodes=(self.num_nodes, self.num_edges))
        return self._cache["v2e"]

    def edge_to_node(self) -> Adjacency:
        """``H`` as an Adjacency (hyperedges -> nodes), built once."""
        if "e2v" not in self._cache:
            self._cache["e2v"] = Adjacency.from_edge_index(self.incidence.flip(0),
                                                           num_nodes=(self.num_edges, self.num_nodes))
        return self._cache["e2v"]

    def edge_size(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """``[M]`` number of nodes in each hyperedge."""
        return counts(self.incidence[1], self.num_edges).to(dtype)

    def node_degree(self, dtype: torch.dtype = torch.float32, edge_weight: Tensor | None = None) -> Tensor:
        """``[N]`` weighted degree ``sum_e w_e H_ve``."""
        w = self.edge_weight if edge_weight is None else edge_weight
        if w is None:
            return counts(self.incidence[0], self.num_nodes).to(dtype)
        return torch.zeros(self.num_nodes, dtype=dtype, device=w.device).index_add_(
            0, self.incidence[0], w.to(dtype).index_select(0, self.incidence[1]))


def as_hypergraph(graph: Hypergraph | Tensor, num_nodes: int | None = None,
                  num_edges: int | None = None) -> Hypergraph:
    """Accept a :class:`Hypergraph` or an ``incidence: [2, nnz]`` tensor."""
    if isinstance(graph, Hypergraph):
        if num_nodes is not None and graph.num_nodes != num_nodes:
            raise ValueError(f"the hypergraph has {graph.num_nodes} nodes but the features have {num_nodes} rows")
        return graph
    if isinstance(graph, Tensor):
        return Hypergraph.from_incidence(graph, num_nodes, num_edges)
    raise TypeError(f"expected a Hypergraph or an incidence tensor [2, nnz], got {type(graph).__name__}")


def hypergraph_propagate(graph: Hypergraph | Tensor, x: Tensor, norm: str = "sym",
                         edge_weight: Tensor | None = None, num_edges: int | None = None) -> Tensor:
    """One node -> hyperedge -> node pass: ``x: [N, F]`` -> ``[N, F]`` (see the module docstring).

    ``edge_weight: [M]`` overrides the hypergraph's hyperedge weights.
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    check.check_features(x, name="x")
    hg = as_hypergraph(graph, x.size(0), num_edges)
    if edge_weight is not None:
        check.check_edge_values(edge_weight, hg.num_edges, "edge_weight (one per hyperedge)")
    w = hg.edge_weight if edge_weight is None else edge_weight
    dv = hg.node_degree(x.dtype, w)
    de_inv = _inverse(hg.edge_size(x.dtype), 1.0)
    scale_e = de_inv if w is None else de_inv * w.to(x.dtype)
    if norm == "sym":
        dv_inv = _inverse(dv, 0.5)
        m = spmm(hg.node_to_edge(), x * dv_inv.unsqueeze(-1))
        return spmm(hg.edge_to_node(), m * scale_e.unsqueeze(-1)) * dv_inv.unsqueeze(-1)
    m = spmm(hg.node_to_edge(), x)
    return spmm(hg.edge_to_node(), m * scale_e.unsqueeze(-1)) * _inverse(dv, 1.0).unsqueeze(-1)


def hypergraph_self_loops(graph: Hypergraph) -> Hypergraph:
    """Add a singleton hyperedge ``{v}`` for every node that has none (AllSet's preprocessing)."""
    inc = graph.incidence
    size = graph.edge_size(torch.long)
    singles = inc[0][size.index_select(0, inc[1]) == 1]
    has = torch.zeros(graph.num_nodes, dtype=torch.bool, device=inc.device)
    has[singles] = True
    missing = (~has).nonzero().view(-1)
    new_edges = torch.arange(graph.num_edges, graph.num_edges + missing.numel(), device=inc.device)
    incidence = torch.cat([inc, torch.stack([missing, new_edges])], 1)
    w = graph.edge_weight
    if w is not None:
        w = torch.cat([w, w.new_ones(missing.numel())])
    return Hypergraph(incidence, graph.num_nodes, graph.num_edges + missing.numel(), w)


def clique_expansion(graph: Hypergraph | Tensor, num_nodes: int | None = None) -> Tensor:
    """The graph linking every pair of nodes that share a hyperedge: ``edge_index: [2, E]``.

    Both directions, no self loops, no duplicates.
    """
    hg = as_hypergraph(graph, num_nodes)
    inc = hg.incidence
    order = torch.argsort(inc[1], stable=True)
    nodes, edges = inc[0][order], inc[1][order]
    size = counts(edges, hg.num_edges)
    ptr = torch.zeros(hg.num_edges + 1, dtype=torch.long, device=inc.device)
    torch.cumsum(size, 0, out=ptr[1:])
    # all ordered pairs within each hyperedge: for member k of edge e, pair with every member of e
    rep = size.index_select(0, edges)
    src = nodes.repeat_interleave(rep)
    start = ptr.index_select(0, edges).repeat_interleave(rep)
    offset = torch.arange(src.numel(), device=inc.device) - torch.repeat_interleave(
        torch.cumsum(rep, 0) - rep, rep)
    dst = nodes.index_select(0, start + offset)
    ei, _ = remove_self_loops(torch.stack([src, dst]))
    ei, _ = coalesce(ei, hg.num_nodes)
    return ei


def graph_to_hypergraph(edge_index: Tensor, num_nodes: int, kind: str = "neighbourhood") -> Hypergraph:
    """Hyperedges from a graph.

    * ``"neighbourhood"``: one hyperedge per node ``v``: ``{v} ∪ N(v)`` (in-neighbours of
      ``edge_index``'s targets);
    * ``"edges"``: one 2-node hyperedge per undirected edge;
    * ``"cliques"``: the maximal cliques of the undirected graph (Bron-Kerbosch
      with pivoting; meant for sparse graphs, runs on the CPU).
    """
    check.check_edge_index(edge_index, num_nodes, num_nodes)
    ei, _ = remove_self_loops(edge_index.long())
    if kind == "neighbourhood":
        nodes = torch.arange(num_nodes, device=ei.device)
        inc = torch.cat([torch.stack([nodes, nodes]), ei], 1)
        inc, _ = coalesce(inc, num_nodes)
        return Hypergraph(inc, num_nodes, num_nodes)
    und = torch.cat([ei, ei.flip(0)], 1)
    und, _ = coalesce(und, num_nodes)
    if kind == "edges":
        pairs = und[:, und[0] < und[1]]
        m = pairs.size(1)
        ids = torch.arange(m, device=ei.device)
        inc = torch.stack([pairs.reshape(-1), torch.cat([ids, ids])])
        return Hypergraph(inc, num_nodes, m)
    if kind == "cliques":
        cliques = _maximal_cliques(und.cpu(), num_nodes)
        nodes = torch.tensor([v for c in cliques for v in c], dtype=torch.long)
        ids = torch.tensor([i for i, c in enumerate(cliques) for _ in c], dtype=torch.long)
        return Hypergraph(torch.stack([nodes, ids]).to(ei.device), num_nodes, len(cliques))
    raise ValueError(f"kind must be 'neighbourhood', 'edges' or 'cliques', got {kind!r}")


def _maximal_cliques(und: Tensor, num_nodes: int) -> list[list[int]]:
    nbrs: list[set[int]] = [set() for _ in range(num_nodes)]
    for a, b in und.t().tolist():
        nbrs[a].add(b)
    out: list[list[int]] = []
    # iterative Bron-Kerbosch with pivot (no recursion limit on large cliques)
    stack = [(set(), set(range(num_nodes)), set())]
    while stack:
        r, p, x = stack.pop()
        if not p and not x:
            out.append(sorted(r))
            continue
        pivot = max(p | x, key=lambda u: len(nbrs[u] & p))
        for v in sorted(p - nbrs[pivot]):
            stack.append((r | {v}, p & nbrs[v], x & nbrs[v]))
            p = p - {v}
            x = x | {v}
    return sorted(out)
