"""Many objects at once: every worker progresses (finalizers, daemons and all)."""

from __future__ import annotations

import json

import pytest
import yaml

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

COUNT = 60


@pytest.mark.emulator_only("sixty endpoints at once, beyond a shared workspace's quota; turns "
                            "the write limit off")
def test_sixty_endpoints_all_become_ready_and_go_away(cluster, workspace, kubectl, poll):
    if workspace.emulator:
        workspace.emulator.control("POST", "/_emulator/registry/model-versions",
                                   {"name": "main.e2e.scale_model"})
        workspace.emulator.control("PUT", "/_emulator/settings",
                                   {"write_limit": {"limit": 0, "window_seconds": 300}})
    manifests = [{
        "apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
        "metadata": {"name": f"scale-{i:03d}"},
        "spec": {"name": f"{cluster.namespace}-scale-{i:03d}", "config": {"servedEntities": [
            {"entityName": "main.e2e.scale_model", "entityVersion": "1"}]}},
    } for i in range(COUNT)]
    try:
        cluster.apply("\n---\n".join(yaml.safe_dump(m) for m in manifests))

        def ready_count():
            items = json.loads(kubectl("get", "servingendpoints", "-n", cluster.namespace,
                                       "-o", "json").stdout)["items"]
            return sum(1 for item in items for c in item.get("status", {}).get("conditions", [])
                       if c["type"] == "Ready" and c["status"] == "True")

        poll(lambda: ready_count() == COUNT, timeout=180, interval=1,
             message=f"{COUNT} endpoints to be Ready")
        kubectl("delete", "servingendpoints", "--all", "-n", cluster.namespace, "--wait=true",
                "--timeout=120s", timeout=150)
        remaining = [e.name for e in workspace.client.serving_endpoints.list()
                     if e.name.startswith(f"{cluster.namespace}-scale-")]
        assert remaining == []
    finally:
        if workspace.emulator:
            workspace.emulator.control("PUT", "/_emulator/settings",
                                       {"write_limit": {"limit": 50, "window_seconds": 300}})
