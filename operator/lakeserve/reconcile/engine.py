"""The kind-agnostic reconcile engine.

Every pass: validate the spec and annotations -> honour pause / ObserveOnly -> wait for
dependencies -> observe Databricks -> decide whose object it is -> choose one action (create |
update | recreate | wait | nothing) -> act -> write status and events -> say when to look again.
Passes never wait for Databricks: they requeue. The kopf wiring (``controller``) only decides when
a pass runs; everything here can be driven by tests with fake ports.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from lakeserve.api.common import OwnershipHow, UpdatePolicy
from lakeserve.api.crd import KindInfo
from lakeserve.databricks.workspace import WorkspaceProvider
from lakeserve.reconcile import backoff, conditions, finalizer, ownership, reasons
from lakeserve.reconcile.blocking import Threads, run_blocking
from lakeserve.reconcile.conditions import Phase, Verdict
from lakeserve.reconcile.deletion import Deletion
from lakeserve.reconcile.failures import FailureHandling
from lakeserve.reconcile.passes import Decision, Memory, Pass, Registration, WriteFailed
from lakeserve.reconcile.policy import PAUSED_MESSAGE, InvalidAnnotation, policy_of
from lakeserve.reconcile.publish import EventPort, KubePort, Publisher, Report
from lakeserve.reconcile.workspaces import WorkspaceResolver, other_workspace
from lakeserve.resources.base import Event, ExternalClient, Managed, Observation, WriteResult
from lakeserve.settings import Settings

__all__ = ["Engine", "EventPort", "KubePort", "PassOutcome", "Registration"]

# Longest wait for an object's first status after its create (see _defers_status).
STATUS_DEFER_MAX = 2.0


class MetricsPort(Protocol):
    def reconciled(self, kind: str, phase: str, reason: str, seconds: float,
                   uid: str | None = None) -> None: ...

    def forget(self, uid: str) -> None: ...

    def rate_limited(self) -> None: ...


@dataclass
class PassOutcome:
    verdict: Verdict
    requeue_after: float


class Engine(FailureHandling, Deletion):
    def __init__(self, settings: Settings, workspaces: WorkspaceProvider, kube: KubePort,
                 events: EventPort, registrations: Mapping[str, Registration],
                 executor: Threads | None = None, metrics: MetricsPort | None = None,
                 tenancy: WorkspaceResolver | None = None):
        self.settings = settings
        self.workspaces = workspaces
        # Which workspace each object lives in (default only, unless the operator wires more).
        self.tenancy = tenancy or WorkspaceResolver(settings, kube, workspaces, None, self._call)
        self.kube = kube
        self.publisher = Publisher(kube, events)
        self.registrations = dict(registrations)
        self.executor = executor
        self.metrics = metrics
        self._memory: dict[str, Memory] = {}

    # ---- public entry points -------------------------------------------------------------

    async def reconcile(self, kind: str, body: Mapping[str, Any]) -> PassOutcome:
        """One level-triggered pass over the object's current body."""
        started = time.monotonic()
        current = self._begin(kind, body)
        decision = await self._decide(current)
        # Every object gets the finalizer (writes get it before they go out): a deletion waits
        # for the operator even to say why the Databricks object stays (Orphaned), or for a pause.
        await self._hold_finalizer(current)
        await self._publish(current, decision)
        if self.metrics:
            self.metrics.reconciled(kind, decision.verdict.phase.value, decision.verdict.reason,
                                    time.monotonic() - started, _uid(body))
        return PassOutcome(decision.verdict, decision.requeue_after)

    def watched_annotations(self, kind: str) -> tuple[str, ...]:
        """Annotations whose change wakes an object's worker."""
        return self.registrations[kind].annotations

    def forget(self, body: Mapping[str, Any]) -> None:
        self._memory.pop(_uid(body), None)
        self.publisher.forget(_uid(body))
        if self.metrics:
            self.metrics.forget(_uid(body))

    # ---- deciding ------------------------------------------------------------------------

    def _begin(self, kind: str, body: Mapping[str, Any]) -> Pass:
        memory = self._memory.setdefault(_uid(body), Memory())
        if memory.status is not None:
            body = {**body, "status": memory.status}
        return Pass(self.registrations[kind], body, memory)

    async def _decide(self, current: Pass) -> Decision:
        pacing, settings = current.memory.pacing, self.settings
        try:
            current.obj = self._managed(current.registration, current.body)
            current.policy = policy_of(current.obj)
        except ValidationError as exc:
            return Decision(Verdict.stalled(reasons.INVALID_SPEC, validation_message(exc)),
                            requeue_after=pacing.settled(settings))
        except InvalidAnnotation as exc:
            return Decision(Verdict.stalled(reasons.INVALID_SPEC, str(exc)),
                            requeue_after=pacing.settled(settings))
        if current.policy.paused:
            return Decision(Verdict.paused(PAUSED_MESSAGE), requeue_after=pacing.settled(settings))
        try:
            current.resolved = await self.tenancy.resolve(current.obj)
        except Exception as exc:  # noqa: BLE001 - no workspace: nothing is sent to Databricks
            return self._on_error(current, exc)
        current.workspace = current.resolved.workspace
        if not current.policy.observe_only:
            blocked = await self._gate_on_dependencies(current)
            if blocked:
                return blocked
        try:
            client, observation = await self._call(self._observe, current)
        except Exception as exc:  # noqa: BLE001 - classified, reported, retried or stalled
            return self._on_error(current, exc)
        if current.policy.observe_only:
            return self._observed(current, observation)
        await self._hold_finalizer(current)  # a Kubernetes failure here ends the pass
        try:
            return await self._act(current, client, observation)
        except Exception as exc:  # noqa: BLE001 - classified, reported, retried or stalled
            return self._on_error(current, exc)

    def _observe(self, current: Pass) -> tuple[ExternalClient, Observation]:
        """In a worker thread: the client and the observation -- one trip to the thread pool
        for the two."""
        client = current.registration.client_factory(current.workspace)
        return client, client.observe(current.obj)

    def _observed(self, current: Pass, observation: Observation) -> Decision:
        """managementPolicy: ObserveOnly: report what is there, never write."""
        settled = current.memory.pacing.settled(self.settings)
        if not observation.exists:
            return Decision(Verdict.stalled(reasons.NOT_FOUND, (
                f"managementPolicy is ObserveOnly and {observation.name} does not exist in "
                "Databricks; the operator does not create it: create it there, or set "
                "managementPolicy: Full")), dict(observation.status), requeue_after=settled)
        summary = ("matches the spec" if not observation.diff else
                   "differs from the spec in " + ", ".join(observation.diff) + " (not changed)")
        return Decision(Verdict(Phase.READY, reasons.OBSERVED,
                                f"managementPolicy is ObserveOnly: {observation.name} exists "
                                f"and {summary}"),
                        {**observation.status, **backoff.CLEARED}, list(observation.events),
                        requeue_after=settled)

    async def _act(self, current: Pass, client: ExternalClient,
                   observation: Observation) -> Decision:
        facts, events = dict(observation.status), list(observation.events)
        if not observation.exists:
            decision = await self._create(current, client, observation, facts, events)
        else:
            judgement = ownership.judge(current.obj, observation, current.policy.adopt)
            if judgement.verdict is ownership.Verdict.NOT_OURS:
                return Decision(Verdict.stalled(judgement.reason, judgement.message),
                                requeue_after=current.memory.pacing.settled(self.settings))
            if judgement.verdict is ownership.Verdict.ADOPT:
                events.append(Event(reasons.ADOPTED, judgement.message, warning=True))
                facts.update(ownership.claim(observation.name, OwnershipHow.ADOPTED))
            elif not ownership.recorded(current.obj, observation.name):
                # ours by its marker (e.g. created before records were kept): record it, so
                # that deletion can trust the record
                facts.update(ownership.claim(observation.name, OwnershipHow.CREATED))
            decision = await self._existing(current, client, observation, facts, events)
        if not decision.held:
            decision.status.update(backoff.CLEARED)
        if observation.requeue_after is not None:
            decision.requeue_after = min(decision.requeue_after, observation.requeue_after)
        return decision

    async def _create(self, current: Pass, client: ExternalClient, observation: Observation,
                      facts: dict[str, Any], events: list[Event]) -> Decision:
        obj, settings = current.obj, self.settings
        held = self._held(current, facts)
        if held:
            return held
        if obj.status.get("observedGeneration") == obj.generation and _was_ready(obj):
            events.append(Event(reasons.RECREATED_MISSING, f"the Databricks {obj.kind} was "
                                "deleted outside the operator; creating it again", warning=True))
        verdict = Verdict.reconciling(reasons.CREATING, f"creating {observation.name}")
        claimed = {**facts, **observation.create_status}
        if not ownership.recorded(obj, observation.name):
            claimed.update(ownership.claim(observation.name, OwnershipHow.CREATED))
        if "owned" in claimed and not current.registration.marks_ownership:
            # The claim goes to Kubernetes before the create goes to Databricks.
            await self._write_status(current, Decision(verdict, claimed))
        current.creating = True
        result = await self._write(client.create, obj, observation)
        requeue = current.memory.pacing.after_write(settings)
        return Decision(verdict, {**claimed, **result.status},
                        events + (result.events or [Event(reasons.CREATED, "created")]),
                        requeue_after=requeue, defer_status=_defers_status(current, requeue))

    async def _existing(self, current: Pass, client: ExternalClient, observation: Observation,
                        facts: dict[str, Any], events: list[Event]) -> Decision:
        pacing, settings = current.memory.pacing, self.settings
        if observation.busy and not observation.diff:
            return Decision(Verdict.reconciling(*observation.busy), facts, events,
                            requeue_after=pacing.converging(settings))
        if observation.diff:
            return await self._change(current, client, observation, facts, events)
        if observation.failed:
            return Decision(Verdict.stalled(*observation.failed), facts, events,
                            requeue_after=pacing.settled(settings))
        if not observation.ready:
            progress = observation.progress or (reasons.WAITING_FOR_DATABRICKS,
                                                "waiting for Databricks to become ready")
            return Decision(Verdict.reconciling(*progress), facts, events,
                            requeue_after=pacing.converging(settings))
        return Decision(Verdict.ready(), facts, events, requeue_after=pacing.settled(settings))

    async def _change(self, current: Pass, client: ExternalClient, observation: Observation,
                      facts: dict[str, Any], events: list[Event]) -> Decision:
        obj, pacing, settings = current.obj, current.memory.pacing, self.settings
        summary = ", ".join(observation.diff)
        if observation.busy:
            # One operation at a time: the newest spec is applied once this one ends.
            reason, message = observation.busy
            return Decision(Verdict.reconciling(reason, f"{message}; then applying: {summary}"),
                            facts, events, requeue_after=pacing.converging(settings))
        if not observation.updatable and \
                getattr(obj.spec, "update_policy", None) != UpdatePolicy.RECREATE:
            return Decision(Verdict.stalled(
                reasons.IMMUTABLE_FIELD_CHANGED,
                f"{summary} cannot be changed in place on Databricks; set updatePolicy: "
                "Recreate to replace the object, or restore the old value"),
                facts, events, requeue_after=pacing.settled(settings))
        held = self._held(current, facts)
        if held:
            return held
        if not observation.updatable:
            await self._write(client.delete, obj)
            events.append(Event(reasons.RECREATING, f"deleting to recreate: {summary}"))
            return Decision(Verdict.reconciling(reasons.RECREATING, f"recreating: {summary}"),
                            facts, events, requeue_after=pacing.after_write(settings))
        drifted = _drifted(obj, observation)
        result: WriteResult = await self._write(client.update, obj, observation)
        if drifted:
            events.append(Event(reasons.DRIFT_CORRECTED, "reverted changes made outside the "
                                f"operator: {', '.join(drifted)}", warning=True))
        events.extend(result.events or [Event(reasons.UPDATED, f"updated: {summary}")])
        return Decision(Verdict.reconciling(reasons.UPDATING, f"applying: {summary}"),
                        {**facts, **result.status}, events,
                        requeue_after=pacing.after_write(settings))

    # ---- dependencies --------------------------------------------------------------------

    async def _gate_on_dependencies(self, current: Pass) -> Decision | None:
        """Waiting for dependencies that are not Ready, or stalled on ones that live in another
        workspace; otherwise records the inputs fingerprint of this pass."""
        pacing, settings = current.memory.pacing, self.settings
        waiting, elsewhere = await self._dependencies(current)
        if elsewhere:
            return Decision(Verdict.stalled(reasons.WORKSPACE_MISMATCH, (
                "dependsOn only crosses objects of the same workspace: " + "; ".join(elsewhere)
                + "; depend on objects of this object's workspace")),
                requeue_after=pacing.settled(settings))
        if waiting:
            return Decision(Verdict.reconciling(reasons.WAITING_FOR_DEPENDENCIES,
                                                "waiting for " + "; ".join(waiting)),
                            requeue_after=pacing.converging(settings))
        return None

    async def _dependencies(self, current: Pass) -> tuple[list[str], list[str]]:
        """What is not Ready yet, and what lives in another workspace; hands the dependencies
        that exist to the client (``Managed.dependencies``)."""
        waiting, found, elsewhere, existing = [], [], [], {}
        obj = current.obj
        for ref in current.registration.dependencies(obj.spec):
            target = self._info_for_kind(ref.kind)
            body = await self.kube.get_object(target, obj.namespace, ref.name)
            if body is None:
                waiting.append(f"{ref.kind}/{ref.name} (not found in namespace {obj.namespace})")
                continue
            existing[f"{ref.kind}/{ref.name}"] = body
            if not conditions.is_ready(body):
                ready = conditions.condition(body.get("status"), conditions.READY) or {}
                why = ready.get("reason") or "not reconciled yet"
                waiting.append(f"{ref.kind}/{ref.name} (not Ready: {why})")
            elif mismatch := other_workspace({"kind": ref.kind, **body}, current.resolved):
                elsewhere.append(mismatch)
            else:
                found.append({"kind": ref.kind, **body})
        current.dependencies = found
        current.obj = dataclasses.replace(obj, dependencies=existing)
        return waiting, elsewhere

    def _info_for_kind(self, kind: str) -> KindInfo:
        for registration in self.registrations.values():
            if registration.info.kind == kind:
                return registration.info
        raise KeyError(kind)

    # ---- publishing ----------------------------------------------------------------------

    async def _publish(self, current: Pass, decision: Decision) -> None:
        memory = current.memory
        if decision.defer_status:
            memory.deferred = decision.status
        else:
            if memory.deferred:
                decision.status = {**memory.deferred, **decision.status}
                memory.deferred = None
            await self._write_status(current, decision)
        self.publisher.announce(current.body, decision)

    async def _hold_finalizer(self, current: Pass) -> None:
        """Before any write to Databricks: deleting the object then waits for the operator."""
        memory = current.memory
        if not memory.finalizer and not finalizer.held(current.body):
            await finalizer.hold(self.kube, current.registration.info, current.body)
        memory.finalizer = True

    async def _write_status(self, current: Pass, report: Report) -> None:
        if current.resolved is not None:
            report.status.setdefault("workspace", current.resolved.record)
        status = await self.publisher.write_status(current.registration.info, current.body,
                                                   report)
        current.memory.status = status
        current.body = {**current.body, "status": status}

    # ---- helpers -------------------------------------------------------------------------

    def _managed(self, registration: Registration, body: Mapping[str, Any]) -> Managed:
        meta = body.get("metadata") or {}
        spec = registration.info.spec_model.model_validate(body.get("spec") or {})
        return Managed(kind=registration.info.kind, namespace=meta.get("namespace", ""),
                       name=meta.get("name", ""), uid=meta.get("uid", ""),
                       generation=meta.get("generation") or 0, spec=spec,
                       annotations=dict(meta.get("annotations") or {}),
                       status=dict(body.get("status") or {}))

    async def _write(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await self._call(fn, *args)
        except Exception as exc:  # noqa: BLE001 - unwrapped by _on_error
            raise WriteFailed(exc) from exc

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await run_blocking(self.executor, fn, *args)


def _uid(body: Mapping[str, Any]) -> str:
    return (body.get("metadata") or {}).get("uid", "")


def _drifted(obj: Managed, observation: Observation) -> list[str]:
    """Differences someone made in the workspace: the spec did not change since the object was
    Ready, and the desired state did not move (an alias resolving to another version is not
    drift)."""
    if obj.status.get("observedGeneration") != obj.generation or not _was_ready(obj):
        return []
    return [change for change in observation.diff if change not in observation.moved]


def _defers_status(current: Pass, requeue: float) -> bool:
    """A brand-new object whose create went out, of a kind whose create marks the object as its
    own: its first report waits for the re-poll that follows within STATUS_DEFER_MAX seconds,
    and then says what is true by then (often Ready already) -- one status write, not two.
    Meanwhile the status the API server defaulted (observedGeneration 0, no conditions) says
    "not reconciled yet" to kstatus and Argo CD, which is true."""
    return (current.registration.marks_ownership and not current.obj.status.get("conditions")
            and requeue <= STATUS_DEFER_MAX)


def _was_ready(obj: Managed) -> bool:
    ready = conditions.condition(obj.status, conditions.READY)
    return bool(ready and ready.get("status") == "True")


def validation_message(exc: ValidationError) -> str:
    """The first few problems of a spec that does not parse, as spec.<path>: <problem>."""
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()))
        problems.append(f"spec.{where}: {error.get('msg')}")
    return "; ".join(problems)
