"""Node features that stay on disk: a memory-mapped ``[N, F]`` matrix read row by row per mini-batch.

``MemmapFeatures(path, num_nodes, num_features)`` maps a raw little-endian file (``float32`` by default,
what :func:`write_memmap` writes); ``feats[node_ids]`` returns those rows as a tensor, reading them in
ascending file order (ids sorted and de-duplicated first, so the disk reads sequentially) and returning them
in the order asked for. Nothing but the rows asked for is read into memory.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from graphkit.data.root import DatasetFormatError


class MemmapFeatures:
    """Node features in a file on disk, read row by row when a mini-batch needs them.

    ``features[ids]`` reads the rows of ``ids`` (sorted and de-duplicated first so the reads are contiguous)
    and returns a float tensor in the order asked; ``shape``, ``size()`` and ``len()`` behave like a tensor's.
    The file is a raw C-order ``[num_nodes, num_features]`` array of ``dtype`` (see :func:`write_memmap`).
    """
    def __init__(self, path: str | os.PathLike, num_nodes: int, num_features: int, dtype: str = "float32"):
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"memory-mapped features {path} do not exist")
        itemsize = np.dtype(dtype).itemsize
        want = num_nodes * num_features * itemsize
        have = path.stat().st_size
        if have != want:
            raise DatasetFormatError(f"{path} holds {have} bytes; [{num_nodes}, {num_features}] {dtype} needs "
                                     f"{want} (truncated, or another shape or dtype?)")
        self.path, self.shape, self.dtype = path, (num_nodes, num_features), dtype
        self._array = np.memmap(path, dtype=dtype, mode="r", shape=self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def size(self, dim: int | None = None):
        """``(num_nodes, num_features)``, or one of them with ``dim``, as ``Tensor.size``."""
        return self.shape if dim is None else self.shape[dim]

    def __getitem__(self, ids: Tensor) -> Tensor:
        ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.shape[0]):
            raise IndexError(f"node ids must lie in [0, {self.shape[0]}), got {int(ids.min())}..{int(ids.max())}")
        uniq, inverse = torch.unique(ids, sorted=True, return_inverse=True)
        rows = torch.from_numpy(np.ascontiguousarray(self._array[uniq.numpy()]))
        return rows[inverse]


def write_memmap(path: str | os.PathLike, x: Tensor, dtype: str = "float32") -> MemmapFeatures:
    """Write ``x: [N, F]`` as a raw file (atomically: a temporary file renamed into place) and map it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    x.detach().cpu().numpy().astype(dtype).tofile(tmp)
    os.replace(tmp, path)
    return MemmapFeatures(path, x.size(0), x.size(1), dtype)
