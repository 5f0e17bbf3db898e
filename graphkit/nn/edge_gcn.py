"""EdgeGCNConv: GCN with edge embeddings, as in OGB's molecule baselines (``--gnn gcn``)."""
from __future__ import annotations

from torch import Tensor, nn

from graphkit.nn.linear import Linear
from graphkit.nn.messages import add_relu_, gather_add_relu
from graphkit.ops import check_edge_index, check_features, check_same_device, degree, trusted
from graphkit.ops.check import check_edge_values, check_width


class EdgeGCNConv(nn.Module):
    r"""``x'_i = sum_{j -> i} n_ij ReLU(W x_j + e_ji) + ReLU(W x_i + r) / d_i``.

    ``d_i = 1 + out-degree(i)``, ``n_ij = (d_i d_j)^{-1/2}`` and ``r`` a learned
    root embedding: OGB's ``mol`` GCN layer (the self loop carries ``r``
    instead of an edge embedding). Molecule graphs store both directions of
    each bond, so out- and in-degree agree there.

    Args:
        channels: node (and edge embedding) size ``F``.

    Shapes: ``x: [N, F]``, ``edge_index: [2, E]``, ``edge_attr: [E, F]`` -> ``[N, F]``.

    Example::

        >>> conv = EdgeGCNConv(8)
        >>> conv(torch.randn(3, 8), torch.tensor([[0, 1], [1, 0]]), torch.randn(2, 8)).shape
        torch.Size([3, 8])
    """

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.linear = Linear(channels, channels)
        self.root_emb = nn.Embedding(1, channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.linear.reset_parameters()
        self.root_emb.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        check_same_device(("x", x), ("edge_index", edge_index), ("edge_attr", edge_attr),
                          ("EdgeGCNConv's weights", self))
        check_features(x, name="x", min_dim=2, max_dim=2)
        check_width(x, self.channels, "x", "EdgeGCNConv's width")
        n = x.size(0)
        check_edge_index(edge_index, n, n)
        check_edge_values(edge_attr, edge_index.size(1), name="edge_attr", dim=None)
        if edge_attr.size(-1) != self.channels:
            raise ValueError(f"edge_attr has {edge_attr.size(-1)} features, EdgeGCNConv expects {self.channels}")
        x = self.linear(x)
        src, dst = edge_index[0], edge_index[1]
        deg = degree(src, n, dtype=x.dtype) + 1
        dis = deg.rsqrt()
        norm = (dis.index_select(0, src) * dis.index_select(0, dst)).unsqueeze(-1)
        msg = gather_add_relu(x, src, edge_attr)
        out = trusted.scatter(msg * norm, dst, n, "sum")  # checked above
        # the self loop's term added into the fresh sum in place (its backward needs neither)
        return out.addcdiv_(add_relu_(x + self.root_emb.weight), deg.unsqueeze(-1))


__all__ = ["EdgeGCNConv"]
