"""Workspace and ClusterWorkspace status: do the credentials work, and whose are they?

Each pass reads the credentials Secret afresh, builds (or reuses) the client for that Secret
version, and makes one cheap authenticated call (SCIM ``Me``): Ready shows the workspace id and
the user or service principal; otherwise Stalled with CredentialsNotFound, CredentialsInvalid,
PermissionDenied or Unreachable. The check owns no Databricks object. Deleting a workspace
object waits while objects it created Databricks objects for still exist (they need it to delete
theirs); then its clients and its write limit are forgotten.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import iam
from pydantic import ValidationError

from lakeserve.databricks.clients import WorkspaceUnreachable
from lakeserve.databricks.errors import FailureKind, classify
from lakeserve.databricks.tenants import WorkspaceSource
from lakeserve.databricks.workspace import CREDENTIALS_NOT_FOUND, CredentialsError
from lakeserve.reconcile import reasons
from lakeserve.reconcile.blocking import Threads, run_blocking
from lakeserve.reconcile.conditions import Phase, Verdict
from lakeserve.reconcile.engine import MetricsPort, PassOutcome, validation_message
from lakeserve.reconcile.passes import Memory
from lakeserve.reconcile.policy import ENGINE_ANNOTATIONS
from lakeserve.reconcile.publish import EventPort, KubePort, Publisher, Report
from lakeserve.reconcile.workspaces import INFOS, WorkspaceResolver, identity_of, source_of
from lakeserve.settings import Settings

ME_PATH = "/api/2.0/preview/scim/v2/Me"
ORG_ID_HEADER = "X-Databricks-Org-Id"
# What a failed check no longer vouches for.
CLEARED = {"workspaceId": None, "identity": None, "authType": None}


class Problem(Exception):
    def __init__(self, verdict: Verdict):
        super().__init__(verdict.message)
        self.verdict = verdict


class WorkspaceChecker:
    def __init__(self, settings: Settings, resolver: WorkspaceResolver, kube: KubePort,
                 events: EventPort, executor: Threads | None = None,
                 metrics: MetricsPort | None = None):
        self.settings = settings
        self.resolver = resolver
        self.publisher = Publisher(kube, events)
        self.executor = executor
        self.metrics = metrics
        self._memory: dict[str, Memory] = {}

    def watched_annotations(self, kind: str) -> tuple[str, ...]:
        return ENGINE_ANNOTATIONS

    async def reconcile(self, kind: str, body: Mapping[str, Any]) -> PassOutcome:
        started = time.monotonic()
        memory = self._memory.setdefault(_uid(body), Memory())
        if memory.status is not None:
            body = {**body, "status": memory.status}
        try:
            verdict, facts = await self._check(kind, body)
        except Problem as problem:
            verdict, facts = problem.verdict, dict(CLEARED)
        report = Report(verdict, facts)
        memory.status = await self.publisher.write_status(INFOS[kind], body, report)
        self.publisher.announce(body, report)
        if self.metrics:
            self.metrics.reconciled(kind, verdict.phase.value, verdict.reason,
                                    time.monotonic() - started, _uid(body))
        return PassOutcome(verdict, self._requeue(memory, verdict))

    async def finalize(self, kind: str, body: Mapping[str, Any],
                       users: Collection[str]) -> float | None:
        """None when the workspace object may go; else seconds until asking again."""
        memory = self._memory.setdefault(_uid(body), Memory())
        if users:
            listed = ", ".join(sorted(users)[:5]) + (" …" if len(users) > 5 else "")
            verdict = Verdict.reconciling(reasons.DELETING, (
                f"kept while {len(users)} object(s) owning Databricks objects in it still exist "
                f"(they need it to delete those): {listed}"))
            memory.status = await self.publisher.write_status(
                INFOS[kind], {**body, "status": memory.status or body.get("status")},
                Report(verdict))
            self.publisher.warn_once(body, Verdict(Phase.STALLED, reasons.IN_USE,
                                                   verdict.message))
            return memory.pacing.converging(self.settings)
        self.resolver.clients.forget(identity_of(kind, body))
        self.forget(body)
        return None

    def forget(self, body: Mapping[str, Any]) -> None:
        self._memory.pop(_uid(body), None)
        self.publisher.forget(_uid(body))
        if self.metrics:
            self.metrics.forget(_uid(body))

    # ---- the check ------------------------------------------------------------------------

    async def _check(self, kind: str, body: Mapping[str, Any]) -> tuple[Verdict, dict]:
        source = self._source(kind, body)
        workspace = await self._connect(source)
        identity, workspace_id = await self._whoami(source, workspace.client)
        facts = {"host": source.host, "workspaceId": workspace_id, "identity": identity,
                 "authType": self.resolver.clients.auth_type(source)}
        return Verdict.ready(f"Databricks accepted the credentials of Secret {source.secret}: "
                             f"{identity}"), facts

    def _source(self, kind: str, body: Mapping[str, Any]) -> WorkspaceSource:
        try:
            return source_of(kind, body, self.resolver.operator_namespace)
        except ValidationError as exc:
            raise Problem(Verdict.stalled(reasons.INVALID_SPEC,
                                          validation_message(exc))) from None

    async def _connect(self, source: WorkspaceSource):
        try:
            secret = await self.resolver.secrets.read(source.secret_namespace,
                                                      source.secret_name, fresh=True)
            if secret is None:
                raise CredentialsError(CREDENTIALS_NOT_FOUND, (
                    f"the credentials Secret {source.secret} does not exist: create it with "
                    "DATABRICKS_TOKEN; or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET; or "
                    "ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID"))
            return await self._call(self.resolver.clients.workspace, source, secret.data,
                                    secret.version)
        except (CredentialsError, WorkspaceUnreachable) as exc:
            raise Problem(Verdict.stalled(exc.reason, exc.message)) from None

    async def _whoami(self, source: WorkspaceSource, client: WorkspaceClient) -> tuple[str, str]:
        try:
            answer = await self._call(_me, client)
        except Exception as exc:  # noqa: BLE001 - every answer becomes a condition
            raise Problem(_verdict_of(source, exc)) from None
        user = iam.User.from_dict(answer)
        workspace_id = answer.get(ORG_ID_HEADER) or client.config.workspace_id or ""
        return user.user_name or user.display_name or "unknown", str(workspace_id)

    def _requeue(self, memory: Memory, verdict: Verdict) -> float:
        if verdict.phase is Phase.READY:
            return memory.pacing.settled(self.settings)
        if verdict.phase is Phase.RECONCILING:
            return memory.pacing.converging(self.settings)
        return memory.pacing.failing(self.settings)

    async def _call(self, fn, *args):
        return await run_blocking(self.executor, fn, *args)


def _me(client: WorkspaceClient) -> dict[str, Any]:
    return client.api_client.do("GET", ME_PATH, response_headers=[ORG_ID_HEADER])


def _verdict_of(source: WorkspaceSource, exc: Exception) -> Verdict:
    failure = classify(exc)
    where = f"the credentials of Secret {source.secret}"
    if failure.kind is FailureKind.UNAUTHENTICATED:
        return Verdict.stalled(reasons.CREDENTIALS_INVALID, (
            f"Databricks refused {where} ({failure.message}): fix the token or OAuth client "
            "there"))
    if failure.kind is FailureKind.PERMISSION_DENIED:
        return Verdict.stalled(reasons.PERMISSION_DENIED, (
            f"Databricks: {failure.message}. The identity of {where} may not use this "
            "workspace: grant it access"))
    if _network(exc):
        return Verdict.stalled(reasons.UNREACHABLE, (
            f"{source.host} did not answer as a Databricks workspace (cannot connect: "
            f"{failure.message}): check spec.host and the network path to it"))
    if failure.kind is FailureKind.THROTTLED:
        return Verdict.reconciling(reasons.THROTTLED, failure.message)
    if failure.kind is FailureKind.TRANSIENT:
        return Verdict.reconciling(reasons.TRANSIENT_ERROR, failure.message)
    return Verdict.stalled(reasons.UNREACHABLE, (
        f"{source.host} did not answer as a Databricks workspace ({failure.message}): check "
        "spec.host and the network path to it"))


def _network(exc: BaseException | None) -> bool:
    """Whether a connection failure is behind ``exc``: its cause, or the error the SDK was
    retrying when it gave up or deferred the retry (``__context__``)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _uid(body: Mapping[str, Any]) -> str:
    return (body.get("metadata") or {}).get("uid", "")

