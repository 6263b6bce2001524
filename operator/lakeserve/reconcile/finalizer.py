"""The operator's finalizer: on the object before the first write to Databricks, off once the
Databricks object is deleted (or deliberately kept).

The engine manages it itself rather than through kopf's deletion handlers, which would also write
kopf's bookkeeping annotations to every object. A patch carries the object's resourceVersion, so
a finalizer list another controller changed meanwhile is never overwritten: on a conflict the
object is read again and the patch retried once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from lakeserve.api.common import FINALIZER
from lakeserve.api.crd import KindInfo


class Conflict(Exception):
    """The object changed since it was read (HTTP 409): read it again."""


class MetadataPort(Protocol):
    async def patch_metadata(self, info: KindInfo, namespace: str, name: str,
                             patch: Mapping[str, Any]) -> None: ...

    async def get_object(self, info: KindInfo, namespace: str, name: str) -> Mapping | None: ...


def held(body: Mapping[str, Any]) -> bool:
    return FINALIZER in ((body.get("metadata") or {}).get("finalizers") or [])


async def hold(kube: MetadataPort, info: KindInfo, body: Mapping[str, Any]) -> None:
    await _change(kube, info, body, lambda names: names if FINALIZER in names
                  else [*names, FINALIZER])


async def release(kube: MetadataPort, info: KindInfo, body: Mapping[str, Any]) -> None:
    await _change(kube, info, body, lambda names: [n for n in names if n != FINALIZER])


async def _change(kube: MetadataPort, info: KindInfo, body: Mapping[str, Any],
                  change: Callable[[list[str]], list[str]]) -> None:
    meta = body.get("metadata") or {}
    for attempt in (1, 2):
        names = list(meta.get("finalizers") or [])
        wanted = change(names)
        if wanted == names:
            return
        patch = {"metadata": {"finalizers": wanted, "resourceVersion": meta.get("resourceVersion")}}
        try:
            await kube.patch_metadata(info, meta["namespace"], meta["name"], patch)
            return
        except Conflict:
            if attempt == 2:
                raise
        fresh = await kube.get_object(info, meta["namespace"], meta["name"])
        if fresh is None:  # deleted meanwhile
            return
        meta = fresh.get("metadata") or {}
