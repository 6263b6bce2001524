"""A hundred endpoints at once: all become Ready and go away, and what must stay true at scale
holds -- one create per object, one read per object per drift interval, no write at steady state
(to Databricks or to Kubernetes). Asserted on the workspace's call log."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
import yaml

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

COUNT = 100
MODEL = "main.e2e.scale_model"
DRIFT_INTERVAL = 4.0  # OPERATOR_SETTINGS in conftest
DRIFT_PASSES = 3  # measured at steady state
CREATE = "POST /api/2.0/serving-endpoints"


def manifests(namespace):
    return [{
        "apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
        "metadata": {"name": f"scale-{i:03d}"},
        "spec": {"name": f"{namespace}-scale-{i:03d}", "config": {"servedEntities": [
            {"entityName": MODEL, "entityVersion": "1"}]}},
    } for i in range(COUNT)]


@pytest.mark.emulator_only("a hundred endpoints at once, beyond a shared workspace's quota; "
                            "turns the write limit off and reads the call log")
def test_a_hundred_endpoints_keep_one_create_one_read_per_drift_and_no_steady_writes(
        cluster, workspace, workspace_settings, kubectl, poll):
    emulator = workspace.require_emulator()
    emulator.control("POST", "/_emulator/registry/model-versions", {"name": MODEL})
    workspace_settings(write_limit={"limit": 0, "window_seconds": 300})
    names = {m["spec"]["name"] for m in manifests(cluster.namespace)}
    start = workspace.last_seq()
    cluster.apply("\n---\n".join(yaml.safe_dump(m) for m in manifests(cluster.namespace)))

    def items():
        return json.loads(kubectl("get", "servingendpoints", "-n", cluster.namespace,
                                  "-o", "json").stdout)["items"]

    poll(lambda: sum(map(_ready, items())) == COUNT, timeout=180, interval=1,
         message=f"{COUNT} endpoints to be Ready")

    creates = [c["body"]["name"] for c in _ours(workspace.calls(start)["calls"], names)
               if f"{c['method']} {c['path']}" == CREATE]
    assert sorted(creates) == sorted(names), "exactly one create per object"

    # Steady state: a few drift intervals, measured from here.
    versions = {i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in items()}
    steady = workspace.last_seq()

    def fewest_reads() -> int:
        reads = _reads(workspace.calls(steady)["calls"], names)
        return min(reads.values()) if len(reads) == COUNT else 0

    poll(lambda: fewest_reads() >= DRIFT_PASSES, timeout=DRIFT_INTERVAL * (DRIFT_PASSES + 3),
         interval=1, message=f"{DRIFT_PASSES} drift passes of every object")
    calls = _ours(workspace.calls(steady)["calls"], names)
    assert [f"{c['method']} {c['path']}" for c in calls if c["method"] != "GET"] == [], \
        "no Databricks write at steady state"
    for name, times in _read_times(calls).items():
        gaps = [b - a for a, b in zip(times, times[1:])]
        # The operator spreads drift passes by +-10 %; a gap under 0.85 intervals would be an
        # extra read, one of two intervals or more a missed pass.
        assert all(0.85 * DRIFT_INTERVAL <= gap < 2 * DRIFT_INTERVAL for gap in gaps), \
            f"{name}: reads {gaps} s apart, not one per {DRIFT_INTERVAL} s drift interval"
    after = {i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in items()}
    assert after == versions, "no Kubernetes write at steady state"

    kubectl("delete", "servingendpoints", "--all", "-n", cluster.namespace, "--wait=true",
            "--timeout=120s", timeout=150)
    remaining = [e.name for e in workspace.client.serving_endpoints.list() if e.name in names]
    assert remaining == []


def _ready(item) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in item.get("status", {}).get("conditions", [])) \
        and item["status"].get("observedGeneration") == item["metadata"]["generation"]


def _name_of(call) -> str | None:
    if call["path"] == "/api/2.0/serving-endpoints" and call["method"] == "POST":
        return (call["body"] or {}).get("name")
    parts = call["path"].split("/")
    return parts[4] if len(parts) > 4 and parts[3] == "serving-endpoints" else None


def _ours(calls, names):
    return [c for c in calls if _name_of(c) in names]


def _read_times(calls) -> dict[str, list[float]]:
    times = defaultdict(list)
    for call in calls:
        if call["method"] == "GET":
            times[_name_of(call)].append(call["time"])
    return times


def _reads(calls, names) -> dict[str, int]:
    return {name: len(times) for name, times in _read_times(_ours(calls, names)).items()}
