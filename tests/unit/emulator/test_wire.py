"""JSON bodies checked against the SDK dataclasses' type hints."""

from __future__ import annotations

import pytest
from databricks.sdk.service.serving import EndpointCoreConfigInput, ServingModelWorkloadType

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.wire import decode_json_object, parse

WRONG_SHAPES = [
    ("a boolean given as a string", {"served_entities": [{"scale_to_zero_enabled": "yes"}]},
     "MALFORMED_REQUEST",
     "expected a boolean for field 'config.served_entities[0].scale_to_zero_enabled'"),
    ("a list given as a map", {"served_entities": {"name": "a"}},
     "MALFORMED_REQUEST", "expected an array for field 'config.served_entities'"),
    ("an integer given as a string",
     {"traffic_config": {"routes": [{"traffic_percentage": "50"}]}},
     "MALFORMED_REQUEST",
     "expected an integer for field 'config.traffic_config.routes[0].traffic_percentage'"),
    ("a boolean is not an integer",
     {"traffic_config": {"routes": [{"traffic_percentage": True}]}},
     "MALFORMED_REQUEST", "expected an integer"),
    ("a non-string environment variable",
     {"served_entities": [{"environment_vars": {"A": 1}}]},
     "MALFORMED_REQUEST",
     "expected a string for field 'config.served_entities[0].environment_vars.A'"),
    ("an unknown enum value",
     {"served_entities": [{"workload_type": "TPU"}]},
     "INVALID_PARAMETER_VALUE", "Invalid value 'TPU' for config.served_entities[0].workload_type"),
]


@pytest.mark.parametrize("reason, body, code, message", WRONG_SHAPES,
                         ids=[case[0] for case in WRONG_SHAPES])
def test_wrong_shapes_are_refused_naming_the_field(reason, body, code, message):
    with pytest.raises(ApiError) as caught:
        parse(body, EndpointCoreConfigInput, "config")
    assert caught.value.status == 400
    assert caught.value.error_code == code, reason
    assert message in caught.value.message


def test_well_formed_bodies_become_dataclasses_and_unknown_fields_are_ignored():
    config = parse({"served_entities": [{"workload_type": "GPU_SMALL", "future_field": 1}],
                    "unknown": {"x": 1}, "traffic_config": None}, EndpointCoreConfigInput)
    assert config.served_entities[0].workload_type is ServingModelWorkloadType.GPU_SMALL
    assert config.traffic_config is None


@pytest.mark.parametrize("raw, expected", [(b"", {}), (b"  ", {}), (b'{"a": 1}', {"a": 1})])
def test_bodies_decode_to_objects(raw, expected):
    assert decode_json_object(raw) == expected


@pytest.mark.parametrize("raw", [b"{nope", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_malformed_bodies_are_refused(raw):
    with pytest.raises(ApiError) as caught:
        decode_json_object(raw)
    assert (caught.value.status, caught.value.error_code) == (400, "MALFORMED_REQUEST")
