"""Tasks: what one epoch of training and one evaluation mean for each problem level.

A task owns the data (moved to the device once) and knows its loss; the loop in
:mod:`graphkit.train.loop` only calls ``train_epoch`` and ``evaluate``:

* :class:`NodeTask`: full-batch node classification (Planetoid, ogbn-*).
* :class:`GraphTask`: mini-batch graph classification / regression (ogbg-*, TU).
* :class:`LinkTask`: link prediction with random negatives (ogbl-* with Hits@K).

Models follow one calling convention per level: node ``model(x, adj) -> [N, C]``,
graph ``model(batch) -> [B, T]``, link ``model.encode(x, adj)`` and
``model.score(z, pairs: [2, P]) -> [P]``.
"""
from graphkit.train.tasks.forecast import ForecastTask
from graphkit.train.tasks.graph import GraphTask
from graphkit.train.tasks.link import LinkTask
from graphkit.train.tasks.losses import loss_fn
from graphkit.train.tasks.node import NodeTask
from graphkit.train.tasks.precision import Precision

__all__ = ["ForecastTask", "GraphTask", "LinkTask", "NodeTask", "Precision", "loss_fn"]
