"""The trainer's host-memory setting: glibc keeps freed blocks for reuse, unless the user says otherwise."""
import sys

import pytest

from graphkit.train import host_memory


def test_system_keeps_glibc_defaults_and_bad_values_are_named(monkeypatch):
    monkeypatch.setattr(host_memory, "_applied", False)
    monkeypatch.setenv(host_memory.ENV, "system")
    assert host_memory.reuse_freed_memory() is False
    monkeypatch.setenv(host_memory.ENV, "always")
    with pytest.raises(ValueError, match="GRAPHKIT_HOST_MEMORY must be 'reuse' or 'system'"):
        host_memory.reuse_freed_memory()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_reuse_takes_effect_on_glibc(monkeypatch):
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc")
    monkeypatch.setattr(host_memory, "_applied", False)
    monkeypatch.delenv(host_memory.ENV, raising=False)
    assert host_memory.reuse_freed_memory() is True
    assert host_memory.reuse_freed_memory() is True  # idempotent
