"""Global pooling: one vector per graph from the node states of a mini-batch."""
from __future__ import annotations

from torch import Tensor, nn

from graphkit.ops import scatter, segment
from graphkit.ops.check import check_features, check_index, check_reduce, check_same_device


def global_pool(x: Tensor, batch: Tensor, num_graphs: int, reduce: str = "sum",
                ptr: Tensor | None = None) -> Tensor:
    """Reduce the nodes of each graph: ``[N, F] -> [B, F]``.

    Args:
        x: ``[N, F]`` node states, nodes of one graph contiguous (PyG batches are).
        batch: ``[N]`` graph id of each node.
        num_graphs: ``B`` (explicit: no host sync on ``batch.max()``).
        reduce: ``"sum"``, ``"mean"`` or ``"max"`` (empty graphs give 0).
        ptr: optional ``[B + 1]`` node offsets (``Batch.ptr``); when given the
            reduction runs over contiguous segments, which is faster than a scatter.

    Example::

        >>> global_pool(torch.ones(3, 2), torch.tensor([0, 0, 1]), 2, "sum")
        tensor([[2., 2.],
                [1., 1.]])
    """
    check_reduce(reduce, ("sum", "mean", "max", "min"))
    check_same_device(("x", x), ("batch", batch), ("ptr", ptr))
    check_features(x, name="x", min_dim=2, max_dim=2)
    if ptr is not None:
        if ptr.numel() != num_graphs + 1:
            raise ValueError(f"ptr has {ptr.numel()} entries but num_graphs={num_graphs} needs {num_graphs + 1}")
        return segment(x, ptr, reduce)
    check_index(batch, num_graphs, length=x.size(0), name="batch")
    return scatter(x, batch, num_graphs, reduce)


def global_add_pool(x: Tensor, batch: Tensor, num_graphs: int, ptr: Tensor | None = None) -> Tensor:
    """Sum of node states per graph, ``[N, F] -> [B, F]``."""
    return global_pool(x, batch, num_graphs, "sum", ptr)


def global_mean_pool(x: Tensor, batch: Tensor, num_graphs: int, ptr: Tensor | None = None) -> Tensor:
    """Mean of node states per graph, ``[N, F] -> [B, F]``."""
    return global_pool(x, batch, num_graphs, "mean", ptr)


def global_max_pool(x: Tensor, batch: Tensor, num_graphs: int, ptr: Tensor | None = None) -> Tensor:
    """Feature-wise max of node states per graph, ``[N, F] -> [B, F]``."""
    return global_pool(x, batch, num_graphs, "max", ptr)


class GlobalPool(nn.Module):
    """Module form of :func:`global_pool` with a fixed reduction."""

    def __init__(self, reduce: str = "mean"):
        super().__init__()
        check_reduce(reduce, ("sum", "mean", "max", "min"))
        self.reduce = reduce

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int, ptr: Tensor | None = None) -> Tensor:
        return global_pool(x, batch, num_graphs, self.reduce, ptr)
