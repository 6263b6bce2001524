"""Which workspace an object lives in, decided before any call to Databricks.

``spec.workspaceRef`` names a Workspace of the object's own namespace or a ClusterWorkspace whose
``allowedNamespaces`` admits the namespace; anything else stalls with ``WorkspaceNotAllowed``
before a Secret is read or a request is sent. Without a reference the operator's default
workspace applies, unless the installation turned it off. A workspace that is missing, not
Ready, or whose credentials fail makes the object wait (``WaitingForWorkspace``); the
workspace's own status says what is wrong, and its check is woken at once.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from lakeserve.api import workspace as api
from lakeserve.api.crd import KindInfo
from lakeserve.databricks.clients import WorkspaceUnreachable, normalize_host
from lakeserve.databricks.tenants import WorkspaceClients, WorkspaceSource
from lakeserve.databricks.workspace import (
    CREDENTIALS_NOT_FOUND,
    CredentialsError,
    Workspace,
    WorkspaceProvider,
)
from lakeserve.reconcile import conditions, reasons
from lakeserve.reconcile.conditions import Verdict
from lakeserve.reconcile.recent import Recent
from lakeserve.resources.base import Managed
from lakeserve.settings import Settings

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
INFOS = {api.KIND: api.INFO, api.CLUSTER_KIND: api.CLUSTER_INFO}
DEFAULT = "Default"
# A workspace's check is woken at most this often by failures its objects run into.
WAKE_INTERVAL = 5.0


class TenancyPort(Protocol):
    async def get_object(self, info: KindInfo, namespace: str, name: str) -> Mapping | None: ...

    async def namespace_labels(self, name: str) -> dict[str, str] | None: ...

    async def read_versioned_secret(self, namespace: str,
                                    name: str) -> tuple[dict[str, str], str] | None: ...


class WorkspaceUnavailable(Exception):
    """The object cannot use its workspace (yet); ``verdict`` says why and what to do."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.message)
        self.verdict = verdict

    @property
    def waiting(self) -> bool:
        return self.verdict.reason == reasons.WAITING_FOR_WORKSPACE


def not_allowed(message: str) -> WorkspaceUnavailable:
    return WorkspaceUnavailable(Verdict.stalled(reasons.WORKSPACE_NOT_ALLOWED, message))


def waiting(message: str) -> WorkspaceUnavailable:
    return WorkspaceUnavailable(Verdict.reconciling(reasons.WAITING_FOR_WORKSPACE, message))


@dataclass(frozen=True)
class Resolved:
    """The workspace of one pass."""

    workspace: Workspace
    source: WorkspaceSource | None = None  # None: the operator's default workspace
    uid: str = ""  # of the Workspace/ClusterWorkspace object

    @property
    def record(self) -> dict[str, Any]:
        """status.workspace of the managed object."""
        if self.source is None:
            return {"kind": DEFAULT, "name": None, "host": self.workspace.host}
        return {"kind": self.source.kind, "name": self.source.name, "host": self.source.host}


@dataclass(frozen=True)
class SecretData:
    data: dict[str, str]
    version: str  # resourceVersion


class SecretCache:
    """Secrets read by name, each at most once per ``ttl`` seconds (many objects share one
    workspace); a refused credential invalidates its entry, so the next pass reads it again."""

    def __init__(self, kube: TenancyPort, ttl: float, clock: Callable[[], float] = time.monotonic):
        self._kube = kube
        self._recent: Recent[SecretData | None] = Recent(ttl, clock)

    async def read(self, namespace: str, name: str, fresh: bool = False) -> SecretData | None:
        if fresh:
            self.invalidate(namespace, name)
        return await self._recent.get((namespace, name), lambda: self._fetch(namespace, name))

    def invalidate(self, namespace: str, name: str) -> None:
        self._recent.drop((namespace, name))

    async def _fetch(self, namespace: str, name: str) -> SecretData | None:
        try:
            found = await self._kube.read_versioned_secret(namespace, name)
        except Exception as exc:
            if getattr(exc, "status", None) == 403:
                raise CredentialsError(reasons.PERMISSION_DENIED, (
                    f"the operator may not read the Secret {namespace}/{name} (Kubernetes RBAC "
                    "refused it): grant it get on that Secret")) from None
            raise
        return SecretData(*found) if found else None


