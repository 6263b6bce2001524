"""Fixtures for end-to-end tests against a real Kubernetes control plane.

By default one dev cluster (etcd, kube-apiserver, kube-controller-manager) runs for the whole
session in a temporary directory. Set ``LAKESERVE_KUBECONFIG`` to use a cluster that is already
running instead (e.g. from ``lakeserve dev-cluster up``); it is then neither started nor stopped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest

from lakeserve.devcluster import BuildError, DevCluster, ensure_binaries, find_kubectl

EXISTING_CLUSTER_VARIABLE = "LAKESERVE_KUBECONFIG"
_E2E_DIR = Path(__file__).resolve().parent

Kubectl = Callable[..., "subprocess.CompletedProcess[str]"]


class KubectlFailed(subprocess.CalledProcessError):
    """A kubectl call that was expected to succeed; the message shows what kubectl said."""

    def __str__(self) -> str:
        return (f"{' '.join(self.cmd)} exited with {self.returncode}\n"
                f"stdout: {self.stdout.strip()}\nstderr: {self.stderr.strip()}")


def _terminal_output(config: pytest.Config) -> AbstractContextManager[object]:
    """Let progress lines through pytest's output capture: a first build takes minutes."""
    capture = config.pluginmanager.getplugin("capturemanager")
    return capture.global_and_fixture_disabled() if capture else nullcontext()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Build (or find cached) the binaries before the first e2e test runs.

    Otherwise a first build's minutes would count against whichever test first asks for the
    cluster and trip its time limit.
    """
    if os.environ.get(EXISTING_CLUSTER_VARIABLE) or session.config.option.collectonly:
        return
    if not any(_E2E_DIR in Path(item.path).resolve().parents for item in session.items):
        return
    with _terminal_output(session.config):
        try:
            ensure_binaries()
        except BuildError as error:
            # Reported here for the person watching; the kubeconfig fixture raises it again
            # (it retries the build) in every test that needs the cluster.
            print(f"\nbuilding the dev cluster failed: {error}")


@pytest.fixture(scope="session")
def dev_cluster(tmp_path_factory: pytest.TempPathFactory,
                pytestconfig: pytest.Config) -> Iterator[DevCluster | None]:
    """The session's own control plane; None when ``LAKESERVE_KUBECONFIG`` names another."""
    if os.environ.get(EXISTING_CLUSTER_VARIABLE):
        yield None
        return
    cluster = DevCluster(tmp_path_factory.mktemp("dev-cluster"))
    with _terminal_output(pytestconfig):
        cluster.up()
    try:
        yield cluster
    finally:
        cluster.down()


@pytest.fixture(scope="session")
def kubeconfig(dev_cluster: DevCluster | None) -> str:
    """Path of a kubeconfig with cluster-admin rights on the session's cluster."""
    return os.environ.get(EXISTING_CLUSTER_VARIABLE) or str(dev_cluster.kubeconfig)


