"""What every loader returns: the data, its official split and its metric."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor
from torch_geometric.data import Data

from graphkit.metrics import Metric


@dataclass
class Loaded:
    """A dataset ready for training.

    Attributes:
        name: canonical name (``ogbg-molhiv``, ``Cora``, ``MUTAG``, ...).
        level: ``"node"``, ``"graph"``, ``"link"`` or ``"forecast"`` (traffic series; ``data`` is a
            :class:`~graphkit.data.traffic.ForecastData` and ``split`` holds window starts).
        task: ``"multiclass"``, ``"binary"`` (one or more 0/1 targets, NaN =
            unlabelled) or ``"regression"``.
        num_features: input node feature size (or, for OGB molecules, the
            number of raw atom features: they go through an AtomEncoder).
        num_outputs: classes for ``multiclass``, tasks otherwise.
        metric: the official score (an OGB Evaluator where one exists).
        data: node/link level: the one graph.
        dataset: graph level: an indexable sequence of graphs.
        split: ``{"train", "valid", "test"}`` index tensors (link level:
            OGB's edge split dict); for cross-validation sets, the folds.
        folds: graph-level cross-validation: a list of such splits.
        extra: dataset-specific facts (e.g. ``edge_features``).
    """

    name: str
    level: str
    task: str
    num_features: int
    num_outputs: int
    metric: Metric
    data: Data | None = None
    dataset: Any = None
    split: dict[str, Any] = field(default_factory=dict)
    folds: list[dict[str, Tensor]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: name, size, features, outputs, task, metric and split sizes."""
        if self.level == "forecast":
            return self.extra["describe"]
        n = len(self.dataset) if self.dataset is not None else self.data.num_nodes
        unit = "graphs" if self.level == "graph" else "nodes"
        sizes = "/".join(str(len(v)) if hasattr(v, "__len__") else "?" for v in self.split.values())
        return (f"{self.name}: {n} {unit}, {self.num_features} features, {self.num_outputs} outputs "
                f"({self.task}), metric {self.metric.name}, split {sizes}")
