"""A ServingEndpoint's canary rollout, as a state machine with no I/O of its own.

Given ``spec.rollout``, ``status.rollout`` as last written, the config the spec asks for (aliases
resolved), the endpoint as Databricks shows it and a way to read its metrics, :func:`plan` says
which config this pass converges to -- the spec's, a step's, or the last good one -- the next
``status.rollout``, the events and the condition. Every change of config it decides is one
``update_config``, sent by the client like any other (never while an update is in flight, through
the write limiter); reading the metrics export is a read, done only when a check is due.

    no rollout --version changes--> Progressing (step 1 .. n, each checked) --passed--> Promoting
        --live--> no rollout (Ready)
    Progressing --a check over failureLimit, or the canary fails to deploy--> RolledBack
    Progressing --lakeserve.dev/rollout-abort--> Aborted
    RolledBack / Aborted --version changes again, or the abort annotation is removed--> again

A step's clock starts when its config is live; a check is due one ``interval`` after the step
went live (or after the last check); a step ends when its ``pause`` has passed and its latest
conclusive check passed. Everything the machine needs survives in status, so an operator restart
resumes where it stood.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from databricks.sdk.service.serving import ServingEndpointDetailed

from lakeserve.api.rollout import (
    PROMOTE_REQUESTED_ANNOTATION,
    ROLLOUT_ABORT_ANNOTATION,
    Rollout,
    RolloutPhase,
    seconds,
)
from lakeserve.reconcile import reasons
from lakeserve.resources.base import Event
from lakeserve.resources.servingendpoint import analysis, canary, compare, facts, failures
from lakeserve.resources.servingendpoint.canary import Rolled
from lakeserve.resources.servingendpoint.desired import DesiredEndpoint
from lakeserve.resources.servingendpoint.endpoint_metrics import EntityMetrics

# Condition reasons: Reconciling while stepping, Stalled while holding on the old version.
ROLLING_OUT = "RollingOut"
ROLLED_BACK = "RolledBack"
ROLLOUT_ABORTED = "RolloutAborted"
# Event reasons.
ROLLOUT_STARTED = "RolloutStarted"
ROLLOUT_PROGRESSED = "RolloutProgressed"
PROMOTED = "Promoted"
ANALYSIS_FAILED = "AnalysisFailed"

MIN_INTERVAL_SECONDS = 1.0
MIN_REQUEUE_SECONDS = 0.5
_HOLDS = {RolloutPhase.ROLLED_BACK.value: ROLLED_BACK, RolloutPhase.ABORTED.value: ROLLOUT_ABORTED}

MetricsReader = Callable[[], Mapping[str, EntityMetrics]]


@dataclass
class Situation:
    """What one pass knows."""

    rollout: Rollout | None
    state: Mapping[str, Any] | None  # status.rollout as last written
    target: DesiredEndpoint  # the spec's config, aliases resolved
    endpoint: ServingEndpointDetailed
    status: Mapping[str, Any] = field(default_factory=dict)  # the object's status
    abort: bool = False  # lakeserve.dev/rollout-abort is "true"
    promote: bool = False  # an unhandled lakeserve.dev/promote-requested-at value
    now: float = 0.0
    read_metrics: MetricsReader = dict  # raises when the export cannot be read


@dataclass
class Plan:
    """What the pass converges to and reports."""

    config: DesiredEndpoint
    state: dict[str, Any] | None = None  # status.rollout (None: no rollout)
    events: list[Event] = field(default_factory=list)  # published this pass
    write_events: list[Event] = field(default_factory=list)  # go with the config write
    progress: tuple[str, str] | None = None  # Reconciling reason and message
    failed: tuple[str, str] | None = None  # Stalled reason and message
    requeue_after: float | None = None
    new_target: bool = True  # the write applies the spec's versions (announce alias moves)
    # A promote request was acted on, or found nothing to promote: it is spent.
    promote_spent: bool = False


def plan(s: Situation) -> Plan:
    if s.rollout is None or s.endpoint.config is None:
        # nothing to roll: created at once, or the rollout was removed
        return Plan(s.target, promote_spent=True)
    state = dict(s.state or {})
    if facts.is_in_progress(s.endpoint):
        return _deploying(s, state)
    phase = state.get("phase")
    if phase == RolloutPhase.PROGRESSING:
        return _progressing(s, state)
    if phase == RolloutPhase.PROMOTING:
        return _promoting(s, state)
    if phase in _HOLDS:
        return _holding(s, state)
    return _idle(s)


# ---- phases ------------------------------------------------------------------------------------


def _deploying(s: Situation, state: dict[str, Any]) -> Plan:
    """An update is in flight: keep to the config that was sent, decide nothing."""
    rolled, phase = _rolled(state), state.get("phase")
    config = s.target
    if rolled and phase == RolloutPhase.PROGRESSING:
        config = canary.step_config(s.target, rolled, _percentage(s.rollout, state))
    elif rolled and phase in _HOLDS:
        config = canary.stable_config(s.target, rolled)
    return Plan(config, state or None, new_target=False)


def _idle(s: Situation, why: str = "") -> Plan:
    rolled = canary.changed_versions(s.target, s.endpoint.config)
    if not rolled:
        return Plan(s.target, promote_spent=True)
    if s.abort:
        return _rollback(s, {}, rolled, RolloutPhase.ABORTED, (
            f"rollout of {_texts(rolled)} held: {ROLLOUT_ABORT_ANNOTATION} is \"true\"; remove "
            "it to roll the new version out"), abort_seen=True)
    if s.promote:
        return _promote(s, {}, rolled, f"{PROMOTE_REQUESTED_ANNOTATION} asked for it, without "
                                       "canary steps", new_target=True)
    return _start(s, rolled, why)


def _start(s: Situation, rolled: list[Rolled], why: str) -> Plan:
    percentage = s.rollout.steps[0].traffic_percentage
    config = canary.step_config(s.target, rolled, percentage)
    state = {"phase": RolloutPhase.PROGRESSING.value, "step": 1, "steps": len(s.rollout.steps),
             "trafficPercentage": percentage, "failedChecks": 0,
             "entities": [r.as_status() for r in rolled], "weights": canary.weights(config)}
    started = Event(ROLLOUT_STARTED, f"{why}rolling out {_texts(rolled)}: step 1/"
                                     f"{len(s.rollout.steps)} sends {percentage}% of the traffic "
                                     f"to {_canaries(rolled)}")
    return Plan(config, state, write_events=[started],
                progress=(ROLLING_OUT, _step_text(state, rolled) + ": deploying the canary"))


def _progressing(s: Situation, state: dict[str, Any]) -> Plan:
    rolled = _rolled(state)
    if canary.targets_moved(s.target, rolled):
        return _idle(s, why="the spec's version changed during the rollout; ")
    if s.abort:
        return _rollback(s, state, rolled, RolloutPhase.ABORTED, (
            f"aborted at step {state.get('step')}/{state.get('steps')}: "
            f"{ROLLOUT_ABORT_ANNOTATION} is \"true\"; remove it to roll the new version out "
            "again"), abort_seen=True)
    if s.promote:
        return _promote(s, state, rolled, f"{PROMOTE_REQUESTED_ANNOTATION} asked for it at step "
                                          f"{state.get('step')}/{state.get('steps')}")
    config = canary.step_config(s.target, rolled, _percentage(s.rollout, state))
    if _deploy_failed(s, config):
        return _rollback(s, state, rolled, RolloutPhase.ROLLED_BACK, (
            f"step {state.get('step')}/{state.get('steps')} failed to deploy: "
            f"{facts.failing_entities(s.endpoint.pending_config)}. {_held_text(rolled)}"))
    if compare.config_diff(config, s.endpoint.config) or not _serving(s.endpoint):
        return Plan(config, state, new_target=False, progress=(
            ROLLING_OUT, _step_text(state, rolled) + ": waiting for the step's config to go live"))
    return _measured(s, _live(state, s.now), rolled, config)


def _measured(s: Situation, state: dict[str, Any], rolled: list[Rolled],
              config: DesiredEndpoint) -> Plan:
    """The step is live: check when due, then advance, roll back or wait."""
    events: list[Event] = []
    if s.now >= _next_check(s.rollout, state):
        check = _check(s, rolled)
        state.update(lastCheckAt=_stamp(s.now), lastAnalysis=check.as_status(_stamp(s.now)))
        if check.result == analysis.PASSED:
            state["stepPassed"] = True
        elif check.result == analysis.FAILED:
            state.update(stepPassed=None, failedChecks=(state.get("failedChecks") or 0) + 1)
            limit = s.rollout.analysis.failure_limit
            events.append(Event(ANALYSIS_FAILED, f"{check.message} (failed check "
                                                 f"{state['failedChecks']}; failureLimit {limit})",
                                warning=True))
            if state["failedChecks"] > limit:
                return _rollback(s, state, rolled, RolloutPhase.ROLLED_BACK,
                                 _failure_text(state, rolled, check.message, limit), events)
    if state.get("stepPassed") and s.now >= _step_end(s.rollout, state):
        return _advance(s, state, rolled, events)
    return Plan(config, state, events, new_target=False, requeue_after=_wait(s, state),
                progress=(ROLLING_OUT, _step_text(state, rolled) + ": " + _latest(state)))


def _advance(s: Situation, state: dict[str, Any], rolled: list[Rolled],
             events: list[Event]) -> Plan:
    step, steps = state["step"], len(s.rollout.steps)
    if step >= steps:
        promoted = _promote(s, state, rolled, f"all {steps} steps passed")
        promoted.events = events + promoted.events
        return promoted
    percentage = s.rollout.steps[step].traffic_percentage
    config = canary.step_config(s.target, rolled, percentage)
    passed = (state.get("lastAnalysis") or {}).get("message", "")
    state = {**state, "step": step + 1, "steps": steps, "trafficPercentage": percentage,
             "weights": canary.weights(config), "stepStartedAt": None, "stepPassed": None,
             "lastCheckAt": None}
    moved = Event(ROLLOUT_PROGRESSED, f"step {step}/{steps} passed ({passed}); step "
                                      f"{step + 1}/{steps} sends {percentage}% of the traffic "
                                      f"to {_canaries(rolled)}")
    return Plan(config, state, events, [moved], new_target=False, progress=(
        ROLLING_OUT, _step_text(state, rolled) + ": deploying the step's config"))


def _promote(s: Situation, state: Mapping[str, Any], rolled: list[Rolled], why: str,
             new_target: bool = False) -> Plan:
    kept = {key: state[key] for key in ("lastAnalysis", "failedChecks") if key in state}
    promoting = {"phase": RolloutPhase.PROMOTING.value, **kept,
                 "entities": [r.as_status() for r in rolled],
                 "weights": canary.weights(s.target)}
    promoted = Event(PROMOTED, f"promoting {_texts(rolled)}: the new version takes all of the "
                               f"entity's traffic ({why}); the old version and any canary are "
                               "removed")
    return Plan(s.target, promoting, write_events=[promoted], new_target=new_target,
                progress=(ROLLING_OUT, f"promoting {_texts(rolled)}: deploying it at 100%"),
                promote_spent=True)


def _promoting(s: Situation, state: dict[str, Any]) -> Plan:
    rolled = _rolled(state)
    if canary.targets_moved(s.target, rolled):
        return _idle(s, why="the spec's version changed while promoting; ")
    if _deploy_failed(s, s.target):
        return _rollback(s, state, rolled, RolloutPhase.ROLLED_BACK, (
            "the new version failed to deploy at 100%: "
            f"{facts.failing_entities(s.endpoint.pending_config)}. {_held_text(rolled)}"))
    if not compare.config_diff(s.target, s.endpoint.config):
        return Plan(s.target)  # promoted: the rollout is over
    return Plan(s.target, state, new_target=False,
                progress=(ROLLING_OUT, f"promoting {_texts(rolled)}: deploying it at 100%"))


def _rollback(s: Situation, state: Mapping[str, Any], rolled: list[Rolled],
              phase: RolloutPhase, why: str, events: Sequence[Event] = (),
              abort_seen: bool = False) -> Plan:
    """Traffic back to the last good config; the canary is removed."""
    kept = {key: state[key] for key in ("lastAnalysis", "failedChecks") if key in state}
    held = {"phase": phase.value, **kept, "entities": [r.as_status() for r in rolled],
            "message": why, "abortSeen": abort_seen or None}
    back = Event(reasons.UPDATED, f"rolling back {_texts(rolled)}: traffic returns to "
                                  f"{_stable_texts(rolled)} and {_canaries(rolled)} is removed")
    return Plan(canary.stable_config(s.target, rolled), held, list(events), [back],
                failed=(_HOLDS[phase.value], why), new_target=False)


def _holding(s: Situation, state: dict[str, Any]) -> Plan:
    rolled = _rolled(state)
    seen = bool(state.get("abortSeen")) or s.abort
    if canary.targets_moved(s.target, rolled):
        return _idle(s)  # another version: a new rollout (or none, when back to the old one)
    if seen and not s.abort:
        return _idle(s, why=f"{ROLLOUT_ABORT_ANNOTATION} was removed; ")
    if s.promote and not s.abort:
        return _promote(s, state, rolled, f"{PROMOTE_REQUESTED_ANNOTATION} asked for it while "
                                          "rolled back")
    state["abortSeen"] = seen or None
    return Plan(canary.stable_config(s.target, rolled), state, new_target=False,
                failed=(_HOLDS[state["phase"]], state.get("message") or "rolled back"))


# ---- checks and time ---------------------------------------------------------------------------


def _check(s: Situation, rolled: list[Rolled]) -> analysis.Check:
    try:
        metrics = s.read_metrics()
    except Exception as error:  # noqa: BLE001 - no figures: the check waits, never passes
        return analysis.unavailable(rolled, str(error) or type(error).__name__)
    return analysis.check(s.rollout.analysis, rolled, metrics)


def _live(state: dict[str, Any], now: float) -> dict[str, Any]:
    if not state.get("stepStartedAt"):
        state["stepStartedAt"] = _stamp(now)
    return state


def _interval(rollout: Rollout) -> float:
    return max(MIN_INTERVAL_SECONDS, seconds(rollout.analysis.interval))


def _next_check(rollout: Rollout, state: Mapping[str, Any]) -> float:
    since = state.get("lastCheckAt") or state["stepStartedAt"]
    return _parse(since) + _interval(rollout)


def _step_end(rollout: Rollout, state: Mapping[str, Any]) -> float:
    pause = seconds(rollout.steps[min(state["step"], len(rollout.steps)) - 1].pause)
    return _parse(state["stepStartedAt"]) + pause


def _wait(s: Situation, state: Mapping[str, Any]) -> float:
    due = [_next_check(s.rollout, state)]
    if state.get("stepPassed"):
        due.append(_step_end(s.rollout, state))
    return max(MIN_REQUEUE_SECONDS, min(due) - s.now)


def _deploy_failed(s: Situation, config: DesiredEndpoint) -> bool:
    return facts.has_failed(s.endpoint) and \
        failures.failed_config_hash(config, s.endpoint, s.status) == config.config_hash()


def _serving(endpoint: ServingEndpointDetailed) -> bool:
    ready = endpoint.state.ready if endpoint.state else None
    return bool(ready and ready.value == "READY")


def _stamp(now: float) -> str:
    moment = datetime.fromtimestamp(now, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


# ---- state and text ----------------------------------------------------------------------------


def _rolled(state: Mapping[str, Any]) -> list[Rolled]:
    return [Rolled.from_status(entry) for entry in state.get("entities") or []]


def _percentage(rollout: Rollout, state: Mapping[str, Any]) -> int:
    step = min(max(state.get("step") or 1, 1), len(rollout.steps))
    return rollout.steps[step - 1].traffic_percentage


def _step_text(state: Mapping[str, Any], rolled: list[Rolled]) -> str:
    return (f"canary step {state.get('step')}/{state.get('steps')}, "
            f"{state.get('trafficPercentage')}% of the traffic on {_canaries(rolled)}")


def _latest(state: Mapping[str, Any]) -> str:
    last = state.get("lastAnalysis")
    if not last:
        return "first check after one analysis interval"
    return f"last check {last['result']}: {last['message']}"


def _failure_text(state: Mapping[str, Any], rolled: list[Rolled], found: str,
                  limit: int) -> str:
    return (f"canary failed analysis: {found} ({state['failedChecks']} failed checks, "
            f"failureLimit {limit}). {_held_text(rolled)}")


def _held_text(rolled: list[Rolled]) -> str:
    return (f"Traffic is back on {_stable_texts(rolled)}; the new version is not rolled out "
            f"again until the version changes (or set and remove {ROLLOUT_ABORT_ANNOTATION} to "
            "retry it)")


def _texts(rolled: list[Rolled]) -> str:
    return ", ".join(r.text() for r in rolled)


def _canaries(rolled: list[Rolled]) -> str:
    return ", ".join(f"{r.canary_name} (v{r.canary_version})" for r in rolled)


def _stable_texts(rolled: list[Rolled]) -> str:
    return ", ".join(f"{r.name} v{r.stable_version}" for r in rolled)
