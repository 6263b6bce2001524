"""kopf wiring, and nothing else: watch events go to the scheduler, which runs the engine.

Per kind one watch-event handler and nothing else: no per-object daemons, no kopf deletion
handlers (the engine keeps its own ``lakeserve.dev/finalizer``), so kopf writes nothing to the
objects itself. The scheduler runs as one background task from startup to cleanup.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf

from lakeserve.api.common import GROUP, VERSION
from lakeserve.databricks.workspace import WorkspaceProvider
from lakeserve.kinds import registrations
from lakeserve.kube import KubeApi
from lakeserve.databricks.workspace import http_session
from lakeserve.metrics import Metrics
from lakeserve.peering import StreamPauses, follow
from lakeserve.reconcile.engine import Engine, Registration
from lakeserve.reconcile.scheduler import Scheduler
from lakeserve.redact import install_log_redaction
from lakeserve.settings import Settings
from lakeserve.sharding import label_selector

log = logging.getLogger(__name__)


class Runtime:
    """What the handlers share; built at operator startup."""

    scheduler: Scheduler | None = None
    kube: KubeApi | None = None
    executor: ThreadPoolExecutor | None = None
    dispatcher: asyncio.Task | None = None
    pauses: StreamPauses | None = None  # kopf's peering holds the scheduler back


runtime = Runtime()


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    config = Settings.from_env()
    # kopf itself writes nothing to the objects: no handler of it needs a finalizer (the engine
    # keeps its own, lakeserve.dev/finalizer, which kopf must not know as its own -- it would
    # remove it, as no kopf handler needs it) and no progress or diff-base annotations.
    settings.posting.reporting_component = "lakeserve"
    settings.persistence.diffbase_storage = NoDiffBase()
    settings.peering.lifetime = config.peering_lifetime
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    selector = label_selector(config.shard_index, config.shard_count)
    if selector:
        settings.watching.label_selectors[GROUP, kopf.EVERYTHING] = selector
    runtime.kube = KubeApi(lambda: kopf.login_via_client(logger=log, settings=settings),
                           connections=config.workers)
    await runtime.kube.start()
    runtime.executor = ThreadPoolExecutor(max_workers=config.workers,
                                          thread_name_prefix="databricks")
    metrics = Metrics()
    if config.metrics_port:
        metrics.serve(config.metrics_port)
    workspaces = WorkspaceProvider(config, runtime.kube.read_secret,
                                   on_client=lambda client: metrics.instrument(http_session(client)))
    engine = Engine(config, workspaces, runtime.kube, runtime.kube, registrations(config),
                    executor=runtime.executor, metrics=metrics)
    # Passes at once: several per Databricks thread, so that while some wait for Kubernetes the
    # threads stay busy and a burst of new objects gets its first reads early; a bound at all
    # keeps such a burst from piling up in memory.
    runtime.scheduler = Scheduler(engine, concurrency=4 * config.workers)
    if runtime.pauses:
        runtime.pauses.attach(runtime.scheduler)
    runtime.dispatcher = asyncio.create_task(runtime.scheduler.run(), name="lakeserve scheduler")
    install_log_redaction()


@kopf.on.cleanup()
async def cleanup(**_: Any) -> None:
    if runtime.dispatcher:
        runtime.dispatcher.cancel()
    if runtime.executor:
        runtime.executor.shutdown(wait=False, cancel_futures=True)
    if runtime.kube:
        await runtime.kube.close()


def _register(registration: Registration) -> None:
    kind, plural = registration.info.kind, registration.info.plural

    @kopf.on.event(GROUP, VERSION, plural, id=f"{plural}-notice")
    async def notice(body: kopf.Body, type: str | None, **_: Any) -> None:  # noqa: A002
        if runtime.scheduler:
            runtime.scheduler.notice(kind, body, type)


for _registration in registrations(Settings()).values():
    _register(_registration)


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
    if config.peering:
        runtime.pauses = follow((f"{r.info.plural}.{VERSION}.{GROUP}"
                                 for r in registrations(config).values()), verbose)
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
