"""The ops without their input checks, for code that validated its inputs once at its own boundary.

Every public op checks what it is given (types, shapes, index ranges; NaN/inf under
``GRAPHKIT_VALIDATE=full``). A layer or model that has already checked an ``edge_index`` against its node
count, or holds an :class:`~graphkit.ops.Adjacency` (checked when it was built), calls these instead of
switching validation off around a call: the checks stay at the boundary, and no global state is toggled on
the hot path. Results are the same as the checked ops' on valid inputs; on invalid ones they are undefined.
"""
from graphkit.ops.attention import attention_aggregate_trusted as attention_aggregate
from graphkit.ops.attention import pair_score_trusted as pair_score
from graphkit.ops.scatter import add_rows_
from graphkit.ops.scatter import scatter_trusted as scatter
from graphkit.ops.scatter import segment_trusted as segment
from graphkit.ops.spmm import spmm_trusted as spmm

__all__ = ["add_rows_", "attention_aggregate", "pair_score", "scatter", "segment", "spmm"]
