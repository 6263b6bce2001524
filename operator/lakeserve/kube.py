"""The operator's own Kubernetes calls: status patches, reads of other lakeserve objects, Secrets.

kopf watches and delivers bodies; these few calls go through the official client (blocking, so
they run in a small thread pool of their own, apart from the Databricks calls).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kubernetes
from kubernetes.client.rest import ApiException

from lakeserve.api.common import GROUP, VERSION
from lakeserve.api.crd import KindInfo

log = logging.getLogger(__name__)


def load_client_config() -> None:
    """In-cluster service account first, then KUBECONFIG / ~/.kube/config (as kopf does)."""
    try:
        kubernetes.config.load_incluster_config()
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config()


class KubeApi:
    """Implements the engine's KubePort, plus the Secret reader for credentials."""

    def __init__(self, workers: int = 4):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kube")
        api_client = kubernetes.client.ApiClient()
        self._custom = kubernetes.client.CustomObjectsApi(api_client)
        self._core = kubernetes.client.CoreV1Api(api_client)

    async def patch_status(self, info: KindInfo, namespace: str, name: str,
                           patch: Mapping[str, Any]) -> None:
        def call() -> None:
            body = {"status": dict(patch)}
            try:
                if info.cluster_scoped:
                    self._custom.patch_cluster_custom_object_status(
                        GROUP, VERSION, info.plural, name, body)
                else:
                    self._custom.patch_namespaced_custom_object_status(
                        GROUP, VERSION, namespace, info.plural, name, body)
            except ApiException as exc:
                if exc.status != 404:  # deleted meanwhile: nothing to report on
                    raise
        await self._run(call)

    async def get_object(self, info: KindInfo, namespace: str, name: str) -> Mapping | None:
        def call() -> Mapping | None:
            try:
                if info.cluster_scoped:
                    return self._custom.get_cluster_custom_object(GROUP, VERSION, info.plural, name)
                return self._custom.get_namespaced_custom_object(
                    GROUP, VERSION, namespace, info.plural, name)
            except ApiException as exc:
                if exc.status == 404:
                    return None
                raise
        return await self._run(call)

    async def namespace_labels(self, name: str) -> dict[str, str] | None:
        """The labels of a namespace; None when it does not exist."""
        def call() -> dict[str, str] | None:
            try:
                return dict(self._core.read_namespace(name).metadata.labels or {})
            except ApiException as exc:
                if exc.status == 404:
                    return None
                raise
        return await self._run(call)

    async def read_versioned_secret(self, namespace: str,
                                    name: str) -> tuple[dict[str, str], str] | None:
        """A Secret's decoded data and its resourceVersion; None when it does not exist."""
        def call() -> tuple[dict[str, str], str] | None:
            try:
                secret = self._core.read_namespaced_secret(name, namespace)
            except ApiException as exc:
                if exc.status == 404:
                    return None
                raise
            return _decoded(secret.data), secret.metadata.resource_version or ""
        return await self._run(call)

    def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        """Blocking; called from the Databricks worker threads when building a client."""
        try:
            secret = self._core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return _decoded(secret.data)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, fn):
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)


def _decoded(data: Mapping[str, str] | None) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in (data or {}).items()}
