"""graphkit.data: thin adapters from files on disk to PyG ``Data`` plus splits."""
from graphkit.data.planetoid import load_planetoid
from graphkit.data.root import DatasetNotFoundError, cache_dir, data_root

__all__ = ["DatasetNotFoundError", "cache_dir", "data_root", "load_planetoid"]
