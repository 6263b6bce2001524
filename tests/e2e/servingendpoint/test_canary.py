"""Safe promotions: moving @champion rolls the new version out as a metric-gated canary, with real
traffic through the local workspace (a logged sklearn model, queried all along), the operator's
checks reading the endpoint metrics export, and every config write on the call log.

The operator here is one of the module's own (namespaces ``cny-*``), so a test can kill it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import datetime

import mlflow
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config

from lakeserve.api.rollout import PROMOTE_REQUESTED_ANNOTATION, ROLLOUT_ABORT_ANNOTATION
from lakeserve.emulator.settings import FIDELITY_CHOICES
from lakeserve.reconcile import reasons
from lakeserve.resources.servingendpoint import rollout
from tests.e2e.conftest import OPERATOR_SETTINGS, Cluster, module_operator
from tests.integration.churn_model import churn_features, log_churn_model

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240),
              pytest.mark.emulator_only("injects failures into the canary, chooses the metrics "
                                        "window and counts the rollout's writes in the call log")]

PREFIX = "cny-"
INTERVAL = 2.0  # seconds between checks
ANALYSIS = {"interval": "2s", "failureLimit": 0, "minRequests": 5,
            "metrics": [{"name": "errorRate", "max": 0.1}, {"name": "latencyP99Ms", "max": 250}]}
STEPS = [{"trafficPercentage": 20, "pause": "2s"}, {"trafficPercentage": 50, "pause": "2s"}]
# The export's window: short, so each check sees the traffic of its step.
WINDOW_SECONDS = 3.0


canary_operator = module_operator("canary", OPERATOR_SETTINGS, PREFIX)


@pytest.fixture(scope="module")
def model_source(workspace, tmp_path_factory) -> str:
    """A real sklearn model, logged once into the local workspace's tracking store; the path of
    its artifacts, which registered versions name as their source."""
    emulator = workspace.require_emulator()
    uri = log_churn_model(emulator.registry_uri, emulator.data_dir / "canary-artifacts")
    client = mlflow.MlflowClient(tracking_uri=emulator.registry_uri)
    return client.get_logged_model(uri.removeprefix("models:/")).artifact_location


@pytest.fixture
def model(workspace, model_source) -> str:
    """main.e2e.canary_*: version 1 is @champion, version 2 the one to roll out."""
    name = f"main.e2e.canary_{uuid.uuid4().hex[:6]}"
    for aliases in (["champion"], []):
        workspace.emulator.control("POST", "/_emulator/registry/model-versions",
                                   {"name": name, "source": model_source, "aliases": aliases})
    return name


@pytest.fixture
def cluster(namespaces, canary_operator, workspace_settings) -> Cluster:
    workspace_settings(metrics_window_seconds=WINDOW_SECONDS)
    return namespaces(PREFIX)


def manifest(name: str, model: str, steps=STEPS, analysis=ANALYSIS) -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": "churn"},
            "spec": {"name": name, "config": {"servedEntities": [
                {"name": "champion", "entityName": model, "entityAlias": "champion",
                 "workloadSize": "Small", "scaleToZeroEnabled": True}]},
                "rollout": {"strategy": "Canary", "steps": steps, "analysis": analysis}}}


class Traffic:
    """Queries the endpoint without pause from a thread; counts who answered and how."""

    def __init__(self, workspace, name: str):
        self.client = WorkspaceClient(config=Config(host=workspace.host, token=workspace.token,
                                                    http_timeout_seconds=10,
                                                    retry_timeout_seconds=5))
        self.name, self.answered = name, Counter()
        self.records = churn_features(5, seed=3).to_dict(orient="records")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                answer = self.client.serving_endpoints.query(name=self.name,
                                                             dataframe_records=self.records)
                self.answered[answer.served_model_name] += 1
            except Exception as error:  # noqa: BLE001 - an error answer is traffic too
                self.answered[f"error {getattr(error, 'error_code', type(error).__name__)}"] += 1
                time.sleep(0.01)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(15)


class Rollout:
    """One endpoint with a rollout: the object, its traffic and what it cost on the call log."""

    def __init__(self, cluster: Cluster, workspace, models, model: str, poll):
        self.cluster, self.workspace, self.models, self.model = cluster, workspace, models, model
        self.poll = poll
        self.name = f"{cluster.namespace}-churn"
        self.since = 0
        self.phases: list[tuple] = []

    def create(self, **spec) -> None:
        self.cluster.apply(manifest(self.name, self.model, **spec))
        self.cluster.wait("servingendpoint", "churn", timeout=120)
        self.since = self.workspace.last_seq()

    def move_alias(self, version: int = 2) -> None:
        self.models.set_alias(self.model, "champion", version)

    def body(self) -> dict:
        body = self.cluster.get("servingendpoint", "churn")
        state = (body.get("status") or {}).get("rollout") or {}
        seen = (state.get("phase"), state.get("step"), state.get("trafficPercentage"))
        if state and (not self.phases or self.phases[-1] != seen):
            self.phases.append(seen)
        return body

    def wait_for(self, predicate, message: str, timeout: float = 120) -> dict:
        return self.poll(lambda: (lambda b: b if predicate(b) else None)(self.body()),
                         timeout=timeout, interval=0.2, message=message)

    def until_condition(self, type_: str, reason: str, timeout: float = 120) -> dict:
        return self.wait_for(lambda b: _condition(b, type_) == ("True", reason),
                             f"{type_}={reason}", timeout)

    def served(self) -> dict[str, tuple[str, int]]:
        config = self.workspace.client.serving_endpoints.get(self.name).config
        shares = {r.served_entity_name: r.traffic_percentage
                  for r in config.traffic_config.routes}
        return {e.name: (e.entity_version, shares.get(e.name)) for e in config.served_entities}

    def calls(self) -> list[dict]:
        return [c for c in self.workspace.calls(self.since)["calls"]
                if f"/serving-endpoints/{self.name}/" in c["path"]]

    def config_writes(self) -> list[dict[str, tuple[str, int]]]:
        """Each config sent, as served entity -> (version, share)."""
        sent = []
        for call in self.calls():
            if call["method"] == "PUT" and call["path"].endswith("/config"):
                body = call["body"]
                shares = {r["served_entity_name"]: r["traffic_percentage"]
                          for r in body["traffic_config"]["routes"]}
                sent.append({e["name"]: (e["entity_version"], shares.get(e["name"]))
                             for e in body["served_entities"]})
        return sent

    def other_writes(self) -> list[str]:
        return [f"{c['method']} {c['path']}" for c in self.calls() if c["method"] != "GET"
                and not c["path"].endswith(("/config", "/invocations"))]

    def put_times(self) -> list[float]:
        return [c["time"] for c in self.calls()
                if c["method"] == "PUT" and c["path"].endswith("/config")]

    def passes_since(self, seq: int) -> int:
        return sum(1 for c in self.workspace.calls(seq)["calls"]
                   if c["method"] == "GET" and c["path"].endswith(f"/serving-endpoints/{self.name}"))

    def warnings(self) -> list[str]:
        return [e["reason"] for e in self.cluster.events("churn") if e["type"] == "Warning"]

    def event_reasons(self) -> list[str]:
        return self.cluster.event_reasons("churn")

    def annotate(self, key: str, value: str | None) -> None:
        setting = f"{key}-" if value is None else f"{key}={value}"
        self.cluster.kubectl("annotate", "servingendpoint", "churn", "-n",
                             self.cluster.namespace, setting, "--overwrite")


def _condition(body: dict, type_: str) -> tuple[str, str] | None:
    for condition in (body.get("status") or {}).get("conditions") or []:
        if condition["type"] == type_:
            return condition["status"], condition["reason"]
    return None


def _promoted(body: dict) -> bool:
    status = body.get("status") or {}
    served = {e["name"]: e.get("entityVersion") for e in status.get("servedEntities") or []}
    return _condition(body, "Ready") == ("True", reasons.READY) and served == {"champion": "2"} \
        and "rollout" not in status


@pytest.fixture
def canary(cluster, workspace, models, model, poll) -> Rollout:
    return Rollout(cluster, workspace, models, model, poll)


@pytest.mark.parametrize("label", FIDELITY_CHOICES["metrics_entity_label"])
@pytest.mark.produces(rollout.ROLLOUT_STARTED, rollout.ROLLOUT_PROGRESSED, rollout.PROMOTED,
                      rollout.ROLLING_OUT, reasons.ALIAS_MOVED)
def test_a_healthy_canary_is_promoted_through_every_step(canary, workspace, workspace_settings,
                                                         label):
    workspace_settings(metrics_entity_label=label)
    canary.create()
    with Traffic(workspace, canary.name) as traffic:
        canary.move_alias(2)
        canary.wait_for(_promoted, "the new version promoted to 100%")

    assert [p for p in canary.phases if p[0] == "Progressing"] == [
        ("Progressing", 1, 20), ("Progressing", 2, 50)]
    assert canary.config_writes() == [
        {"champion": ("1", 80), "champion-canary": ("2", 20)},
        {"champion": ("1", 50), "champion-canary": ("2", 50)},
        {"champion": ("2", 100)}], "one config update per step, one to promote"
    assert canary.other_writes() == [], "nothing else was written"
    assert canary.served() == {"champion": ("2", 100)}
    assert traffic.answered["champion-canary"] > 0, "the canary served real requests"
    reasons_seen = canary.event_reasons()
    for reason in (reasons.ALIAS_MOVED, rollout.ROLLOUT_STARTED, rollout.ROLLOUT_PROGRESSED,
                   rollout.PROMOTED):
        assert reason in reasons_seen
    assert canary.warnings() == []


@pytest.mark.parametrize("fault, metric", [
    ({"error_share": 0.8}, "errorRate of champion-canary (v2) was"),
    ({"added_latency_ms": 400}, "latencyP99Ms of champion-canary (v2) was"),
], ids=["errors", "latency"])
@pytest.mark.produces(rollout.ROLLED_BACK, rollout.ANALYSIS_FAILED)
def test_a_failing_canary_rolls_back_within_one_interval(canary, workspace, workspace_settings,
                                                         fault, metric):
    canary.create()
    workspace_settings(served_entity_faults={f"{canary.name}/champion-canary": fault})
    with Traffic(workspace, canary.name):
        canary.move_alias(2)
        body = canary.until_condition("Stalled", rollout.ROLLED_BACK)

    message = next(c["message"] for c in body["status"]["conditions"] if c["type"] == "Stalled")
    assert metric in message and "over its limit" in message
    assert "Traffic is back on champion v1" in message
    assert canary.config_writes() == [
        {"champion": ("1", 80), "champion-canary": ("2", 20)},
        {"champion": ("1", 100)}], "one step, then the rollback"
    assert canary.served() == {"champion": ("1", 100)}, "the canary is gone"
    failed_check = datetime.fromisoformat(
        body["status"]["rollout"]["lastAnalysis"]["time"].replace("Z", "+00:00")).timestamp()
    rollback = canary.put_times()[-1]
    assert rollback - failed_check < INTERVAL, "rolled back within one analysis interval"
    assert rollout.ANALYSIS_FAILED in canary.warnings()
    assert rollout.ROLLED_BACK in canary.warnings()

    seq = workspace.last_seq()
    canary.poll(lambda: canary.passes_since(seq) >= 2, timeout=30,
                message="two more passes over the held endpoint")
    assert len(canary.config_writes()) == 2, "the failed version is not tried again"


@pytest.mark.produces(rollout.ROLLOUT_ABORTED)
def test_abort_rolls_back_and_holds_and_promote_finishes_at_once(canary, workspace):
    long_steps = [{"trafficPercentage": 20, "pause": "10m"}]
    canary.create(steps=long_steps)
    with Traffic(workspace, canary.name):
        canary.move_alias(2)
        canary.wait_for(lambda b: ((b["status"].get("rollout") or {}).get("lastAnalysis")
                                   or {}).get("result") == "Passed",
                        "a passed check at step 1")
        canary.annotate(ROLLOUT_ABORT_ANNOTATION, "true")
        canary.until_condition("Stalled", rollout.ROLLOUT_ABORTED)
        assert canary.served() == {"champion": ("1", 100)}

        canary.annotate(ROLLOUT_ABORT_ANNOTATION, None)
        canary.wait_for(lambda b: (b["status"].get("rollout") or {}).get("phase")
                        == "Progressing", "the rollout to start again")
        canary.annotate(PROMOTE_REQUESTED_ANNOTATION, "2026-01-01T00:00:00Z")
        body = canary.wait_for(_promoted, "promoted at once, long before the 10m pause")

    assert body["status"]["promoteRequestHandled"] == "2026-01-01T00:00:00Z"
    assert canary.config_writes() == [
        {"champion": ("1", 80), "champion-canary": ("2", 20)},
        {"champion": ("1", 100)},
        {"champion": ("1", 80), "champion-canary": ("2", 20)},
        {"champion": ("2", 100)}]
    assert canary.other_writes() == []


def test_a_rollout_resumes_from_status_after_an_operator_restart(canary, workspace,
                                                                 canary_operator):
    steps = [{"trafficPercentage": 20, "pause": "6s"}, {"trafficPercentage": 50, "pause": "2s"}]
    canary.create(steps=steps)
    with Traffic(workspace, canary.name):
        canary.move_alias(2)
        body = canary.wait_for(lambda b: (b["status"].get("rollout") or {}).get("stepStartedAt"),
                               "step 1 live")
        started = body["status"]["rollout"]["stepStartedAt"]
        canary_operator.kill_and_restart()
        body = canary.wait_for(lambda b: (b["status"].get("rollout") or {}).get("step") == 2,
                               "step 2 after the restart")
        canary.wait_for(_promoted, "promoted after the restart")

    assert canary.config_writes() == [
        {"champion": ("1", 80), "champion-canary": ("2", 20)},
        {"champion": ("1", 50), "champion-canary": ("2", 50)},
        {"champion": ("2", 100)}], "no step sent twice, none skipped"
    step_one_live = datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
    assert canary.put_times()[1] >= step_one_live + 6, "step 1 kept its clock and its pause"
