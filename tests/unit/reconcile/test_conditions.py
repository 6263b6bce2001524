from lakeserve.reconcile import reasons
from lakeserve.reconcile.conditions import Verdict, build_conditions, is_ready


def by_type(conditions):
    return {c["type"]: c for c in conditions}


def test_exactly_one_condition_is_true():
    for verdict in (Verdict.ready(), Verdict.reconciling(reasons.CREATING, "x"),
                    Verdict.stalled(reasons.REJECTED, "y")):
        conditions = build_conditions(verdict, 3, None, now="t0")
        assert [c["type"] for c in conditions if c["status"] == "True"] == [verdict.phase.value]
        assert all(c["observedGeneration"] == 3 for c in conditions)


def test_ready_false_carries_the_reason_for_kubectl_get():
    conditions = by_type(build_conditions(Verdict.stalled(reasons.UPDATE_FAILED, "boom"), 1,
                                          None, now="t0"))
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == reasons.UPDATE_FAILED
    assert conditions["Ready"]["message"] == "boom"


def test_transition_time_changes_only_when_status_flips():
    first = build_conditions(Verdict.reconciling(reasons.CREATING), 1, None, now="t0")
    second = build_conditions(Verdict.reconciling(reasons.UPDATING), 2, first, now="t1")
    assert by_type(second)["Reconciling"]["lastTransitionTime"] == "t0"
    third = build_conditions(Verdict.ready(), 2, second, now="t2")
    assert by_type(third)["Reconciling"]["lastTransitionTime"] == "t2"
    assert by_type(third)["Ready"]["lastTransitionTime"] == "t2"
    assert by_type(third)["Stalled"]["lastTransitionTime"] == "t0"


def test_is_ready_needs_the_current_generation():
    status = {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]}
    assert is_ready({"metadata": {"generation": 1}, "status": status})
    assert not is_ready({"metadata": {"generation": 2}, "status": status})
    assert not is_ready({"metadata": {"generation": 1}, "status": {}})
