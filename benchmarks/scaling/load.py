"""Applying N objects with concurrent clients, and watching them become Ready."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import kubernetes
from kubernetes.client.rest import ApiException


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    plural: str


def api_client(kubeconfig: str) -> kubernetes.client.ApiClient:
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=kubeconfig,
                                       client_configuration=configuration)
    configuration.connection_pool_maxsize = 16
    return kubernetes.client.ApiClient(configuration)


def create_namespace(kubeconfig: str, name: str) -> None:
    core = kubernetes.client.CoreV1Api(api_client(kubeconfig))
    core.create_namespace({"metadata": {"name": name}})


def apply_all(kubeconfig: str, kind: Kind, namespace: str, bodies: list[dict],
              clients: int = 8) -> dict[str, float]:
    """Create every body, ``clients`` at a time; the time each create was answered, by name."""
    local = threading.local()

    def create(body: dict) -> tuple[str, float]:
        if not hasattr(local, "api"):
            local.api = kubernetes.client.CustomObjectsApi(api_client(kubeconfig))
        local.api.create_namespaced_custom_object(kind.group, kind.version, namespace,
                                                  kind.plural, body)
        return body["metadata"]["name"], time.time()

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return dict(pool.map(create, bodies))


def is_ready(body: dict) -> bool:
    status = body.get("status") or {}
    if status.get("observedGeneration") != body["metadata"].get("generation"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in status.get("conditions") or [])


class ReadyWatch:
    """Watches one kind in one namespace from a thread; remembers when each object was first
    seen Ready, and the last body seen of each."""

    def __init__(self, kubeconfig: str, kind: Kind, namespace: str,
                 ready: Callable[[dict], bool] = is_ready):
        self.kind, self.namespace, self.ready = kind, namespace, ready
        self.api = kubernetes.client.CustomObjectsApi(api_client(kubeconfig))
        self.ready_at: dict[str, float] = {}
        self.bodies: dict[str, dict] = {}
        self.reasons: dict[str, set[str]] = {}  # every reason of the Ready condition seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> ReadyWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def wait_all(self, names: set[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if names <= self.ready_at.keys():
                return True
            time.sleep(0.2)
        return False

    def _run(self) -> None:
        version = None
        while not self._stop.is_set():
            try:
                version = version or self._list()
                version = self._watch(version)
            except ApiException as exc:
                if exc.status != 410:  # 410 Gone: list again
                    time.sleep(1)
                version = None
            except Exception:  # noqa: BLE001 - a dropped stream: list and watch again
                time.sleep(0.5)
                version = None

    def _list(self) -> str:
        answer = self.api.list_namespaced_custom_object(
            self.kind.group, self.kind.version, self.namespace, self.kind.plural)
        for body in answer["items"]:
            self._saw(body)
        return answer["metadata"]["resourceVersion"]

    def _watch(self, version: str) -> str:
        stream = kubernetes.watch.Watch().stream(
            self.api.list_namespaced_custom_object, self.kind.group, self.kind.version,
            self.namespace, self.kind.plural, resource_version=version, timeout_seconds=60,
            allow_watch_bookmarks=True)
        for event in stream:
            body = event["object"]
            version = body["metadata"]["resourceVersion"]
            if event["type"] in ("ADDED", "MODIFIED"):
                self._saw(body)
            if self._stop.is_set():
                break
        return version

    def _saw(self, body: dict) -> None:
        name = body["metadata"]["name"]
        self.bodies[name] = body
        for condition in (body.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "Ready":
                self.reasons.setdefault(name, set()).add(condition.get("reason"))
        if name not in self.ready_at and self.ready(body):
            self.ready_at[name] = time.time()
