"""Run directories that cannot be clobbered: no run inside another, one writer at a time, no stale files.

An experiment folder holds ``config.json`` and one ``run-*/`` folder per seed or fold (``checkpoint.pt``,
``log.csv``, ``results.json``). Writing a new experiment into such a folder, or into a folder inside one,
would overwrite finished results, so :func:`refuse_nested` refuses it with a :class:`RunDirError` naming the
experiment it would damage. :class:`RunLock` is an exclusive ``flock`` on ``<out>/.lock`` held while a
process writes there: a second process on the same ``--out`` gets a named error instead of interleaving its
files with the first one's (the lock is the kernel's, so a killed process never leaves it held). When the
lock is taken, temporary files a killed writer left behind (``.checkpoint.pt.XXXXXXXX``) are removed.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

LOCK = ".lock"
# what makes a folder an experiment (config.json) or one run of it (its checkpoint, log or results)
_EXPERIMENT_FILES = ("config.json",)
_RUN_FILES = ("checkpoint.pt", "log.csv")
# tempfile.mkstemp(prefix=".<name>.") leaves ".<name>.<8 random characters>"
_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}$")


class RunDirError(ValueError):
    """``--out`` would overwrite another run, or another process is writing there."""


def _kind(folder: Path) -> str | None:
    if any((folder / f).is_file() for f in _EXPERIMENT_FILES):
        return "experiment"
    if any((folder / f).is_file() for f in _RUN_FILES):
        return "run"
    return None


def refuse_nested(out: Path) -> None:
    """Raise :class:`RunDirError` when ``out`` is one run of an experiment or lies inside an experiment or run
    folder (``out`` itself being an experiment is the caller's business: ``--resume`` or refuse)."""
    out = Path(out).resolve()
    if _kind(out) == "run":
        raise RunDirError(f"--out {out} is one run of an experiment (it holds {_RUN_FILES[0]} or "
                          f"{_RUN_FILES[1]}); writing a new experiment there would overwrite it. Choose another "
                          f"--out, or resume the experiment in {out.parent} with --resume")
    for parent in out.parents:
        kind = _kind(parent)
        if kind is not None:
            raise RunDirError(f"--out {out} lies inside the {kind} in {parent}; writing there could overwrite its "
                              "results. Choose a folder outside it")


class RunLock:
    """Exclusive lock on ``out`` for the life of the ``with`` block (a no-op where ``fcntl`` is missing)."""

    def __init__(self, out: Path):
        self.path = Path(out) / LOCK
        self.fd: int | None = None

    def __enter__(self) -> "RunLock":
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunDirError(f"{self.path.parent} is being written by {holder}; wait for it to finish or "
                              "choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        self.fd = fd
        remove_stale_temporaries(self.path.parent)
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the flock
            self.fd = None


def remove_stale_temporaries(out: Path) -> list[Path]:
    """Delete the temporary files of atomic writes that a killed process left under ``out`` (only safe while
    holding the lock: nobody else is writing). Returns what was removed."""
    removed = []
    for path in Path(out).rglob(".*"):
        if path.is_file() and path.name != LOCK and _TEMPORARY.match(path.name):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
