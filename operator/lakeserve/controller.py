"""kopf wiring, and nothing else: watch events go to the scheduler, which runs the engine.

The managed kinds (thousands of objects) are watched by the operator itself
(``lakeserve.watch``: list, then watch, straight into the scheduler's ``notice``; kopf's
per-event machinery was a quarter of the operator's CPU), one watch per kind and namespace
served. kopf has no handler for them: no per-object daemons, no deletion handlers (the engine
keeps its own ``lakeserve.dev/finalizer``), no index, so kopf neither reads nor writes them.
kopf runs the rest: start-up and clean-up, peering, probes, and the workspace kinds, Workspace
and ClusterWorkspace (a few objects), which have a daemon each (their worker), a watch-event
handler and a kopf deletion handler that keeps a workspace object while objects still need it
(asking the API server which, when deleting).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import random
from typing import Any

import kopf
from kopf._cogs.structs.references import match_namespace  # kopf's reading of its own patterns

from lakeserve.api import WORKSPACE_KINDS
from lakeserve.api.common import GROUP, VERSION
from lakeserve.api.crd import KindInfo
from lakeserve.api.workspace import CLUSTER_KIND
from lakeserve.databricks.clients import ClientBuilder
from lakeserve.databricks.limiter import HostLimiters
from lakeserve.databricks.tenants import WorkspaceClients
from lakeserve.databricks.http import http_session
from lakeserve.databricks.workspace import WorkspaceProvider
from lakeserve.kinds import registrations
from lakeserve.kube import KubeApi, collection
from lakeserve.metrics import Metrics
from lakeserve.peering import StreamPauses, follow
from lakeserve.reconcile.blocking import Threads, run_blocking
from lakeserve.reconcile.engine import Engine
from lakeserve.reconcile.scheduler import Scheduler
from lakeserve.reconcile.workers import WorkerScheduler
from lakeserve.reconcile.workspacecheck import WorkspaceChecker
from lakeserve.reconcile.workspaces import (
    WorkspaceResolver,
    serves_cluster_workspaces,
    users_of,
    workspace_key,
)
from lakeserve.redact import install_log_redaction
from lakeserve.resources.base import Event
from lakeserve.settings import Settings
from lakeserve.sharding import label_selector
from lakeserve.watch import KindWatch

log = logging.getLogger(__name__)


class KopfEvents:
    """The workspace check's EventPort, posting through kopf's event queue (which knows where
    events about cluster-scoped objects go)."""

    def record(self, body: Any, event: Event) -> None:
        kopf.event(body, type="Warning" if event.warning else "Normal", reason=event.reason,
                   message=event.message[:1024])


class Runtime:
    """What the handlers share; built at operator startup."""

    scheduler: Scheduler | None = None
    workspace_scheduler: WorkerScheduler | None = None
    resolver: WorkspaceResolver | None = None
    kube: KubeApi | None = None
    executor: Threads | None = None
    dispatcher: asyncio.Task | None = None
    pauses: StreamPauses | None = None  # kopf's peering holds the scheduler back
    builder: ClientBuilder | None = None
    # Where the managed objects live: the namespaces given, or None for all of them.
    served_namespaces: list[str] | None = None
    # kopf namespace patterns (globs, negations) given instead of names: watched cluster-wide,
    # objects of other namespaces dropped on arrival.
    namespace_patterns: list[str] | None = None
    warming: asyncio.Task | None = None
    watches: list[asyncio.Task] = []


runtime = Runtime()

# The collector's generation thresholds (CPython's default: 700, 10, 10). A burst of new objects
# keeps thousands of bodies and passes alive at once, so with 700 most young collections find
# survivors to promote, and the older generations fill and are walked again and again: 0.82 s of
# collection while 1,000 objects converge (840 young, 75 middle, 6 full). With 5,000 / 20 / 20
# short-lived objects die before they are looked at: 0.42 s (100, 4, 0), each young collection
# about 3 ms.
GC_THRESHOLDS = (5000, 20, 20)
# Passes at once, per Databricks thread. Many, so that a burst of new objects gets its first
# reads early: a pass waiting for a thread or for Kubernetes costs nothing but a coroutine, and
# the threads bound the calls to Databricks anyway. With 4 the last of 1,000 applies waited up
# to 3-4.5 s for a slot (first call p50 0.7-2.2 s, 16: 0.2-0.3 s) at the same CPU per object
# (A/B, BENCHMARKS.md). A bound at all keeps a burst from piling up in memory.
PASSES_PER_THREAD = 16


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    config = Settings.from_env()
    # kopf itself writes nothing to the managed objects: no handler of it needs a finalizer
    # (the engine keeps its own, lakeserve.dev/finalizer, which kopf must not know as its own --
    # it would remove it, as no kopf handler needs it) and no progress or diff-base annotations.
    settings.posting.reporting_component = "lakeserve"
    settings.persistence.diffbase_storage = NoDiffBase()
    # Only the workspace kinds have kopf handlers that keep progress (their deletion handler).
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.peering.lifetime = config.peering_lifetime
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    selector = label_selector(config.shard_index, config.shard_count)
    if selector:
        settings.watching.label_selectors[GROUP, kopf.EVERYTHING] = selector
    runtime.kube = KubeApi(lambda: kopf.login_via_client(logger=log, settings=settings),
                           connections=config.workers)
    await runtime.kube.start()
    runtime.executor = Threads(config.workers, "databricks")
    metrics = Metrics()
    if config.metrics_port:
        metrics.serve(config.metrics_port)
    engine, checker = _engines(config, metrics)
    runtime.scheduler = Scheduler(engine, concurrency=PASSES_PER_THREAD * config.workers)
    runtime.workspace_scheduler = WorkerScheduler(checker)
    if runtime.pauses:
        runtime.pauses.attach(runtime.scheduler)
    runtime.dispatcher = asyncio.create_task(runtime.scheduler.run(), name="lakeserve scheduler")
    runtime.watches = _start_watches(config, selector)
    if config.default_workspace:
        runtime.warming = asyncio.create_task(_warm(runtime.resolver.default),
                                              name="lakeserve default workspace")
    install_log_redaction()
    # What start-up made (modules, kopf's registry, pydantic's schemas: ~160,000 objects) lives
    # as long as the process: out of the collector's sight, a full collection no longer walks it.
    # With thousands of objects arriving, full collections are frequent (18 while 5,000 converge)
    # and this took their time from 6.5 s to 4.4 s.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _warm(default: WorkspaceProvider) -> None:
    """Build the default workspace's client before the first object needs it: otherwise the
    first burst of new objects waits behind one build (the SDK resolving its configuration).
    A failure here is only logged: the first pass that needs the client builds it again and
    reports what is wrong on that object."""
    try:
        await run_blocking(runtime.executor, default.get)
    except Exception as exc:  # noqa: BLE001 - reported by the passes that need it
        log.debug("the default workspace could not be built ahead of use: %s", type(exc).__name__)


def _engines(config: Settings, metrics: Metrics) -> tuple[Engine, WorkspaceChecker]:
    """The engine of the managed kinds and the check of the workspace kinds, sharing clients,
    write limiters and the resolution of workspaces."""
    def instrument(client: Any) -> None:
        metrics.instrument(http_session(client))

    runtime.builder = ClientBuilder(config.client_build_timeout)
    # With shards, each replica takes its part of every workspace's write budget.
    limiters = HostLimiters(config.writes_per_window, config.write_window, share=config.share_of)
    default = WorkspaceProvider(config, runtime.kube.read_secret, on_client=instrument,
                                builder=runtime.builder, limiters=limiters)
    clients = WorkspaceClients(config, runtime.builder, limiters, on_client=instrument)
    runtime.resolver = WorkspaceResolver(
        config, runtime.kube, default, clients, functools.partial(run_blocking, runtime.executor),
        wake=lambda uid: runtime.workspace_scheduler and runtime.workspace_scheduler.wake(uid))
    engine = Engine(config, default, runtime.kube, runtime.kube, registrations(config),
                    executor=runtime.executor, metrics=metrics, tenancy=runtime.resolver)
    # Events about cluster-scoped ClusterWorkspaces go where kopf puts them.
    checker = WorkspaceChecker(config, runtime.resolver, runtime.kube, KopfEvents(),
                               executor=runtime.executor, metrics=metrics)
    return engine, checker


def _start_watches(config: Settings, selector: str | None) -> list[asyncio.Task]:
    """One watch per managed kind and namespace served (or one cluster-wide)."""
    tasks = []
    for registration in registrations(config).values():
        info = registration.info
        deliver = functools.partial(_deliver, info.kind)
        for namespace in runtime.served_namespaces or [None]:
            watch = KindWatch(runtime.kube, collection(info, namespace), deliver, selector)
            tasks.append(asyncio.create_task(
                watch.run(), name=f"lakeserve watch {info.plural} {namespace or '(all)'}"))
    return tasks


def _deliver(kind: str, body: Any, event_type: str | None) -> None:
    patterns = runtime.namespace_patterns
    if patterns and not matches_namespace((body.get("metadata") or {}).get("namespace", ""),
                                          patterns):
        return
    if runtime.scheduler:
        runtime.scheduler.notice(kind, body, event_type)


@kopf.on.cleanup()
async def cleanup(**_: Any) -> None:
    for task in (runtime.dispatcher, runtime.warming, *runtime.watches):
        if task:
            task.cancel()
    if runtime.executor:
        runtime.executor.shutdown()
    if runtime.builder:
        runtime.builder.shutdown()
    if runtime.kube:
        await runtime.kube.close()


def _register_workspace_kind(info: KindInfo) -> None:
    kind, plural = info.kind, info.plural

    @kopf.daemon(GROUP, VERSION, plural, id=f"{plural}-worker", cancellation_timeout=10.0)
    async def worker(body: kopf.Body, stopped: kopf.DaemonStopped, **_: Any) -> None:
        await runtime.workspace_scheduler.run_worker(kind, body, stopped)

    @kopf.on.event(GROUP, VERSION, plural, id=f"{plural}-notice")
    async def notice(body: kopf.Body, type: str | None, **_: Any) -> None:  # noqa: A002
        if runtime.resolver:  # its objects' passes read the workspace object from here
            runtime.resolver.observe(kind, body, type)
        if runtime.workspace_scheduler:
            runtime.workspace_scheduler.notice(kind, body)

    @kopf.on.delete(GROUP, VERSION, plural, id=f"{plural}-finalize")
    async def finalize(body: kopf.Body, **_: Any) -> None:
        users = await users_of(runtime.kube, workspace_key(kind, body), MANAGED_INFOS,
                               runtime.served_namespaces)
        delay = await runtime.workspace_scheduler.engine.finalize(kind, body, users)
        if delay is not None:
            raise kopf.TemporaryError("objects still need this workspace", delay=delay)


def workspace_kinds_served(settings: Settings) -> list[KindInfo]:
    """Workspace always; ClusterWorkspace only where this installation serves it. One that does
    not must not even watch them: kopf's finalizer is one name shared by every kopf operator, and
    an operator with no deletion handler for an object removes it -- from the ClusterWorkspaces
    another installation keeps while its objects still need them."""
    return [info for info in WORKSPACE_KINDS
            if info.kind != CLUSTER_KIND or serves_cluster_workspaces(settings)]


MANAGED_INFOS = [_registration.info for _registration in registrations(Settings()).values()]
for _info in workspace_kinds_served(Settings.from_env()):
    _register_workspace_kind(_info)


def run_operator(namespaces: list[str], all_namespaces: bool, liveness: str | None,
                 verbose: bool) -> int:
    config = Settings.from_env()
    kopf.configure(verbose=verbose, log_format=kopf.LogFormat.JSON if config.log_format == "json"
                   else kopf.LogFormat.PLAIN)
    if not os.environ.get("LAKESERVE_DEBUG_HTTP"):
        # The SDK logs whole request and response bodies at DEBUG; keep them out of --verbose.
        for noisy in ("databricks.sdk", "urllib3", "kubernetes.client.rest"):
            logging.getLogger(noisy).setLevel(logging.INFO)
    install_log_redaction()
    # No log format here shows a record's thread, process or source line; not collecting them
    # is the logging module's documented optimization ("Optimization" in its HOWTO).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None  # noqa: SLF001 - the documented way to skip findCaller
    if not verbose:
        # kopf's per-object lines are about its own handling ("Handler '…-notice' succeeded."
        # for every watch event): at thousands of objects, most of the log and of its cost.
        # The engine logs what happens to each object itself.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    runtime.served_namespaces = served_namespaces(namespaces, all_namespaces)
    runtime.namespace_patterns = None if all_namespaces or runtime.served_namespaces \
        else list(namespaces) or None
    if config.peering:
        # kopf holds back its own watch-streams while another replica is active: those of the
        # workspace kinds, which it watches in the same namespaces as the managed kinds.
        runtime.pauses = follow((f"{info.plural}.{VERSION}.{GROUP}"
                                 for info in workspace_kinds_served(config)), verbose)
    kopf.run(clusterwide=all_namespaces, namespaces=namespaces, liveness_endpoint=liveness,
             **_peering(config))
    return 0


class NoDiffBase(kopf.DiffBaseStorage):
    """kopf keeps a copy of each object's "essence" to tell changes apart for its change
    handlers. The operator has none (the scheduler tells changes itself), so kopf stores nothing
    and builds nothing: it would deep-copy every body of every watch event for no reader."""

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        pass


def _peering(config: Settings) -> dict[str, Any]:
    if not config.peering:
        return {"standalone": True}
    priority = config.peering_priority or random.randint(1, 2**30)
    return {"standalone": False, "peering_name": config.peering, "priority": priority}


def matches_namespace(namespace: str, patterns: list[str]) -> bool:
    """Whether kopf, given these --namespace patterns, would serve the namespace."""
    return any(match_namespace(namespace, pattern) for pattern in patterns)


def served_namespaces(namespaces: list[str], all_namespaces: bool) -> list[str] | None:
    """The namespaces to list managed objects in; None (all) for a cluster-wide operator or
    when a namespace is given as a kopf pattern (globs, negations), which names no list."""
    if all_namespaces or not namespaces or any(set(ns) & set("*?[]!,") for ns in namespaces):
        return None
    return list(namespaces)
