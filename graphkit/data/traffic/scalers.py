"""Scalers fitted on the training split, exactly invertible: z-score (DCRNN lineage) and max (T-GCN)."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass
class StandardScaler:
    """z-score with one mean and std (DCRNN lineage: fitted on the training inputs, zeros included)."""

    mean: float
    std: float

    def transform(self, x: Tensor) -> Tensor:
        """Subtract the training mean and divide by the training standard deviation."""
        return (x - self.mean) / self.std

    def inverse(self, x: Tensor) -> Tensor:
        """Undo :meth:`transform` (back to the original units)."""
        return x * self.std + self.mean


@dataclass
class MaxScaler:
    """T-GCN's scaling: divide by the maximum of the whole series."""

    max: float

    def transform(self, x: Tensor) -> Tensor:
        """Divide by the training maximum."""
        return x / self.max

    def inverse(self, x: Tensor) -> Tensor:
        """Undo :meth:`transform` (back to the original units)."""
        return x * self.max
