"""One reproduction: a model, a dataset, settings, and the published number to compare with."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Recipe:
    name: str
    model: str
    dataset: str
    settings: dict[str, str]
    metric: str
    expected: tuple[float, float | None] | None  # published (mean, std) on the metric's scale
    source: str
    notes: str = ""
    runs: dict[str, str] = field(default_factory=lambda: {"seeds": "10"})


# k-fold / fixed-split sets run once per fold
FOLDS = {"folds": "10"}
