"""The operator's own Kubernetes calls: status and finalizer patches, events, reads of other
lakeserve objects and of Secrets.

kopf watches and delivers bodies; these few calls go through the official client's
configuration, authentication and connection pool, but as plain requests: the generated methods
validate every argument and decode every answer into models, which at thousands of objects costs
more than the requests themselves. Answers to writes are not decoded at all (nothing in them is
needed). The calls block, so they run in a thread pool of their own, apart from the Databricks
calls; events are posted in the background, like kopf's.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import kubernetes
from kubernetes.client.rest import ApiException

from lakeserve.api.common import GROUP, VERSION
from lakeserve.api.crd import KindInfo
from lakeserve.reconcile.finalizer import Conflict
from lakeserve.resources.base import Event

log = logging.getLogger(__name__)

MERGE_PATCH = "application/merge-patch+json"
REPORTING_COMPONENT = "lakeserve"
MAX_EVENT_MESSAGE = 1024
_TIMEOUT = 30.0


def load_client_config() -> None:
    """In-cluster service account first, then KUBECONFIG / ~/.kube/config (as kopf does)."""
    try:
        kubernetes.config.load_incluster_config()
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config()


class KubeApi:
    """Implements the engine's KubePort and EventPort, plus the Secret reader for credentials."""

    def __init__(self, workers: int = 4):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kube")
        configuration = kubernetes.client.Configuration.get_default_copy()
        configuration.connection_pool_maxsize = workers  # one kept connection per thread
        self._client = kubernetes.client.ApiClient(configuration)

    # ---- KubePort ------------------------------------------------------------------------

    async def patch_status(self, info: KindInfo, namespace: str, name: str,
                           patch: Mapping[str, Any]) -> None:
        def call() -> None:
            try:
                self._request("PATCH", _path(info, namespace, name) + "/status",
                              {"status": dict(patch)}, MERGE_PATCH)
            except ApiException as exc:
                if exc.status != 404:  # deleted meanwhile: nothing to report on
                    raise
        await self._run(call)

    async def patch_metadata(self, info: KindInfo, namespace: str, name: str,
                             patch: Mapping[str, Any]) -> None:
        """A merge patch of the object itself (the finalizer); Conflict on a stale
        resourceVersion, nothing when the object is gone."""
        def call() -> None:
            try:
                self._request("PATCH", _path(info, namespace, name), dict(patch), MERGE_PATCH)
            except ApiException as exc:
                if exc.status == 409:
                    raise Conflict(f"{info.kind} {namespace}/{name} changed meanwhile") from None
                if exc.status != 404:
                    raise
        await self._run(call)

    async def get_object(self, info: KindInfo, namespace: str, name: str) -> Mapping | None:
        return await self._run(lambda: self._get(_path(info, namespace, name)))

    # ---- EventPort -----------------------------------------------------------------------

    def record(self, body: Mapping[str, Any], event: Event) -> None:
        """Post a Kubernetes event about ``body`` in the background."""
        meta = body.get("metadata") or {}
        self._executor.submit(self._post_event, meta.get("namespace"),
                              _event(body, event, _now()))

    # ---- Secrets -------------------------------------------------------------------------

    def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        """Blocking; called from the Databricks worker threads when building a client."""
        secret = self._get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
        if secret is None:
            return None
        return {key: base64.b64decode(value).decode()
                for key, value in (secret.get("data") or {}).items()}

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ---- requests ------------------------------------------------------------------------

    async def _run(self, fn):
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _get(self, path: str) -> dict | None:
        try:
            return json.loads(self._request("GET", path))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def _post_event(self, namespace: str, event: dict) -> None:
        try:
            self._request("POST", f"/api/v1/namespaces/{namespace}/events", event)
        except Exception as exc:  # noqa: BLE001 - an event is not worth failing anything for
            ref = event["involvedObject"]
            log.warning("could not post the event %s about %s %s/%s: %s", event["reason"],
                        ref.get("kind"), namespace, ref.get("name"), _described(exc))

    def _request(self, method: str, path: str, body: Any = None,
                 content_type: str = "application/json") -> bytes:
        method, url, headers, body, _ = self._client.param_serialize(
            method=method, resource_path=path, body=body, auth_settings=["BearerToken"],
            header_params={"Content-Type": content_type, "Accept": "application/json"})
        response = self._client.call_api(method, url, header_params=headers, body=body,
                                         _request_timeout=_TIMEOUT)
        data = response.read()
        if not 200 <= response.status <= 299:
            raise ApiException.from_response(http_resp=response, body=data.decode(errors="replace"),
                                             data=None)
        return data


def _described(exc: Exception) -> str:
    """One line: the status and the API server's message (not the headers)."""
    if not isinstance(exc, ApiException):
        return str(exc)
    try:
        message = json.loads(exc.body).get("message")
    except (TypeError, ValueError, AttributeError):
        message = None
    return f"{exc.status} {exc.reason}: {message or exc.body}"


def _path(info: KindInfo, namespace: str, name: str) -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{info.plural}/{name}"


def _event(body: Mapping[str, Any], event: Event, now: str) -> dict:
    """A core/v1 Event as ``kubectl describe`` and ``kubectl get events`` show them."""
    meta = body.get("metadata") or {}
    message = event.message
    if len(message) > MAX_EVENT_MESSAGE:
        message = message[:MAX_EVENT_MESSAGE - 3] + "..."
    return {
        "metadata": {"generateName": f"{meta.get('name')}.", "namespace": meta.get("namespace")},
        "involvedObject": {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"),
                           "name": meta.get("name"), "namespace": meta.get("namespace"),
                           "uid": meta.get("uid")},
        "type": "Warning" if event.warning else "Normal",
        "reason": event.reason,
        "message": message,
        "source": {"component": REPORTING_COMPONENT},
        "reportingComponent": REPORTING_COMPONENT,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
