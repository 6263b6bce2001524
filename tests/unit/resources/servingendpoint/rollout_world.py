"""A small workspace for driving the rollout state machine: it serves whatever config it is
sent (at once, or after a failed deployment), and reports canary figures the test chooses."""

from __future__ import annotations

from typing import Any

from databricks.sdk.service.serving import ServingEndpointDetailed

from lakeserve.api.servingendpoint import ServingEndpointSpec
from lakeserve.resources.servingendpoint import compare, rollout
from lakeserve.resources.servingendpoint.desired import DesiredEndpoint, desired_endpoint
from lakeserve.resources.servingendpoint.endpoint_metrics import EntityMetrics
from tests import reasons as produced

MODEL = "main.ml.churn"
T0 = 1_800_000_000.0


def spec(versions: dict[str, str], routes: dict[str, int] | None = None,
         **rollout_spec: Any) -> ServingEndpointSpec:
    rollout_spec = {"steps": [{"trafficPercentage": 10, "pause": "0s"},
                              {"trafficPercentage": 50, "pause": "0s"}],
                    "analysis": {"interval": "10s", "minRequests": 5, "failureLimit": 0,
                                 "metrics": [{"name": "errorRate", "max": 0.05},
                                             {"name": "latencyP99Ms", "max": 200}]},
                    **rollout_spec}
    body: dict[str, Any] = {"config": {"servedEntities": [
        {"name": name, "entityName": MODEL, "entityVersion": version, "workloadSize": "Small"}
        for name, version in versions.items()]}, "rollout": rollout_spec}
    if routes:
        body["config"]["trafficConfig"] = {"routes": [
            {"servedEntityName": n, "trafficPercentage": p} for n, p in routes.items()]}
    return ServingEndpointSpec.model_validate(body)


def target_of(the_spec: ServingEndpointSpec) -> DesiredEndpoint:
    return desired_endpoint(the_spec, "ep", "ns/ep", lambda model, alias: "0")


def endpoint(config: DesiredEndpoint, config_update: str = "NOT_UPDATING",
             pending: DesiredEndpoint | None = None) -> ServingEndpointDetailed:
    body = {"name": "ep", "state": {"ready": "READY", "config_update": config_update},
            "config": _config(config, 1)}
    if pending is not None:
        body["pending_config"] = _config(pending, 2, failed=config_update == "UPDATE_FAILED")
    return ServingEndpointDetailed.from_dict(body)


def _config(config: DesiredEndpoint, version: int, failed: bool = False) -> dict[str, Any]:
    state = {"deployment": "DEPLOYMENT_FAILED", "deployment_state_message": "boom"} if failed \
        else {"deployment": "DEPLOYMENT_READY"}
    return {"config_version": version,
            "served_entities": [{"name": e.name, "entity_name": e.entity_name,
                                 "entity_version": e.entity_version, "workload_size": "Small",
                                 "workload_type": "CPU", "state": state}
                                for e in config.entities],
            "traffic_config": {"routes": [{"served_entity_name": n, "traffic_percentage": p}
                                          for n, p in config.routes]}}


def healthy(requests: float = 50) -> EntityMetrics:
    return EntityMetrics(requests=requests, latency_buckets=[(50.0, requests),
                                                             (float("inf"), requests)])


def failing(requests: float = 50, errors: float = 25) -> EntityMetrics:
    return EntityMetrics(requests=requests, errors_5xx=errors,
                         latency_buckets=[(50.0, requests), (float("inf"), requests)])


def slow(requests: float = 50) -> EntityMetrics:
    return EntityMetrics(requests=requests, latency_buckets=[(250.0, 0), (500.0, requests),
                                                             (float("inf"), requests)])


class World:
    """The spec, the served config, status.rollout and the clock, across passes."""

    def __init__(self, the_spec: ServingEndpointSpec, served: DesiredEndpoint):
        self.spec, self.served = the_spec, served
        self.state: dict | None = None
        self.now = T0
        self.metrics: dict[str, EntityMetrics] = {}
        self.reads = 0
        self.writes: list[DesiredEndpoint] = []
        self.events: list = []
        self.abort = False
        self.promote = False
        self.fail_next = False  # the next config sent fails to deploy
        self.failed = False  # the last config sent failed (UPDATE_FAILED)
        self.busy = False  # the last config sent is still deploying (IN_PROGRESS)

    def read(self) -> dict[str, EntityMetrics]:
        self.reads += 1
        return self.metrics

    def step(self, seconds: float = 0.0) -> rollout.Plan:
        """One pass after ``seconds``; a config that differs from the served one is sent and
        (unless it is to fail) deployed at once."""
        self.now += seconds
        target = target_of(self.spec)
        shown = endpoint(self.served)
        if self.busy or self.failed:
            shown = endpoint(self.served, "IN_PROGRESS" if self.busy else "UPDATE_FAILED",
                             self.writes[-1])
        plan = rollout.plan(rollout.Situation(
            rollout=self.spec.rollout, state=self.state, target=target, endpoint=shown,
            status={"lastAppliedConfig": {"configHash": self.writes[-1].config_hash()}}
            if self.writes else {}, abort=self.abort, promote=self.promote, now=self.now,
            read_metrics=self.read))
        self.state = plan.state
        produced.saw(*(e.reason for e in plan.events + plan.write_events),
                     *(pair[0] for pair in (plan.progress, plan.failed) if pair))
        self.events += plan.events + (plan.write_events if self._sends(plan.config) else [])
        if self._sends(plan.config):
            self.writes.append(plan.config)
            self.failed, self.fail_next = self.fail_next, False
            if not self.failed:
                self.served = plan.config
        return plan

    def _sends(self, config: DesiredEndpoint) -> bool:
        return not self.busy and bool(compare.config_diff(config, endpoint(self.served).config))

    def reasons(self) -> list[str]:
        return [e.reason for e in self.events]
