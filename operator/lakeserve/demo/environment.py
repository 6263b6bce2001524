"""Everything the demo runs on one machine: control plane, local workspace, operator."""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import yaml
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config

from lakeserve.devcluster import DevCluster, find_kubectl
from lakeserve.emulator.process import EmulatorProcess
from lakeserve.operator_process import OperatorProcess

REPO = Path(__file__).resolve().parents[3]
CRDS = REPO / "crds"
EXAMPLES = REPO / "examples"

# Quicker than Databricks, so the demo takes a minute rather than twenty.
EMULATOR_SETTINGS = {"serving_create_seconds": 3.0, "serving_update_seconds": 3.0}
# A moved alias is seen at the next look (drift_interval): 10s keeps the canary step short.
OPERATOR_SETTINGS = {"converge_interval": "1", "converge_max": "3", "drift_interval": "10"}

Say = Callable[[str], None]


class Environment:
    """Start with ``with Environment(workdir, say) as env:``; stopped on exit unless kept."""

    def __init__(self, workdir: Path, say: Say, keep: bool = False, namespace: str = "churn"):
        self.workdir = workdir
        self.say = say
        self.keep = keep
        self.namespace = namespace
        self._stack = ExitStack()
        self.cluster: DevCluster | None = None
        self.emulator: EmulatorProcess | None = None
        self.operator: OperatorProcess | None = None
        self.kubeconfig = ""
        self.workspace: WorkspaceClient | None = None

    def __enter__(self) -> Environment:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.keep:
            self._stack.pop_all()
        else:
            self._stack.close()

    def _start(self) -> None:
        self.cluster = DevCluster(self.workdir / "cluster")
        self.kubeconfig = str(self.cluster.up())
        self._stack.callback(self.cluster.down)
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRDS))
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(CRDS))
        self.kubectl("create", "namespace", self.namespace, check=False)
        self.emulator = EmulatorProcess(data_dir=self.workdir / "workspace",
                                        settings=EMULATOR_SETTINGS).start()
        self._stack.callback(self.emulator.stop)
        self.workspace = WorkspaceClient(config=Config(
            host=self.emulator.host, token=self.emulator.token, http_timeout_seconds=60,
            retry_timeout_seconds=60))
        self.operator = OperatorProcess(self.kubeconfig, self.emulator.host, self.emulator.token,
                                        self.workdir / "operator.log",
                                        settings=OPERATOR_SETTINGS).start()
        self._stack.callback(self.operator.stop)

    def handoff(self) -> list[str]:
        """Shell lines to keep working with what is left running: the workspace (its local,
        throwaway token included), the cluster, and how to stop everything."""
        assert self.emulator is not None and self.operator is not None and self.cluster
        return [
            f"export KUBECONFIG={shlex.quote(self.kubeconfig)}",
            f"export DATABRICKS_HOST={shlex.quote(self.emulator.host)} "
            f"DATABRICKS_TOKEN={shlex.quote(self.emulator.token)}",
            f"kubectl get lakeserve -n {self.namespace}",
            f"# stop: kill {self.operator.pid} {self.emulator.pid}; lakeserve dev-cluster down "
            f"--dir {shlex.quote(str(self.cluster.directory))}",
        ]

    # ---- kubectl -------------------------------------------------------------------------

    def kubectl(self, *args: str, check: bool = True, input: str | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(find_kubectl()), f"--kubeconfig={self.kubeconfig}", *args]
        result = subprocess.run(command, input=input, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result

    def apply(self, manifest: Path | dict[str, Any]) -> None:
        if isinstance(manifest, Path):
            self.kubectl("apply", "-n", self.namespace, "-f", str(manifest))
        else:
            self.kubectl("apply", "-n", self.namespace, "-f", "-",
                         input=yaml.safe_dump(manifest))

    def delete(self, kind: str, name: str, timeout: int = 120) -> None:
        self.kubectl("delete", kind, name, "-n", self.namespace, "--ignore-not-found",
                     f"--timeout={timeout}s", timeout=timeout + 15)

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        result = self.kubectl("get", kind, name, "-n", self.namespace, "-o", "json", check=False)
        return json.loads(result.stdout) if result.returncode == 0 else None

    def wait_ready(self, objects: list[tuple[str, str]], timeout: float = 300,
                   on_change: Callable[[str, str, str], None] | None = None) -> None:
        """Poll until every (kind, name) is Ready, reporting each condition change."""
        seen: dict[tuple[str, str], str] = {}
        deadline = time.monotonic() + timeout
        while True:
            pending = []
            for kind, name in objects:
                state = _ready_state(self.get(kind, name))
                if seen.get((kind, name)) != state and on_change:
                    on_change(kind, name, state)
                seen[(kind, name)] = state
                if not state.startswith("Ready"):
                    pending.append(f"{kind}/{name} ({state})")
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("not Ready in time: " + ", ".join(pending))
            time.sleep(1)


def _ready_state(body: dict[str, Any] | None) -> str:
    if body is None:
        return "missing"
    for condition in (body.get("status") or {}).get("conditions") or []:
        if condition["status"] == "True":
            detail = f": {condition['message']}" if condition.get("message") and \
                condition["type"] != "Ready" else ""
            return f"{condition['type']} ({condition['reason']}){detail}"
    return "waiting for the operator"
