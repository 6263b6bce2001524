"""Fixtures for the chart's tests: helm and the kstatus tool (built from Go modules, cached),
rendering the chart, applying manifests server-side, and operators run with the chart's RBAC."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from lakeserve.devcluster import BuildError
from lakeserve.devcluster.helm import ensure_helm, ensure_local_tool

from tests.e2e.conftest import _terminal_output

_CHART_TESTS = Path(__file__).resolve().parent
REPO = _CHART_TESTS.parents[2]
CHART = REPO / "charts" / "lakeserve"
KSTATUS_SOURCE = REPO / "tools" / "kstatus"
HEALTH = CHART / "health"

# What every render needs; tests add or override.
REQUIRED = {"image": {"repository": "registry.example.com/lakeserve"},
            "databricks": {"credentialsSecret": "databricks"}}


def pytest_collection_finish(session: pytest.Session) -> None:
    """Build helm and the kstatus tool (or find them cached) before the first timed test."""
    if session.config.option.collectonly:
        return
    if not any(_CHART_TESTS in Path(item.path).resolve().parents for item in session.items):
        return
    with _terminal_output(session.config):
        for build in (ensure_helm, lambda: ensure_local_tool("kstatus", KSTATUS_SOURCE)):
            try:
                build()
            except BuildError as error:  # raised again by the fixture, in each test needing it
                print(f"\nbuilding a Go tool for the chart tests failed: {error}")


@pytest.fixture(scope="session")
def helm_binary() -> Path:
    return ensure_helm()


@pytest.fixture(scope="session")
def kstatus_binary() -> Path:
    return ensure_local_tool("kstatus", KSTATUS_SOURCE)


def merge(base: dict, override: dict) -> dict:
    result = dict(base)
    for key, value in override.items():
        result[key] = merge(result[key], value) if isinstance(value, dict) and isinstance(
            result.get(key), dict) else value
    return result


class Helm:
    """``helm`` against the chart, offline (template and lint need no cluster)."""

    def __init__(self, binary: Path, workdir: Path):
        self.binary, self.workdir = binary, workdir

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HELM_CACHE_HOME": str(self.workdir / "cache"),
               "HELM_CONFIG_HOME": str(self.workdir / "config"),
               "HELM_DATA_HOME": str(self.workdir / "data")}
        result = subprocess.run([str(self.binary), *args], capture_output=True, text=True,
                                timeout=60, env=env)
        if check and result.returncode != 0:
            pytest.fail(f"helm {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def values_file(self, values: dict) -> Path:
        path = self.workdir / f"values-{uuid.uuid4().hex[:8]}.yaml"
        path.write_text(yaml.safe_dump(values))
        return path

    def template(self, values: dict | None = None, *, release: str = "rel",
                 namespace: str = "lakeserve-system", include_crds: bool = False,
                 required: bool = True, check: bool = True) -> subprocess.CompletedProcess[str]:
        chosen = merge(REQUIRED, values or {}) if required else (values or {})
        args = ["template", release, str(CHART), "--namespace", namespace,
                "--values", str(self.values_file(chosen))]
        return self.run(*args, *(["--include-crds"] if include_crds else []), check=check)

    def render(self, values: dict | None = None, **kwargs) -> list[dict]:
        """The rendered manifests as objects (empty documents dropped)."""
        text = self.template(values, **kwargs).stdout
        return [d for d in yaml.safe_load_all(text) if d]


@pytest.fixture(scope="session")
def helm(helm_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm(helm_binary, tmp_path_factory.mktemp("helm"))


def find(objects: list[dict], kind: str, name: str | None = None,
         namespace: str | None = None) -> dict:
    matches = [o for o in objects if o["kind"] == kind
               and (name is None or o["metadata"]["name"] == name)
               and (namespace is None or o["metadata"].get("namespace") == namespace)]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


def kinds(objects: list[dict]) -> list[str]:
    return sorted(o["kind"] for o in objects)


class Kstatus:
    """kstatus' verdict (status.Compute of sigs.k8s.io/cli-utils) on objects."""

    def __init__(self, binary: Path):
        self.binary = binary

    def __call__(self, *objects: dict) -> list[dict]:
        result = subprocess.run([str(self.binary)], input=json.dumps(list(objects)),
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="session")
def kstatus(kstatus_binary: Path) -> Kstatus:
    return Kstatus(kstatus_binary)


def run_health_check(obj: dict) -> dict:
    """The chart's Argo CD health check for ``obj``'s kind, run as Argo CD runs it (Lua 5.1)."""
    from lupa import lua51  # noqa: PLC0415 - a dev extra

    runtime = lua51.LuaRuntime()
    runtime.execute("os = nil; io = nil; require = nil")
    runtime.globals().obj = runtime.table_from(obj, recursive=True)
    return dict(runtime.execute((HEALTH / f"{obj['kind'].lower()}.lua").read_text()))


# ---- applying rendered manifests and running an operator with the chart's ServiceAccount ----


def manifest_text(objects: list[dict]) -> str:
    return yaml.safe_dump_all(objects)


@pytest.fixture
def release_namespace(kubectl) -> Iterator[str]:
    """A namespace for a release, watched by no operator; deleted after the test."""
    namespace = f"lsrel-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", namespace)
    yield namespace
    kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.fixture
def cluster_scoped_cleanup(kubectl) -> Iterator[Callable[[list[dict]], None]]:
    """Register rendered objects: their cluster-scoped ones are deleted after the test, CRDs
    only if they did not exist before (the lakeserve CRDs are the session's)."""
    registered: list[tuple[str, str]] = []

    def register(objects: list[dict]) -> None:
        for obj in objects:
            kind, name = obj["kind"], obj["metadata"]["name"]
            if kind == "CustomResourceDefinition":
                exists = kubectl("get", "crd", name, "--ignore-not-found", "-o", "name").stdout
                if not exists.strip():
                    registered.append(("crd", name))
            elif kind in ("ClusterRole", "ClusterRoleBinding"):
                registered.append((kind.lower(), name))
            elif kind == "ClusterKopfPeering":
                registered.append(("clusterkopfpeering.kopf.dev", name))

    yield register
    for resource, name in reversed(registered):
        # A CRD is waited for: a later test may create it again.
        kubectl("delete", resource, name, "--ignore-not-found", "--timeout=60s",
                f"--wait={str(resource == 'crd').lower()}", check=False, timeout=75)


def service_account_kubeconfig(admin_kubeconfig: str, token: str, path: Path,
                               namespace: str | None = None) -> Path:
    """A kubeconfig with the admin one's server and CA, and nothing but ``token`` as user;
    ``namespace`` is the context's, as a pod's own namespace is in the cluster."""
    admin = yaml.safe_load(Path(admin_kubeconfig).read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])
    cluster = next(c for c in admin["clusters"] if c["name"] == context["context"]["cluster"])
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": "chart-service-account", "user": {"token": token}}],
        "contexts": [{"name": "chart", "context": {
            "cluster": cluster["name"], "user": "chart-service-account",
            **({"namespace": namespace} if namespace else {})}}],
        "current-context": "chart",
    }))
    path.chmod(0o600)
    return path


def deployment_namespaces(objects: list[dict]) -> list[str]:
    """The --namespace arguments of the rendered Deployment's container."""
    args = find(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    return [args[i + 1] for i, arg in enumerate(args) if arg == "--namespace"]


def container_env(objects: list[dict]) -> dict[str, str]:
    container = find(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}
