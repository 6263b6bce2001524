"""ServingEndpointClient's reads, with a fake SDK client that counts calls."""

from types import SimpleNamespace

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.serving import ServingEndpointDetailed

from lakeserve.api.servingendpoint import ServingEndpointSpec
from lakeserve.databricks.limiter import WriteLimiter
from lakeserve.databricks.workspace import Workspace
from lakeserve.resources.base import Managed, Marker
from lakeserve.resources.servingendpoint import ServingEndpointClient
from lakeserve.resources.servingendpoint.client import owner_marker


class FakeSdk:
    def __init__(self):
        self.alias_lookups = []
        self.model_versions = SimpleNamespace(get_by_alias=self._get_by_alias)
        self.serving_endpoints = SimpleNamespace(get=self._get)

    def _get_by_alias(self, model, alias):
        self.alias_lookups.append((model, alias))
        return SimpleNamespace(version=3)

    def _get(self, name):
        raise NotFound("Endpoint does not exist", error_code="RESOURCE_DOES_NOT_EXIST")


def test_each_alias_is_resolved_once_per_pass():
    spec = ServingEndpointSpec.model_validate({"config": {
        "servedEntities": [
            {"name": "a", "entityName": "main.ml.churn", "entityAlias": "champion"},
            {"name": "b", "entityName": "main.ml.churn", "entityAlias": "champion",
             "workloadSize": "Medium"},
            {"name": "c", "entityName": "main.ml.churn", "entityAlias": "challenger"}],
        "trafficConfig": {"routes": [{"servedEntityName": "a", "trafficPercentage": 100}]}}})
    sdk = FakeSdk()
    client = ServingEndpointClient(Workspace(client=sdk, host="h", limiter=WriteLimiter()))
    observation = client.observe(Managed("ServingEndpoint", "ns", "ep", "uid", 1, spec))
    assert not observation.exists
    assert sorted(sdk.alias_lookups) == [("main.ml.churn", "challenger"),
                                         ("main.ml.churn", "champion")]


# (reason for the case, tags on the endpoint, expected marker, owner reported)
MARKERS = [
    ("no tags at all: made by hand", None, "None", None),
    ("other tags only", [{"key": "team", "value": "ml"}], "None", None),
    ("our owner tag", [{"key": "lakeserve-owner", "value": "ns/ep"}], "Ours", "ns/ep"),
    ("another object's owner tag", [{"key": "lakeserve-owner", "value": "team/churn"}],
     "Foreign", "team/churn"),
]


@pytest.mark.parametrize("case, tags, marker, owner", MARKERS, ids=[m[0] for m in MARKERS])
def test_the_owner_tag_is_the_marker(case, tags, marker, owner):
    endpoint = ServingEndpointDetailed.from_dict({"name": "ep", "tags": tags or []})
    assert owner_marker(endpoint, "ns/ep") == (Marker(marker), owner)


def test_locate_reads_only_the_endpoint():
    sdk = FakeSdk()
    client = ServingEndpointClient(Workspace(client=sdk, host="h", limiter=WriteLimiter()))
    spec = ServingEndpointSpec.model_validate({"name": "churn-prod", "config": {
        "servedEntities": [{"entityName": "main.ml.churn", "entityAlias": "gone"}]}})
    located = client.locate(Managed("ServingEndpoint", "ns", "ep", "uid", 1, spec))
    assert (located.exists, located.name) == (False, "churn-prod")
    assert sdk.alias_lookups == [], "deleting never depends on an alias still resolving"


def test_a_missing_endpoint_says_what_a_create_will_record():
    spec = ServingEndpointSpec.model_validate({"config": {"servedEntities": [
        {"name": "a", "entityName": "main.ml.churn", "entityVersion": "4"}]}})
    client = ServingEndpointClient(Workspace(client=FakeSdk(), host="h", limiter=WriteLimiter()))
    observation = client.observe(Managed("ServingEndpoint", "ns", "ep", "uid", 3, spec))
    applied = observation.create_status["lastAppliedConfig"]
    assert applied["generation"] == 3
    assert applied["servedEntities"] == [{"name": "a", "entityName": "main.ml.churn",
                                          "entityVersion": "4"}]


class FeatureServingSdk(FakeSdk):
    """A workspace without the endpoint, holding the given feature specs."""

    def __init__(self, specs=()):
        super().__init__()
        self.specs, self.created = set(specs), []
        self.feature_engineering = SimpleNamespace(get_feature_spec=self._get_spec)
        self.serving_endpoints.create = lambda **kwargs: self.created.append(kwargs)

    def _get_spec(self, name):
        if name not in self.specs:
            raise NotFound(f"Feature spec '{name}' does not exist.",
                           error_code="RESOURCE_DOES_NOT_EXIST")
        return SimpleNamespace(name=name)


FEATURE_SERVING = {"config": {"servedEntities": [
    {"entityName": "main.churn.churn_features", "workloadSize": "Small",
     "scaleToZeroEnabled": True}]}}


def test_a_feature_spec_is_served_without_a_version_under_its_own_name():
    sdk = FeatureServingSdk({"main.churn.churn_features"})
    client = ServingEndpointClient(Workspace(client=sdk, host="h", limiter=WriteLimiter()))
    obj = Managed("ServingEndpoint", "ns", "ep", "uid", 1,
                  ServingEndpointSpec.model_validate(FEATURE_SERVING))
    observation = client.observe(obj)
    client.create(obj, observation)
    (entity,) = sdk.created[0]["config"].served_entities
    assert (entity.name, entity.entity_name, entity.entity_version) == \
        ("churn_features", "main.churn.churn_features", None)
    assert observation.create_status["lastAppliedConfig"]["servedEntities"] == [
        {"name": "churn_features", "entityName": "main.churn.churn_features",
         "entityVersion": None}]


def test_a_missing_feature_spec_is_named_and_nothing_is_created():
    from lakeserve.databricks.errors import SpecError

    sdk = FeatureServingSdk()
    client = ServingEndpointClient(Workspace(client=sdk, host="h", limiter=WriteLimiter()))
    obj = Managed("ServingEndpoint", "ns", "ep", "uid", 1,
                  ServingEndpointSpec.model_validate(FEATURE_SERVING))
    with pytest.raises(SpecError) as caught:
        client.create(obj, client.observe(obj))
    assert caught.value.reason == "NotFound"
    assert "served entity churn_features: main.churn.churn_features has neither entityVersion " \
           "nor entityAlias, so it must be a feature spec" in caught.value.message
    assert sdk.created == []
