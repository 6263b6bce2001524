"""Run ``lakeserve run`` as a separate process (the e2e tests and the demo do), and know when
it is up: kopf's liveness endpoint answers once the operator has started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OperatorProcess:
    """The operator as a real process, pointed at a kubeconfig and a Databricks workspace."""

    def __init__(self, kubeconfig: str, databricks_host: str, databricks_token: str,
                 log_path: str | Path, settings: Mapping[str, str] | None = None,
                 extra_env: Mapping[str, str] | None = None, verbose: bool = False,
                 namespaces: list[str] | None = None):
        self.kubeconfig = kubeconfig
        self.log_path = Path(log_path)
        self.port = free_port()
        self._env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")},
            "KUBECONFIG": kubeconfig,
            "DATABRICKS_HOST": databricks_host,
            "DATABRICKS_TOKEN": databricks_token,
            **{f"LAKESERVE_{k.upper()}": str(v) for k, v in (settings or {}).items()},
            **(extra_env or {}),
        }
        self._verbose = verbose
        self._namespaces = namespaces or []
        self._process: subprocess.Popen | None = None
        self._log = None

    @property
    def liveness_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"

    def start(self, timeout: float = 60.0) -> OperatorProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        command = [sys.executable, "-m", "lakeserve", "run", "--liveness", self.liveness_url]
        for namespace in self._namespaces:  # globs such as e2e-* work too
            command += ["--namespace", namespace]
        self._process = subprocess.Popen(
            command + (["--verbose"] if self._verbose else []),
            env=self._env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_until_live(timeout)
        return self

    def stop(self, timeout: float = 20.0) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(5)
        self._process = None
        if self._log:
            self._log.close()

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost node would: no cleanup, no goodbye to peers."""
        if self._process is None:
            return
        os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(10)
        self._process = None
        if self._log:
            self._log.close()

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id while it runs (a restart would change it)."""
        return self._process.pid if self.running() else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def _wait_until_live(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"the operator exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.liveness_url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"the operator did not come up in {timeout}s:\n{self.log_tail()}")

    def __enter__(self) -> OperatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
