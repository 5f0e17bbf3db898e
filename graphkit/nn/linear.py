"""``torch.nn.Linear`` whose product pads its widths to a multiple of 8 on CPU where that is faster.

Same parameters, initialisation, state-dict keys and function as ``torch.nn.Linear`` (it is a subclass);
only the forward goes through :func:`graphkit.ops.linear.linear` (why and how much: that module's notes).
"""
from __future__ import annotations

from torch import Tensor, nn

from graphkit.ops.linear import linear


class Linear(nn.Linear):
    """``torch.nn.Linear`` computed by :func:`graphkit.ops.linear.linear`.

    Example::

        >>> Linear(3, 5)(torch.ones(2, 3)).shape
        torch.Size([2, 5])
    """

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)


__all__ = ["Linear"]
