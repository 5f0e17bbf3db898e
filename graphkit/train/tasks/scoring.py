"""Which splits an evaluation scores, and in what order."""
from __future__ import annotations

from typing import Any, Callable, Iterable

TestNeeded = Callable[[dict[str, Any]], bool]  # given the scores so far (valid first): is test worth scoring?


def splits_to_score(names: Iterable[str], eval_train: bool, scores: dict[str, Any],
                    test_needed: TestNeeded | None) -> Iterable[str]:
    """``names`` with test moved last; the training split only when ``eval_train``; test only when
    ``test_needed`` is None or, called once the other splits are in ``scores``, returns True."""
    ordered = sorted(names, key=lambda name: name == "test")  # stable: the rest keep their order
    for name in ordered:
        if name == "train" and not eval_train:
            continue
        if name == "test" and test_needed is not None and not test_needed(scores):
            continue
        yield name
