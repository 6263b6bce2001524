"""Build failures say what failed and why, without a real Go toolchain being involved."""

from __future__ import annotations

import stat

import pytest

from lakeserve.devcluster.build import ETCD, BuildError, ensure_binary

pytestmark = pytest.mark.timeout(30)

FAILING_GO = """#!/bin/sh
echo "go: downloading example.com/dependency v1.0.0" >&2
echo "go: example.com/dependency@v1.0.0: reading https://proxy.golang.org/...: 404 Not Found" >&2
exit 1
"""


def _put_on_path(monkeypatch, directory, name, script):
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text(script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(directory))


def test_a_failing_go_command_is_quoted_in_the_error(tmp_path, monkeypatch):
    _put_on_path(monkeypatch, tmp_path / "fakebin", "go", FAILING_GO)
    cache = tmp_path / "cache"
    with pytest.raises(BuildError) as raised:
        ensure_binary(ETCD, cache)
    message = str(raised.value)
    assert "exit code 1" in message
    assert "404 Not Found" in message
    assert "go mod init" in message  # the first step, where the fake go fails
    assert str(cache / "logs") in message
    assert not (cache / "bin" / f"etcd-{ETCD.version}").exists()
    # The half-prepared wrapper module is not mistaken for a prepared one next time.
    assert not list((cache / "gowork").glob("*/go.mod"))


def test_missing_go_toolchain_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BuildError, match="Go toolchain"):
        ensure_binary(ETCD, tmp_path / "cache")


def test_a_cached_binary_is_used_without_go(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    cached = tmp_path / "cache" / "bin" / f"etcd-{ETCD.version}"
    cached.parent.mkdir(parents=True)
    cached.write_text("")
    assert ensure_binary(ETCD, tmp_path / "cache") == cached
