"""The canary rollout state machine, pass by pass, against a workspace that serves what it is
sent and canary figures the test chooses."""

from __future__ import annotations

import pytest

from lakeserve.reconcile import reasons
from lakeserve.resources.servingendpoint import rollout
from lakeserve.resources.servingendpoint.rollout import (
    ANALYSIS_FAILED,
    PROMOTED,
    ROLLED_BACK,
    ROLLING_OUT,
    ROLLOUT_ABORTED,
    ROLLOUT_PROGRESSED,
    ROLLOUT_STARTED,
)
from tests.unit.resources.servingendpoint.rollout_world import (
    World,
    endpoint,
    failing,
    healthy,
    slow,
    spec,
    target_of,
)


def world(**rollout_spec) -> World:
    """champion served at v1; the spec now asks for v3."""
    return World(spec({"champion": "3"}, **rollout_spec), target_of(spec({"champion": "1"})))


def served(w: World) -> dict[str, tuple[str, int]]:
    shares = dict(w.served.routes)
    return {e.name: (e.entity_version, shares.get(e.name, 0)) for e in w.served.entities}


@pytest.mark.produces(ROLLOUT_STARTED, ROLLOUT_PROGRESSED, PROMOTED, ROLLING_OUT)
def test_a_healthy_canary_goes_through_every_step_and_is_promoted():
    w = world()
    w.metrics = {"champion-canary": healthy()}
    plan = w.step()
    assert served(w) == {"champion": ("1", 90), "champion-canary": ("3", 10)}
    assert plan.state["phase"] == "Progressing" and plan.state["step"] == 1
    assert plan.new_target, "the rollout's first write applies the spec's new version"

    plan = w.step()  # live: the step's clock starts; no check before one interval
    assert plan.progress[0] == ROLLING_OUT and w.reads == 0
    assert plan.requeue_after == pytest.approx(10)
    assert plan.state["stepStartedAt"]

    plan = w.step(10)  # the first check passes; pause 0s: step 2
    assert w.reads == 1
    assert served(w) == {"champion": ("1", 50), "champion-canary": ("3", 50)}
    assert plan.state["step"] == 2 and not plan.new_target
    w.step()
    w.step(10)  # step 2 passes: promoted
    assert served(w) == {"champion": ("3", 100)}
    assert w.state["phase"] == "Promoting"
    plan = w.step()
    assert plan.state is None and plan.progress is None, "the rollout is over"
    assert w.reasons() == [ROLLOUT_STARTED, ROLLOUT_PROGRESSED, PROMOTED]
    assert len(w.writes) == 3, "one config update per step, one to promote"
    assert all(sum(dict(c.routes).values()) == 100 for c in w.writes)


@pytest.mark.parametrize("figures, metric, shown", [
    (failing(), "errorRate", "0.5 (50.0%), over its limit 0.05 (5.0%)"),
    (slow(), "latencyP99Ms", "498 ms, over its limit 200 ms"),
], ids=["errors", "latency"])
@pytest.mark.produces(ANALYSIS_FAILED, ROLLED_BACK)
def test_a_failing_canary_is_rolled_back_and_held(figures, metric, shown):
    w = world()
    w.metrics = {"champion-canary": figures}
    w.step()
    w.step()
    plan = w.step(10)
    assert served(w) == {"champion": ("1", 100)}, "traffic back on the old version"
    assert plan.state["phase"] == "RolledBack"
    reason, message = plan.failed
    assert reason == ROLLED_BACK
    assert f"{metric} of champion-canary (v3) was {shown}" in message
    assert "Traffic is back on champion v1" in message
    assert ANALYSIS_FAILED in w.reasons()

    plan = w.step(3600)
    assert plan.failed[0] == ROLLED_BACK and len(w.writes) == 2, \
        "the failed version is not tried again"


def test_failed_checks_up_to_the_limit_are_tolerated():
    w = world(analysis={"interval": "10s", "minRequests": 5, "failureLimit": 1,
                        "metrics": [{"name": "errorRate", "max": 0.05}]})
    w.metrics = {"champion-canary": failing()}
    w.step()
    w.step()
    plan = w.step(10)
    assert plan.state["phase"] == "Progressing" and plan.state["failedChecks"] == 1
    assert plan.requeue_after == pytest.approx(10), "the next check comes one interval later"
    plan = w.step(10)
    assert plan.state["phase"] == "RolledBack"
    assert "2 failed checks, failureLimit 1" in plan.failed[1]


def test_too_few_requests_wait_instead_of_passing():
    w = world()
    w.metrics = {"champion-canary": healthy(requests=3)}
    w.step()
    w.step()
    for _ in range(5):
        plan = w.step(10)
    assert plan.state["step"] == 1, "no evidence, no progress"
    assert plan.state["lastAnalysis"]["result"] == "Inconclusive"
    assert "champion-canary answered 3 of the 5 requests" in plan.progress[1]
    w.metrics = {"champion-canary": healthy()}
    assert w.step(10).state["step"] == 2


def test_an_unreadable_metrics_export_waits_too():
    w = world()

    def broken():
        raise RuntimeError("HTTP 503")
    w.read = broken
    w.step()
    w.step()
    plan = w.step(10)
    assert plan.state["lastAnalysis"]["result"] == "Inconclusive"
    assert "could not be read: HTTP 503" in plan.state["lastAnalysis"]["message"]


def test_a_step_lasts_at_least_its_pause():
    w = world(steps=[{"trafficPercentage": 20, "pause": "5m"}])
    w.metrics = {"champion-canary": healthy()}
    w.step()
    w.step()
    plan = w.step(10)
    assert plan.state["stepPassed"] and plan.state["step"] == 1
    assert plan.requeue_after == pytest.approx(10), "the next check before the pause ends"
    w.step(290)
    assert w.state["phase"] == "Promoting"


