"""Mini-batches of graphs assembled on the device, without per-batch Python collation.

PyG's ``DataLoader`` builds every batch on the host: it takes each graph apart from the dataset's
storage, then concatenates them again (a Python loop over graphs and attributes, then a copy to the
device). A :class:`GraphStore` keeps a dataset's concatenated tensors (what an ``InMemoryDataset``
already holds: ``x``, ``edge_index`` with per-graph node ids, ``edge_attr``, ``y``, ... and the
per-graph ``slices``) on the device once, and assembles a batch from a list of graph ids with a few
index operations: the gather positions come from cumulative sums of the graphs' sizes and the
``edge_index`` offsets from the batch's node pointer. The sizes are read from host copies of the
slices, so nothing waits for the device, and the result is exactly the ``Batch`` that
``DataLoader(dataset[ids])`` gives (same graphs and order, same node and edge order, ``batch`` and
``ptr``; tests compare them).

The store checks the graphs once, when it is built (every edge inside its own graph, categorical
features' ranges), and vouches for the batches it builds (:func:`graphkit.ops.check.vouch`), so the
layers' input checks read nothing back from the device either.

Example::

    >>> from torch_geometric.data import Data
    >>> graphs = [Data(x=torch.randn(n, 4), edge_index=torch.tensor([[0], [n - 1]]), y=torch.tensor([n]))
    ...           for n in (2, 3, 4)]
    >>> store = GraphStore.from_graphs(graphs, torch.device("cpu"))
    >>> batch = store.batch([2, 0])
    >>> batch.edge_index.tolist(), batch.ptr.tolist(), batch.y.tolist()
    ([[0, 4], [3, 5]], [0, 4, 6], [4, 2])
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor

from graphkit.ops import check


def _is_incremented(key: str) -> bool:
    """PyG's rule (``Data.__inc__`` / ``__cat_dim__``): index-valued attributes are node ids, concatenated
    along their last dim and shifted by the number of nodes before them in the batch."""
    return "index" in key or key == "face"


def _expand(values: Tensor, out_start: Tensor, total: int) -> Tensor:
    """``[total]``: ``values[i]`` repeated over segment ``i``, the segments starting at ``out_start``
    (non-decreasing; empty segments allowed). ``repeat_interleave`` with a sum of deltas: each segment adds
    its value's change at its start, a cumulative sum spreads it (3-10x faster than CPU repeat_interleave
    for batch-sized inputs, and no read from the device)."""
    delta = torch.diff(values, prepend=values.new_zeros(1))
    buf = values.new_zeros(total + 1).index_add_(0, out_start, delta)
    return buf[:-1].cumsum(0)


class GraphStore:
    """A dataset's graphs as concatenated tensors on one device; :meth:`batch` assembles mini-batches.

    Build it with :meth:`from_dataset` (an ``InMemoryDataset`` or any sequence of PyG ``Data``), which
    returns None for datasets it cannot hold exactly (a per-graph ``transform``, attributes that are not
    tensors, graphs without ``x``); the caller then keeps PyG's ``DataLoader``.
    """

    def __init__(self, data: Any, slices: dict[str, Tensor], graph_ids: Sequence[int] | None,
                 device: torch.device):
        self.device = device
        self.keys = [k for k in slices if k != "num_nodes"]
        self.values = {k: data[k].to(device) for k in self.keys}
        # host copies of every attribute's per-graph boundaries: batch sizes never need the device
        self.host_slices = {k: slices[k].cpu().numpy().astype(np.int64) for k in self.keys}
        self.slices = {k: slices[k].to(device=device, dtype=torch.long) for k in self.keys}
        self.num_graphs = (len(graph_ids) if graph_ids is not None else len(self.host_slices["x"]) - 1)
        self.graph_ids = None if graph_ids is None else np.asarray(graph_ids, dtype=np.int64)
        # attributes with equal boundaries (x and other node-level ones; edge_index and edge_attr) share
        # one gather per batch: each key maps to the first key with its boundaries
        self._group: dict[str, str] = {}
        for k in self.keys:
            self._group[k] = next(j for j in self.keys if np.array_equal(self.host_slices[j], self.host_slices[k]))
        self._columns: dict[str, tuple[int, tuple[int, ...]]] = {}
        self.explicit_num_nodes = False  # whether batches carry num_nodes (PyG copies it when graphs have it)
        self._validate()

    # -- construction ---------------------------------------------------------------------------------
    @classmethod
    def from_dataset(cls, dataset: Any, device: torch.device) -> "GraphStore | None":
        """A store for ``dataset`` on ``device``, or None when batches from it could differ from PyG's."""
        from torch_geometric.data import InMemoryDataset

        if isinstance(dataset, InMemoryDataset):
            if dataset.transform is not None or not isinstance(getattr(dataset, "slices", None), dict):
                return None
            return cls._checked(dataset._data, dataset.slices, list(dataset.indices()), device)
        if getattr(dataset, "transform", None) is not None:
            return None
        try:
            graphs = [dataset[i] for i in range(len(dataset))]
        except TypeError:
            return None
        return cls.from_graphs(graphs, device)

    @classmethod
    def from_graphs(cls, graphs: Sequence[Any], device: torch.device) -> "GraphStore | None":
        """A store holding ``graphs`` (PyG ``Data`` objects) in order, or None (see :meth:`from_dataset`)."""
        from torch_geometric.data import Data, InMemoryDataset

        if not graphs or not all(isinstance(g, Data) for g in graphs):
            return None
        keys = set(graphs[0].keys())
        if any(set(g.keys()) != keys for g in graphs):
            return None
        data, slices = InMemoryDataset.collate(list(graphs))
        return cls._checked(data, slices, None, device)

    @classmethod
    def _checked(cls, data: Any, slices: Any, graph_ids, device) -> "GraphStore | None":
        keys = list(slices)
        if "x" not in keys or "edge_index" not in keys or set(data.keys()) - {"num_nodes"} != set(keys):
            return None  # only sliced tensors, and num_nodes as x's rows (as in PyG's collate)
        explicit = "num_nodes" in data.keys()
        if explicit:  # OGB's graphs carry num_nodes: it must equal x's rows, graph by graph
            per_graph = getattr(data, "_num_nodes", None)
            if per_graph is None or not np.array_equal(np.asarray(per_graph), np.diff(slices["x"].numpy())):
                return None
        for k in keys:
            v = data[k]
            if not isinstance(v, Tensor) or v.dim() == 0 or "batch" in k or k in ("ptr",):
                return None
            if _is_incremented(k) and (v.dim() != 2 or k != "edge_index"):
                return None
        store = cls(data, slices, graph_ids, device)
        store.explicit_num_nodes = explicit
        return store

    def _validate(self) -> None:
        """Every edge inside its own graph (PyG stores per-graph node ids); categorical feature ranges."""
        nodes = np.diff(self.host_slices["x"])
        ei, es = self.values["edge_index"], self.host_slices["edge_index"]
        if ei.numel():
            edge_graph = torch.repeat_interleave(torch.arange(len(nodes), device=self.device),
                                                 torch.as_tensor(np.diff(es), device=self.device),
                                                 output_size=ei.size(1))
            bound = torch.as_tensor(nodes, device=self.device)[edge_graph]
            bad = (ei < 0) | (ei >= bound)
            if bool(bad.any()):
                e = int(bad.any(0).nonzero()[0])
                g = int(edge_graph[e])
                raise ValueError(f"graph {g} has an edge {ei[:, e].tolist()} outside its {int(nodes[g])} nodes")
        for k in self.keys:
            v = self.values[k]
            if not v.is_floating_point() and v.dim() == 2 and not _is_incremented(k) and v.numel():
                self._columns[k] = check.column_range(v, exact=True)

    # -- batches ----------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.num_graphs

    def storage_ids(self, positions: Sequence[int] | np.ndarray) -> np.ndarray:
        """Positions in this store's dataset view -> ids in its storage."""
        pos = np.asarray(positions, dtype=np.int64)
        return pos if self.graph_ids is None else self.graph_ids[pos]

    def _gather(self, key: str, ids: np.ndarray, ids_dev: Tensor) -> tuple[Tensor, Tensor, int]:
        """Positions of graphs ``ids``' entries of ``key`` in storage, where each graph's entries start in
        the batch, and their total."""
        s = self.host_slices[key]
        total = int((s[ids + 1] - s[ids]).sum())
        sd = self.slices[key]
        start = sd.index_select(0, ids_dev)
        count = sd.index_select(0, ids_dev + 1) - start
        out_start = torch.cumsum(count, 0) - count
        pos = torch.arange(total, device=self.device) + _expand(start - out_start, out_start, total)
        return pos, out_start, total

    def batch(self, positions: Sequence[int] | np.ndarray, ids_dev: Tensor | None = None):
        """The PyG ``Batch`` of the graphs at ``positions`` (in this order), built on the device.

        ``ids_dev``: the same graphs' storage ids already on the device (:meth:`device_ids`); passing it
        saves one small host-to-device copy per batch.
        """
        from torch_geometric.data import Batch

        ids = self.storage_ids(positions)
        if ids_dev is None:
            ids_dev = torch.as_tensor(ids, device=self.device)
        num_graphs = len(ids)
        gathered = {self._group["x"]: self._gather("x", ids, ids_dev)}
        _, node_start, num_nodes = gathered[self._group["x"]]
        ptr = torch.cat([node_start, node_start.new_full((1,), num_nodes)])
        out: dict[str, Tensor] = {}
        for k in self.keys:
            group = self._group[k]
            if group not in gathered:
                gathered[group] = self._gather(group, ids, ids_dev)
            pos, start, total = gathered[group]
            v = self.values[k]
            if _is_incremented(k):
                shift = _expand(node_start, start, total)  # each graph's first node in the batch
                out[k] = check.vouch_range(v.index_select(1, pos) + shift, 0, num_nodes)
            else:
                out[k] = v.index_select(0, pos)
                if k in self._columns:
                    check.vouch(out[k], "columns", self._columns[k], exact=False)
        batch_vec = _expand(torch.arange(num_graphs, device=self.device), node_start, num_nodes)
        check.vouch_range(batch_vec, 0, num_graphs)
        check.vouch(ptr, "ptr", [0, num_nodes, 0])
        if self.explicit_num_nodes:
            out["num_nodes"] = num_nodes
        return Batch(batch=batch_vec, ptr=ptr, **out)

    def device_ids(self, positions: Sequence[int] | np.ndarray) -> Tensor:
        """Storage ids of ``positions`` as one device tensor (copy a whole epoch's order once, then slice)."""
        return torch.as_tensor(self.storage_ids(positions), device=self.device)

    def nbytes(self) -> int:
        """Bytes the stored tensors take on the device."""
        return sum(v.numel() * v.element_size() for v in self.values.values())
