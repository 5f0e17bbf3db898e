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


class DatasetFormatError(ValueError):
    """A dataset file exists but cannot be read as its format says: truncated, corrupt, wrong shape or type,
    or values that are not finite. The message names the file (or the dataset and the field)."""


def missing_files_error(name: str, directory: Path, files: list[str], how: str) -> DatasetNotFoundError:
    """A :class:`DatasetNotFoundError` naming the dataset, the folder, the missing files and what to do."""
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


class CacheFormatError(DatasetFormatError):
    """A processed cache file holds something other than tensors, plain values and the few PyG/numpy
    classes graphkit's caches hold: refused unread, since unpickling it could run code. The message names
    the file and says to delete the cache (never the raw data)."""


@contextmanager
def trusted_cache_load():
    """``torch.load`` inside this block is weights-only, always, and reads the classes PyG/OGB cache
    files hold (and nothing more).

    PyG's dataset loader retries a failed safe load with ``weights_only=False`` (any pickle, any code), and
    ogb's loader calls ``torch.load`` without ``weights_only``, which ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``
    turns into an unrestricted load. A cache directory others can write to would then run their code.
    Here every load passes ``weights_only=True`` explicitly (which that variable cannot override) and a
    refused file raises :class:`CacheFormatError` instead of reaching PyG's fallback.
    """
    import pickle

    import numpy as np
    import torch
    from torch_geometric.data.data import Data, DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    core = getattr(np, "_core", None) or np.core  # numpy 2 deprecates the numpy.core alias
    allowed = [Data, DataEdgeAttr, DataTensorAttr, GlobalStorage, core.multiarray._reconstruct, np.ndarray, np.dtype]
    allowed += [type(np.dtype(t)) for t in ("int64", "int32", "float32", "float64", "bool", "uint8")]
    unrestricted = torch.load

    def weights_only_load(f, *args, **kwargs):
        kwargs["weights_only"] = True
        try:
            return unrestricted(f, *args, **kwargs)
        except pickle.UnpicklingError as exc:
            where = getattr(f, "name", f)
            raise CacheFormatError(
                f"the cache file {where} holds objects other than tensors and plain data, so graphkit refuses to "
                f"unpickle it (it may have been written by another program or tampered with). Delete that cache "
                f"folder to rebuild it from the raw files; the raw data is fine ({str(exc).splitlines()[0]})") \
                from None

    torch.load = weights_only_load
    try:
        with torch.serialization.safe_globals(allowed):
            yield
    finally:
        torch.load = unrestricted


def download_into(raw: Path, urls: dict[str, str]) -> None:
    """Download ``{file name: url}`` into ``raw``: into a scratch folder first, moved into place whole."""
    from torch_geometric.data import download_url

    raw.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=raw.parent, prefix=f".{raw.name}.") as tmp:
        for name, url in urls.items():
            got = download_url(url, tmp, log=False)
            if Path(got).name != name:
                os.replace(got, Path(tmp) / name)
        if raw.exists():  # fill in the missing files only
            for f in Path(tmp).iterdir():
                if not (raw / f.name).exists():
                    shutil.move(str(f), raw / f.name)
        else:
            shutil.move(tmp, raw)
            Path(tmp).mkdir()  # let TemporaryDirectory clean up an empty folder


def require_files(name: str, raw: Path, urls: dict[str, str], download: bool, source: str) -> None:
    """Make sure every file of ``urls`` is in ``raw``: download the missing ones if allowed, else raise
    :class:`DatasetNotFoundError` naming them and ``source``."""
    files = list(urls)
    if all((raw / f).exists() for f in files):
        return
    if download:
        try:
            download_into(raw, {f: u for f, u in urls.items() if not (raw / f).exists()})
        except Exception as exc:  # network or permission failure: say what to do
            raise missing_files_error(name, raw, files, f"Download from {source} failed "
                                                        f"({exc.__class__.__name__}: {exc}).") from exc
    if not all((raw / f).exists() for f in files):
        raise missing_files_error(name, raw, files, f"Get them from {source}.")


# Classes a data pickle (scipy csr features, numpy scalars and arrays) may name; nothing else loads.
PICKLE_ALLOWED = {
    ("scipy.sparse.csr", "csr_matrix"), ("scipy.sparse._csr", "csr_matrix"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("_codecs", "encode"),  # protocol-2 pickles written by Python 3 spell bytes this way (str -> bytes only)
    # Planetoid's adjacency dict is a defaultdict(list)
    ("collections", "defaultdict"), ("builtins", "list"), ("__builtin__", "list"),
}


class UntrustedPickleError(DatasetFormatError):
    """A pickle names a class outside the allowed data types."""


def load_data_pickle(path: Path, allow_any: bool = False) -> Any:
    """Unpickle a dataset file that may only build plain containers, numpy arrays/scalars and scipy CSR.

    Pickles can run arbitrary code; this loader refuses any other class (raising
    :class:`UntrustedPickleError` with the class name) unless ``allow_any``.
    """
    import pickle
    import warnings

    class Restricted(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if not allow_any and (module, name) not in PICKLE_ALLOWED:
                raise UntrustedPickleError(
                    f"{path} wants to load {module}.{name}, which a dataset file should not need; refusing "
                    "(pass allow_any=True only for files you trust)")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return super().find_class(module, name)

    try:
        with open(path, "rb") as f:
            return Restricted(f, encoding="latin1").load()
    except UntrustedPickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError) as exc:
        raise DatasetFormatError(f"{path} is not a readable pickle (truncated or corrupt?): "
                         f"{exc.__class__.__name__}: {exc}") from exc
