"""Tags, AI gateway, sizing, environment variables, create-only fields and inference tables."""

from __future__ import annotations

import uuid

import pytest

from lakeserve.emulator.settings import FIDELITY_CHOICES
from lakeserve.reconcile import reasons

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


@pytest.fixture
def model(models, workspace):
    name = workspace.names.model(f"surface_{uuid.uuid4().hex[:6]}")
    models.register(name)
    return name


def single(name, model, **spec):
    entity = {"name": "only", "entityName": model, "entityVersion": "1",
              "workloadSize": "Small", "scaleToZeroEnabled": True}
    entity.update(spec.pop("entity", {}))
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name},
            "spec": {"config": {"servedEntities": [entity], **spec.pop("config", {})}, **spec}}


def writes(workspace, name, since):
    return [f"{c['method']} {c['path']}" for c in workspace.calls(since)["calls"]
            if c["method"] != "GET" and f"/serving-endpoints/{name}" in c["path"]
            or (c["method"] == "POST" and c["path"] == "/api/2.0/serving-endpoints"
                and (c.get("body") or {}).get("name") == name)]


def test_tags_go_through_the_tags_api(cluster, workspace, model):
    name = workspace.names.endpoint("tags")
    cluster.apply(single(name, model, tags=[{"key": "team", "value": "ml"}]))
    cluster.wait("servingendpoint", name)
    since = workspace.last_seq() if workspace.emulator else 0
    cluster.apply(single(name, model, tags=[{"key": "app", "value": "churn"}]))
    body = cluster.wait("servingendpoint", name)
    assert body["status"]["observedGeneration"] == 2
    if workspace.emulator:
        assert writes(workspace, name, since) == [
            f"PATCH /api/2.0/serving-endpoints/{name}/tags"]
    tags = {t.key: t.value for t in workspace.client.serving_endpoints.get(name).tags}
    assert tags["app"] == "churn" and "team" not in tags
    assert tags["lakeserve-owner"] == f"{cluster.namespace}/{name}"


def inference_table(workspace, prefix):
    """Where an endpoint's inference table goes: the run's schema, the run's prefix."""
    names = workspace.names
    where = {"catalogName": names.catalog, "schemaName": names.schema,
             "tableNamePrefix": names.object(prefix)}
    return where, f"{names.catalog}.{names.schema}.{names.object(prefix)}_payload"


def test_ai_gateway_and_inference_table(cluster, workspace, model, poll):
    name = workspace.names.endpoint("gateway")
    table, payload = inference_table(workspace, "gw")
    gateway = {"usageTrackingConfig": {"enabled": True},
               "rateLimits": [{"calls": 100, "key": "user"}],
               "guardrails": {"input": {"pii": {"behavior": "BLOCK"}}},
               "fallbackConfig": {"enabled": False},
               "inferenceTableConfig": table}
    cluster.apply(single(name, model, aiGateway=gateway))
    body = cluster.wait("servingendpoint", name)
    assert body["status"]["inferenceTable"] == payload
    observed = workspace.client.serving_endpoints.get(name).ai_gateway
    assert observed.usage_tracking_config.enabled and observed.rate_limits[0].calls == 100
    gateway["rateLimits"] = [{"calls": 5}]
    cluster.apply(single(name, model, aiGateway=gateway))
    poll(lambda: workspace.client.serving_endpoints.get(name).ai_gateway.rate_limits[0].calls
         == 5, message="the new rate limit")
    cluster.wait("servingendpoint", name)


@pytest.mark.emulator_only("a GPU workload and a secret reference only the local workspace "
                            "accepts without setup; the call log shows one update")
def test_sizing_environment_and_workload_type_in_one_update(cluster, workspace, model):
    workspace.require_emulator()
    name = workspace.names.endpoint("sizing")
    cluster.apply(single(name, model))
    cluster.wait("servingendpoint", name)
    since = workspace.last_seq()
    entity = {"workloadSize": None, "minProvisionedConcurrency": 4,
              "maxProvisionedConcurrency": 8, "workloadType": "GPU_SMALL",
              "scaleToZeroEnabled": False,
              "environmentVars": {"OPENAI_API_KEY": "{{secrets/ml/openai}}", "MODE": "ab"}}
    manifest = single(name, model, entity=entity)
    del manifest["spec"]["config"]["servedEntities"][0]["workloadSize"]
    cluster.apply(manifest)
    body = cluster.wait("servingendpoint", name)
    assert body["status"]["observedGeneration"] == 2
    assert writes(workspace, name, since) == [f"PUT /api/2.0/serving-endpoints/{name}/config"]
    (served,) = workspace.client.serving_endpoints.get(name).config.served_entities
    assert (served.min_provisioned_concurrency, served.max_provisioned_concurrency) == (4, 8)
    assert served.workload_type.value == "GPU_SMALL" and not served.scale_to_zero_enabled
    assert served.environment_vars["OPENAI_API_KEY"] == "{{secrets/ml/openai}}"


