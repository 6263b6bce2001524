"""The kind-agnostic reconcile engine.

Every pass: validate the spec -> wait for dependencies -> observe Databricks -> choose one action
(create | update | recreate | wait | nothing) -> act -> write status and events -> say when to
look again. Passes never wait for Databricks: they requeue. The kopf wiring (``controller``) only
decides when a pass runs; everything here can be driven by tests with fake ports.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from lakeserve.api.common import DeletionPolicy, ObjectReference, UpdatePolicy
from lakeserve.api.crd import KindInfo
from lakeserve.databricks.errors import Failure, FailureKind, SpecError, classify
from lakeserve.databricks.limiter import RateLimited
from lakeserve.databricks.workspace import CredentialsError, Workspace, WorkspaceProvider
from lakeserve.reconcile import conditions, reasons
from lakeserve.reconcile.conditions import Verdict
from lakeserve.reconcile.patch import merge_patch, without_none
from lakeserve.reconcile.timing import Pacing
from lakeserve.redact import redact
from lakeserve.resources.base import (
    DeleteState,
    Event,
    ExternalClient,
    Managed,
    Observation,
    WriteResult,
    no_dependencies,
)
from lakeserve.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registration:
    """How the engine handles one kind."""

    info: KindInfo
    client_factory: Callable[[Workspace], ExternalClient]
    dependencies: Callable[[Any], list[ObjectReference]] = no_dependencies
    # Annotations whose changes must wake the object's worker (e.g. a re-sync request).
    watched_annotations: tuple[str, ...] = ()


class KubePort(Protocol):
    """The Kubernetes side: status writes and reads of other lakeserve objects."""

    async def patch_status(self, info: KindInfo, namespace: str, name: str,
                           patch: Mapping[str, Any]) -> None: ...

    async def get_object(self, info: KindInfo, namespace: str, name: str) -> Mapping | None: ...


class EventPort(Protocol):
    def record(self, body: Mapping[str, Any], event: Event) -> None: ...


class MetricsPort(Protocol):
    def reconciled(self, kind: str, phase: str, reason: str, seconds: float,
                   uid: str | None = None) -> None: ...

    def forget(self, uid: str) -> None: ...

    def rate_limited(self) -> None: ...


@dataclass
class PassOutcome:
    verdict: Verdict
    requeue_after: float


@dataclass
class _Decision:
    verdict: Verdict
    requeue_after: float
    status: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


@dataclass
class _Memory:
    """What the engine remembers about one object between passes (in memory only)."""

    pacing: Pacing = field(default_factory=Pacing)
    last_warning: tuple[str, str] | None = None
    # The status this process last wrote. The watch event carrying it may not have arrived
    # when the next pass starts, so it is fresher than the body's.
    status: dict[str, Any] | None = None


class Engine:
    def __init__(self, settings: Settings, workspaces: WorkspaceProvider, kube: KubePort,
                 events: EventPort, registrations: Mapping[str, Registration],
                 executor: Executor | None = None, metrics: MetricsPort | None = None):
        self.settings = settings
        self.workspaces = workspaces
        self.kube = kube
        self.events = events
        self.registrations = dict(registrations)
        self.executor = executor
        self.metrics = metrics
        self._memory: dict[str, _Memory] = {}

    # ---- public entry points -------------------------------------------------------------

    async def reconcile(self, kind: str, body: Mapping[str, Any]) -> PassOutcome:
        """One level-triggered pass over the object's current body."""
        registration = self.registrations[kind]
        memory = self._memory.setdefault(_uid(body), _Memory())
        started = time.monotonic()
        if memory.status is not None:
            body = {**body, "status": memory.status}
        decision = await self._decide(registration, body, memory)
        await self._publish(registration, body, decision, memory)
        if self.metrics:
            self.metrics.reconciled(kind, decision.verdict.phase.value, decision.verdict.reason,
                                    time.monotonic() - started, _uid(body))
        return PassOutcome(decision.verdict, decision.requeue_after)

    async def finalize(self, kind: str, body: Mapping[str, Any]) -> float | None:
        """Delete (or orphan) the Databricks object. None when done, else seconds to retry."""
        registration = self.registrations[kind]
        memory = self._memory.setdefault(_uid(body), _Memory())
        try:
            obj = self._managed(registration, body)
        except ValidationError:
            self._record(body, Event(reasons.ORPHANED, "spec is not valid, so there is no "
                                     "Databricks object to delete", warning=True))
            return self._forget(body)
        if obj.spec.deletion_policy == DeletionPolicy.ORPHAN:
            self._record(body, Event(reasons.ORPHANED, "deletionPolicy is Orphan: the "
                                     "Databricks object is left in place"))
            return self._forget(body)
        try:
            client = registration.client_factory(await self._call(self.workspaces.get))
            state = await self._call(client.delete, obj)
        except CredentialsError as exc:
            return self._deletion_blocked(body, memory, exc.reason, exc.message)
        except Exception as exc:  # noqa: BLE001 - every failure is reported and retried
            failure = classify(exc)
            if failure.kind is FailureKind.NOT_FOUND:
                state = DeleteState.GONE
            else:
                return self._deletion_blocked(body, memory, failure.kind.value, failure.message)
        if state is DeleteState.IN_PROGRESS:
            return memory.pacing.converging(self.settings)
        self._record(body, Event(reasons.DELETED, f"deleted the Databricks {kind}"))
        return self._forget(body)

    def forget(self, body: Mapping[str, Any]) -> None:
        self._memory.pop(_uid(body), None)
        if self.metrics:
            self.metrics.forget(_uid(body))

    # ---- deciding ------------------------------------------------------------------------

    async def _decide(self, registration: Registration, body: Mapping[str, Any],
                      memory: _Memory) -> _Decision:
        settings = self.settings
        try:
            obj = self._managed(registration, body)
        except ValidationError as exc:
            return _Decision(Verdict.stalled(reasons.INVALID_SPEC, _validation_message(exc)),
                             memory.pacing.settled(settings))
        waiting = await self._unready_dependencies(registration, obj)
        if waiting:
            return _Decision(Verdict.reconciling(reasons.WAITING_FOR_DEPENDENCIES,
                                                 "waiting for " + "; ".join(waiting)),
                             memory.pacing.converging(settings))
        workspace: Workspace | None = None
        try:
            workspace = await self._call(self.workspaces.get)
            client = registration.client_factory(workspace)
            observation = await self._call(client.observe, obj)
            return await self._act(client, obj, observation, memory)
        except CredentialsError as exc:
            return _Decision(Verdict.stalled(exc.reason, exc.message),
                             memory.pacing.failing(settings, at_least=settings.converge_max))
        except SpecError as exc:
            return _Decision(Verdict.stalled(exc.reason, redact(exc.message)),
                             memory.pacing.settled(settings))
        except RateLimited as exc:
            if self.metrics:
                self.metrics.rate_limited()
            return _Decision(Verdict.reconciling(reasons.RATE_LIMITED, str(exc)),
                             exc.seconds + 1.0)
        except Exception as exc:  # noqa: BLE001 - classified, reported, retried or stalled
            log.debug("pass of %s/%s failed", obj.namespace, obj.name, exc_info=True)
            return self._failed(classify(exc), memory, workspace)

    async def _act(self, client: ExternalClient, obj: Managed, observation: Observation,
                   memory: _Memory) -> _Decision:
        settings = self.settings
        facts = dict(observation.status)
        events = list(observation.events)
        if not observation.exists:
            if obj.status.get("observedGeneration") == obj.generation and _was_ready(obj):
                events.append(Event(reasons.RECREATED_MISSING, f"the Databricks {obj.kind} was "
                                    "deleted outside the operator; creating it again",
                                    warning=True))
            result = await self._call(client.create, obj, observation)
            return _Decision(Verdict.reconciling(reasons.CREATING, f"creating the {obj.kind}"),
                             memory.pacing.after_write(settings), {**facts, **result.status},
                             events + (result.events or [Event(reasons.CREATED, "created")]))
        if observation.busy and not observation.diff:
            return _Decision(Verdict.reconciling(*observation.busy),
                             memory.pacing.converging(settings), facts, events)
        if observation.diff:
            return await self._change(client, obj, observation, memory, facts, events)
        if observation.failed:
            return _Decision(Verdict.stalled(*observation.failed), memory.pacing.settled(settings),
                             facts, events)
        if not observation.ready:
            progress = observation.progress or (reasons.WAITING_FOR_DATABRICKS,
                                                "waiting for Databricks to become ready")
            return _Decision(Verdict.reconciling(*progress), memory.pacing.converging(settings),
                             facts, events)
        return _Decision(Verdict.ready(), memory.pacing.settled(settings), facts, events)

    async def _change(self, client: ExternalClient, obj: Managed, observation: Observation,
                      memory: _Memory, facts: dict[str, Any], events: list[Event]) -> _Decision:
        settings = self.settings
        summary = ", ".join(observation.diff)
        if observation.busy:
            # One operation at a time: the newest spec is applied once this one ends.
            reason, message = observation.busy
            return _Decision(Verdict.reconciling(reason, f"{message}; then applying: {summary}"),
                             memory.pacing.converging(settings), facts, events)
        if not observation.updatable:
            if getattr(obj.spec, "update_policy", None) != UpdatePolicy.RECREATE:
                return _Decision(Verdict.stalled(
                    reasons.IMMUTABLE_FIELD_CHANGED,
                    f"{summary} cannot be changed in place on Databricks; set updatePolicy: "
                    "Recreate to replace the object, or restore the old value"),
                    memory.pacing.settled(settings), facts, events)
            await self._call(client.delete, obj)
            events.append(Event(reasons.RECREATING, f"deleting to recreate: {summary}"))
            return _Decision(Verdict.reconciling(reasons.RECREATING, f"recreating: {summary}"),
                             memory.pacing.after_write(settings), facts, events)
        drift = obj.status.get("observedGeneration") == obj.generation and _was_ready(obj)
        result: WriteResult = await self._call(client.update, obj, observation)
        if drift:
            events.append(Event(reasons.DRIFT_CORRECTED,
                                f"reverted changes made outside the operator: {summary}",
                                warning=True))
        events.extend(result.events or [Event(reasons.UPDATED, f"updated: {summary}")])
        return _Decision(Verdict.reconciling(reasons.UPDATING, f"applying: {summary}"),
                         memory.pacing.after_write(settings), {**facts, **result.status}, events)

    def _failed(self, failure: Failure, memory: _Memory,
                workspace: Workspace | None) -> _Decision:
        settings = self.settings
        if failure.kind is FailureKind.THROTTLED:
            wait = memory.pacing.failing(settings, at_least=failure.retry_after or 0.0)
            if workspace is not None:
                workspace.limiter.pause(wait)
            return _Decision(Verdict.reconciling(reasons.THROTTLED,
                                                 f"Databricks is throttling requests: "
                                                 f"{failure.message}"), wait)
        if failure.kind in (FailureKind.TRANSIENT, FailureKind.CONFLICT,
                            FailureKind.ALREADY_EXISTS):
            # ALREADY_EXISTS: a create that committed before its response was lost; the next
            # observe finds and adopts the object.
            return _Decision(Verdict.reconciling(reasons.TRANSIENT_ERROR, failure.message),
                             memory.pacing.failing(settings))
        reason = {FailureKind.UNAUTHORIZED: reasons.PERMISSION_DENIED,
                  FailureKind.NOT_FOUND: reasons.NOT_FOUND}.get(failure.kind, reasons.REJECTED)
        return _Decision(Verdict.stalled(reason, f"Databricks: {failure.message}"),
                         memory.pacing.settled(settings))

    # ---- dependencies --------------------------------------------------------------------

    async def _unready_dependencies(self, registration: Registration, obj: Managed) -> list[str]:
        waiting = []
        for ref in registration.dependencies(obj.spec):
            target = self._info_for_kind(ref.kind)
            body = await self.kube.get_object(target, obj.namespace, ref.name)
            if body is None:
                waiting.append(f"{ref.kind}/{ref.name} (not found in namespace {obj.namespace})")
            elif not conditions.is_ready(body):
                ready = conditions.condition(body.get("status"), conditions.READY) or {}
                why = ready.get("reason") or "not reconciled yet"
                waiting.append(f"{ref.kind}/{ref.name} (not Ready: {why})")
        return waiting

    def _info_for_kind(self, kind: str) -> KindInfo:
        for registration in self.registrations.values():
            if registration.info.kind == kind:
                return registration.info
        raise KeyError(kind)

    # ---- publishing ----------------------------------------------------------------------

    async def _publish(self, registration: Registration, body: Mapping[str, Any],
                       decision: _Decision, memory: _Memory) -> None:
        old_status = dict(body.get("status") or {})
        generation = (body.get("metadata") or {}).get("generation") or 0
        verdict = Verdict(decision.verdict.phase, decision.verdict.reason,
                          redact(decision.verdict.message))
        new_status = {key: value for key, value in old_status.items() if key != "kopf"}
        new_status.update(decision.status)
        new_status["observedGeneration"] = generation
        new_status["conditions"] = conditions.build_conditions(
            verdict, generation, old_status.get("conditions"))
        new_status = without_none(new_status)
        patch = merge_patch(old_status, new_status)
        patch.pop("kopf", None)
        if patch:
            meta = body["metadata"]
            await self.kube.patch_status(registration.info, meta["namespace"], meta["name"], patch)
        memory.status = new_status
        self._log_verdict(body, verdict, old_status.get("conditions"))
        for event in decision.events:
            self._record(body, event)
        self._warn_once(body, verdict, memory)

    def _log_verdict(self, body: Mapping[str, Any], verdict: Verdict,
                     previous: list[dict] | None) -> None:
        """One log line when the object's condition changes, not one per pass."""
        before = conditions.condition({"conditions": previous or []}, verdict.phase.value)
        if before and before.get("status") == "True" and before.get("reason") == verdict.reason:
            return
        meta = body.get("metadata") or {}
        level = logging.WARNING if verdict.phase is conditions.Phase.STALLED else logging.INFO
        log.log(level, "%s %s/%s: %s (%s) %s", body.get("kind"), meta.get("namespace"),
                meta.get("name"), verdict.phase.value, verdict.reason, verdict.message)

    def _warn_once(self, body: Mapping[str, Any], verdict: Verdict, memory: _Memory) -> None:
        """One Warning event per distinct failure, not one per pass."""
        failing = verdict.phase is conditions.Phase.STALLED or verdict.reason in (
            reasons.THROTTLED, reasons.TRANSIENT_ERROR)
        if not failing:
            memory.last_warning = None
            return
        signature = (verdict.reason, verdict.message)
        if signature != memory.last_warning:
            memory.last_warning = signature
            self._record(body, Event(verdict.reason, verdict.message, warning=True))

    def _record(self, body: Mapping[str, Any], event: Event) -> None:
        message = redact(event.message)
        meta = body.get("metadata") or {}
        log.log(logging.WARNING if event.warning else logging.INFO, "%s %s/%s event %s: %s",
                body.get("kind"), meta.get("namespace"), meta.get("name"), event.reason, message)
        self.events.record(body, Event(event.reason, message, event.warning))

    def _deletion_blocked(self, body: Mapping[str, Any], memory: _Memory, reason: str,
                          message: str) -> float:
        verdict = Verdict.reconciling(reasons.DELETING, f"cannot delete yet: {message}")
        self._warn_once(body, Verdict(verdict.phase, reason, verdict.message), memory)
        return memory.pacing.failing(self.settings)

    def _forget(self, body: Mapping[str, Any]) -> None:
        self.forget(body)

    # ---- helpers -------------------------------------------------------------------------

    def _managed(self, registration: Registration, body: Mapping[str, Any]) -> Managed:
        meta = body.get("metadata") or {}
        spec = registration.info.spec_model.model_validate(body.get("spec") or {})
        return Managed(kind=registration.info.kind, namespace=meta.get("namespace", ""),
                       name=meta.get("name", ""), uid=meta.get("uid", ""),
                       generation=meta.get("generation") or 0, spec=spec,
                       annotations=dict(meta.get("annotations") or {}),
                       status=dict(body.get("status") or {}))

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        result, error = await loop.run_in_executor(self.executor, _captured, fn, args)
        if error is not None:
            raise error
        return result


def _captured(fn: Callable[..., Any], args: tuple) -> tuple[Any, BaseException | None]:
    """Run ``fn`` and hand back its exception as a value: asyncio replaces a TimeoutError
    crossing from a thread with a fresh one, losing the SDK's cause (what was retried)."""
    try:
        return fn(*args), None
    except Exception as exc:  # noqa: BLE001 - re-raised by the caller
        return None, exc


def _uid(body: Mapping[str, Any]) -> str:
    return (body.get("metadata") or {}).get("uid", "")


def _was_ready(obj: Managed) -> bool:
    ready = conditions.condition(obj.status, conditions.READY)
    return bool(ready and ready.get("status") == "True")


def _validation_message(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()))
        problems.append(f"spec.{where}: {error.get('msg')}")
    return "; ".join(problems)
