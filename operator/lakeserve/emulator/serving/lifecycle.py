"""The endpoint state machine, driven by time and evaluated lazily on every read.

create  -> NOT_READY / IN_PROGRESS, the config only in ``pending_config``
        -> after the create delay: READY / NOT_UPDATING, ``config`` = that config
update  -> ``pending_config`` + IN_PROGRESS while the old ``config`` keeps serving
        -> after the update delay: config replaced, NOT_UPDATING
           (both wait, past the delay, until the revision's deployment has loaded its models)
failure -> UPDATE_FAILED, ``pending_config`` stays visible (or is cleared, by the
           ``failed_update_pending_config`` setting), the old ``config`` (if any) keeps
           serving and ``ready`` is unchanged

Delays are read from the current settings each time, so changing them also moves in-flight work
(a test can finish an update at once by setting the delay to 0).
"""

from __future__ import annotations

from collections.abc import Callable

from databricks.sdk.service.serving import (
    EndpointStateConfigUpdate,
    EndpointStateReady,
    ServedModelState,
    ServedModelStateDeployment,
)

from lakeserve.emulator.serving.model import ChangeKind, ConfigRevision, Endpoint

IN_PROGRESS = EndpointStateConfigUpdate.IN_PROGRESS
CREATING_MESSAGE = "Creating the served entity's container and deploying it."
ABORTED_MESSAGE = "Deployment aborted because another served entity of this config failed."

Delay = Callable[[ChangeKind], float]


def submit(endpoint: Endpoint, revision: ConfigRevision) -> None:
    endpoint.pending = revision
    endpoint.last_version = revision.version
    endpoint.config_update = IN_PROGRESS


def is_updating(endpoint: Endpoint) -> bool:
    return endpoint.config_update is IN_PROGRESS


def advance(endpoint: Endpoint, now: float, delay: Delay, keep_failed: bool = True) -> bool:
    """Finish the pending revision when its delay has passed; True when the endpoint changed.
    ``keep_failed`` False clears a failed revision from ``pending_config``."""
    revision = endpoint.pending
    if revision is None or endpoint.config_update is not IN_PROGRESS:
        return False
    if now < revision.submitted_at + delay(revision.kind):
        return False
    outcome = revision.deployment.outcome() if revision.deployment is not None else {}
    if outcome is None:  # the served entities' models are still loading
        return False
    revision.failures.update(outcome)
    if revision.failures:
        endpoint.config_update = EndpointStateConfigUpdate.UPDATE_FAILED
        if not keep_failed:
            endpoint.pending = None
        return True
    endpoint.active, endpoint.pending = revision, None
    endpoint.config_update = EndpointStateConfigUpdate.NOT_UPDATING
    endpoint.ready = EndpointStateReady.READY
    return True


def entity_state(endpoint: Endpoint, revision: ConfigRevision,
                 entity_name: str) -> ServedModelState:
    if revision is endpoint.active:
        return ServedModelState(deployment=ServedModelStateDeployment.DEPLOYMENT_READY)
    if endpoint.config_update is IN_PROGRESS:
        return ServedModelState(deployment=ServedModelStateDeployment.DEPLOYMENT_CREATING,
                                deployment_state_message=CREATING_MESSAGE)
    failure = revision.failures.get(entity_name)
    if failure is not None:
        return ServedModelState(deployment=ServedModelStateDeployment.DEPLOYMENT_FAILED,
                                deployment_state_message=failure)
    return ServedModelState(deployment=ServedModelStateDeployment.DEPLOYMENT_ABORTED,
                            deployment_state_message=ABORTED_MESSAGE)
