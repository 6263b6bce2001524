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
def kubeconfig(tmp_path_factory: pytest.TempPathFactory,
               pytestconfig: pytest.Config) -> Iterator[str]:
    """Path of a kubeconfig with cluster-admin rights on the session's cluster."""
    existing = os.environ.get(EXISTING_CLUSTER_VARIABLE)
    if existing:
        yield existing
        return
    cluster = DevCluster(tmp_path_factory.mktemp("dev-cluster"))
    with _terminal_output(pytestconfig):
        cluster.up()
    try:
        yield str(cluster.kubeconfig)
    finally:
        cluster.down()


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
