"""Keep freed CPU memory for the next tensor instead of handing it back to the system (glibc only).

glibc serves every request above 32 MiB with a fresh ``mmap`` and returns it with ``munmap`` when the
tensor dies, so each large activation of a full-batch epoch (a 169,343 x 256 float tensor is 173 MB) is
page-faulted in anew: about 70 ms of a 90 ms elementwise op on the 2-core dev machine (``clamp_min``
85 ms into a new tensor, 8 ms in place). With ``mmap`` off and trimming off, freed blocks stay in the
heap and the next activation of the same size reuses them. Measured, the arxiv-sized GCN epoch of
benchmarks/bench_epoch.py, one thread, another job on the second core: 6.4-6.5 s -> 4.9-5.1 s.

The price: the process keeps its peak heap until it exits (what torch's CUDA caching allocator does on
a GPU). ``graphkit train`` / ``repro`` switch it on for their process; ``GRAPHKIT_HOST_MEMORY=system``
keeps glibc's defaults. Elsewhere (macOS, musl) it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

ENV = "GRAPHKIT_HOST_MEMORY"
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc's mallopt parameter numbers (malloc.h)
_applied = False


def reuse_freed_memory() -> bool:
    """Turn glibc's per-allocation ``mmap`` and heap trimming off for this process; True if it took effect.

    Does nothing (and returns False) when ``GRAPHKIT_HOST_MEMORY=system``, off Linux, or without glibc.
    Applies to allocations made after the call.
    """
    global _applied
    if _applied:
        return True
    choice = os.environ.get(ENV, "reuse").strip().lower()
    if choice not in ("reuse", "system"):
        raise ValueError(f"{ENV} must be 'reuse' or 'system', got {choice!r}")
    if choice == "system" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # mallopt returns 1 on success; the trim threshold is an int: its largest value keeps every freed block
    _applied = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
    return _applied