def serves_cluster_workspaces(settings: Settings, namespace: str | None = None) -> bool:
    """ClusterWorkspaces are served by an installation that has a namespace of its own (their
    Secrets live there; ``namespace``: the one ``operator_namespace`` found), unless switched
    off."""
    if namespace is None:
        namespace = operator_namespace(settings)
    return settings.cluster_workspaces and bool(namespace)


def operator_namespace(settings: Settings) -> str:
    """Where the operator runs: the setting, the in-cluster service account's namespace, or the
    namespace of the default credentials Secret."""
    if settings.operator_namespace:
        return settings.operator_namespace
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    except OSError:
        return settings.credentials_secret.partition("/")[0] if "/" in \
            settings.credentials_secret else ""


def source_of(kind: str, body: Mapping[str, Any], secret_namespace: str) -> WorkspaceSource:
    """The WorkspaceSource of a Workspace/ClusterWorkspace body; ValidationError if its spec is
    not valid."""
    meta = body.get("metadata") or {}
    spec = INFOS[kind].spec_model.model_validate(body.get("spec") or {})
    limit = spec.write_limit
    namespace = meta.get("namespace") if kind == api.KIND else None
    return WorkspaceSource(
        kind=kind, namespace=namespace, name=meta.get("name", ""), uid=meta.get("uid", ""),
        generation=meta.get("generation") or 0, host=normalize_host(spec.host),
        secret_namespace=namespace or secret_namespace,
        secret_name=spec.credentials_secret_ref.name, http_timeout=spec.http_timeout_seconds,
        retry_timeout=spec.retry_timeout_seconds,
        write_limit=(limit.operations, float(limit.window_seconds)) if limit else None)


