"""The process helper: start on a free port, answer, keep the data dir, stop cleanly."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx
import pytest

from lakeserve.emulator.process import EmulatorError, EmulatorProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_start_answer_stop_and_clean_up_the_temp_dir():
    emulator = EmulatorProcess(settings={"serving_create_seconds": 1.5}).start()
    try:
        assert emulator.host.startswith("http://127.0.0.1:") and emulator.token
        assert emulator.control("GET", "/_emulator/settings")["serving_create_seconds"] == 1.5
        answer = httpx.get(emulator.host + "/api/2.0/serving-endpoints",
                           headers={"Authorization": f"Bearer {emulator.token}"})
        assert answer.json() == {}
    finally:
        emulator.stop()
    assert not emulator.running
    assert not port_open(emulator.port)
    assert not emulator.data_dir.exists()


def test_a_given_data_dir_is_kept_and_the_registry_survives_a_restart(tmp_path):
    with EmulatorProcess(data_dir=tmp_path) as first:
        first.control("POST", "/_emulator/registry/model-versions", {"name": "c.s.kept"})
    assert (tmp_path / "mlflow.db").exists()
    with EmulatorProcess(data_dir=tmp_path) as second:
        answer = httpx.get(second.host + "/api/2.1/unity-catalog/models/c.s.kept/versions/1",
                           headers={"Authorization": f"Bearer {second.token}"})
        assert answer.json()["status"] == "READY"


def test_a_token_starting_with_a_dash_is_a_token_not_an_option():
    # token_urlsafe gives one in 64 tokens a leading "-"
    with EmulatorProcess(token="-leading-dash-token") as emulator:
        answer = httpx.get(emulator.host + "/api/2.0/serving-endpoints",
                           headers={"Authorization": "Bearer -leading-dash-token"})
        assert answer.status_code == 200


def test_control_errors_are_reported(emulator_process):
    with pytest.raises(EmulatorError, match="Unknown setting"):
        emulator_process.control("PUT", "/_emulator/settings", {"nope": 1})


def test_python_dash_m_lakeserve_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "lakeserve", "emulator", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--data-dir" in result.stdout


@pytest.mark.parametrize("crash", [False, True], ids=["sigterm", "sigkill"])
def test_restart_comes_back_on_the_same_host_with_the_same_workspace(tmp_path, crash):
    with EmulatorProcess(data_dir=tmp_path, settings={"serving_create_seconds": 1.5}) as emulator:
        host, pid = emulator.host, emulator.pid
        emulator.control("PUT", "/_emulator/settings", {"user_name": "changed@example.com"})
        emulator.restart(crash=crash)
        assert emulator.host == host and emulator.pid not in (None, pid)
        settings = emulator.control("GET", "/_emulator/settings")
        assert (settings["user_name"], settings["serving_create_seconds"]) == (
            "changed@example.com", 1.5)


def test_with_no_control_only_databricks_apis_answer():
    with EmulatorProcess(control=False) as emulator:
        knob = httpx.get(emulator.host + "/_emulator/health")
        assert (knob.status_code, knob.json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
        for path in ("/_emulator/calls", "/_emulator/registry/model-versions"):
            assert httpx.post(emulator.host + path, json={}).status_code == 404
        answer = httpx.get(emulator.host + "/api/2.1/unity-catalog/models",
                           headers={"Authorization": f"Bearer {emulator.token}"})
        assert answer.status_code == 200
        with pytest.raises(EmulatorError, match="--no-control"):
            emulator.control("GET", "/_emulator/calls")


def test_settings_need_control():
    with pytest.raises(ValueError, match="control"):
        EmulatorProcess(control=False, settings={"serving_create_seconds": 1})
