import pytest

from lakeserve.api.servingendpoint import ServingEndpointSpec
from lakeserve.databricks.errors import SpecError
from lakeserve.resources.servingendpoint.desired import OWNER_TAG, desired_endpoint


def spec(**config):
    return ServingEndpointSpec.model_validate({"config": {"servedEntities": [
        {"entityName": "main.ml.churn", **config}]}})


def test_single_entity_gets_all_traffic_explicitly():
    want = desired_endpoint(spec(entityVersion="4"), "churn", "ns/churn", None)
    assert want.routes == (("churn-4", 100),)
    assert want.traffic_config().as_dict() == {"routes": [
        {"served_entity_name": "churn-4", "traffic_percentage": 100}]}


def test_alias_keeps_the_entity_name_and_resolves_the_version():
    want = desired_endpoint(spec(entityAlias="champion"), "churn", "ns/churn",
                            lambda model, alias: "7")
    (entity,) = want.entities
    assert (entity.name, entity.entity_version, entity.entity_alias) == (
        "churn-champion", "7", "champion")
    assert entity.as_input().as_dict()["entity_version"] == "7"


def test_unresolvable_alias_is_a_spec_error():
    def missing(model, alias):
        raise SpecError("AliasNotFound", "nope")
    with pytest.raises(SpecError):
        desired_endpoint(spec(entityAlias="champion"), "churn", "ns/churn", missing)


def test_owner_tag_is_always_desired():
    want = desired_endpoint(spec(entityVersion="1"), "churn", "ns/churn", None)
    assert want.tags[OWNER_TAG] == "ns/churn"


def test_endpoint_name_defaults_to_metadata_name():
    assert desired_endpoint(spec(entityVersion="1"), "md-name", "o", None).name == "md-name"
