"""``spec.rollout`` of a ServingEndpoint: a metric-gated canary whenever a served entity's version
changes, and the progress it reports in ``status.rollout``.

The new version is served beside the old one as ``<entity>-canary``; traffic moves to it step by
step, each step checked against the endpoint's metrics export; a failed analysis sends the
traffic back to the old version. The spec stays the target throughout (Git and Argo CD see no
change); the progress lives in status.
"""

from __future__ import annotations

import re
from enum import Enum

from pydantic import Field

from lakeserve.api.common import GROUP, CamelModel, cel, validations

# "true" aborts a rollout in flight (traffic back to the old version) and holds the endpoint on
# it while set; removing it lets the version roll out again, a failed one included.
ROLLOUT_ABORT_ANNOTATION = f"{GROUP}/rollout-abort"
# Any new value promotes the rollout in flight at once (status.promoteRequestHandled records it).
PROMOTE_REQUESTED_ANNOTATION = f"{GROUP}/promote-requested-at"

DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
DURATION_HINT = "a duration such as 30s, 5m or 1h30m"
MAX_STEPS = 10
# A canary doubles its entity while the rollout runs; Databricks serves at most ten entities.
MAX_ROLLED_ENTITIES = 5
CANARY_SUFFIX = "-canary"
# Entity names get CANARY_SUFFIX and must stay within Databricks' 63 characters.
MAX_ROLLED_NAME = 63 - len(CANARY_SUFFIX)


def seconds(duration: str) -> float:
    """Seconds of a duration matching DURATION_PATTERN ("" or "0s" is zero)."""
    match = re.fullmatch(DURATION_PATTERN, duration or "")
    if match is None:
        raise ValueError(f"{duration!r} is not {DURATION_HINT}")
    hours, minutes, secs = (int(part[:-1]) if part else 0 for part in match.groups())
    return hours * 3600.0 + minutes * 60.0 + secs


class RolloutStrategy(str, Enum):
    CANARY = "Canary"


class AnalysisMetricName(str, Enum):
    ERROR_RATE = "errorRate"
    LATENCY_P99_MS = "latencyP99Ms"
    LATENCY_P50_MS = "latencyP50Ms"


class AnalysisMetric(CamelModel):
    """A limit a canary must stay within, measured on its own requests of the last minute."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("self.name != 'errorRate' || self.max <= 1.0",
                "errorRate is a fraction of the requests (0.05 is 5%): max must be at most 1",
                reason="FieldValueInvalid", field_path=".max"),
        )
    }

    name: AnalysisMetricName = Field(
        description="errorRate: (4xx + 5xx) / requests, a fraction from 0 to 1; latencyP99Ms "
                    "and latencyP50Ms: percentiles of the request latency in milliseconds. "
                    "Read from the endpoint metrics export (request_count_total, "
                    "request_4xx_count_total, request_5xx_count_total, request_latency_ms).")
    max: float = Field(ge=0, description="The highest value that passes.")


class Analysis(CamelModel):
    """How each step is checked."""

    interval: str = Field(
        default="1m", max_length=16, pattern=DURATION_PATTERN,
        description="Time between checks (at least 1s), e.g. 1m. The export reports the last "
                    "minute, so a shorter interval sees overlapping windows.")
    failure_limit: int = Field(
        default=0, ge=0, le=100,
        description="Failed checks tolerated in one rollout; one more rolls it back.")
    min_requests: int = Field(
        default=10, ge=1, le=1_000_000,
        description="Requests the canary must have answered in the window for a check to "
                    "count; with fewer the step waits rather than passes.")
    metrics: list[AnalysisMetric] = Field(
        min_length=1, max_length=3, description="The limits every check applies.",
        json_schema_extra={"x-kubernetes-list-type": "map",
                           "x-kubernetes-list-map-keys": ["name"]})


class RolloutStep(CamelModel):
    """One step: the canary's share of its entity's traffic, and how long it holds there."""

    traffic_percentage: int = Field(
        ge=1, le=99, description="Percentage of the entity's traffic the new version gets.")
    pause: str = Field(
        default="1m", max_length=16, pattern=DURATION_PATTERN,
        description="How long the step lasts at least; it ends once this has passed and a "
                    "check since the step began has passed.")


class Rollout(CamelModel):
    """How a new version of a served entity reaches its traffic."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("self.steps.map(s, s.trafficPercentage).isSorted() && self.steps.all(a, "
                "self.steps.exists_one(b, b.trafficPercentage == a.trafficPercentage))",
                "steps must raise trafficPercentage strictly, e.g. 10, 50 (after the last step "
                "the new version gets all of the traffic)", reason="FieldValueInvalid",
                field_path=".steps"),
        )
    }

    strategy: RolloutStrategy = Field(
        default=RolloutStrategy.CANARY,
        description="Canary: the new version is served beside the old one as <entity>-canary "
                    "and takes over its traffic step by step.")
    steps: list[RolloutStep] = Field(
        min_length=1, max_length=MAX_STEPS,
        description="Traffic percentages, rising; after the last step the new version gets "
                    "100% and the old one is removed.")
    analysis: Analysis = Field(description="Checks that decide whether a step passes.")


