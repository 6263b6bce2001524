"""What `up` does when a component dies during start-up, with stand-in binaries.

The stand-ins are tiny scripts in a fake binary cache: an "etcd" that answers /health and a
"kube-apiserver" that fails the way a real one does, so no real build is needed.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from lakeserve.devcluster import processes
from lakeserve.devcluster.cache import binary_path
from lakeserve.devcluster.cluster import ClusterError, DevCluster
from lakeserve.devcluster.versions import ETCD_VERSION, KUBERNETES_VERSION

pytestmark = pytest.mark.timeout(60)

FAKE_ETCD = """\
import http.server, sys
url = next(arg for arg in sys.argv if arg.startswith("--listen-client-urls=")).split("=", 1)[1]

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"health":"true"}')

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(url.rsplit(":", 1)[1])), Health).serve_forever()
"""


def _install(cache: Path, name: str, version: str, python_source: str) -> None:
    path = binary_path(name, version, cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{python_source}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _fake_cache(tmp_path: Path, apiserver_source: str) -> Path:
    cache = tmp_path / "cache"
    _install(cache, "etcd", ETCD_VERSION, FAKE_ETCD)
    _install(cache, "kube-apiserver", KUBERNETES_VERSION, apiserver_source)
    _install(cache, "kube-controller-manager", KUBERNETES_VERSION, "raise SystemExit(3)")
    _install(cache, "kubectl", KUBERNETES_VERSION, "raise SystemExit(3)")
    return cache


@pytest.fixture
def spawned(monkeypatch) -> list[processes.ProcessRecord]:
    """Every process the test's cluster starts, to check none is left running."""
    records: list[processes.ProcessRecord] = []
    original = processes.spawn

    def recording_spawn(*args, **kwargs):
        record = original(*args, **kwargs)
        records.append(record)
        return record

    monkeypatch.setattr("lakeserve.devcluster.cluster.spawn", recording_spawn)
    return records


def test_a_component_that_dies_is_reported_with_its_log_and_the_rest_is_stopped(tmp_path,
                                                                                spawned):
    cache = _fake_cache(tmp_path, 'print("Error: invalid argument --frobnicate")\n'
                                  "raise SystemExit(1)")
    cluster = DevCluster(tmp_path / "state", cache_dir=cache, ready_timeout=30)
    with pytest.raises(ClusterError) as raised:
        cluster.up()
    message = str(raised.value)
    assert "kube-apiserver exited with code 1" in message
    assert "invalid argument --frobnicate" in message
    assert [record.name for record in spawned] == ["etcd", "kube-apiserver"]
    assert not any(processes.is_running(record) for record in spawned)
    assert not (cluster.directory / "state.json").exists()
    assert not cluster.running()


def test_a_port_taken_meanwhile_is_retried_on_new_ports(tmp_path, spawned):
    cache = _fake_cache(tmp_path, 'print("listen tcp 127.0.0.1:1: bind: address already in use")\n'
                                  "raise SystemExit(1)")
    cluster = DevCluster(tmp_path / "state", cache_dir=cache, ready_timeout=30)
    with pytest.raises(ClusterError, match="address already in use"):
        cluster.up()
    apiserver_starts = [record for record in spawned if record.name == "kube-apiserver"]
    assert len(apiserver_starts) == 3
    assert not any(processes.is_running(record) for record in spawned)


def test_down_without_a_cluster_does_nothing(tmp_path):
    cluster = DevCluster(tmp_path / "never-started")
    cluster.down()
    assert not cluster.directory.exists()  # not even created
    os.makedirs(cluster.directory)
    cluster.down()
    assert not cluster.running()
    assert cluster.status().components == {}
