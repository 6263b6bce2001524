"""Fake ports and a scripted external client for driving the engine in unit tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from lakeserve.api import servingendpoint
from lakeserve.databricks.limiter import WriteLimiter
from lakeserve.databricks.workspace import Workspace
from lakeserve.reconcile.engine import Engine, Registration
from lakeserve.resources.base import DeleteState, Event, Marker, Observation, WriteResult
from lakeserve.settings import Settings
from tests import reasons as produced

SETTINGS = Settings(drift_interval=300, converge_interval=5, error_backoff=5,
                    refused_backoff=60, refused_backoff_max=3600)


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386, as the API server applies the engine's status patches."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


@dataclass
class FakeKube:
    """Records status patches and applies them to ``status`` like the API server."""

    patches: list[dict] = field(default_factory=list)
    objects: dict[tuple[str, str], dict] = field(default_factory=dict)
    status: dict = field(default_factory=dict)
    log: list[str] | None = None
    metadata_patches: list[dict] = field(default_factory=list)
    finalizers: list[str] = field(default_factory=list)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # namespace -> labels
    secrets: dict[tuple[str, str], tuple[dict, str]] = field(default_factory=dict)
    secret_reads: list[tuple[str, str]] = field(default_factory=list)

    async def patch_status(self, info, namespace, name, patch):
        self.patches.append(patch)
        if self.log is not None:
            self.log.append("status")
        self.status = apply_merge_patch(self.status, patch)
        produced.saw_status(self.status)

    async def patch_metadata(self, info, namespace, name, patch):
        self.metadata_patches.append(patch)
        self.finalizers = list(patch["metadata"]["finalizers"])

    async def get_object(self, info, namespace, name):
        return self.objects.get((info.kind, name))

    async def namespace_labels(self, name):
        return self.labels.get(name)

    async def read_versioned_secret(self, namespace, name):
        self.secret_reads.append((namespace, name))
        return self.secrets.get((namespace, name))


@dataclass
class FakeEvents:
    events: list[Event] = field(default_factory=list)

    def record(self, body, event):
        self.events.append(event)
        produced.saw(event.reason)

    def reasons(self):
        return [e.reason for e in self.events]

    def warnings(self):
        return [e for e in self.events if e.warning]


class FakeWorkspaces:
    source = "Secret ops/databricks"

    def __init__(self, error: Exception | None = None):
        self.error = error
        self.limiter = WriteLimiter(limit=0)

    def get(self):
        if self.error:
            raise self.error
        return Workspace(client=None, host="https://example", limiter=self.limiter)

    def current(self):
        return None  # always the blocking get(), so that ``error`` is raised


def existing(**fields: Any) -> Observation:
    """An observation of an existing object that carries this resource's marker."""
    return Observation(**{"exists": True, "name": "ep", "marker": Marker.OURS, **fields})


def missing(**fields: Any) -> Observation:
    return Observation(**{"exists": False, "name": "ep", **fields})


class ScriptedClient:
    """observe/locate return the next scripted Observation (or raise it); writes are recorded,
    and fail with ``write_error`` when one is given."""

    def __init__(self, observations: list[Any], write_error: Exception | None = None,
                 log: list[str] | None = None):
        self.observations = list(observations)
        self.write_error = write_error
        self.writes: list[str] = []
        self.log = log

    def observe(self, obj):
        item = self.observations.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    locate = observe

    def _write(self, what):
        self.writes.append(what)
        if self.log is not None:
            self.log.append(what)
        if self.write_error:
            raise self.write_error
        return WriteResult()

    def create(self, obj, observation):
        return self._write("create")

    def update(self, obj, observation):
        return self._write("update")

    def delete(self, obj):
        self._write("delete")
        return DeleteState.GONE


def body(generation=1, status=None, spec=None, name="ep", annotations=None):
    return {
        "apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}",
                     "generation": generation, "annotations": annotations or {}},
        "spec": spec or {"config": {"servedEntities": [
            {"entityName": "main.default.model", "entityVersion": "1"}]}},
        "status": status or {},
    }


def spec(**fields):
    return {"config": {"servedEntities": [
        {"entityName": "main.default.model", "entityVersion": "1"}]}, **fields}


class Harness:
    """One engine with fake ports; ``run`` passes over a body, ``body`` follows the status."""

    def __init__(self, client, workspaces=None, settings=SETTINGS, dependencies=None,
                 others: dict | None = None, info=servingendpoint.INFO,
                 marks_ownership=False):
        self.client, self.kind = client, info.kind
        self.kube, self.events = FakeKube(), FakeEvents()
        registration = Registration(info=info, client_factory=lambda ws: client,
                                    dependencies=dependencies or (lambda spec: []),
                                    marks_ownership=marks_ownership)
        self.engine = Engine(settings, workspaces or FakeWorkspaces(), self.kube, self.events,
                             {info.kind: registration, **(others or {})})

    def run(self, the_body, restart=False):
        """One pass; ``restart`` forgets what the engine remembers, as a new process would."""
        if restart:
            self.engine.forget(the_body)
        return asyncio.run(self.engine.reconcile(self.kind, the_body))

    def finalize(self, the_body):
        return asyncio.run(self.engine.finalize(self.kind, the_body))

    def condition(self, type_):
        return next(c for c in self.kube.status["conditions"] if c["type"] == type_)


def run(client, the_body, workspaces=None, dependencies=None):
    harness = Harness(client, workspaces, dependencies=dependencies)
    outcome = harness.run(the_body)
    return outcome, harness
