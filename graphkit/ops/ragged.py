"""Sequences of different lengths stored one after another, without padding.

A :class:`RaggedBatch` describes rows ``[T, *]`` that hold ``S`` sequences back to back (sequence 0's rows
first, each in time order), as the nodes of a batch of graphs are once put in a reading order: a
sequence mixer can then run its position-wise work (projections, activations) on the ``T`` real rows
instead of ``S x L_max`` padded ones (PROTEINS batches of 32 graphs pad to about 5 times their nodes).
It also holds the time-major packing a recurrence needs (``torch.nn.utils.rnn.PackedSequence``'s layout:
step ``t`` is the next ``steps[t]`` rows, the sequences still running at ``t``, longest first).

Example::

    >>> seqs = RaggedBatch.from_lengths(torch.tensor([2, 3]))
    >>> seqs.position.tolist(), seqs.steps
    ([0, 1, 0, 1, 2], [2, 2, 1])
    >>> seqs.pad(torch.arange(5.))
    tensor([[0., 1., 0.],
            [2., 3., 4.]])
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from graphkit.ops import check


@dataclass(frozen=True, eq=False)
class RaggedBatch:
    """The layout of ``S`` sequences stored back to back as ``T`` rows (build with :meth:`from_lengths`)."""

    lengths: Tensor  # [S] rows of each sequence
    sequence: Tensor  # [T] the sequence each row belongs to
    position: Tensor  # [T] the row's time step inside its sequence
    steps: list[int]  # sequences still running at each time step (non-increasing; len = the longest)
    to_time_major: Tensor  # [T] rows[to_time_major] is the time-major packing
    from_time_major: Tensor  # [T] packed[from_time_major] gives the rows back

    @staticmethod
    def from_lengths(lengths: Tensor) -> RaggedBatch:
        """The layout of sequences of these lengths (``[S]`` non-negative integers; zero-length ones hold no
        rows). Reads ``lengths`` from the device once."""
        check._check_index_tensor(lengths, "lengths", "[S]")
        if lengths.dim() != 1:
            raise ValueError(f"lengths must be 1-D [S], got shape {list(lengths.shape)}")
        lengths = lengths.long()
        device, s = lengths.device, lengths.numel()
        longest = int(lengths.max()) if s else 0
        if s and int(lengths.min()) < 0:
            raise ValueError(f"lengths must be >= 0, got {int(lengths.min())}")
        sequence = torch.repeat_interleave(torch.arange(s, device=device), lengths)
        starts = torch.cumsum(lengths, 0) - lengths
        position = torch.arange(sequence.numel(), device=device) - starts[sequence]
        # sequences longer than t, for every step t
        running = s - torch.cumsum(torch.bincount(lengths, minlength=longest + 1), 0)[:longest]
        rank = torch.empty_like(lengths)  # longest first, ties in sequence order
        rank[torch.argsort(lengths, descending=True, stable=True)] = torch.arange(s, device=device)
        first = torch.cumsum(running, 0) - running  # time-major row of step t's first sequence
        from_time_major = first[position] + rank[sequence]
        to_time_major = torch.empty_like(from_time_major)
        to_time_major[from_time_major] = torch.arange(from_time_major.numel(), device=device)
        return RaggedBatch(lengths, sequence, position, running.tolist(), to_time_major, from_time_major)

    @property
    def num_rows(self) -> int:
        """``T``, the rows of all sequences together."""
        return self.sequence.numel()

    def pad(self, rows: Tensor) -> Tensor:
        """``[S, L_max, *]`` with zeros past each sequence's end."""
        self._check_rows(rows)
        dense = rows.new_zeros(self.lengths.numel(), len(self.steps), *rows.shape[1:])
        dense[self.sequence, self.position] = rows
        return dense

    def unpad(self, dense: Tensor) -> Tensor:
        """The real rows ``[T, *]`` of ``dense: [S, L_max, *]``."""
        if dense.shape[:2] != (self.lengths.numel(), len(self.steps)):
            raise ValueError(f"dense must be [S, L_max, ...] = [{self.lengths.numel()}, {len(self.steps)}, ...], "
                             f"got {tuple(dense.shape)}")
        return dense[self.sequence, self.position]

    def _check_rows(self, rows: Tensor, name: str = "rows") -> None:
        if not isinstance(rows, Tensor) or rows.dim() < 1 or rows.size(0) != self.num_rows:
            shape = tuple(rows.shape) if isinstance(rows, Tensor) else type(rows).__name__
            raise ValueError(f"{name} must have the layout's {self.num_rows} rows first, got {shape}")
