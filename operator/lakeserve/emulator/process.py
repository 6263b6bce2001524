"""Run the emulator as a subprocess on a free loopback port (tests, e2e, demo).

Standard library only, so callers need no web framework::

    with EmulatorProcess(settings={"serving_create_seconds": 1}) as emulator:
        w = WorkspaceClient(host=emulator.host, token=emulator.token)
        emulator.control("POST", "/_emulator/registry/model-versions", {"name": "c.s.m"})
        emulator.restart()  # same host, same data dir: the workspace comes back as it was
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from lakeserve.emulator.server import CLIENT_ID_ENV, CLIENT_SECRET_ENV

STARTUP_ATTEMPTS = 3  # a fresh port can be taken between choosing it and binding it
READINESS_PATH = "/_emulator/health"
HOST_METADATA = "/.well-known/databricks-config"  # answers without a token, control or not


class EmulatorError(RuntimeError):
    pass


class EmulatorProcess:
    def __init__(self, *, data_dir: str | Path | None = None, token: str | None = None,
                 client_id: str | None = None, client_secret: str | None = None,
                 settings: dict[str, Any] | None = None, startup_timeout: float = 60.0,
                 python: str = sys.executable, control: bool = True, persist: bool = True,
                 workspace_id: str | None = None):
        """``data_dir`` None: a temp dir, removed on stop. ``settings`` go to
        ``PUT /_emulator/settings`` once the emulator answers. ``control`` False starts it with
        ``--no-control`` (nothing under ``/_emulator/``, so no settings either). ``persist``
        False keeps the workspace in memory only (``data_dir`` then holds just the log): no
        state file is saved after writes, which costs time with thousands of objects.
        ``workspace_id`` tells several local workspaces apart."""
        if settings and not control:
            raise ValueError("settings need /_emulator/; they cannot be used with control off")
        self._own_data_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="lakeserve-emulator-"))
        self.token = token or secrets.token_urlsafe(24)
        self.client_id = client_id
        self.client_secret = client_secret
        self.settings = settings or {}
        self.workspace_id = workspace_id
        self.startup_timeout = startup_timeout
        self.python = python
        self.control_enabled = control
        self.persist = persist
        self.port = 0
        self.log_path = self.data_dir / "emulator.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def registry_uri(self) -> str:
        """The MLflow tracking/registry URI of the emulator's registry."""
        return f"sqlite:///{self.data_dir.resolve() / 'mlflow.db'}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (benchmarks read its CPU time)."""
        return self._process.pid if self.running else None

    def start(self) -> EmulatorProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, STARTUP_ATTEMPTS + 1):
            self.port = _free_port()
            if self._launch(last_attempt=attempt == STARTUP_ATTEMPTS):
                break
        if self.settings:
            self.control("PUT", "/_emulator/settings", self.settings)
        return self

    def restart(self, *, crash: bool = False, timeout: float = 10.0) -> EmulatorProcess:
        """Stop the server (SIGTERM, or SIGKILL with ``crash``) and start it again on the same
        port and data dir, so clients keep working; the workspace's state, settings included,
        is restored from the data dir (``settings`` are not applied again)."""
        self._terminate(timeout, kill=crash)
        self._launch(last_attempt=True)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._terminate(timeout)
        if self._own_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def control(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Any:
        """Call an ``/_emulator/...`` knob; returns the decoded JSON answer."""
        if not self.control_enabled:
            raise EmulatorError(f"{method} {path}: the emulator runs with --no-control")
        return self._request(method, path, body, timeout)

    def _request(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.host + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise EmulatorError(f"{method} {path} -> {error.code}: "
                                f"{error.read().decode(errors='replace')}") from None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _launch(self, *, last_attempt: bool) -> bool:
        """Start the server on ``self.port``; False when it exited early and may be retried on
        another port, an error when it did not answer."""
        self._spawn()
        if self._wait_until_answering():
            return True
        exited = not self.running
        self._terminate()
        if not exited or last_attempt:  # only an early exit (port taken) is worth a retry
            raise EmulatorError(f"the emulator did not answer on {self.host}:\n"
                                f"{self.log_tail()}")
        return False

    def _spawn(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop(CLIENT_ID_ENV, None)
        env.pop(CLIENT_SECRET_ENV, None)
        if self.client_id and self.client_secret:
            env[CLIENT_ID_ENV], env[CLIENT_SECRET_ENV] = self.client_id, self.client_secret
        command = [self.python, "-m", "lakeserve", "emulator", "--host", "127.0.0.1",
                   "--port", str(self.port), f"--token={self.token}"]  # may begin with "-"
        if self.persist:
            command += ["--data-dir", str(self.data_dir)]
        if self.workspace_id:
            command += ["--workspace-id", self.workspace_id]
        if not self.control_enabled:
            command.append("--no-control")
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in _terminate)
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env)

    def _wait_until_answering(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self.running:
                return False
            try:
                self._request("GET", READINESS_PATH if self.control_enabled else HOST_METADATA,
                              timeout=2)
                return True
            except (OSError, EmulatorError):
                time.sleep(0.1)
        return False

    def _terminate(self, timeout: float = 10.0, kill: bool = False) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
