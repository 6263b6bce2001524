"""Starting, finding and stopping a dev cluster that lives in one state directory.

Layout of the directory::

    state.json      pids, ports and versions while the cluster runs (removed by down)
    kubeconfig      admin access, https://127.0.0.1:<port> with a bearer token
    pki/            CA, serving certificate, service-account key, token file (mode 0600 secrets)
    etcd/           etcd's data; kept across down/up, so objects survive a restart
    logs/<name>.log each component's output, appended per run and kept after down
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from lakeserve.devcluster.build import Binaries, ensure_binaries
from lakeserve.devcluster.cache import file_lock
from lakeserve.devcluster.components import (
    AUDIT_POLICY,
    apiserver_command,
    apiserver_url,
    audit_flags,
    controller_manager_command,
    etcd_command,
    etcd_url,
)
from lakeserve.devcluster.credentials import (
    CONTROLLER_MANAGER_USER,
    Credentials,
    ensure_credentials,
)
from lakeserve.devcluster.files import make_private_dir
from lakeserve.devcluster.kubeconfig import write_kubeconfig
from lakeserve.devcluster.ports import free_loopback_ports
from lakeserve.devcluster.processes import (
    ProcessRecord,
    exit_code,
    is_running,
    log_tail,
    spawn,
    stop,
)
from lakeserve.devcluster.progress import elapsed_since, say
from lakeserve.devcluster.readiness import NotReady, Probe, wait_for
from lakeserve.devcluster.state import ClusterState, load_state, remove_state, save_state
from lakeserve.devcluster.versions import ETCD_VERSION, KUBERNETES_VERSION

# Names double as keys in state.json's "ports" and as log file names.
ETCD = "etcd"
KUBE_APISERVER = "kube-apiserver"
KUBE_CONTROLLER_MANAGER = "kube-controller-manager"
_ETCD_PEER = "etcd-peer"

# Another process may grab a port between our pick and the component's bind; try again then.
_START_ATTEMPTS = 3
_PORT_TAKEN = "address already in use"


class ClusterError(RuntimeError):
    """The cluster could not be started; the message quotes the relevant component logs."""


class _ComponentExited(ClusterError):
    def __init__(self, record: ProcessRecord):
        code = exit_code(record)
        self.record = record
        self.tail = log_tail(record.log)
        how = f"exited with code {code}" if code is not None else "is no longer running"
        super().__init__(f"{record.name} {how} during start-up; last lines of {record.log}:\n"
                         f"{self.tail}")


@dataclass(frozen=True)
class ClusterStatus:
    """What ``status`` reports: whether every component runs, and where to reach the cluster."""

    directory: Path
    running: bool
    components: dict[str, bool]  # name → alive, in start order; empty when nothing was started
    server: str | None
    kubeconfig: Path | None
    versions: dict[str, str]


class DevCluster:
    """The control plane kept in ``directory``; usable as a context manager (up … down)."""

    def __init__(self, directory: str | Path, *, cache_dir: Path | None = None,
                 ready_timeout: float = 180.0, stop_timeout: float = 15.0,
                 audit_policy: Path | None = None):
        """``audit_policy``: an audit policy file of the caller's (e.g. a benchmark counting
        writes) instead of the default one, which records who reads Secrets; either way the API
        server logs what it selects to ``logs/audit.log``."""
        self.directory = Path(directory).resolve()
        self.audit_policy = audit_policy
        self.cache_dir = cache_dir
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    def up(self) -> Path:
        """Start the cluster unless it already runs; the kubeconfig path either way."""
        make_private_dir(self.directory)
        with self._lock():
            state = load_state(self.directory)
            if state is not None and _all_running(state):
                return Path(state.kubeconfig)
            if state is not None:  # some component died: clear the rest before starting anew
                stop(state.processes, self.stop_timeout)
                remove_state(self.directory)
            binaries = ensure_binaries(self.cache_dir)
            credentials = ensure_credentials(self.directory / "pki")
            return self._start_with_retries(binaries, credentials)

    def down(self) -> None:
        """Stop every component (SIGTERM, then SIGKILL after the grace) and forget the ports."""
        if not self.directory.is_dir():
            return
        with self._lock():
            state = load_state(self.directory)
            if state is None:
                return
            killed = stop(state.processes, self.stop_timeout)
            if killed:
                say(f"{', '.join(killed)} ignored SIGTERM for {self.stop_timeout:g}s; killed")
            remove_state(self.directory)

    def restart_apiserver(self) -> None:
        """Stop the running kube-apiserver (SIGTERM) and start it again on the same port, with
        the same certificates, etcd and audit log: clients keep their kubeconfig and see a short
        outage, the way a control-plane upgrade looks to an operator."""
        with self._lock():
            state = load_state(self.directory)
            if state is None or not _all_running(state):
                raise ClusterError(f"no running dev cluster in {self.directory}")
            (old,) = [r for r in state.processes if r.name == KUBE_APISERVER]
            stop([old], self.stop_timeout)
            binaries = ensure_binaries(self.cache_dir)
            credentials = ensure_credentials(self.directory / "pki")
            index = state.processes.index(old)
            new = spawn(KUBE_APISERVER, apiserver_command(
                binaries.kube_apiserver, credentials, state.ports[KUBE_APISERVER],
                state.ports[ETCD], audit=self._audit()), self.logs / f"{KUBE_APISERVER}.log")
            state.processes[index] = new
            save_state(self.directory, state)
            self._wait(state, _api_probe(state.server, "kube-apiserver to be ready again",
                                         "/readyz", credentials),
                       time.monotonic() + self.ready_timeout)

    def running(self) -> bool:
        state = load_state(self.directory)
        return state is not None and _all_running(state)

    def status(self) -> ClusterStatus:
        state = load_state(self.directory)
        if state is None:
            return ClusterStatus(self.directory, False, {}, None, None, {})
        components = {record.name: is_running(record) for record in state.processes}
        return ClusterStatus(self.directory, _all_running(state), components, state.server,
                             Path(state.kubeconfig), state.versions)

    def processes(self) -> list[ProcessRecord]:
        """The recorded component processes (empty when the cluster is down)."""
        state = load_state(self.directory)
        return [] if state is None else list(state.processes)

    def __enter__(self) -> DevCluster:
        self.up()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.down()

    def _lock(self) -> AbstractContextManager[None]:
        """Serialises up/down on one directory across processes."""
        return file_lock(self.directory / ".lock",
                         on_wait=lambda: say(f"waiting for another process on {self.directory}…"))

    def _start_with_retries(self, binaries: Binaries, credentials: Credentials) -> Path:
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                return self._start(binaries, credentials)
            except _ComponentExited as error:
                if _PORT_TAKEN not in error.tail or attempt == _START_ATTEMPTS:
                    raise
                say(f"{error.record.name}'s port was taken meanwhile; starting again on new ports")
        raise AssertionError("unreachable")

    def _start(self, binaries: Binaries, credentials: Credentials) -> Path:
        """Start etcd, then the API server, then the controller manager, each once the previous
        answers (the controller manager gives up if the API server is not healthy within ~10s)."""
        started = time.monotonic()
        say(f"starting kube-apiserver {KUBERNETES_VERSION} and etcd {ETCD_VERSION} in "
            f"{self.directory}…")
        ports = dict(zip((ETCD, _ETCD_PEER, KUBE_APISERVER, KUBE_CONTROLLER_MANAGER),
                         free_loopback_ports(4)))
        server = apiserver_url(ports[KUBE_APISERVER])
        state = ClusterState(ports=ports, server=server, kubeconfig=str(self.kubeconfig),
                             versions={"kubernetes": KUBERNETES_VERSION, "etcd": ETCD_VERSION})
        deadline = time.monotonic() + self.ready_timeout
        try:
            self._launch(state, ETCD, etcd_command(binaries.etcd, self.directory / "etcd",
                                                   ports[ETCD], ports[_ETCD_PEER]))
            self._wait(state, Probe("etcd to report healthy", f"{etcd_url(ports[ETCD])}/health"),
                       deadline)
            self._launch(state, KUBE_APISERVER, apiserver_command(
                binaries.kube_apiserver, credentials, ports[KUBE_APISERVER], ports[ETCD],
                audit=self._audit()))
            self._wait(state, _api_probe(server, "kube-apiserver to be ready", "/readyz",
                                         credentials), deadline)
            self._launch(state, KUBE_CONTROLLER_MANAGER, controller_manager_command(
                binaries.kube_controller_manager, credentials,
                self._controller_manager_kubeconfig(server, credentials),
                ports[KUBE_CONTROLLER_MANAGER], self.directory / "pki" / "controller-manager"))
            # The default ServiceAccount is created by the controller manager: its existence
            # shows the controllers run, and it is what workloads and `kubectl create token` use.
            for description, path in (
                    ("the default namespace", "/api/v1/namespaces/default"),
                    ("the default ServiceAccount",
                     "/api/v1/namespaces/default/serviceaccounts/default")):
                self._wait(state, _api_probe(server, description, path, credentials), deadline)
            write_kubeconfig(self.kubeconfig, server, credentials.admin_token,
                             credentials.ca_cert.read_bytes())
            state.ready = True
            save_state(self.directory, state)
        except BaseException:
            stop(state.processes, self.stop_timeout)
            remove_state(self.directory)
            raise
        say(f"up in {elapsed_since(started)}: {server}")
        return self.kubeconfig

    @property
    def audit_log(self) -> Path:
        """Every request about Secrets (who, which, verb; never the data), one JSON per line."""
        return self.logs / "audit.log"

    def _audit(self) -> list[str]:
        self.logs.mkdir(parents=True, exist_ok=True)
        if self.audit_policy:
            return audit_flags(self.audit_policy, self.audit_log, batch=True)
        policy = self.directory / "audit-policy.yaml"
        policy.write_text(AUDIT_POLICY)
        return audit_flags(policy, self.audit_log)

    def _launch(self, state: ClusterState, name: str, argv: list[str]) -> None:
        state.processes.append(spawn(name, argv, self.logs / f"{name}.log"))
        # Recorded at once, so `down` from another shell can stop a start that hangs or is killed.
        save_state(self.directory, state)

    def _wait(self, state: ClusterState, probe: Probe, deadline: float) -> None:
        def check_alive() -> None:
            for record in state.processes:
                if not is_running(record):
                    raise _ComponentExited(record)

        try:
            wait_for(probe, deadline, check_alive)
        except NotReady as error:
            logs = "\n".join(f"--- last lines of {record.log}:\n{log_tail(record.log, 10)}"
                             for record in state.processes)
            raise ClusterError(f"{error} (after {self.ready_timeout:g}s)\n{logs}") from error

    def _controller_manager_kubeconfig(self, server: str, credentials: Credentials) -> Path:
        return write_kubeconfig(self.directory / "pki" / "controller-manager.kubeconfig", server,
                                credentials.controller_manager_token,
                                credentials.ca_cert.read_bytes(), user=CONTROLLER_MANAGER_USER)


def _all_running(state: ClusterState) -> bool:
    """Started completely (not a start cut short) and every component still alive."""
    return state.ready and all(is_running(record) for record in state.processes)


def _api_probe(server: str, description: str, path: str, credentials: Credentials) -> Probe:
    return Probe(description, f"{server}{path}", token=credentials.admin_token,
                 ca_file=credentials.ca_cert)


def up(directory: str | Path) -> Path:
    """Start (or find running) the dev cluster in ``directory``; its kubeconfig path."""
    return DevCluster(directory).up()


def down(directory: str | Path) -> None:
    DevCluster(directory).down()


def status(directory: str | Path) -> ClusterStatus:
    return DevCluster(directory).status()
