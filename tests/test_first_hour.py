"""A new user's first hour: clone the repository and run the README's commands, verbatim.

The clone sits in a fresh folder beside a link named ``shared`` to this checkout's ``../shared`` (when there is
one), so README lines such as ``GRAPHKIT_DATA=../shared/data make demo`` mean what they mean for a user who
cloned next to the data. Every ``make`` line of the README's shell blocks runs in order, in a clean
environment (no GRAPHKIT_* variables unless the line sets one), and must exit 0; ``make test`` inside the
clone runs this same suite, where this test skips itself (GRAPHKIT_FIRST_HOUR=1) instead of recursing.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_make_commands(text: str) -> list[str]:
    """The README's shell lines that run make (``make demo``, ``VAR=... make test``), comments stripped."""
    cmds = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, re.S | re.M):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            words = line.split()
            while words and re.fullmatch(r"[A-Z_]+=\S+", words[0]):
                words = words[1:]
            if words and words[0] == "make":
                cmds.append(line)
    return cmds


def test_readme_commands_are_found():
    cmds = readme_make_commands((ROOT / "README.md").read_text())
    assert "make demo" in cmds and "make test" in cmds, cmds


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("GRAPHKIT_FIRST_HOUR") == "1", reason="already inside a first-hour clone")
def test_readme_commands_work_in_a_fresh_clone(tmp_path):
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    home = tmp_path / "work"
    home.mkdir()
    clone = home / "graphkit"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (home / "shared").symlink_to(shared)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAPHKIT_", "PYTEST", "VIRTUAL_ENV"))}
    env.update(GRAPHKIT_FIRST_HOUR="1", GRAPHKIT_CACHE=str(tmp_path / "cache"),
               PATH=os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p))
    log = []
    for cmd in readme_make_commands((clone / "README.md").read_text()):
        done = subprocess.run(cmd, shell=True, cwd=clone, env=env, capture_output=True, text=True, timeout=3600)
        out = done.stdout + done.stderr
        log.append(f"$ {cmd}\n{out[-4000:]}")
        assert done.returncode == 0, "\n".join(log)
        if cmd.endswith("make demo"):
            assert "test accuracy" in out.lower(), out[-3000:]
        if cmd.endswith("make test"):
            passed = re.search(r"(\d+) passed", out)
            assert passed and int(passed.group(1)) > 1000 and " failed" not in out, out[-3000:]
        print(f"$ {cmd}: exit 0; {out.strip().splitlines()[-1] if out.strip() else ''}")
    if dirty:
        print(f"note: the clone is HEAD; uncommitted changes were not part of it:\n{dirty}")
