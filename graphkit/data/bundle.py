"""What every loader returns: the data, its official split and its metric."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torch import Tensor
from torch_geometric.data import Data

from graphkit.metrics import Metric

if TYPE_CHECKING:
    from graphkit.ops import Hypergraph


@dataclass(frozen=True)
class ForecastShape:
    """What a forecasting set fixes for its models: window lengths, sensors, the split protocol."""

    t_in: int
    t_out: int
    num_nodes: int
    protocol: str  # "dcrnn" | "astgcn" | "stgcn" | "tgcn"
    description: str  # the one-line summary (sizes, split, scaler)


@dataclass(frozen=True)
class Encodings:
    """Positional / structural encodings attached to every graph (``rwse``, ``lap_vecs``/``lap_vals``)."""

    rwse_k: int
    lap_k: int
    lap_norm: str


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
        split_kind: where the split comes from when a set has several (``"geom-gcn"``,
            ``"random-48/32/20"``, ``"platonov"``, ``"allset"``, ``"hypergcn"``); "" = the one official split.
        molecules: graphs with OGB's integer atom/bond features (models put them through Atom/BondEncoders).
        atom_types, bond_types: graphs whose node/edge features are one type id each, from vocabularies of
            these sizes (ZINC: 28 / 4; models embed them); 0 = not such a set.
        edge_features: width of ``edge_attr`` (0: none).
        encodings: the positional / structural encodings added to every graph, if any.
        hypergraph: node level on a hypergraph: the incidence structure (``data.incidence`` holds it too).
        hypergraph_self_loops: whether a singleton hyperedge was added for every node.
        forecast: forecasting: window lengths, sensors and protocol.
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
    split_kind: str = ""
    molecules: bool = False
    atom_types: int = 0
    bond_types: int = 0
    edge_features: int = 0
    encodings: Encodings | None = None
    hypergraph: Hypergraph | None = None
    hypergraph_self_loops: bool = False
    forecast: ForecastShape | None = None

    def __post_init__(self) -> None:
        if self.level == "forecast" and self.forecast is None:
            raise ValueError(f"{self.name}: a forecasting set needs its ForecastShape (windows, sensors, protocol)")

    def summary(self) -> str:
        """One line: name, size, features, outputs, task, metric and split sizes."""
        if self.forecast is not None:
            return self.forecast.description
        n = len(self.dataset) if self.dataset is not None else self.data.num_nodes
        unit = "graphs" if self.level == "graph" else "nodes"
        sizes = "/".join(str(len(v)) if hasattr(v, "__len__") else "?" for v in self.split.values())
        return (f"{self.name}: {n} {unit}, {self.num_features} features, {self.num_outputs} outputs "
                f"({self.task}), metric {self.metric.name}, split {sizes}")
