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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
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
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=_jsonable) + "\n").encode())


def _jsonable(o: Any):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
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
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` into memory, then an atomic replace: a kill never leaves a torn file."""
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any]:
    # Our own file (RNG states hold numpy/python objects), so a full unpickle.
    return torch.load(path, map_location="cpu", weights_only=False)


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
    if device.type == "cuda":
        hw = torch.cuda.get_device_name(device)
    else:
        hw = _cpu_name()
    return {"versions": versions, "backends": backend.summary(), "device": str(device), "hardware": hw,
            "threads": torch.get_num_threads(), "platform": platform.platform()}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


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
            if hist and split in hist[0]:
                ax_score.plot(ep, [h[split] for h in hist], style, lw=0.8, color=f"C{i % 10}",
                              label=split if i == 0 else None)
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss")
    ax_score.set(xlabel="epoch", ylabel=metric, title=f"{metric} (solid valid, dotted test)")
    ax_score.legend()
    fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return True


def load_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


def progress(iterable, level: int, desc: str, total: int | None = None, initial: int = 0):
    """A tqdm bar at ``level`` (0 runs, 1 epochs, 2 batches); inner levels vanish when done."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, initial=initial, desc=desc, position=level, leave=level == 0,
                dynamic_ncols=True)
