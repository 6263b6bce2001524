"""Where binaries are cached, and the lock that serialises builds across processes."""

import threading
import time
from pathlib import Path

import pytest

from lakeserve.devcluster.cache import binary_path, cache_root, file_lock

pytestmark = pytest.mark.timeout(20)


def test_explicit_cache_dir_wins():
    env = {"LAKESERVE_CACHE_DIR": "/srv/cache", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}
    assert cache_root(env) == Path("/srv/cache")


def test_xdg_cache_home_next():
    assert cache_root({"XDG_CACHE_HOME": "/xdg"}) == Path("/xdg/lakeserve")


def test_home_cache_by_default_and_empty_values_count_as_unset(monkeypatch):
    monkeypatch.setenv("HOME", "/home/someone")
    expected = Path("/home/someone/.cache/lakeserve")
    assert cache_root({}) == expected
    assert cache_root({"LAKESERVE_CACHE_DIR": "", "XDG_CACHE_HOME": ""}) == expected


def test_binary_path_is_keyed_by_name_and_version(tmp_path):
    expected = tmp_path / "bin" / "kube-apiserver-v1.36.3"
    assert binary_path("kube-apiserver", "v1.36.3", tmp_path) == expected
    assert binary_path("kube-apiserver", "v1.36.4", tmp_path) != binary_path(
        "kube-apiserver", "v1.36.3", tmp_path)


def test_a_second_holder_waits_until_the_first_releases(tmp_path):
    lock = tmp_path / "build.lock"
    events: list[str] = []
    first_holds = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with file_lock(lock):
            events.append("first acquired")
            first_holds.set()
            release_first.wait(10)
            events.append("first releasing")

    holder = threading.Thread(target=first)
    holder.start()
    assert first_holds.wait(10)
    waited = threading.Event()

    def on_wait() -> None:
        waited.set()
        release_first.set()

    # A separate open() of the file is a separate lock owner, as another process would be.
    with file_lock(lock, on_wait=on_wait):
        events.append("second acquired")
    holder.join(10)
    assert waited.is_set()
    assert events == ["first acquired", "first releasing", "second acquired"]


def test_an_uncontended_lock_does_not_report_waiting(tmp_path):
    calls = []
    with file_lock(tmp_path / "sub" / "x.lock", on_wait=lambda: calls.append(time.time())):
        pass
    assert calls == []
