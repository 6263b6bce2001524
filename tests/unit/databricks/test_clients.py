"""Clients built within a deadline, once per key; hosts spelled one way; configs isolated."""

from __future__ import annotations

import threading
import time

import pytest

from lakeserve.databricks.clients import (
    ClientBuilder,
    IsolatedConfig,
    WorkspaceUnreachable,
    normalize_host,
)

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("given, expected", [
    ("https://adb-1.2.azuredatabricks.net/", "https://adb-1.2.azuredatabricks.net"),
    ("https://ADB-1.cloud.databricks.com", "https://adb-1.cloud.databricks.com"),
    ("https://dbc-1.cloud.databricks.com:443", "https://dbc-1.cloud.databricks.com"),
    ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ("http://localhost:80/", "http://localhost"),
], ids=["trailing-slash", "upper-case", "default-https-port", "other-port", "default-http-port"])
def test_one_spelling_per_host(given, expected):
    assert normalize_host(given) == expected


def test_an_isolated_config_reads_nothing_from_the_environment(monkeypatch, tmp_path):
    # The default workspace's variables are in the operator's environment; a Workspace's config
    # must not pick them up (here they would add a second auth method and another host).
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "the-default-workspaces-client")
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", "the-default-workspaces-secret")
    monkeypatch.setenv("DATABRICKS_WAREHOUSE_ID", "default-warehouse")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".databrickscfg").write_text("[DEFAULT]\nhost = https://file.example\n")
    # Port 9 on loopback refuses at once: the host-metadata probe fails fast and is only logged.
    config = IsolatedConfig(host="http://127.0.0.1:9", auth_type="pat", token="the-token",
                            http_timeout_seconds=1, retry_timeout_seconds=1)
    assert (config.host, config.token) == ("http://127.0.0.1:9", "the-token")
    assert config.client_id is None and config.client_secret is None
    assert config.warehouse_id is None


def test_a_slow_build_is_cut_short_and_shared_not_repeated():
    builder = ClientBuilder(build_timeout=0.2)
    release, builds = threading.Event(), []

    def build():
        builds.append(1)
        release.wait(10)
        return "client"

    started = time.monotonic()
    with pytest.raises(WorkspaceUnreachable, match="did not answer within 0s"):
        builder.get("k", build, "https://slow.example")
    assert time.monotonic() - started < 2, "the caller waited for the deadline only"
    with pytest.raises(WorkspaceUnreachable):
        builder.get("k", build, "https://slow.example")
    assert len(builds) == 1, "the running build is waited for again, not started twice"
    release.set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            assert builder.get("k", build, "https://slow.example") == "client"
            break
        except WorkspaceUnreachable:
            time.sleep(0.05)
    assert len(builds) == 1, "the finished build is kept"
    builder.shutdown()


def test_a_failed_build_is_reported_and_tried_again_next_time():
    builder = ClientBuilder(build_timeout=5)
    attempts = []

    def build():
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("bad credentials")
        return "client"

    with pytest.raises(ValueError, match="bad credentials"):
        builder.get("k", build, "h")
    assert builder.get("k", build, "h") == "client"
    builder.forget(lambda key: key != "k")
    assert builder.get("k", build, "h") == "client" and len(attempts) == 3
    builder.shutdown()
