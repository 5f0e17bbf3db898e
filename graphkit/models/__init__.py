"""graphkit.models: one dataclass config + one nn.Module per file, built only from graphkit.nn."""
from graphkit.models.gcn import GCN, GCNConfig
from graphkit.models.gin import GIN, GINConfig
from graphkit.models.link import LinkConfig, LinkModel
from graphkit.models.mol import MolGNN, MolGNNConfig
from graphkit.models.sage import SAGE, SAGEConfig

__all__ = ["GCN", "GCNConfig", "GIN", "GINConfig", "LinkConfig", "LinkModel", "MolGNN", "MolGNNConfig",
           "SAGE", "SAGEConfig"]
