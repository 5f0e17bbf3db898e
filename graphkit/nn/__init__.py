"""graphkit.nn: layers built only on graphkit.ops, with PyG's argument conventions."""
from graphkit.nn.gcn import GCNConv
from graphkit.nn.gin import GINConv, GINEConv

__all__ = ["GCNConv", "GINConv", "GINEConv"]
