"""GINConv and GINEConv (Xu et al., 2019; Hu et al., 2020) on graphkit.ops."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from graphkit.nn.messages import gather_add_relu
from graphkit.ops import as_adjacency, check_edge_index, check_features, check_same_device, spmm, trusted
from graphkit.ops.adjacency import Graph
from graphkit.ops.check import check_edge_values, check_width


def _reset(module: nn.Module) -> None:
    for m in module.modules():
        if m is not module and hasattr(m, "reset_parameters"):
            m.reset_parameters()
    if hasattr(module, "reset_parameters"):
        module.reset_parameters()


def _split(x: Tensor | tuple[Tensor, Tensor | None]) -> tuple[Tensor, Tensor | None]:
    if isinstance(x, (tuple, list)):
        return x[0], x[1]
    return x, x


class _GINBase(nn.Module):
    def __init__(self, nn_module: nn.Module, eps: float, train_eps: bool):
        super().__init__()
        self.nn = nn_module
        self.initial_eps = eps
        if train_eps:
            self.eps = nn.Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))

    def reset_parameters(self) -> None:
        _reset(self.nn)
        self.eps.data.fill_(self.initial_eps)

    def _check_width(self, x: Tensor) -> None:
        """``x``'s features against ``nn``'s first layer, when it says its input size."""
        first = self.nn[0] if isinstance(self.nn, nn.Sequential) and len(self.nn) else self.nn
        width = getattr(first, "in_features", None) or getattr(first, "in_channels", None)
        if isinstance(width, int) and getattr(self, "lin", None) is None:
            check_width(x, width, "x", "the input size of the layer's nn")

    def _finish(self, out: Tensor, x_dst: Tensor | None) -> Tensor:
        if x_dst is not None:
            out = out.addcmul_(1 + self.eps, x_dst)  # in place: out is the layer's own fresh sum
        return self.nn(out)


class GINConv(_GINBase):
    r"""Graph isomorphism convolution ``x'_i = nn((1 + eps) x_i + sum_{j -> i} x_j)``.

    Same constructor and parameters (``nn.*``, ``eps``) as
    ``torch_geometric.nn.GINConv``. The neighbour sum is one sparse product,
    without an ``E x F`` message tensor.

    Args:
        nn: module applied after aggregation (e.g. an MLP), ``[N, F] -> [N, F_out]``.
        eps: initial ``eps``.
        train_eps: learn ``eps``.

    Shapes:
        ``x: [N, F]`` or a pair ``([N_src, F], [N_dst, F] | None)``;
        ``edge_index: [2, E]`` (or an Adjacency / SparseTensor) -> ``[N_dst, F_out]``.

    Example::

        >>> conv = GINConv(torch.nn.Linear(8, 16))
        >>> conv(torch.randn(3, 8), torch.tensor([[0, 1], [1, 2]])).shape
        torch.Size([3, 16])
    """

    def __init__(self, nn: nn.Module, eps: float = 0.0, train_eps: bool = False):
        super().__init__(nn, eps, train_eps)
        self.reset_parameters()

    def forward(self, x: Tensor | tuple[Tensor, Tensor | None], edge_index: Graph,
                size: tuple[int, int] | None = None) -> Tensor:
        x_src, x_dst = _split(x)
        check_same_device(("x", x_src), ("x_dst", x_dst), ("edge_index", edge_index), ("GINConv's weights", self))
        check_features(x_src, name="x", min_dim=2, max_dim=2)
        self._check_width(x_src)
        num = size or (x_src.size(0), x_src.size(0) if x_dst is None else x_dst.size(0))
        adj = as_adjacency(edge_index, num)
        return self._finish(spmm(adj, x_src), x_dst)


class GINEConv(_GINBase):
    r"""GIN with edge features: ``x'_i = nn((1 + eps) x_i + sum_{j -> i} ReLU(x_j + lin(e_ji)))``.

    Same constructor and parameters (``nn.*``, ``eps``, ``lin.*``) as
    ``torch_geometric.nn.GINEConv``. The messages depend on each edge, so this
    layer builds an ``E x F`` message tensor (as every implementation must).

    Args:
        nn: module applied after aggregation.
        eps: as in :class:`GINConv`.
        train_eps: as in :class:`GINConv`.
        edge_dim: edge feature size; when given, ``lin`` maps edge features to
            the node feature size (taken from ``nn``'s first ``in_features``).

    Shapes:
        ``x: [N, F]``, ``edge_index: [2, E]`` (or an Adjacency),
        ``edge_attr: [E, edge_dim]`` (``[E, F]`` without ``edge_dim``) -> ``[N, F_out]``.

    Example::

        >>> conv = GINEConv(torch.nn.Linear(8, 8), edge_dim=3)
        >>> ei = torch.tensor([[0, 1], [1, 2]])
        >>> conv(torch.randn(3, 8), ei, torch.randn(2, 3)).shape
        torch.Size([3, 8])
    """

    def __init__(self, nn: nn.Module, eps: float = 0.0, train_eps: bool = False, edge_dim: int | None = None):
        super().__init__(nn, eps, train_eps)
        self.lin: torch.nn.Linear | None = None
        if edge_dim is not None:
            first = self.nn[0] if isinstance(self.nn, torch.nn.Sequential) else self.nn
            in_channels = getattr(first, "in_features", None) or getattr(first, "in_channels", None)
            if in_channels is None:
                raise ValueError("GINEConv could not infer the node feature size from `nn` "
                                 "(its first module has no in_features/in_channels)")
            self.lin = torch.nn.Linear(edge_dim, in_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.lin is not None:
            self.lin.reset_parameters()

    def forward(self, x: Tensor | tuple[Tensor, Tensor | None], edge_index: Graph,
                edge_attr: Tensor | None = None, size: tuple[int, int] | None = None) -> Tensor:
        x_src, x_dst = _split(x)
        check_same_device(("x", x_src), ("x_dst", x_dst), ("edge_index", edge_index), ("edge_attr", edge_attr),
                          ("GINEConv's weights", self))
        check_features(x_src, name="x", min_dim=2, max_dim=2)
        num_dst = x_src.size(0) if x_dst is None else x_dst.size(0)
        num = size or (x_src.size(0), num_dst)
        if edge_attr is None:
            raise ValueError("GINEConv needs edge_attr: [E, edge_dim]; use GINConv for graphs without edge features")
        if not isinstance(edge_index, Tensor):
            edge_index = as_adjacency(edge_index, num)
        else:
            check_edge_index(edge_index, num[0], num[1])
        num_edges = edge_index.size(1) if isinstance(edge_index, Tensor) else edge_index.num_edges
        check_edge_values(edge_attr, num_edges, name="edge_attr", dim=None)
        if self.lin is not None:
            edge_attr = self.lin(edge_attr)
        elif edge_attr.size(-1) != x_src.size(-1):
            raise ValueError(f"edge_attr has {edge_attr.size(-1)} features but x has {x_src.size(-1)}; "
                             "set GINEConv(edge_dim=...) to map edge features to the node size")
        if isinstance(edge_index, Tensor):
            src, dst = edge_index[0].long(), edge_index[1].long()
            # Edge order plus a target index: one pass, no sort.
            msg = gather_add_relu(x_src, src, edge_attr)
            out = trusted.scatter(msg, dst, num[1], "sum")  # indices checked above
        else:
            # An Adjacency is sorted by target (and was validated when built):
            # gather in CSR order and reduce contiguous segments.
            adj = edge_index
            msg = gather_add_relu(x_src, adj.col, edge_attr.index_select(0, adj.perm))
            out = trusted.segment(msg, adj.rowptr, "sum")
        return self._finish(out, x_dst)
