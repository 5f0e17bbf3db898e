"""Reproductions as data: a model, a dataset, settings, and the published number to compare with.

Each :class:`Recipe` lists its settings as the same dotted overrides the CLI
takes (``train.epochs``, ``model.hidden``, ...), so ``graphkit repro NAME`` is
exactly ``graphkit train --model M --dataset D <settings>``. Sources and
protocols are in ``docs/reproductions.md`` and ``../shared/TARGETS.md``.
"""
from __future__ import annotations

from graphkit.recipes import classic, hypergraph, sheaf, traffic, transformers
from graphkit.recipes.recipe import Recipe
from graphkit.recipes.traffic import PUBLISHED_HORIZONS

# Every recipe by name, one module per family of reproductions.
RECIPES: dict[str, Recipe] = {**classic.RECIPES, **sheaf.RECIPES, **hypergraph.RECIPES, **traffic.RECIPES,
                              **transformers.RECIPES}

__all__ = ["PUBLISHED_HORIZONS", "RECIPES", "Recipe"]
