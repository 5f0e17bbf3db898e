"""Find where a training step makes the host wait for the device.

Every ``int(t)``, ``t.item()``, ``bool(t)``, boolean-mask index or data-dependent output shape stops
the Python thread on a GPU until the device has caught up, and a loop that does that once per op
leaves the GPU idle between kernels. :class:`HostSyncs` records them over a block of code:

* on CUDA it uses PyTorch's own detector (``torch.cuda.set_sync_debug_mode("warn")``), which sees
  every synchronising CUDA call;
* on the CPU, where nothing synchronises, it records the calls that *would* synchronise on a GPU
  (reads of tensor values into Python and ops whose output size depends on the values), so that
  the rule can be tested on machines without a GPU.

Example::

    >>> with HostSyncs(torch.device("cpu")) as syncs:
    ...     n = int(torch.arange(3).max())
    >>> syncs.events
    ['__int__']
"""
from __future__ import annotations

import sys
import warnings

import torch
from torch.overrides import TorchFunctionMode

# Calls that read tensor values on the host, or whose output shape depends on them (CUDA must then
# copy a count back before it can allocate the result).
_READS = frozenset({"item", "__bool__", "__int__", "__float__", "__index__", "tolist", "numpy",
                    "nonzero", "argwhere", "masked_select", "unique", "unique_consecutive", "_unique2",
                    "bincount", "equal", "allclose"})
_INDEXING = frozenset({"__getitem__", "__setitem__", "index_put_", "index_put"})


def _has_bool_index(args) -> bool:
    idx = args[1] if len(args) > 1 else None
    items = idx if isinstance(idx, (tuple, list)) else (idx,)
    return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in items)


def _optimizer_step_counter() -> bool:
    """Whether the read comes from torch.optim: optimizers keep their step counters on the host on CUDA too
    (unless ``capturable``), so reading them costs no synchronisation there."""
    frame = sys._getframe(2)
    for _ in range(3):
        if frame is None:
            return False
        if frame.f_globals.get("__name__", "").startswith("torch.optim"):
            return True
        frame = frame.f_back
    return False


class _CpuDetector(TorchFunctionMode):
    def __init__(self, events: list[str]):
        super().__init__()
        self.events = events

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if (name in _READS and not _optimizer_step_counter()
                or (name in _INDEXING and _has_bool_index(args))
                or (name == "repeat_interleave" and kwargs.get("output_size") is None
                    and isinstance(args[1] if len(args) > 1 else kwargs.get("repeats"), torch.Tensor))
                or (name == "where" and len(args) + len(kwargs) == 1)):
            self.events.append(name)
        return func(*args, **kwargs)


def _is_sync_event(w: warnings.WarningMessage) -> bool:
    """A warning of the CUDA sync detector about one synchronising call. Its one-off notice on being switched
    on ("Synchronization debug mode is a prototype feature ...", PyTorch 2.11) is not an event."""
    text = str(w.message)
    return "synchroniz" in text and not text.startswith("Synchronization debug mode")


class HostSyncs:
    """Context manager that records host-device synchronisations in ``events`` (a list of short names).

    ``device``: where the code under test runs. On CUDA the entries are PyTorch's warnings (first line);
    on the CPU, the names of the calls that would synchronise on a GPU.
    """

    def __init__(self, device: torch.device | str):
        self.device = torch.device(device)
        self.events: list[str] = []

    def __enter__(self) -> "HostSyncs":
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self._warnings = warnings.catch_warnings(record=True)
            self._caught = self._warnings.__enter__()
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
        else:
            self._mode = _CpuDetector(self.events)
            self._mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.set_sync_debug_mode("default")
            self._warnings.__exit__(*exc)
            self.events.extend(str(w.message).splitlines()[0] for w in self._caught if _is_sync_event(w))
        else:
            self._mode.__exit__(*exc)