def make_kubectl(kubeconfig_path: str) -> Kubectl:
    """``run(*args, check=True, input=None, timeout=60)``: kubectl against ``kubeconfig_path``."""
    binary = str(find_kubectl())

    def run(*args: str, check: bool = True, input: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [binary, f"--kubeconfig={kubeconfig_path}", *args]
        result = subprocess.run(command, input=input, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise KubectlFailed(result.returncode, command, result.stdout, result.stderr)
        return result

    return run


@pytest.fixture(scope="session")
def kubectl(kubeconfig: str) -> Kubectl:
    """kubectl against the session's cluster; returns the CompletedProcess (text)."""
    return make_kubectl(kubeconfig)


@pytest.fixture(scope="session")
def kubectl_for() -> Callable[[str], Kubectl]:
    """kubectl against another cluster, given its kubeconfig path."""
    return make_kubectl


# ---- the operator under test, its workspace, and helpers for manifests ---------------------

import json  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from databricks.sdk import WorkspaceClient  # noqa: E402
from databricks.sdk.config import Config  # noqa: E402

from lakeserve.emulator.process import EmulatorProcess  # noqa: E402
from lakeserve.emulator.settings import EmulatorSettings  # noqa: E402
from lakeserve.operator_process import OperatorProcess  # noqa: E402
from tests import reasons as produced  # noqa: E402
from tests.e2e import workspace_mode as mode  # noqa: E402
from tests.e2e.sql_tables import SqlTables  # noqa: E402

REPO = _E2E_DIR.parents[1]
# Namespaces of the session's operator; tests that run an operator of their own use others.
E2E_PREFIX = "e2e-"

# Short intervals so convergence, drift and backoff are observable within a test's time limit.
OPERATOR_SETTINGS = {
    "drift_interval": "4", "converge_interval": "0.5", "converge_growth": "1.3",
    "converge_max": "2", "error_backoff": "1", "error_backoff_max": "8",
    "retry_timeout": "5", "max_sdk_sleep": "2",
    "refused_backoff": "2", "refused_backoff_max": "16",
    # the limiter has its own test with its own operator; here it would only slow the suite
    "write_limit": "1000",
    # credentials Secrets are read again after a second: rotation is seen on the next pass
    "secret_refresh": "1",
}
EMULATOR_SETTINGS = {"serving_create_seconds": 2.0, "serving_update_seconds": 2.0}


EMULATOR_ONLY = ("uses the local workspace's control API (/_emulator/), which a real workspace "
                 "does not have: mark the test emulator_only")


class Workspace:
    """The Databricks workspace the e2e run talks to: the emulator, or a real one (emulator
    None: a workspace given by variables, or the local one with its control API off)."""

    def __init__(self, host: str, token: str, emulator: EmulatorProcess | None,
                 names: mode.Names | None = None):
        self.host, self.token, self.emulator = host, token, emulator
        self.names = names or mode.names_from_environment()
        self.client = WorkspaceClient(config=Config(host=host, token=token,
                                                    http_timeout_seconds=30,
                                                    retry_timeout_seconds=30))
        self._warehouse: str | None = None

    @property
    def warehouse_id(self) -> str:
        if self._warehouse is None:
            self._warehouse = (mode.LOCAL_WAREHOUSE if self.emulator
                               else mode.warehouse_id(self.client))
        return self._warehouse

    @property
    def tables(self) -> SqlTables:
        """Delta tables made through SQL on the warehouse, in the run's schema."""
        names = self.names
        return SqlTables(self.client, self.warehouse_id, names.catalog, names.schema, names.run)

    def database_instance(self) -> str:
        """The Lakebase instance for synced tables (made when missing)."""
        return mode.ensure_database_instance(self.client, self.names)

    def require_emulator(self) -> EmulatorProcess:
        if self.emulator is None:
            pytest.fail(EMULATOR_ONLY)
        return self.emulator

    def calls(self, since: int = 0) -> dict:
        return self.require_emulator().control("GET", f"/_emulator/calls?since={since}")

    def last_seq(self) -> int:
        return self.calls()["last_seq"]

    def count(self, method_path: str, since: int = 0) -> int:
        return self.calls(since)["counts"].get(method_path, 0)


class RunRecord:
    """Every secret value the e2e run used, and what each test namespace showed (events, the
    lakeserve objects' status) before it was deleted: test_secrets.py scans it all, with the
    logs, at the end of the run."""

    def __init__(self, kubectl: Kubectl):
        self.kubectl = kubectl
        self.secrets: set[str] = set()
        self.texts: list[tuple[str, str]] = []  # (where, what it showed)

    def secret(self, *values: str | None) -> None:
        self.secrets.update(v for v in values if v and len(v) >= 8)

    def snapshot(self, namespace: str) -> None:
        """Keep the namespace's events and objects, and learn its Secrets' values."""
        for what in ("events", "lakeserve"):
            shown = self.kubectl("get", what, "-n", namespace, "-o", "json", check=False)
            self.texts.append((f"{what} in {namespace}", shown.stdout))
        secrets = self.kubectl("get", "secrets", "-n", namespace, "-o", "json", check=False)
        if secrets.returncode == 0:
            for item in json.loads(secrets.stdout)["items"]:
                self.secret(*(_decoded(value) for key, value in (item.get("data") or {}).items()
                              if _sensitive(key)))


def _sensitive(key: str) -> bool:
    """Keys whose values are secrets (a host or a client id may be shown anywhere)."""
    return any(word in key.upper() for word in ("TOKEN", "SECRET", "PASSWORD"))


def _decoded(value: str) -> str:
    import base64

    return base64.b64decode(value).decode(errors="replace")


@pytest.fixture(scope="session")
def run_record(kubectl: Kubectl) -> RunRecord:
    return RunRecord(kubectl)


@pytest.fixture(scope="session")
def workspace(run_record: RunRecord) -> Iterator[Workspace]:
    given = mode.real_host()
    if given:
        run_record.secret(given[1])
        yield from _real_workspace(Workspace(*given, None))
        return
    if mode.no_control():
        with EmulatorProcess(control=False) as emulator:
            run_record.secret(emulator.token)
            yield from _real_workspace(Workspace(emulator.host, emulator.token, None))
        return
    with EmulatorProcess(settings=EMULATOR_SETTINGS) as emulator:
        run_record.secret(emulator.token)
        local = Workspace(emulator.host, emulator.token, emulator)
        mode.ensure_schema(local.client, local.names)
        yield local


def _real_workspace(workspace: Workspace) -> Iterator[Workspace]:
    """The schema exists before the run; whatever the run left behind is deleted after it, even
    when tests failed (only objects with the run's prefix)."""
    mode.ensure_schema(workspace.client, workspace.names)
    try:
        yield workspace
    finally:
        failures = mode.sweep(workspace.client, workspace.names)
        if failures:
            print("\ncould not delete:\n  " + "\n  ".join(failures))


# The second local workspace: another host, token, OAuth client and workspace id. Its OAuth
# tokens live a few seconds, so every test using it sees them refreshed.
SECOND_WORKSPACE_ID = "2222222222222222"
SECOND_OAUTH_CLIENT = "lakeserve-e2e-service-principal"
OAUTH_TOKEN_SECONDS = 6


@pytest.fixture(scope="session")
def second_workspace(run_record: RunRecord) -> Iterator[Workspace]:
    import secrets as random

    client_secret = random.token_urlsafe(24)
    with EmulatorProcess(settings={**EMULATOR_SETTINGS, "oauth_token_seconds":
                                   OAUTH_TOKEN_SECONDS},
                         workspace_id=SECOND_WORKSPACE_ID, client_id=SECOND_OAUTH_CLIENT,
                         client_secret=client_secret) as emulator:
        run_record.secret(emulator.token, client_secret)
        yield Workspace(emulator.host, emulator.token, emulator)


@pytest.fixture
def workspace_settings(workspace: Workspace) -> Iterator[Callable[..., None]]:
    """``apply(**settings)`` changes emulator settings for one test; they are restored after it.

    Against a real workspace a setting cannot be chosen: the default value is a no-op there and
    any other value fails the test (it must be marked emulator_only).
    """
    before: dict = {}

    def apply(**settings: object) -> None:
        if workspace.emulator is None:
            defaults = EmulatorSettings().as_dict()
            if any(defaults.get(key) != value for key, value in settings.items()):
                pytest.fail(EMULATOR_ONLY)
            return
        current = workspace.emulator.control("GET", "/_emulator/settings")
        for key in settings:
            before.setdefault(key, current[key])
        workspace.emulator.control("PUT", "/_emulator/settings", settings)

    yield apply
    if before and workspace.emulator is not None:
        workspace.emulator.control("PUT", "/_emulator/settings", before)


def answers(setting: str) -> list:
    """Parameters for each way the workspace may answer (``FIDELITY_CHOICES``). A real workspace
    answers its own way, so only the local workspace's default value runs there."""
    from lakeserve.emulator.settings import FIDELITY_CHOICES

    default = getattr(EmulatorSettings(), setting)
    return [pytest.param(value, marks=() if value == default else pytest.mark.emulator_only(
        f"chooses {setting}={value}")) for value in FIDELITY_CHOICES[setting]]


@pytest.fixture(scope="session")
def crds(kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(REPO / "crds"))


@pytest.fixture(scope="session")
def operator(kubeconfig: str, workspace: Workspace, crds: None,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorProcess]:
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    process = OperatorProcess(kubeconfig, workspace.host, workspace.token, log,
                              settings=OPERATOR_SETTINGS, namespaces=[f"{E2E_PREFIX}*"])
    process.start()
    try:
        yield process
    finally:
        process.stop()
        print(f"\noperator log: {log}")


class Cluster:
    """kubectl in one test namespace, with the waits the tests need."""

    def __init__(self, kubectl: Kubectl, namespace: str):
        self.kubectl, self.namespace = kubectl, namespace

    def apply(self, manifest: dict | str, check: bool = True):
        # A dict goes as JSON: PyYAML leaves strings such as 396e17 (a random suffix) unquoted,
        # and kubectl's YAML reads them as numbers.
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        return self.kubectl("apply", "-n", self.namespace, "-f", "-", input=text, check=check)

    def get(self, kind: str, name: str) -> dict | None:
        result = self.kubectl("get", kind, name, "-n", self.namespace, "-o", "json", check=False)
        if result.returncode != 0:
            return None
        body = json.loads(result.stdout)
        produced.saw_status(body.get("status"))
        return body

    def wait(self, kind: str, name: str, condition: str = "Ready", timeout: int = 90) -> dict:
        self.kubectl("wait", f"{kind}/{name}", "-n", self.namespace,
                     f"--for=condition={condition}", f"--timeout={timeout}s",
                     timeout=timeout + 15)
        return self.get(kind, name)

    def delete(self, kind: str, name: str, wait: bool = True, timeout: int = 60) -> None:
        self.kubectl("delete", kind, name, "-n", self.namespace, f"--wait={str(wait).lower()}",
                     f"--timeout={timeout}s", timeout=timeout + 15)

    def events(self, name: str) -> list[dict]:
        result = self.kubectl("get", "events", "-n", self.namespace, "-o", "json",
                              "--field-selector", f"involvedObject.name={name}")
        events = json.loads(result.stdout)["items"]
        produced.saw_events(events)
        return events

    def event_reasons(self, name: str) -> list[str]:
        return [e["reason"] for e in self.events(name)]


@pytest.fixture
def namespaces(kubectl: Kubectl, run_record: RunRecord) -> Iterator[Callable[[str], Cluster]]:
    """Makes test namespaces (``prefix`` + random suffix), deleted after the test (what they
    showed is kept in the run record first)."""
    made: list[str] = []

    def make(prefix: str = E2E_PREFIX) -> Cluster:
        namespace = f"{prefix}{uuid.uuid4().hex[:8]}"
        kubectl("create", "namespace", namespace)
        made.append(namespace)
        return Cluster(kubectl, namespace)

    yield make
    for namespace in made:
        run_record.snapshot(namespace)
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "last: runs after every other test of the session")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)  # stable
    if mode.real_mode():
        for item in items:
            if _E2E_DIR in Path(item.path).resolve().parents:
                _skip_in_real_mode(item)


