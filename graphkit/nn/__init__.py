"""graphkit.nn: layers built only on graphkit.ops, with PyG's argument conventions."""
from graphkit.nn.dropout import Dropout, dropout, keep_mask, norm_relu_dropout, relu_dropout
from graphkit.nn.edge_gcn import EdgeGCNConv
from graphkit.nn.encoders import AtomEncoder, BondEncoder
from graphkit.nn.gat import GATConv, GATv2Conv
from graphkit.nn.gated_gcn import GatedGCNConv
from graphkit.nn.gcn import GCNConv
from graphkit.nn.gin import GINConv, GINEConv
from graphkit.nn.gps import GPSBlock
from graphkit.nn.hypergraph import HypergraphAttentionConv, HypergraphConv
from graphkit.nn.mixers import AttentionMixer, LinearAttentionMixer, Mamba, MambaMixer
from graphkit.nn.pe import LapPEEncoder, RWSEEncoder
from graphkit.nn.pool import GlobalPool, global_add_pool, global_max_pool, global_mean_pool, global_pool
from graphkit.nn.sage import SAGEConv
from graphkit.nn.sheaf import EdgeWeightLearner, SheafDiffusionLayer, SheafLearner
from graphkit.nn.temporal import (
    ChebGraphConv,
    DiffusionConv,
    FirstOrderGraphConv,
    GatedTemporalConv,
    GraphGRUCell,
    STConvBlock,
)
from graphkit.nn.virtual_node import VirtualNode
from graphkit.ops.sensor_graph import SensorGraph  # the graph type of the temporal layers, kept reachable here

__all__ = ["AttentionMixer", "GATConv", "GATv2Conv", "GatedGCNConv", "GPSBlock", "LapPEEncoder",
           "LinearAttentionMixer", "Mamba", "MambaMixer",
           "RWSEEncoder", "AtomEncoder", "BondEncoder", "ChebGraphConv", "DiffusionConv", "FirstOrderGraphConv",
           "GatedTemporalConv", "GraphGRUCell", "STConvBlock", "SensorGraph", "Dropout", "EdgeGCNConv",
           "EdgeWeightLearner", "GCNConv", "GINConv",
           "GINEConv", "GlobalPool", "HypergraphAttentionConv", "HypergraphConv", "SAGEConv", "SheafDiffusionLayer",
           "SheafLearner", "VirtualNode", "dropout", "keep_mask", "norm_relu_dropout", "relu_dropout",
           "global_add_pool", "global_max_pool", "global_mean_pool", "global_pool"]
