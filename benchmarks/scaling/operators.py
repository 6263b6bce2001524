"""The processes under test: lakeserve operators (one or several shards) and the bare kopf one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from lakeserve.operator_process import OperatorProcess, free_port

BARE_OPERATOR = Path(__file__).with_name("bare_operator.py")


class BareOperator:
    """``kopf run`` of bare_operator.py in one namespace, as a process of its own."""

    def __init__(self, kubeconfig: str, namespace: str, log_path: Path):
        self.kubeconfig, self.namespace, self.log_path = kubeconfig, namespace, log_path
        self.port = free_port()
        self._process: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 60.0) -> BareOperator:
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "kopf", "run", "--standalone", "--namespace", self.namespace,
             "--liveness", f"http://127.0.0.1:{self.port}/healthz", str(BARE_OPERATOR)],
            env={**os.environ, "KUBECONFIG": self.kubeconfig}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        wait_live(f"http://127.0.0.1:{self.port}/healthz", self._process, timeout)
        return self

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(5)


def lakeserve_operator(kubeconfig: str, host: str, token: str, log_path: Path,
                       namespace: str, settings: Mapping[str, str],
                       env: Mapping[str, str] | None = None) -> OperatorProcess:
    return OperatorProcess(kubeconfig, host, token, log_path, settings=settings,
                           extra_env=env, namespaces=[namespace])


def wait_live(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the operator exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"no answer on {url} within {timeout}s")
