"""Every ``graphkit train`` / ``graphkit repro`` line the README shows is a valid command: its recipe, model,
dataset and settings pass every check that runs before the data is read (the loader is replaced by a stop)."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

import graphkit.catalog
from graphkit.cli import main

ROOT = Path(__file__).resolve().parents[1]


class _ReachedTheData(BaseException):
    """Raised instead of loading a dataset: everything before it accepted the command."""


def readme_graphkit_lines(text: str) -> list[str]:
    """``graphkit train|repro ...`` lines of the README's shell blocks, comments stripped."""
    lines = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, re.S | re.M):
        for line in block.splitlines():
            words = shlex.split(line.split("#", 1)[0])
            while words and re.fullmatch(r"[A-Z_]+=\S+", words[0]):
                words = words[1:]
            if words[:1] == ["graphkit"] and words[1:2] in (["train"], ["repro"]):
                lines.append(" ".join(words))
    return lines


LINES = readme_graphkit_lines((ROOT / "README.md").read_text())


def test_the_readme_shows_train_and_repro_lines():
    assert any(" train " in f" {c} " for c in LINES) and any(" repro " in f" {c} " for c in LINES), LINES


@pytest.mark.parametrize("line", LINES)
def test_readme_command_is_valid(line, monkeypatch, tmp_path, capsys):
    def stop(*args, **kwargs):
        raise _ReachedTheData

    monkeypatch.setattr(graphkit.catalog, "load_dataset", stop)
    argv = shlex.split(line)[1:]
    if "--nproc" in argv:  # would start torchrun: check the rest of the command in this process
        i = argv.index("--nproc")
        argv = argv[:i] + argv[i + 2:]
    with pytest.raises(_ReachedTheData):
        code = main(argv + ["--out", str(tmp_path / "out")])
        pytest.fail(f"`{line}` exited {code} before reading data: {capsys.readouterr().err.strip()}")


def test_a_bad_readme_line_would_fail(monkeypatch, tmp_path):
    """The check above notices a misspelt recipe or setting (it fails with exit code 2, not at the data)."""
    monkeypatch.setattr(graphkit.catalog, "load_dataset", lambda *a, **k: (_ for _ in ()).throw(_ReachedTheData))
    assert main(["repro", "gin-proteins", "--out", str(tmp_path / "a")]) == 2
    assert main(["train", "--model", "gin", "--dataset", "mutag", "--train.patiense", "3",
                 "--out", str(tmp_path / "b")]) == 2