class WorkspaceResolver:
    def __init__(self, settings: Settings, kube: TenancyPort, default: WorkspaceProvider,
                 clients: WorkspaceClients, call: Callable[..., Awaitable[Any]],
                 wake: Callable[[str], None] | None = None):
        self.settings = settings
        self.kube = kube
        self.default = default
        self.clients = clients
        self.secrets = SecretCache(kube, settings.secret_refresh)
        # Workspace objects (refreshed by their watch events) and namespaces' labels.
        self.bodies: Recent[Mapping[str, Any] | None] = Recent(settings.secret_refresh)
        self.labels: Recent[dict[str, str] | None] = Recent(settings.secret_refresh)
        self._sources: dict[str, tuple[int, WorkspaceSource]] = {}  # by uid, with generation
        self.operator_namespace = operator_namespace(settings)
        self._call = call
        self._wake = wake or (lambda uid: None)
        self._woken: dict[str, float] = {}

    @property
    def serves_cluster_workspaces(self) -> bool:
        return serves_cluster_workspaces(self.settings, self.operator_namespace)

    def observe(self, kind: str, body: Mapping[str, Any], event_type: str | None) -> None:
        """A watch event of a Workspace or ClusterWorkspace."""
        key = workspace_key(kind, body)
        if event_type == "DELETED":
            self.bodies.drop(key)
            self._sources.pop((body.get("metadata") or {}).get("uid", ""), None)
        else:
            self.bodies.put(key, body)

    async def resolve(self, obj: Managed, deleting: bool = False) -> Resolved:
        """The object's workspace; WorkspaceUnavailable (or CredentialsError for the default
        workspace) when it cannot be used."""
        ref = getattr(obj.spec, "workspace_ref", None)
        if ref is None:
            return await self._default()
        kind, body = await self._referenced(obj, ref)
        try:
            source = self._source(kind, body)
        except ValidationError:
            raise waiting(f"{identity_of(kind, body)} is not Ready: its spec is not "
                          "valid") from None
        if not deleting:
            _require_ready(source, body)
        return await self._connect(source, body, deleting)

    def refused(self, resolved: Resolved | None, message: str) -> Verdict | None:
        """Databricks refused a workspace object's credentials (401) during a pass: read the
        Secret again next time, re-check the workspace now, and wait for it."""
        if resolved is None or resolved.source is None:
            return None
        source = resolved.source
        self.secrets.invalidate(source.secret_namespace, source.secret_name)
        self._suspect(resolved.uid)
        return Verdict.reconciling(reasons.WAITING_FOR_WORKSPACE, (
            f"Databricks refused the credentials of {source.identity} (Secret "
            f"{source.secret}): {message}; waiting for the workspace to be Ready again"))

    # ---- the steps ------------------------------------------------------------------------

    async def _default(self) -> Resolved:
        if not self.settings.default_workspace:
            raise not_allowed(
                "this installation has no default workspace (LAKESERVE_DEFAULT_WORKSPACE is "
                "false): set spec.workspaceRef to a Workspace in this namespace or to a "
                "ClusterWorkspace that admits it")
        return Resolved(self.default.current() or await self._call(self.default.get))

    async def _referenced(self, obj: Managed, ref: api.WorkspaceReference,
                          ) -> tuple[str, Mapping[str, Any]]:
        if ref.kind == api.KIND:
            return api.KIND, await self._namespaced(obj, ref)
        return api.CLUSTER_KIND, await self._cluster(obj, ref)

    async def _namespaced(self, obj: Managed, ref: api.WorkspaceReference) -> Mapping[str, Any]:
        if ref.namespace and ref.namespace != obj.namespace:
            raise not_allowed(
                f"spec.workspaceRef.namespace is {ref.namespace}, but a Workspace serves only "
                f"its own namespace: use a Workspace in {obj.namespace}, or a ClusterWorkspace "
                f"that admits {obj.namespace}")
        body = await self.bodies.get((api.KIND, obj.namespace, ref.name),
                                     lambda: self.kube.get_object(api.INFO, obj.namespace,
                                                                  ref.name))
        if body is None:
            raise waiting(f"spec.workspaceRef names Workspace {obj.namespace}/{ref.name}, which "
                          "does not exist: create it, or fix spec.workspaceRef.name")
        return body

    async def _cluster(self, obj: Managed, ref: api.WorkspaceReference) -> Mapping[str, Any]:
        if not self.serves_cluster_workspaces:
            raise not_allowed(
                f"spec.workspaceRef names ClusterWorkspace {ref.name}, but this installation "
                "serves no ClusterWorkspace (it has no namespace of its own "
                "(LAKESERVE_OPERATOR_NAMESPACE), or LAKESERVE_CLUSTER_WORKSPACES is false): use "
                f"a Workspace in {obj.namespace}")
        body = await self.bodies.get((api.CLUSTER_KIND, None, ref.name),
                                     lambda: self.kube.get_object(api.CLUSTER_INFO, "", ref.name))
        if body is None:
            raise waiting(f"spec.workspaceRef names ClusterWorkspace {ref.name}, which does not "
                          "exist: create it, or fix spec.workspaceRef.name")
        await self._admit(obj.namespace, ref.name, body)
        return body

    async def _admit(self, namespace: str, name: str, body: Mapping[str, Any]) -> None:
        raw = (body.get("spec") or {}).get("allowedNamespaces")
        try:
            selector = api.LabelSelector.model_validate(raw if raw is not None else {})
        except ValidationError:
            raise waiting(f"ClusterWorkspace {name} is not Ready: its spec is not "
                          "valid") from None
        labels = await self.labels.get(namespace,
                                       lambda: self.kube.namespace_labels(namespace)) or {}
        if raw is None or not api.selects(selector, labels):
            raise not_allowed(
                f"ClusterWorkspace {name} does not admit namespace {namespace} (its "
                f"spec.allowedNamespaces does not select the namespace's labels): ask its owner "
                f"to admit the namespace, or use a Workspace in {namespace}")

    async def _connect(self, source: WorkspaceSource, body: Mapping[str, Any],
                       deleting: bool) -> Resolved:
        uid = (body.get("metadata") or {}).get("uid", "")
        try:
            secret = await self.secrets.read(source.secret_namespace, source.secret_name)
            if secret is None:
                raise CredentialsError(CREDENTIALS_NOT_FOUND,
                                       f"its credentials Secret {source.secret} does not exist")
            workspace = self.clients.current(source, secret.version) or await self._call(
                self.clients.workspace, source, secret.data, secret.version)
        except (CredentialsError, WorkspaceUnreachable) as exc:
            last = self.clients.last_built(source.identity) if deleting else None
            if last is not None:
                return Resolved(last, source, uid)  # e.g. the namespace's Secret went first
            self._suspect(uid)
            raise waiting(f"{source.identity} cannot be used: {exc.message}") from None
        return Resolved(workspace, source, uid)

    def _source(self, kind: str, body: Mapping[str, Any]) -> WorkspaceSource:
        """source_of, validated once per generation of the workspace object."""
        meta = body.get("metadata") or {}
        uid, generation = meta.get("uid", ""), meta.get("generation") or 0
        known = self._sources.get(uid)
        if known is None or known[0] != generation:
            known = generation, source_of(kind, body, self.operator_namespace)
            self._sources[uid] = known
        return known[1]

    def _suspect(self, uid: str) -> None:
        """Wake the workspace object's own check, at most every WAKE_INTERVAL seconds."""
        now = time.monotonic()
        if uid and now - self._woken.get(uid, -WAKE_INTERVAL) >= WAKE_INTERVAL:
            self._woken[uid] = now
            self._wake(uid)