def _skip_in_real_mode(item: pytest.Item) -> None:
    marker = item.get_closest_marker("emulator_only")
    if marker is not None:
        why = marker.args[0] if marker.args else "uses the local workspace's control API"
        item.add_marker(pytest.mark.skip(reason=f"emulator_only: {why}"))
    elif "workspace" not in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.skip(
            reason="does not talk to the workspace: the local-workspace run covers it"))


# ---- the real-mode floor: a run of the whole directory proves enough tests need no control API

_passed_in_real_mode: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and mode.real_mode():
        _passed_in_real_mode.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not (mode.real_mode() and _whole_directory(session.config)):
        return
    passed = len(_passed_in_real_mode)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if passed >= mode.REAL_MODE_FLOOR:
        if reporter:
            reporter.write_line(f"real-workspace mode: {passed} tests passed "
                                f"(floor {mode.REAL_MODE_FLOOR})")
        return
    if reporter:
        reporter.write_line(
            f"real-workspace mode: only {passed} tests passed, below the floor of "
            f"{mode.REAL_MODE_FLOOR} (tests/e2e/workspace_mode.py): a test that ran against any "
            f"workspace now needs the local workspace's control API, or fails", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _whole_directory(config: pytest.Config) -> bool:
    """The floor holds for a run of all of tests/e2e, not for one file or a -k selection."""
    options = config.option
    if options.collectonly or options.keyword or options.markexpr or getattr(options, "lf", 0):
        return False
    chosen = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return any(path == _E2E_DIR or path in _E2E_DIR.parents for path in chosen)


@pytest.fixture
def cluster(namespaces: Callable[[str], Cluster], operator: OperatorProcess) -> Cluster:
    """A fresh namespace watched by the session's operator."""
    return namespaces(E2E_PREFIX)


class Models:
    """Registers model versions in the workspace's Unity Catalog registry: through the local
    workspace's control API (quick, no artifacts), or as a notebook does it, MLflow's
    ``databricks-uc`` client (one small model logged per session, registered as often as asked)."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._logged: str | None = None

    def register(self, name: str, aliases: list[str] | None = None) -> int:
        if self.workspace.emulator is None:
            return self._trainer().register(self._logged_model(), name, aliases or [])
        answer = self.workspace.emulator.control("POST", "/_emulator/registry/model-versions",
                                                 {"name": name, "aliases": aliases or []})
        return int(answer["version"])

    def _trainer(self):
        from lakeserve.demo.training import Trainer

        return Trainer(self.workspace.host, self.workspace.token,
                       experiment=f"/Shared/{self.workspace.names.run}")

    def _logged_model(self) -> str:
        if self._logged is None:
            from lakeserve.demo.data import generate

            self._logged = self._trainer().log_offline(generate(customers=40))
        return self._logged

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self.workspace.client.registered_models.set_alias(name, alias, version)


@pytest.fixture(scope="session")
def models(workspace: Workspace) -> Models:
    return Models(workspace)


def wait_for(predicate: Callable[[], object], timeout: float = 60, interval: float = 0.25,
             message: str = "condition") -> object:
    """Poll until predicate() is truthy; returns its value or fails the test with ``message``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def poll() -> Callable[..., object]:
    return wait_for


# ---- figures of the fault matrix, for RELIABILITY.md ------------------------------------------

FIGURES_VARIABLE = "LAKESERVE_RELIABILITY_FIGURES"
FIGURE_COLUMNS = ("fault", "end state", "creates committed", "duplicates", "orphans",
                  "writes", "calls", "recovery s", "notes")


class Figures:
    """Rows of the fault matrix, written as a Markdown table to $LAKESERVE_RELIABILITY_FIGURES
    at the end of the session (when set)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def record(self, fault: str, **values: object) -> None:
        self.rows.append({"fault": fault, **values})

    def markdown(self) -> str:
        lines = ["| " + " | ".join(FIGURE_COLUMNS) + " |",
                 "|" + "---|" * len(FIGURE_COLUMNS)]
        for row in self.rows:
            lines.append("| " + " | ".join(_cell(row.get(c, "–")) for c in FIGURE_COLUMNS) + " |")
        return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    collected = Figures()
    yield collected
    target = os.environ.get(FIGURES_VARIABLE)
    if target and collected.rows:
        Path(target).write_text(collected.markdown())


def gaps_text(times: list[float]) -> str:
    """The seconds between successive calls, for the figures' notes."""
    return "gaps " + ", ".join(f"{b - a:.1f}" for a, b in zip(times, times[1:])) + " s"
