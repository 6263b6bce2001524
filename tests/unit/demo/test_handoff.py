"""``lakeserve demo --keep``: the lines it prints are what a shell needs to keep working."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

from lakeserve.demo.environment import Environment


def kept_environment(tmp_path: Path) -> Environment:
    env = Environment(tmp_path / "demo dir", say=print, keep=True)
    env.kubeconfig = str(tmp_path / "demo dir/cluster/kubeconfig")
    env.emulator = SimpleNamespace(host="http://127.0.0.1:41234", token="tok-$with'quotes",
                                   pid=4321)
    env.operator = SimpleNamespace(pid=1234)
    env.cluster = SimpleNamespace(directory=tmp_path / "demo dir/cluster")
    return env


def test_the_exports_set_host_token_and_kubeconfig_in_a_shell(tmp_path):
    lines = kept_environment(tmp_path).handoff()
    exports = "\n".join(line for line in lines if line.startswith("export "))
    shell = subprocess.run(
        ["bash", "-c", exports + '\nprintf "%s\\n" "$DATABRICKS_HOST" "$DATABRICKS_TOKEN" '
                                 '"$KUBECONFIG"'],
        capture_output=True, text=True, check=True)
    assert shell.stdout.splitlines() == ["http://127.0.0.1:41234", "tok-$with'quotes",
                                         f"{tmp_path}/demo dir/cluster/kubeconfig"]


def test_it_says_how_to_stop_what_it_left_running(tmp_path):
    stop = kept_environment(tmp_path).handoff()[-1]
    assert "kill 1234 4321" in stop
    assert "lakeserve dev-cluster down --dir" in stop and "cluster" in stop
