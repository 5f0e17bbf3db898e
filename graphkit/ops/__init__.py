"""graphkit.ops: pure, stateless sparse compute (scatter/gather, spmm, graph utilities).

Every layer in graphkit reaches sparse compute through these functions; the
implementation behind each is chosen in :mod:`graphkit.backend`.
"""
from graphkit.ops.adjacency import Adjacency, Graph, as_adjacency
from graphkit.ops.attention import attention_aggregate, pair_score
from graphkit.ops.check import check_edge_index, check_features, check_finite, check_same_device
from graphkit.ops.dense import from_dense_batch, to_dense_batch
from graphkit.ops.graph import (
    add_remaining_self_loops,
    add_self_loops,
    coalesce,
    degree,
    gcn_norm,
    remove_self_loops,
    rw_norm,
    to_undirected,
)
from graphkit.ops.hypergraph import (
    Hypergraph,
    as_hypergraph,
    clique_expansion,
    graph_to_hypergraph,
    hypergraph_propagate,
    hypergraph_self_loops,
)
from graphkit.ops.order import (
    bfs_order,
    check_ordering,
    degree_order,
    identity_order,
    inverse_permutation,
    random_order,
)
from graphkit.ops.pe import laplacian_pe, random_walk_se
from graphkit.ops.ragged import RaggedBatch
from graphkit.ops.scan import selective_scan, selective_scan_ragged, selective_scan_reference
from graphkit.ops.scatter import gather, ptr_to_index, scatter, segment, softmax
from graphkit.ops.sensor_graph import SensorGraph
from graphkit.ops.sheaf import (
    SheafLaplacian,
    SheafStructure,
    fixed_maps,
    orthogonal_maps,
    orthogonal_param_size,
    reverse_edges,
    sheaf_laplacian,
    sheaf_structure,
)
from graphkit.ops.signal import propagate_nodes
from graphkit.ops.spmm import gcn_aggregate, gcn_coefficients, sddmm, spmm
from graphkit.ops.tokens import hop_tokens

__all__ = [
    "Adjacency", "Graph", "Hypergraph", "RaggedBatch", "SensorGraph", "SheafLaplacian", "SheafStructure",
    "add_remaining_self_loops", "add_self_loops", "as_adjacency", "as_hypergraph", "attention_aggregate",
    "bfs_order", "check_edge_index", "check_ordering", "check_features", "check_finite", "check_same_device",
    "clique_expansion", "coalesce", "degree", "degree_order", "fixed_maps", "from_dense_batch", "gather",
    "gcn_aggregate", "gcn_coefficients", "gcn_norm", "graph_to_hypergraph", "hop_tokens",
    "hypergraph_propagate", "hypergraph_self_loops", "identity_order", "inverse_permutation", "laplacian_pe",
    "orthogonal_maps", "orthogonal_param_size", "pair_score", "propagate_nodes", "ptr_to_index", "random_order",
    "random_walk_se", "remove_self_loops", "reverse_edges", "rw_norm", "scatter", "sddmm", "segment",
    "selective_scan", "selective_scan_ragged", "selective_scan_reference", "sheaf_laplacian", "sheaf_structure",
    "softmax", "spmm", "to_dense_batch", "to_undirected",
]
