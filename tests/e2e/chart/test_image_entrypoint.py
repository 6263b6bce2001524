"""The image's entry command, run outside a container (no engine here).

A fresh venv gets what the Dockerfile's build stage gets: `pip install` of the files it COPYs,
no extras. Then exactly the image's ENTRYPOINT + CMD runs from that venv with the image's ENV,
plus the --namespace argument the chart would add, against the e2e cluster and workspace.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from lakeserve.operator_process import free_port
from tests.e2e.conftest import OPERATOR_SETTINGS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]

REPO = Path(__file__).resolve().parents[3]
PREFIX = "img-"
# The emulator's and the training libraries: extras that must not be in the image.
NOT_IN_THE_IMAGE = ("mlflow", "fastapi", "uvicorn", "sklearn", "deltalake", "pandas", "pyarrow")
PIP_TIMEOUT = 360


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """Instructions per stage, continuation lines joined, comments dropped."""
    stages: list[list[tuple[str, str]]] = []
    current = ""
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " "
        if line.endswith("\\"):
            continue
        instruction, _, args = current.strip().partition(" ")
        current = ""
        if instruction.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction.upper(), args.strip()))
    return stages


def image_command() -> tuple[list[str], dict[str, str]]:
    """The final stage's ENTRYPOINT + CMD, and its ENV."""
    final = dict(dockerfile_stages()[-1])  # one ENTRYPOINT, one CMD: the last of each counts
    env: dict[str, str] = {}
    for instruction, args in dockerfile_stages()[-1]:
        if instruction == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))
    return json.loads(final["ENTRYPOINT"]) + json.loads(final["CMD"]), env


def build_context(target: Path) -> Path:
    """The files the build stage COPYs (minus what .dockerignore keeps out)."""
    target.mkdir(parents=True)
    for instruction, args in dockerfile_stages()[0]:
        if instruction != "COPY" or "--from" in args:
            continue
        for source in args.split()[:-1]:
            path = REPO / source
            if path.is_dir():
                shutil.copytree(path, target / source, ignore=shutil.ignore_patterns(
                    "__pycache__", "*.pyc", "*.egg-info"))
            else:
                shutil.copy2(path, target / source)
    return target


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def files_under(directory: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in directory.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("image")
    context = build_context(root / "src")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=60)
    result = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", str(context)],
        capture_output=True, text=True, timeout=PIP_TIMEOUT, cwd=root,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")})
    assert result.returncode == 0, f"pip install failed:\n{result.stdout[-3000:]}\n{result.stderr}"
    return venv


def test_the_image_venv_has_no_emulator_or_training_libraries(image_venv):
    probe = ("import importlib.util, json, lakeserve; print(json.dumps({'file': lakeserve.__file__,"
             f" 'found': [m for m in {list(NOT_IN_THE_IMAGE)!r} "
             "if importlib.util.find_spec(m)]}))")
    result = subprocess.run([str(image_venv / "bin" / "python"), "-c", probe], capture_output=True,
                            text=True, timeout=60, cwd=image_venv.parent,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["found"] == [], f"extras leaked into the image: {answer['found']}"
    assert answer["file"].startswith(str(image_venv)), "lakeserve came from the image's venv"


def test_the_entry_command_runs_the_operator(image_venv, kubeconfig, workspace, crds, namespaces,
                                             models, tmp_path):
    command, image_env = image_command()
    assert command[:2] == ["lakeserve", "run"]
    liveness_url = command[command.index("--liveness") + 1]
    if not port_is_free(8080):  # only the port changes; the rest is the image's command
        port = free_port()
        liveness_url = liveness_url.replace(":8080/", f":{port}/")
        command[command.index("--liveness") + 1] = liveness_url
    metrics_port = free_port()
    env = {
        **image_env,
        "PATH": f"{image_venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),  # the image's /tmp
        "TMPDIR": str(tmp_path),
        "LAKESERVE_METRICS_PORT": str(metrics_port),  # the image's 9090 may be taken here
        "KUBECONFIG": kubeconfig,
        "DATABRICKS_HOST": workspace.host,
        "DATABRICKS_TOKEN": workspace.token,
        **{f"LAKESERVE_{k.upper()}": v for k, v in OPERATOR_SETTINGS.items()},
    }
    assert image_env["PYTHONDONTWRITEBYTECODE"] == "1"
    cluster = namespaces(PREFIX)
    before = files_under(image_venv)
    log = tmp_path / "operator.log"
    with open(log, "wb") as output:
        process = subprocess.Popen([*command, "--namespace", f"{PREFIX}*"], env=env,
                                   cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        local = liveness_url.replace("0.0.0.0", "127.0.0.1")
        answer = wait_for_http(local, process, log)
        assert isinstance(json.loads(answer), dict), "kopf's liveness answer is JSON"
        wait_for_http(f"http://127.0.0.1:{metrics_port}/metrics", process, log)

        model = workspace.names.model(f"image_{uuid.uuid4().hex[:6]}")
        models.register(model)
        name = workspace.names.endpoint(f"{cluster.namespace}-ep")
        cluster.apply({"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
                       "metadata": {"name": name}, "spec": {"config": {"servedEntities": [
                           {"entityName": model, "entityVersion": "1",
                            "workloadSize": "Small"}]}}})
        body = cluster.wait("servingendpoint", name, timeout=60)
        assert body["status"]["observedGeneration"] == 1
        cluster.delete("servingendpoint", name)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # what the kubelet sends
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        print(f"\nentry command log: {log}")
    assert process.returncode == 0, (f"exit {process.returncode} on SIGTERM:\n"
                                     f"{log.read_text()[-2000:]}")
    assert files_under(image_venv) == before, "the operator wrote into its venv (read-only root)"


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the entry command exited with {process.returncode}:\n"
                        f"{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return response.read().decode()
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout}s:\n{log.read_text()[-3000:]}")
