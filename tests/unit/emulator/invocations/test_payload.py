"""Invocation bodies: each input shape, and each way a body is refused."""

from __future__ import annotations

import json

import pytest

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.invocations.payload import (
    MAX_PAYLOAD_BYTES,
    InvocationRequest,
    check_size,
    parse_request,
)


def parse(body) -> InvocationRequest:
    return parse_request(json.dumps(body).encode())


def refused(raw: bytes | dict, status: int = 400, code: str = "BAD_REQUEST") -> str:
    with pytest.raises(ApiError) as caught:
        parse_request(raw if isinstance(raw, bytes) else json.dumps(raw).encode())
    assert (caught.value.status, caught.value.error_code) == (status, code)
    return caught.value.message


@pytest.mark.parametrize("body", [
    {"dataframe_records": [{"a": 1, "b": 2.5}]},
    {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2.5]]}},
    {"dataframe_split": {"columns": ["a"], "data": [[1]], "index": [7]}},
    {"instances": [{"a": 1}, {"a": 2}]},
    {"instances": [[1, 2], [3, 4]]},
    {"inputs": {"a": [1, 2]}},
    {"inputs": [[1.0, 2.0]]},
])
def test_each_input_shape_is_passed_on_as_sent(body):
    request = parse(body)
    (field,) = body
    assert request.input_field == field
    assert request.data == body


def test_optional_fields_are_read():
    request = parse({"dataframe_records": [{"a": 1}], "client_request_id": "req-1",
                     "usage_context": {"team": "churn"}, "params": {"threshold": 0.5}})
    assert request.client_request_id == "req-1"
    assert request.usage_context == {"team": "churn"}
    assert request.params == {"threshold": 0.5}


def test_no_input_field_names_the_expected_ones_and_what_came():
    message = refused({"messages": [{"role": "user", "content": "hi"}]})
    assert message.startswith("The input must be a JSON dictionary with exactly one of the "
                              "input fields dataframe_split, dataframe_records, instances, inputs")
    assert "Received dictionary with input fields: ['messages']" in message


def test_two_input_fields_are_refused():
    message = refused({"instances": [[1]], "inputs": [[1]]})
    assert "['instances', 'inputs']" in message


@pytest.mark.parametrize("raw", [b"", b"  ", b"{}"])
def test_an_empty_body_is_refused(raw):
    assert "exactly one of the input fields" in refused(raw)


@pytest.mark.parametrize("body", [
    {"dataframe_records": []},
    {"dataframe_split": {"columns": ["a"], "data": []}},
    {"instances": []},
    {"inputs": []},
    {"inputs": {}},
    {"inputs": None},
])
def test_empty_inputs_are_refused(body):
    (field,) = body
    assert refused(body) == f"The input {field} is empty: send at least one row to score."


def test_invalid_json_and_non_objects_are_refused():
    assert refused(b"{not json").startswith("Ensure that input is a valid JSON formatted string")
    assert refused(b"\xff\xfe").startswith("Ensure that input is a valid JSON formatted string")
    assert refused(b"[1, 2]").endswith("Received a list.")
    assert "Received unexpected input type 'int'" in refused(b"3")


@pytest.mark.parametrize("body, fragment", [
    ({"dataframe_records": {"a": 1}}, "dataframe_records must be a list of records"),
    ({"dataframe_records": [[1, 2]]}, "dataframe_records must be a list of records"),
    ({"dataframe_split": [[1]]}, "dataframe_split must be a JSON object with 'data'"),
    ({"dataframe_split": {"columns": ["a"]}}, "dataframe_split must be a JSON object with 'data'"),
    ({"dataframe_split": {"columns": "a", "data": [[1]]}},
     "dataframe_split.columns must be a list"),
])
def test_malformed_inputs_are_refused(body, fragment):
    assert fragment in refused(body)


@pytest.mark.parametrize("extra, fragment", [
    ({"client_request_id": 7}, "client_request_id must be a string"),
    ({"usage_context": ["x"]}, "usage_context must be a JSON object"),
    ({"usage_context": {"a": 1}}, "usage_context must be a JSON object"),
    ({"params": [1]}, "params must be a JSON object"),
])
def test_wrongly_typed_optional_fields_are_invalid_parameters(extra, fragment):
    body = {"dataframe_records": [{"a": 1}], **extra}
    assert fragment in refused(body, code="INVALID_PARAMETER_VALUE")


def test_payloads_over_16_mb_are_refused_with_413():
    check_size(MAX_PAYLOAD_BYTES)
    check_size(None)
    check_size("not-a-number")
    for size in (MAX_PAYLOAD_BYTES + 1, str(MAX_PAYLOAD_BYTES + 1)):
        with pytest.raises(ApiError) as caught:
            check_size(size)
        assert caught.value.status == 413
        assert f"{MAX_PAYLOAD_BYTES + 1} bytes, which exceeds the limit of " \
               f"{MAX_PAYLOAD_BYTES} bytes (16 MB)" in caught.value.message
