"""How a graph model reads its raw inputs: OGB molecule features, type ids, or float features.

:class:`InputSpec` says which; :func:`node_encoder` / :func:`edge_encoder` build the module (OGB's
Atom/BondEncoder, an embedding table, or a linear map) and :func:`encode_nodes` / :func:`encode_edges` apply
it. The modules are the models' own attributes (``node_encoder``, ``edge_encoder``), so state-dict keys stay
those of the module chosen. Used by GraphGPS / Graph-Mamba (:mod:`.gps`) and GMN (:mod:`.gmn`).
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from graphkit.nn import AtomEncoder, BondEncoder


@dataclass(frozen=True)
class InputSpec:
    """``mol``: OGB's categorical atom / bond features; ``node_vocab`` / ``edge_vocab`` > 0: column 0 is a type
    id (ZINC's atoms and bonds); else ``in_channels`` float node features and ``edge_channels`` float edge
    features (0: the graphs' edges carry none)."""

    in_channels: int
    mol: bool = False
    node_vocab: int = 0
    edge_vocab: int = 0
    edge_channels: int = 0


def node_encoder(spec: InputSpec, width: int) -> nn.Module:
    """The module that maps raw node inputs to ``width`` features."""
    if spec.mol:
        return AtomEncoder(width)
    if spec.node_vocab > 0:
        return nn.Embedding(spec.node_vocab, width)
    return nn.Linear(spec.in_channels, width)


def encode_nodes(spec: InputSpec, enc: nn.Module, x: Tensor) -> Tensor:
    """``enc`` (built by :func:`node_encoder`) applied to raw node inputs ``x``."""
    if spec.mol:
        return enc(x)
    if spec.node_vocab > 0:
        return enc(x.view(x.size(0), -1)[:, 0].long())
    return enc(x.float())


def edge_encoder(spec: InputSpec, width: int) -> nn.Module | None:
    """The module that maps raw edge inputs to ``width`` features; None when the graphs' edges carry none."""
    if spec.mol:
        return BondEncoder(width)
    if spec.edge_vocab > 0:
        return nn.Embedding(spec.edge_vocab, width)
    if spec.edge_channels > 0:
        return nn.Linear(spec.edge_channels, width)
    return None


def encode_edges(spec: InputSpec, enc: nn.Module | None, edge_attr: Tensor | None) -> Tensor | None:
    """``enc`` (built by :func:`edge_encoder`) applied to raw edge inputs; None without an encoder."""
    if enc is None:
        return None
    if edge_attr is None:
        raise ValueError("this model encodes edge features, but the graphs have no edge_attr")
    if spec.mol:
        return enc(edge_attr)
    if spec.edge_vocab > 0:
        return enc(edge_attr.view(edge_attr.size(0), -1)[:, 0].long())
    return enc(edge_attr.float())
