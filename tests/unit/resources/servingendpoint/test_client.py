"""ServingEndpointClient's reads, with a fake SDK client that counts calls."""

from types import SimpleNamespace

from databricks.sdk.errors import NotFound

from lakeserve.api.servingendpoint import ServingEndpointSpec
from lakeserve.databricks.limiter import WriteLimiter
from lakeserve.databricks.workspace import Workspace
from lakeserve.resources.base import Managed
from lakeserve.resources.servingendpoint import ServingEndpointClient


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
