"""kopf wiring, and nothing else: each handler hands the object to the scheduler or the engine.

Per kind: a daemon (the object's worker), a watch-event handler (wakes the worker on changes that
matter) and a deletion handler behind the ``lakeserve.dev/finalizer`` finalizer.
"""

from __future__ import annotations

import logging
import os
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf

from lakeserve.api.common import FINALIZER, GROUP, VERSION
from lakeserve.databricks.workspace import WorkspaceProvider
from lakeserve.kinds import registrations
from lakeserve.kube import KubeApi, load_client_config
from lakeserve.metrics import Metrics, http_session
from lakeserve.reconcile.engine import Engine, Registration
from lakeserve.reconcile.scheduler import Scheduler
from lakeserve.redact import install_log_redaction
from lakeserve.resources.base import Event
from lakeserve.settings import Settings

log = logging.getLogger(__name__)


class KopfEvents:
    """The engine's EventPort, posting through kopf's event queue."""

    def record(self, body: Any, event: Event) -> None:
        kopf.event(body, type="Warning" if event.warning else "Normal", reason=event.reason,
                   message=event.message[:1024])


class Runtime:
    """What the handlers share; built at operator startup."""

    scheduler: Scheduler | None = None
    kube: KubeApi | None = None
    executor: ThreadPoolExecutor | None = None


runtime = Runtime()


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    config = Settings.from_env()
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration")
    settings.posting.reporting_component = "lakeserve"
    settings.peering.lifetime = config.peering_lifetime
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    load_client_config()
    runtime.kube = KubeApi()
    runtime.executor = ThreadPoolExecutor(max_workers=config.workers,
                                          thread_name_prefix="databricks")
    metrics = Metrics()
    if config.metrics_port:
        metrics.serve(config.metrics_port)
    workspaces = WorkspaceProvider(config, runtime.kube.read_secret,
                                   on_client=lambda client: metrics.instrument(http_session(client)))
    engine = Engine(config, workspaces, runtime.kube, KopfEvents(), registrations(config),
                    executor=runtime.executor, metrics=metrics)
    runtime.scheduler = Scheduler(engine)
    install_log_redaction()


@kopf.on.cleanup()
async def cleanup(**_: Any) -> None:
    if runtime.executor:
        runtime.executor.shutdown(wait=False, cancel_futures=True)
    if runtime.kube:
        runtime.kube.close()


def _register(registration: Registration) -> None:
    kind, plural = registration.info.kind, registration.info.plural

    @kopf.daemon(GROUP, VERSION, plural, id=f"{plural}-worker", cancellation_timeout=10.0)
    async def worker(body: kopf.Body, stopped: kopf.DaemonStopped, **_: Any) -> None:
        await runtime.scheduler.run_worker(kind, body, stopped)

    @kopf.on.event(GROUP, VERSION, plural, id=f"{plural}-notice")
    async def notice(body: kopf.Body, **_: Any) -> None:
        if runtime.scheduler:
            runtime.scheduler.notice(kind, body)

    @kopf.on.delete(GROUP, VERSION, plural, id=f"{plural}-finalize")
    async def finalize(body: kopf.Body, **_: Any) -> None:
        delay = await runtime.scheduler.engine.finalize(kind, body)
        if delay is not None:
            raise kopf.TemporaryError("the Databricks object is still being deleted", delay=delay)


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
    kopf.run(clusterwide=all_namespaces, namespaces=namespaces, liveness_endpoint=liveness,
             **_peering(config))
    return 0


def _peering(config: Settings) -> dict[str, Any]:
    if not config.peering:
        return {"standalone": True}
    priority = config.peering_priority or random.randint(1, 2**30)
    return {"standalone": False, "peering_name": config.peering, "priority": priority}