# ---- status ------------------------------------------------------------------------------------


class RolloutPhase(str, Enum):
    PROGRESSING = "Progressing"
    PROMOTING = "Promoting"
    ROLLED_BACK = "RolledBack"
    ABORTED = "Aborted"


class RolledEntity(CamelModel):
    """A served entity whose version is being rolled out."""

    name: str = Field(description="The served entity (its traffic share moves).")
    entity_name: str = Field(description="Its model.")
    stable_version: str = Field(description="The version it served before (the last good one).")
    canary_version: str = Field(description="The version being rolled out.")
    canary_name: str = Field(description="The served entity serving the new version meanwhile.")


class CanaryFigures(CamelModel):
    """One canary's figures at the last check (the last minute of the metrics export)."""

    name: str = Field(description="The canary served entity.")
    requests: int = Field(description="Requests it answered in the window.")
    error_rate: float | None = Field(default=None, description="(4xx + 5xx) / requests.")
    latency_p50_ms: float | None = Field(default=None, description="Median latency, ms.")
    latency_p99_ms: float | None = Field(default=None, description="99th percentile, ms.")


class AnalysisStatus(CamelModel):
    """The last check."""

    time: str = Field(description="When it ran (RFC 3339).")
    result: str = Field(description="Passed, Failed or Inconclusive (too few requests, or no "
                                    "figures).",
                        json_schema_extra={"enum": ["Passed", "Failed", "Inconclusive"]})
    message: str = Field(default="", description="What it found.")
    canaries: list[CanaryFigures] = Field(default_factory=list, description="Figures read.")


class RouteWeight(CamelModel):
    """A route of the config a rollout step sends."""

    served_entity_name: str = Field(description="Served entity name.")
    traffic_percentage: int = Field(description="Share of traffic.")


class RolloutStatus(CamelModel):
    """Where a rollout stands; absent when none runs or holds."""

    phase: RolloutPhase = Field(
        description="Progressing (stepping), Promoting (100% sent), RolledBack (a check failed "
                    "or the canary failed to deploy; held on the old version until the version "
                    "changes again) or Aborted (lakeserve.dev/rollout-abort).")
    step: int | None = Field(default=None, description="Current step, from 1.")
    steps: int | None = Field(default=None, description="Number of steps.")
    traffic_percentage: int | None = Field(
        default=None, description="The canary's share of its entity's traffic at this step.")
    step_started_at: str | None = Field(
        default=None, description="When the step's config went live (RFC 3339).")
    step_passed: bool | None = Field(
        default=None, description="A check has passed since the step went live.")
    last_check_at: str | None = Field(default=None, description="When the last check ran.")
    failed_checks: int | None = Field(default=None, description="Failed checks so far.")
    entities: list[RolledEntity] = Field(default_factory=list,
                                         description="The entities being rolled out.")
    weights: list[RouteWeight] = Field(default_factory=list,
                                       description="Routes of the current step's config.")
    last_analysis: AnalysisStatus | None = Field(default=None, description="The last check.")
    message: str | None = Field(default=None,
                                description="Why the rollout was rolled back or aborted.")
    abort_seen: bool | None = Field(
        default=None, description="lakeserve.dev/rollout-abort was set while holding: removing "
                                  "it rolls the version out again.")
