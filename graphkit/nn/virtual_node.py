"""Virtual node (Gilmer et al., 2017; OGB's ``*-virtual`` baselines)."""
from __future__ import annotations

from torch import Tensor, nn

from graphkit.nn.dropout import Dropout
from graphkit.nn.pool import global_add_pool
from graphkit.ops.check import check_features, check_same_device, check_width


class VirtualNode(nn.Module):
    """One extra node per graph, linked to all its nodes, for an ``L``-layer GNN.

    Usage, as in OGB's ``GNN_node_Virtualnode``::

        vn = virtual.initial(num_graphs)                 # [B, F]: a learned vector, initialised to 0
        for layer in range(L):
            h = virtual.broadcast(h, vn, batch)          # h + vn[batch]
            h_next = conv(h, ...)
            if layer < L - 1:
                vn = virtual.update(layer, h, vn, batch, num_graphs)   # MLP(sum-pool(h) + vn)
            h = h_next

    Each update MLP is ``Linear(F, 2F) - BN - ReLU - Linear(2F, F) - BN - ReLU``,
    followed by dropout; ``residual=True`` adds the old state back.

    Args:
        channels: node state size ``F``.
        num_layers: GNN layers ``L`` (``L - 1`` updates).
        dropout: dropout on each updated state.
        residual: ``vn <- vn + update`` instead of ``vn <- update``.

    Example::

        >>> vnode = VirtualNode(8, num_layers=3)
        >>> h, batch = torch.randn(5, 8), torch.tensor([0, 0, 1, 1, 1])
        >>> vn = vnode.update(0, vnode.broadcast(h, vnode.initial(2), batch), vnode.initial(2), batch, 2)
        >>> vn.shape
        torch.Size([2, 8])
    """

    def __init__(self, channels: int, num_layers: int, dropout: float = 0.0, residual: bool = False):
        super().__init__()
        if num_layers < 1:
            raise ValueError("VirtualNode needs num_layers >= 1")
        self.channels = channels
        self.residual = residual
        self.embedding = nn.Embedding(1, channels)
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(channels, 2 * channels), nn.BatchNorm1d(2 * channels), nn.ReLU(),
                          nn.Linear(2 * channels, channels), nn.BatchNorm1d(channels), nn.ReLU())
            for _ in range(num_layers - 1))
        self.dropout = Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.embedding.weight)
        for m in self.mlps.modules():
            if m is not self.mlps and hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def initial(self, num_graphs: int) -> Tensor:
        """``[B, F]``: the learned initial state (zeros at initialisation) for each graph."""
        return self.embedding.weight.expand(num_graphs, -1)

    def broadcast(self, h: Tensor, vn: Tensor, batch: Tensor) -> Tensor:
        """``h + vn[batch]``: every node receives its graph's virtual node state."""
        return h + vn.index_select(0, batch)

    def update(self, layer: int, h: Tensor, vn: Tensor, batch: Tensor, num_graphs: int,
               ptr: Tensor | None = None) -> Tensor:
        """State after ``layer``: ``[B, F]`` from the sum of the layer's node inputs and the old state."""
        check_same_device(("h", h), ("vn", vn), ("batch", batch), ("ptr", ptr), ("the virtual node's weights", self))
        check_features(h, name="h", min_dim=2, max_dim=2)
        check_width(h, self.channels, "h", "the virtual node's width")
        new = self.dropout(self.mlps[layer](global_add_pool(h, batch, num_graphs, ptr) + vn))
        return vn + new if self.residual else new
