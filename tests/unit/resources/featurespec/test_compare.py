"""What Databricks may return for a feature spec that is not a change, and what is."""

from __future__ import annotations

import copy

import pytest
from databricks.sdk.service.ml import FeatureSpec

from lakeserve.api.featurespec import FeatureSpecSpec
from lakeserve.resources.featurespec.compare import spec_diff
from lakeserve.resources.featurespec.desired import desired_spec

SPEC = {
    "name": "main.churn.churn_features",
    "features": [
        {"featureLookup": {"table": "main.churn.features", "lookupKeys": ["customerID"],
                           "renameOutputs": [{"feature": "tenure", "output": "months"},
                                             {"feature": "TotalCharges", "output": "spend"}],
                           "defaultValues": [{"feature": "months", "defaultValue": "1"},
                                             {"feature": "spend", "defaultValue": "0"}],
                           "timestampLookupKeys": ["ts"], "lookbackWindow": "3600s"}},
        {"featureFunction": {"udf": "main.churn.monthly_charges_avrg",
                             "inputBindings": [{"parameter": "TotalCharges",
                                                "boundFeature": "spend"},
                                               {"parameter": "tenure", "boundFeature": "months"}]}},
    ],
    "excludeColumns": ["customerID", "ts"],
}


def desired(spec: dict = SPEC) -> FeatureSpec:
    model = FeatureSpecSpec.model_validate(spec)
    udfs = [e.feature_function.udf if e.feature_function else None for e in model.features]
    return desired_spec(model, udfs)


def echoed(change) -> FeatureSpec:
    body = copy.deepcopy(desired().as_dict())
    change(body)
    return FeatureSpec.from_dict(body)


def _lookup(body):
    return body["features"][0]["feature_lookup"]


def _function(body):
    return body["features"][1]["feature_function"]


NOT_DRIFT = [
    ("returned as sent", lambda b: None),
    ("names in lower case", lambda b: (_lookup(b).update(table="MAIN.churn.Features"),
                                       _function(b).update(udf="main.churn.MONTHLY_charges_avrg"))),
    ("defaults and renames reordered", lambda b: (_lookup(b)["default_values"].reverse(),
                                                  _lookup(b)["rename_outputs"].reverse())),
    ("every feature listed when the spec lists none",
     lambda b: _lookup(b).update(feature_names=["tenure", "TotalCharges"])),
    ("the function's default output filled in",
     lambda b: _function(b).update(output="monthly_charges_avrg")),
    ("bindings and excluded columns reordered", lambda b: (_function(b)["input_bindings"].reverse(),
                                                           b["exclude_columns"].reverse())),
    ("the lookback window spelled with fractions", lambda b: _lookup(b).update(
        lookback_window="3600.000s")),
]


@pytest.mark.parametrize("case, change", NOT_DRIFT, ids=[c[0] for c in NOT_DRIFT])
def test_echoes_are_not_drift(case, change):
    assert spec_diff(desired(), echoed(change)) == [], case


DRIFT = [
    ("another table", lambda b: _lookup(b).update(table="main.churn.other"),
     ["features[0].featureLookup.table"]),
    ("a default changed", lambda b: _lookup(b)["default_values"][0].update(default_value="2"),
     ["features[0].featureLookup.defaultValues"]),
    ("a binding changed", lambda b: _function(b)["input_bindings"][0].update(
        bound_feature="TotalCharges"), ["features[1].featureFunction.inputBindings"]),
    ("another output", lambda b: _function(b).update(output="avg"),
     ["features[1].featureFunction.output"]),
    ("an entry less", lambda b: b["features"].pop(), ["features (1 entries -> 2)"]),
    ("a column no longer excluded", lambda b: b["exclude_columns"].pop(), ["excludeColumns"]),
]


@pytest.mark.parametrize("case, change, diff", DRIFT, ids=[c[0] for c in DRIFT])
def test_real_changes_are_named_in_the_specs_terms(case, change, diff):
    assert spec_diff(desired(), echoed(change)) == diff, case


def test_listed_features_are_compared_and_an_unresolved_reference_only_by_its_bindings():
    spec = copy.deepcopy(SPEC)
    spec["features"][0]["featureLookup"]["featureNames"] = ["tenure"]
    spec["features"][1]["featureFunction"] = {"udfRef": {"name": "avg"},
                                              "inputBindings": [{"parameter": "tenure",
                                                                 "boundFeature": "months"}]}
    model = FeatureSpecSpec.model_validate(spec)
    unresolved = desired_spec(model, [None, None])
    observed = FeatureSpec.from_dict({**desired_spec(model, [None, "main.x.y"]).as_dict()})
    assert spec_diff(unresolved, observed) == []
    observed.features[0].feature_lookup.feature_names = ["tenure", "TotalCharges"]
    assert spec_diff(unresolved, observed) == ["features[0].featureLookup.featureNames"]
