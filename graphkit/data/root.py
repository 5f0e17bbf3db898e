"""Where data lives: one rule for every loader.

Data root: the explicit argument (``--data-root``), else ``$GRAPHKIT_DATA``,
else ``datasets/`` in the working directory. The data root may be read-only:
loaders never write processed files beside the raw ones; caches go to
:func:`cache_dir` (``$GRAPHKIT_CACHE``, else ``~/.cache/graphkit``).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Resolve the data root by the rule above (the directory need not exist)."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("GRAPHKIT_DATA")
    return Path(env).expanduser() if env else Path("datasets")


def cache_dir() -> Path:
    """Writable cache for processed data (created on first use)."""
    env = os.environ.get("GRAPHKIT_CACHE")
    if env:
        base = Path(env).expanduser()
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "graphkit"
    base.mkdir(parents=True, exist_ok=True)
    return base


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a dataset's files are absent and could not be downloaded."""


def missing_files_error(name: str, directory: Path, files: list[str], how: str) -> DatasetNotFoundError:
    missing = [f for f in files if not (directory / f).exists()]
    return DatasetNotFoundError(
        f"dataset {name!r}: {len(missing)} of {len(files)} expected files are missing in {directory.resolve()} "
        f"(missing: {', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''}). {how} "
        "Point graphkit at another data root with --data-root or GRAPHKIT_DATA."
    )


def link_into(src: Path, dst: Path) -> None:
    """Symlink every entry of ``src`` (except ``processed``) into ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.name == "processed" or entry.name.startswith("."):
            continue
        link = dst / entry.name
        if link.is_symlink() and Path(os.readlink(link)) != entry.resolve():
            link.unlink()
        if not link.exists():
            link.symlink_to(entry.resolve())


def source_key(home: Path) -> str:
    """Short hash of where the raw files are and their sizes and mtimes: a cache made from other
    files (another data root, an updated download) is never reused."""
    h = hashlib.sha1(str(home.resolve()).encode())
    for p in sorted(home.rglob("*")):
        if p.is_file() and "processed" not in p.parts:
            st = p.stat()
            h.update(f"{p.relative_to(home)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:10]


def process_in_cache(group: str, folder: str, home: Path, build: Callable[[Path], Any]) -> Any:
    """Run a PyG-style dataset whose raw files live in ``home`` with its ``processed/`` in the cache.

    ``build(root)`` constructs the dataset so that it reads ``root/folder/raw``
    and writes ``root/folder/processed``; ``root`` is
    ``<cache>/<group>/<source_key(home)>``. The first call processes in a scratch
    folder and renames the result into place only when complete: an
    interrupted run leaves no half-written cache.
    """
    base = cache_dir() / group / source_key(home)
    base.mkdir(parents=True, exist_ok=True)
    work = base / folder
    link_into(home, work)
    if not (work / "processed").is_dir():
        scratch = Path(tempfile.mkdtemp(dir=base, prefix=f".{folder}."))
        try:
            link_into(home, scratch / folder)
            _quietly(lambda: build(scratch))
            try:
                os.rename(scratch / folder / "processed", work / "processed")
            except OSError:
                if not (work / "processed").is_dir():  # a concurrent process may have won: fine
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return build(base)


def _quietly(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; when stderr is not a terminal, hold back the progress bars and chatter that
    ogb/PyG print while processing (shown anyway if processing fails)."""
    import contextlib
    import io
    import sys

    if sys.stderr.isatty():
        return fn()
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            return fn()
    except BaseException:
        sys.stderr.write(buf.getvalue())
        raise


@contextmanager
def trusted_cache_load():
    """Let ``torch.load`` (weights-only) read the classes PyG/OGB cache files hold, for this block only.

    The files are ones graphkit's loaders wrote (or OGB's official split files);
    torch's check stays on everywhere else.
    """
    import numpy as np
    import torch
    from torch_geometric.data.data import Data, DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    allowed = [Data, DataEdgeAttr, DataTensorAttr, GlobalStorage,
               np.core.multiarray._reconstruct, np.ndarray, np.dtype]
    allowed += [type(np.dtype(t)) for t in ("int64", "int32", "float32", "float64", "bool", "uint8")]
    with torch.serialization.safe_globals(allowed):
        yield
