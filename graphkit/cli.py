"""Command line: ``graphkit info`` (environment, backends, data root)."""
from __future__ import annotations

import argparse
import sys

import torch

import graphkit
from graphkit import backend
from graphkit.data import cache_dir, data_root


def info() -> str:
    cpu = torch.device("cpu")
    lines = [
        f"graphkit {graphkit.__version__}, torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}",
        "optional packages: " + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in backend.summary().items()),
        f"default backends (cpu): scatter sum={backend.scatter_backend(cpu, 'sum')}, "
        f"scatter max={backend.scatter_backend(cpu, 'max')}, "
        f"spmm sum={backend.spmm_backend(cpu, 'sum')}, spmm max={backend.spmm_backend(cpu, 'max')}",
        f"data root: {data_root().resolve()}  cache: {cache_dir()}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="graphkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="show versions, available backends and the data root")
    args = parser.parse_args(argv)
    if args.command == "info":
        print(info())
    return 0


if __name__ == "__main__":
    sys.exit(main())
