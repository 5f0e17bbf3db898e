"""graphkit.data: thin adapters from files on disk to PyG ``Data`` plus splits and metrics."""
from graphkit.data.bundle import Encodings, ForecastShape, Loaded
from graphkit.data.from_pyg import from_pyg
from graphkit.data.ogb import load_ogb, ogb_dataset
from graphkit.data.planetoid import load_planetoid, planetoid_task
from graphkit.data.root import DatasetNotFoundError, cache_dir, data_root
from graphkit.data.tu import load_tu, stratified_folds

__all__ = ["DatasetNotFoundError", "Encodings", "ForecastShape", "Loaded", "from_pyg",
           "cache_dir", "data_root", "load_ogb", "load_planetoid", "load_tu",
           "ogb_dataset", "planetoid_task", "stratified_folds"]