def _require_ready(source: WorkspaceSource, body: Mapping[str, Any]) -> None:
    """Ready, as last checked: a spec change still being checked (a new write limit, say) does
    not make its objects wait; its host cannot change, and the objects read the Secret
    themselves."""
    if (body.get("metadata") or {}).get("deletionTimestamp"):
        raise waiting(f"{source.identity} is being deleted")
    ready = conditions.condition(body.get("status"), conditions.READY) or {}
    if ready.get("status") == "True":
        return
    why = ready.get("reason") or "not checked yet"
    detail = f": {ready['message']}" if ready.get("message") else ""
    raise waiting(f"{source.identity} is not Ready ({why}{detail})")


def identity_of(kind: str, body: Mapping[str, Any]) -> str:
    """"Workspace ns/name" or "ClusterWorkspace name" (WorkspaceSource.identity, from a body)."""
    meta = body.get("metadata") or {}
    where = f"{meta.get('namespace')}/{meta.get('name')}" if kind == api.KIND else meta.get("name")
    return f"{kind} {where}"


def other_workspace(dependency: Mapping[str, Any], resolved: Resolved) -> str | None:
    """Why a dependsOn object cannot serve this one: it was reconciled in another workspace."""
    recorded = ((dependency.get("status") or {}).get("workspace") or {}).get("host")
    if not recorded or recorded == resolved.workspace.host:
        return None
    meta = dependency.get("metadata") or {}
    return (f"{dependency.get('kind')}/{meta.get('name')} lives in workspace {recorded}, this "
            f"object in {resolved.workspace.host}")


def user_key(namespace: str, spec: Mapping[str, Any],
             status: Mapping[str, Any]) -> tuple[str, str | None, str] | None:
    """The workspace object a managed object needs for its own deletion: the one it was
    reconciled in (status.workspace) while it owns a Databricks object there (status.owned;
    without it deletion makes no call), unless it leaves that object in place anyway. An object
    that was never admitted has no status.workspace, and only the object's own namespace
    counts, so no tenant can hold up another namespace's Workspace."""
    ref = spec.get("workspaceRef") or {}
    recorded = status.get("workspace") or {}
    kind = ref.get("kind") or api.KIND
    if not ref or not status.get("owned") or spec.get("deletionPolicy") == "Orphan" \
            or spec.get("managementPolicy") == "ObserveOnly":
        return None
    if (recorded.get("kind"), recorded.get("name")) != (kind, ref.get("name")):
        return None
    return kind, namespace if kind == api.KIND else None, ref["name"]


def workspace_key(kind: str, body: Mapping[str, Any]) -> tuple[str, str | None, str]:
    """A workspace object's key, as ``user_key`` gives it."""
    meta = body.get("metadata") or {}
    return kind, meta.get("namespace") if kind == api.KIND else None, meta.get("name", "")


class ObjectLister(Protocol):
    async def list_objects(self, info: KindInfo, namespace: str | None) -> list[dict]: ...


async def users_of(lister: ObjectLister, key: tuple[str, str | None, str],
                   kinds: Iterable[KindInfo], namespaces: Sequence[str] | None) -> set[str]:
    """The managed objects that still need the workspace object ``key`` for their own deletion
    ("ServingEndpoint ns/name"), as the API server has them when asked: not a cache filled by
    watch events, so the answer is complete right after a start and counts the objects of every
    shard. A Workspace's users live in its namespace; a ClusterWorkspace's in the namespaces
    this operator serves (None: all)."""
    _, namespace, _ = key
    scopes: Sequence[str | None] = [namespace] if namespace is not None else (namespaces or [None])
    users = set()
    for info in kinds:
        for scope in scopes:
            for body in await lister.list_objects(info, scope):
                meta = body.get("metadata") or {}
                where = meta.get("namespace") or ""
                if user_key(where, body.get("spec") or {}, body.get("status") or {}) == key:
                    users.add(f"{info.kind} {where}/{meta.get('name')}")
    return users
