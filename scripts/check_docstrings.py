"""Fail when a public symbol of graphkit has no docstring (run by `make docs` and by tests/test_docs.py).

Public: a module's ``__all__`` when it defines one, else every name without a leading underscore that the
module itself defines; for public classes, their public methods too, except the torch.nn.Module protocol
(``forward``, ``reset_parameters``, ``extra_repr``, ``to``: documented by the class) and dataclass plumbing.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys

PROTOCOL = {"forward", "reset_parameters", "extra_repr", "to"}


def modules() -> list[str]:
    import graphkit

    names = ["graphkit"]
    for info in pkgutil.walk_packages(graphkit.__path__, "graphkit."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def public(mod) -> dict[str, object]:
    if hasattr(mod, "__all__"):
        return {n: getattr(mod, n) for n in mod.__all__}
    return {n: v for n, v in vars(mod).items() if not n.startswith("_")
            and (inspect.isclass(v) or inspect.isfunction(v)) and getattr(v, "__module__", None) == mod.__name__}


def missing_docstrings() -> list[str]:
    out = []
    for name in modules():
        mod = importlib.import_module(name)
        if not (mod.__doc__ or "").strip():
            out.append(f"{name} (module)")
        for sym, obj in public(mod).items():
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if getattr(obj, "__module__", name) != name and not hasattr(mod, "__all__"):
                continue
            if not (inspect.getdoc(obj) or "").strip() or (inspect.isclass(obj) and obj.__doc__ is None):
                out.append(f"{name}.{sym}")
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_") or attr in PROTOCOL:
                        continue
                    fn = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
                    if inspect.isfunction(fn) and not (fn.__doc__ or "").strip():
                        out.append(f"{name}.{sym}.{attr}")
    return sorted(set(out))


if __name__ == "__main__":
    missing = missing_docstrings()
    for m in missing:
        print(f"missing docstring: {m}")
    print(f"{len(missing)} public symbols without a docstring" if missing else "every public symbol has a docstring")
    sys.exit(1 if missing else 0)
