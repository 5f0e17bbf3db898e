"""GCNConv (Kipf & Welling, 2017) on graphkit.ops."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from graphkit.nn.linear import Linear
from graphkit.ops import Adjacency, as_adjacency, check_features, check_same_device, gcn_aggregate, spmm
from graphkit.ops.adjacency import Graph
from graphkit.ops.linear import linear


class GCNConv(nn.Module):
    r"""Graph convolution ``x' = D^-1/2 (A + I) D^-1/2 x W + b``.

    Same constructor, parameters (``lin.weight``, ``bias``) and numbers as
    ``torch_geometric.nn.GCNConv``, so a PyG state dict loads as is. When
    ``out_channels > in_channels`` the graph aggregation runs before the linear
    map (on the narrower features); the normalisation is two diagonal scalings
    around one sparse product, never a new edge list.

    Args:
        in_channels: input feature size ``F_in``.
        out_channels: output feature size ``F_out``.
        improved: weight 2 for added self loops (``A + 2I``).
        cached: keep the :class:`~graphkit.ops.Adjacency` built from the first
            ``edge_index`` and reuse it on later calls (transductive training on
            one fixed graph; later ``edge_index``/``edge_weight`` are ignored).
            Passing a prebuilt Adjacency gives the same saving explicitly.
        add_self_loops: add remaining self loops (default: ``normalize``).
        normalize: apply the symmetric normalisation.
        bias: learn an additive bias.

    Shapes:
        ``x: [N, F_in]``, ``edge_index: [2, E]`` (or an Adjacency / SparseTensor),
        ``edge_weight: [E]`` -> ``[N, F_out]``.

    Example::

        >>> conv = GCNConv(16, 32)
        >>> out = conv(torch.randn(4, 16), torch.tensor([[0, 1, 2], [1, 2, 3]]))
        >>> out.shape
        torch.Size([4, 32])
    """

    def __init__(self, in_channels: int, out_channels: int, improved: bool = False, cached: bool = False,
                 add_self_loops: bool | None = None, normalize: bool = True, bias: bool = True):
        super().__init__()
        if add_self_loops is None:
            add_self_loops = normalize
        if add_self_loops and not normalize:
            raise ValueError("GCNConv: add_self_loops=True needs normalize=True "
                             "(self loops are part of the normalised operator)")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.improved, self.cached = improved, cached
        self.add_self_loops, self.normalize = add_self_loops, normalize
        self.lin = Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cached_adj: Adjacency | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin.weight)  # PyG's "glorot"
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cached_adj = None

    def propagate(self, adj: Adjacency, x: Tensor) -> Tensor:
        """Aggregate ``x`` over ``adj``: GCN-normalised (with self loops) or plain sums when ``normalize=False``."""
        if self.normalize:
            return gcn_aggregate(adj, x, self.improved, self.add_self_loops)
        return spmm(adj, x)

    def forward(self, x: Tensor, edge_index: Graph, edge_weight: Tensor | None = None) -> Tensor:
        if isinstance(x, (tuple, list)):
            raise ValueError("GCNConv takes one node-feature tensor x: [N, F_in], not a (source, target) pair")
        check_same_device(("x", x), ("edge_index", edge_index), ("edge_weight", edge_weight),
                          ("GCNConv's weights", self))
        check_features(x, name="x", min_dim=2, max_dim=2)
        if x.size(-1) != self.in_channels:
            raise ValueError(f"x has {x.size(-1)} features but GCNConv expects in_channels={self.in_channels}")
        if self.cached and self._cached_adj is not None:
            adj = self._cached_adj
        else:
            adj = as_adjacency(edge_index, x.size(0), edge_weight)
            if self.cached:
                self._cached_adj = adj
        if self.out_channels > self.in_channels:
            # aggregate the narrower features; the bias rides along in addmm
            return linear(self.propagate(adj, x), self.lin.weight, self.bias)
        out = self.propagate(adj, self.lin(x))
        # the product's output is a fresh tensor that no backward saved: add the bias in place
        if self.bias is None:
            return out
        return out.add_(self.bias) if out.dtype == self.bias.dtype else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, improved={self.improved}, normalize={self.normalize}"
