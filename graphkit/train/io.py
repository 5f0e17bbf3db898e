"""Files a run leaves behind: atomic writes, checkpoints, JSON, CSV, plots, environment."""
from __future__ import annotations

import csv
import io
import json
import os
import platform
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes the file 0600; run files get the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=_jsonable) + "\n").encode())


def _jsonable(o: Any):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write rows of scalars as CSV, atomically (list / dict values are left out)."""
    rows = [{k: v for k, v in r.items() if not isinstance(v, (list, dict))} for r in rows]  # scalars only
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys)
    w.writeheader()
    w.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode())


def rng_state() -> dict[str, Any]:
    """Every generator's state as tensors and plain values (so checkpoints load with ``weights_only``)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "numpy": (str(kind), torch.from_numpy(keys.astype(np.int64)), int(pos),
                                                       int(has_gauss), float(gauss)),
             "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the generators saved by :func:`rng_state` (checkpoint formats 1 and 2)."""
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.int64).astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# Version of the checkpoint layout; bump it when the keys or their meaning change.
CHECKPOINT_FORMAT = 2
READABLE_FORMATS = (1, 2)  # 1: graphkit 0.1 before checkpoints were weights-only (numpy RNG state as an array)
TRUST_ENV = "GRAPHKIT_TRUST_CHECKPOINTS"


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed from: unreadable, foreign, from another format, or for another model."""


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` into memory, then an atomic replace: a kill never leaves a torn file.

    ``state`` must hold only tensors and plain Python values, so that :func:`load_checkpoint` can read it
    without unpickling arbitrary objects; the format version and graphkit's version are added.
    """
    import graphkit

    buf = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "graphkit": graphkit.__version__, **state}, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path, trust: bool | None = None) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Loads with ``weights_only=True``: a file that needs anything beyond tensors and plain values (an older
    graphkit's checkpoint, or a file from elsewhere) is refused unless ``trust`` (default: the environment
    variable ``GRAPHKIT_TRUST_CHECKPOINTS=1``), because unpickling can run arbitrary code. Raises
    :class:`CheckpointError` naming the file for truncated / corrupt files and other formats.
    """
    import pickle
    import zipfile

    path = Path(path)
    if trust is None:
        trust = os.environ.get(TRUST_ENV, "") == "1"
    if path.exists() and not zipfile.is_zipfile(path):  # torch.save writes a zip archive
        raise CheckpointError(f"checkpoint {path} is truncated or not a torch checkpoint (not a zip archive); "
                              "delete it to start that run over")
    try:
        with torch.serialization.safe_globals(_numpy_globals()):  # format 1 kept numpy's RNG state as an array
            state = torch.load(path, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"checkpoint {path} holds objects other than tensors and plain values (an older graphkit's checkpoint "
            f"or a file from elsewhere); refusing to unpickle it. If you trust the file, set {TRUST_ENV}=1 "
            f"({str(exc).splitlines()[0]})") from exc
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise CheckpointError(f"checkpoint {path} is truncated or not a torch checkpoint "
                              f"({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                              "delete it to start that run over") from exc
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"checkpoint {path} is not a graphkit training checkpoint (no model state)")
    fmt = state.get("format", 1)
    if fmt not in READABLE_FORMATS:
        raise CheckpointError(
            f"checkpoint {path} has format {fmt} (graphkit {state.get('graphkit', '< 0.1')}); this graphkit "
            f"({_version()}) reads formats {', '.join(map(str, READABLE_FORMATS))}. Start the run over without "
            "--resume, or resume it with the graphkit that wrote it")
    return state


def load_model_state(model: torch.nn.Module, state: dict[str, Any], path: Path) -> None:
    """``model.load_state_dict`` that names the checkpoint and the mismatch when the model differs."""
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        raise CheckpointError(f"checkpoint {path} was written for a different model or configuration: "
                              f"{detail[:600]}") from exc


def _numpy_globals() -> list[Any]:
    core = getattr(np, "_core", None) or np.core
    allowed = [core.multiarray._reconstruct, np.ndarray, np.dtype]
    return allowed + [type(np.dtype(t)) for t in ("uint32", "int64", "float64")]


def _version() -> str:
    import graphkit

    return graphkit.__version__


def environment(device: torch.device) -> dict[str, Any]:
    """Versions and hardware, for the results JSON."""
    import torch_geometric

    import graphkit
    from graphkit import backend

    versions = {"python": platform.python_version(), "graphkit": graphkit.__version__, "torch": torch.__version__,
                "torch_geometric": torch_geometric.__version__, "numpy": np.__version__}
    try:
        import ogb

        versions["ogb"] = ogb.__version__
    except ImportError:
        pass
    return {"versions": versions, "backends": backend.summary(), "device": str(device), **machine(device),
            "platform": platform.platform()}


def machine(device: torch.device) -> dict[str, Any]:
    """What a stretch of training ran on: the hardware's name and the CPU threads torch uses. A run resumed over
    several sessions records one per stretch (its result's ``segments``), since the machines can differ."""
    hw = torch.cuda.get_device_name(device) if device.type == "cuda" else _cpu_name()
    return {"hardware": hw, "threads": torch.get_num_threads()}


def _cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """e.g. ``AMD EPYC (2 cores, AVX-512)``. The widest vector instructions are named because machines that
    report the same model name have trained the same recipe about 1.5x apart in speed, the faster reporting
    AVX-512."""
    name, flags = "", set()
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name") and not name:
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else ""
    details = f"{os.cpu_count()} cores" + (f", {isa}" if isa else "")
    return f"{name or platform.processor() or platform.machine()} ({details})"


def plot_curves(path: Path, runs: list[list[dict[str, Any]]], metric: str, title: str) -> bool:
    """Learning curves (train loss; valid/test score) of every run into one PNG. False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (ax_loss, ax_score) = plt.subplots(1, 2, figsize=(11, 4))
    for i, hist in enumerate(runs):
        ep = [h["epoch"] for h in hist]
        ax_loss.plot(ep, [h["loss"] for h in hist], lw=0.8, color=f"C{i % 10}")
        for split, style in (("valid", "-"), ("test", ":")):
            scored = [(h["epoch"], h[split]) for h in hist if split in h]  # eval_test="selected": test on some
            if scored:
                ax_score.plot(*zip(*scored), style, lw=0.8, color=f"C{i % 10}", label=split if i == 0 else None)
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss")
    ax_score.set(xlabel="epoch", ylabel=metric, title=f"{metric} (solid valid, dotted test)")
    if ax_score.get_legend_handles_labels()[0]:  # runs restored without their curves draw nothing
        ax_score.legend()
    fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return True


def load_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text())


def progress(iterable, level: int, desc: str, total: int | None = None, initial: int = 0):
    """A tqdm bar at ``level`` (0 runs, 1 epochs, 2 batches); inner levels vanish when done."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, initial=initial, desc=desc, position=level, leave=level == 0,
                dynamic_ncols=True)