@pytest.mark.produces(reasons.RECREATING)
def test_create_only_change_with_recreate_replaces_the_endpoint(cluster, workspace, model):
    name = workspace.names.endpoint("recreate")
    cluster.apply(single(name, model, description="first", updatePolicy="Recreate"))
    cluster.wait("servingendpoint", name)
    first_id = workspace.client.serving_endpoints.get(name).id
    cluster.apply(single(name, model, description="second", updatePolicy="Recreate"))
    body = cluster.wait("servingendpoint", name)
    assert body["status"]["observedGeneration"] == 2
    endpoint = workspace.client.serving_endpoints.get(name)
    assert endpoint.description == "second" and endpoint.id != first_id
    assert "Recreating" in cluster.event_reasons(name)


def test_legacy_auto_capture_reports_the_payload_table(cluster, workspace, model):
    name = workspace.names.endpoint("capture")
    table, payload = inference_table(workspace, "cap")
    cluster.apply(single(name, model, config={"autoCaptureConfig": table}))
    body = cluster.wait("servingendpoint", name)
    assert body["status"]["inferenceTable"] == payload


@pytest.mark.emulator_only("chooses how the workspace answers writes during an update and "
                            "reads the call log")
@pytest.mark.parametrize("setting", FIDELITY_CHOICES["writes_while_updating"])
def test_one_write_at_a_time_while_the_config_updates(cluster, workspace, workspace_settings,
                                                      models, model, setting):
    """Config, tags, gateway and notifications changed at once: the config goes last and
    nothing else is sent until the update is over, whether or not the workspace would refuse."""
    workspace.require_emulator()
    workspace_settings(writes_while_updating=setting)
    models.register(model)
    name = workspace.names.endpoint(f"one-write-{setting}")
    cluster.apply(single(name, model))
    cluster.wait("servingendpoint", name)
    since = workspace.last_seq()
    cluster.apply(single(name, model, entity={"entityVersion": "2"},
                         tags=[{"key": "team", "value": "ml"}],
                         aiGateway={"usageTrackingConfig": {"enabled": True}},
                         emailNotifications={"onUpdateFailure": ["ml@example.com"]}))
    cluster.wait("servingendpoint", name)
    sent = writes(workspace, name, since)
    assert sent[-1] == f"PUT /api/2.0/serving-endpoints/{name}/config", sent
    assert len(sent) == 4, "each change sent once, none refused and retried"
    refused = [c for c in workspace.calls(since)["calls"]
               if f"/serving-endpoints/{name}" in c["path"] and c["status"] == 409]
    assert refused == []


def test_legacy_inference_table_enabled_again_with_recreate(cluster, workspace, model):
    """Databricks cannot enable a disabled legacy inference table; Recreate replaces the
    endpoint instead of sending an update that would be refused."""
    name = workspace.names.endpoint("capture-again")
    capture, payload = inference_table(workspace, "again")
    cluster.apply(single(name, model, updatePolicy="Recreate",
                         config={"autoCaptureConfig": {**capture, "enabled": False}}))
    cluster.wait("servingendpoint", name)
    first_id = workspace.client.serving_endpoints.get(name).id
    cluster.apply(single(name, model, updatePolicy="Recreate",
                         config={"autoCaptureConfig": capture}))
    body = cluster.wait("servingendpoint", name)
    assert body["status"]["observedGeneration"] == 2
    assert body["status"]["inferenceTable"] == payload
    assert workspace.client.serving_endpoints.get(name).id != first_id


def test_a_route_optimized_endpoint_reports_its_own_url(cluster, workspace, model):
    name = workspace.names.endpoint("route-optimized")
    cluster.apply(single(name, model, routeOptimized=True))
    body = cluster.wait("servingendpoint", name)
    endpoint = workspace.client.serving_endpoints.get(name)
    assert endpoint.endpoint_url and body["status"]["url"] == endpoint.endpoint_url
    listed = cluster.kubectl("get", "servingendpoint", name, "-n", cluster.namespace).stdout
    assert endpoint.endpoint_url in listed
