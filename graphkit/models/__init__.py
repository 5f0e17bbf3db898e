"""graphkit.models: one dataclass config + one nn.Module per file, built only from graphkit.nn."""
from graphkit.models.gat import GAT, GATConfig
from graphkit.models.gcn import GCN, GCNConfig
from graphkit.models.gin import GIN, GINConfig
from graphkit.models.gmn import GMN, GMNConfig
from graphkit.models.gps import GPSConfig, GraphGPS
from graphkit.models.graph_mamba import GraphMambaConfig
from graphkit.models.graph_wavenet import GraphWaveNet, GraphWaveNetConfig, VirtualNodeSTGNNConfig
from graphkit.models.hypergraph import HypergraphNet, HypergraphNetConfig
from graphkit.models.link import LinkConfig, LinkModel
from graphkit.models.mlp import MLP, MLPConfig
from graphkit.models.mol import MolGNN, MolGNNConfig
from graphkit.models.nsd import NSD, NSDConfig
from graphkit.models.sage import SAGE, SAGEConfig
from graphkit.models.stgcn import STGCN, STGCNConfig
from graphkit.models.sttn import STTN, STTNConfig
from graphkit.models.sttn_paper import PaperSTTN, PaperSTTNConfig
from graphkit.models.tgcn import TGCN, TGCNConfig

__all__ = ["GAT", "GATConfig", "GMN", "GMNConfig", "GPSConfig", "GraphGPS", "GraphMambaConfig", "GCN", "GCNConfig",
           "GIN", "GINConfig", "HypergraphNet", "HypergraphNetConfig", "LinkConfig", "LinkModel",
           "MLP", "MLPConfig", "MolGNN", "MolGNNConfig", "NSD", "NSDConfig", "PaperSTTN", "PaperSTTNConfig",
           "SAGE", "SAGEConfig", "STGCN", "STGCNConfig", "STTN", "STTNConfig", "TGCN", "TGCNConfig", "GraphWaveNet",
           "GraphWaveNetConfig", "VirtualNodeSTGNNConfig"]