@pytest.mark.produces(ROLLOUT_ABORTED)
def test_abort_rolls_back_and_holds_until_the_annotation_is_removed():
    w = world()
    w.metrics = {"champion-canary": healthy()}
    w.step()
    w.abort = True
    plan = w.step()
    assert served(w) == {"champion": ("1", 100)}
    assert plan.failed[0] == ROLLOUT_ABORTED and plan.state["abortSeen"]
    assert w.step(600).failed[0] == ROLLOUT_ABORTED
    w.abort = False
    plan = w.step()
    assert plan.state["phase"] == "Progressing", "removing the annotation retries"
    assert served(w)["champion-canary"] == ("3", 10)


def test_a_version_that_failed_is_retried_by_setting_and_removing_abort():
    w = world()
    w.metrics = {"champion-canary": failing()}
    w.step(), w.step(), w.step(10)
    assert w.state["phase"] == "RolledBack"
    w.abort = True
    w.step()
    w.abort = False
    assert w.step().state["phase"] == "Progressing"


def test_promote_goes_to_the_new_version_at_once():
    w = world()
    w.step()
    w.promote = True
    plan = w.step()
    assert served(w) == {"champion": ("3", 100)}
    assert PROMOTED in w.reasons() and plan.state["phase"] == "Promoting"
    w.promote = False
    assert w.step().state is None


def test_a_new_version_after_a_rollback_starts_a_new_rollout():
    w = world()
    w.metrics = {"champion-canary": failing()}
    w.step(), w.step(), w.step(10)
    w.spec = spec({"champion": "4"})
    plan = w.step()
    assert plan.state["phase"] == "Progressing"
    assert plan.state["entities"][0]["canaryVersion"] == "4"
    assert served(w) == {"champion": ("1", 90), "champion-canary": ("4", 10)}


def test_the_version_back_to_the_old_one_ends_the_hold():
    w = world()
    w.metrics = {"champion-canary": failing()}
    w.step(), w.step(), w.step(10)
    w.spec = spec({"champion": "1"})
    plan = w.step()
    assert plan.state is None and plan.failed is None


def test_an_alias_moving_again_mid_rollout_restarts_from_the_old_version():
    w = world()
    w.step()
    w.spec = spec({"champion": "4"})
    w.step()
    assert served(w) == {"champion": ("1", 90), "champion-canary": ("4", 10)}
    assert w.reasons() == [ROLLOUT_STARTED, ROLLOUT_STARTED]
    assert "changed during the rollout" in w.events[-1].message


def test_a_canary_that_fails_to_deploy_is_rolled_back():
    w = world()
    w.fail_next = True
    w.step()
    plan = w.step()
    assert plan.state["phase"] == "RolledBack"
    assert "step 1/2 failed to deploy: " in plan.failed[1]
    assert "champion-canary (main.ml.churn v3): boom" in plan.failed[1]
    assert served(w) == {"champion": ("1", 100)}, "the old config kept serving"


def test_nothing_is_decided_while_an_update_is_in_flight():
    w = world()
    w.step()
    w.busy = True
    plan = w.step(3600)
    assert plan.config == w.writes[-1], "the step being deployed"
    assert w.reads == 0 and len(w.writes) == 1


def test_a_resumed_pass_continues_from_status():
    """Everything lives in status: a new process with the same status picks up the step."""
    w = world()
    w.metrics = {"champion-canary": healthy()}
    w.step(), w.step()
    saved = dict(w.state)
    fresh = World(w.spec, w.served)
    fresh.state, fresh.now, fresh.metrics, fresh.writes = saved, w.now + 10, w.metrics, w.writes
    plan = fresh.step()
    assert plan.state["step"] == 2 and fresh.reads == 1


def test_without_a_rollout_the_spec_is_applied_at_once():
    w = World(spec({"champion": "3"}), target_of(spec({"champion": "1"})))
    w.spec = w.spec.model_copy(update={"rollout": None})
    plan = w.step()
    assert plan.state is None and served(w) == {"champion": ("3", 100)}


def test_an_entity_without_traffic_is_not_canaried():
    w = World(spec({"a": "3", "shadow": "3"}, routes={"a": 100, "shadow": 0}),
              target_of(spec({"a": "3", "shadow": "1"}, routes={"a": 100, "shadow": 0})))
    plan = w.step()
    assert plan.state is None and served(w)["shadow"] == ("3", 0)


def test_an_ab_endpoint_splits_only_the_rolled_entitys_share():
    w = World(spec({"champion": "3", "challenger": "2"}, routes={"champion": 50,
                                                                 "challenger": 50}),
              target_of(spec({"champion": "1", "challenger": "2"},
                             routes={"champion": 50, "challenger": 50})))
    w.step()
    assert served(w) == {"champion": ("1", 45), "champion-canary": ("3", 5),
                         "challenger": ("2", 50)}


def test_observing_endpoints_creating_has_no_rollout():
    w = world()
    plan = rollout.plan(rollout.Situation(
        rollout=w.spec.rollout, state=None, target=target_of(w.spec),
        endpoint=endpoint(w.served).__class__.from_dict({"name": "ep"})))
    assert plan.state is None and plan.config == target_of(w.spec)


def test_the_rollback_write_says_what_it_does():
    w = world()
    w.metrics = {"champion-canary": failing()}
    w.step(), w.step(), w.step(10)
    updated = [e for e in w.events if e.reason == reasons.UPDATED]
    assert updated and "traffic returns to champion v1" in updated[0].message
