"""Progress bars for a task's batches (only where asked for)."""
from __future__ import annotations

from graphkit.train import io


def batch_progress(iterable, total: int, desc: str, enabled: bool):
    """``iterable`` with a progress bar when ``enabled`` (else unchanged)."""
    return io.progress(iterable, 2, desc, total) if enabled else iterable
