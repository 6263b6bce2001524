"""A feature spec's body checked against the catalog and turned into what serving computes."""

from __future__ import annotations

import pytest
from databricks.sdk.service.ml import FeatureSpec as FeatureSpecBody

from lakeserve.emulator.catalog.names import ObjectName
from lakeserve.emulator.errors import ApiError, not_found
from lakeserve.emulator.functions.feature_plan import FeatureTable, plan
from lakeserve.emulator.functions.store import Definition, Parameter
from lakeserve.emulator.sql.parser import parse_type

DOUBLE, STRING = parse_type("DOUBLE"), parse_type("STRING")
FEATURES = FeatureTable("main.churn.features",
                        {"customerid": ("customerID", STRING), "tenure": ("tenure", DOUBLE),
                         "totalcharges": ("TotalCharges", DOUBLE)},
                        keys=("customerID",), timeseries=())
NO_KEY = FeatureTable("main.churn.raw", {"id": ("id", STRING)}, keys=(), timeseries=())
AVG = Definition(ObjectName("main", "churn", "monthly_charges_avrg"),
                 (Parameter("TotalCharges", DOUBLE), Parameter("tenure", DOUBLE)), DOUBLE,
                 "return TotalCharges / tenure")


def tables(name: str, field: str) -> FeatureTable:
    known = {t.name: t for t in (FEATURES, NO_KEY)}
    if name not in known:
        raise not_found(f"{field}: Table '{name}' does not exist.")
    return known[name]


def functions(name: str, field: str) -> Definition:
    if name != AVG.name.full:
        raise not_found(f"{field}: Routine or Model '{name}' does not exist.")
    return AVG


def lookup(**extra) -> dict:
    return {"feature_lookup": {"table": FEATURES.name, "lookup_keys": ["customerID"], **extra}}


def function(**extra) -> dict:
    bindings = [{"parameter": "TotalCharges", "bound_feature": "TotalCharges"},
                {"parameter": "tenure", "bound_feature": "tenure"}]
    return {"feature_function": {"udf": AVG.name.full, "input_bindings": bindings,
                                 "output": "m_charges_avrg", **extra}}


def planned(*features, **body):
    return plan(FeatureSpecBody.from_dict({"name": "main.churn.spec", "features": list(features),
                                           **body}), tables, functions)


def test_the_notebooks_bundle_looks_up_every_feature_and_computes_the_function():
    spec = planned(lookup(), function(), exclude_columns=["customerID"])
    assert spec.request_columns == ("customerID",)
    assert [(l.output_name, l.feature_name) for l in spec.lookups] == \
        [("tenure", "tenure"), ("TotalCharges", "TotalCharges")]
    assert spec.functions[0].input_bindings == {"TotalCharges": "TotalCharges",
                                                "tenure": "tenure"}
    assert spec.model_columns == ("tenure", "TotalCharges", "m_charges_avrg")


def test_renames_defaults_and_request_columns():
    spec = planned(lookup(feature_names=["tenure"],
                          rename_outputs=[{"feature": "tenure", "output": "months"}],
                          default_values=[{"feature": "months", "default_value": "1"}]),
                   function(input_bindings=[{"parameter": "TotalCharges", "bound_feature": "spend"},
                                            {"parameter": "tenure", "bound_feature": "months"}]))
    assert [(l.output_name, l.feature_name, l.default) for l in spec.lookups] == \
        [("months", "tenure", 1.0)]
    assert spec.request_columns == ("customerID", "spend")  # spend comes with the request


def test_the_output_of_a_function_defaults_to_its_name():
    spec = planned(lookup(), function(output=None))
    assert spec.functions[0].output_name == "monthly_charges_avrg"


BAD = [
    ("no features", [], 400, "Missing required field: features"),
    ("an entry that is two things", [{**lookup(), **function()}], 400,
     "features[0]: set exactly one of feature_lookup, feature_function"),
    ("a missing table", [lookup(table="main.churn.nope")], 404,
     "features[0].feature_lookup.table: Table 'main.churn.nope' does not exist"),
    ("a table with no primary key", [lookup(table=NO_KEY.name, lookup_keys=["id"])], 400,
     "features[0].feature_lookup.table: 'main.churn.raw' has no primary key"),
    ("more lookup keys than key columns", [lookup(lookup_keys=["customerID", "x"])], 400,
     "lookup_keys ['customerID', 'x'] has 2 key(s), but the primary key of "
     "'main.churn.features' has 1: customerID"),
    ("a feature that is not a column", [lookup(feature_names=["tenure", "churn"])], 400,
     "features[0].feature_lookup.feature_names: churn is not a column of 'main.churn.features'"),
    ("a rename of a feature not looked up", [lookup(feature_names=["tenure"], rename_outputs=[
        {"feature": "TotalCharges", "output": "spend"}])], 400,
     "rename_outputs[0].feature: 'TotalCharges' is not looked up by this lookup"),
    ("a default for a name that is not an output", [lookup(default_values=[
        {"feature": "months", "default_value": "0"}])], 400,
     "default_values[0].feature: 'months' is not an output of this lookup"),
    ("a default that is not of the column's type", [lookup(default_values=[
        {"feature": "tenure", "default_value": "long"}])], 400,
     "default_values[0].default_value 'long' is not a double"),
    ("a lookback window without timestamp keys", [lookup(lookback_window="3600s")], 400,
     "lookback_window applies to point-in-time lookups"),
    ("a missing function", [lookup(), function(udf="main.churn.nope")], 404,
     "features[1].feature_function.udf: Routine or Model 'main.churn.nope' does not exist"),
    ("a binding naming a missing parameter", [lookup(), function(input_bindings=[
        {"parameter": "Total", "bound_feature": "TotalCharges"}])], 400,
     "features[1].feature_function.input_bindings[0].parameter: 'Total' is not a parameter of "
     "main.churn.monthly_charges_avrg; its parameters are: TotalCharges, tenure"),
    ("a parameter left unbound", [lookup(), function(input_bindings=[
        {"parameter": "tenure", "bound_feature": "tenure"}])], 400,
     "parameter(s) TotalCharges of main.churn.monthly_charges_avrg are not bound"),
    ("a function output clashing with a feature", [lookup(), function(output="tenure")], 400,
     "Duplicate output name 'tenure': features[1].feature_function.output and "
     "features[0].feature_lookup (feature tenure of main.churn.features) both produce it"),
    ("two lookups of the same features", [lookup(), lookup()], 400,
     "Duplicate output name 'tenure'"),
    ("an output named like a lookup key", [lookup(), function(output="customerID")], 400,
     "Duplicate output name 'customerID': features[1].feature_function.output and a lookup key"),
    ("a declarative feature", [{"declarative_feature": {"feature": "main.churn.f"}}], 400,
     "declarative features are not supported by the local workspace"),
]


@pytest.mark.parametrize("case, features, status, message", BAD, ids=[row[0] for row in BAD])
def test_bad_specs_are_refused_naming_the_field(case, features, status, message):
    with pytest.raises(ApiError) as caught:
        planned(*features)
    assert caught.value.status == status, case
    assert message in caught.value.message, case


def test_excluding_a_column_the_spec_does_not_have_is_refused():
    with pytest.raises(ApiError, match="exclude_columns: churn is not a column"):
        planned(lookup(), exclude_columns=["churn"])
