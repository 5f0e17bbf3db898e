"""graphkit.models: one dataclass config + one nn.Module per file, built only from graphkit.nn."""
from graphkit.models.gcn import GCN, GCNConfig

__all__ = ["GCN", "GCNConfig"]
