"""Before a create: the tables and functions a feature spec names must exist and fit."""

from __future__ import annotations

import copy

import pytest
from databricks.sdk.service.catalog import TableInfo

from lakeserve.api.featurespec import FeatureSpecSpec
from lakeserve.databricks.errors import SpecError
from lakeserve.reconcile import reasons
from lakeserve.resources.featurespec.checks import INVALID_FEATURES, FunctionFacts, check

FEATURES = TableInfo.from_dict({
    "full_name": "main.churn.features",
    "columns": [{"name": "customerID"}, {"name": "tenure"}, {"name": "TotalCharges"}],
    "table_constraints": [{"primary_key_constraint": {"name": "pk",
                                                      "child_columns": ["customerID"]}}]})
RAW = TableInfo.from_dict({"full_name": "main.churn.raw", "columns": [{"name": "id"}]})
AVG = FunctionFacts("main.churn.monthly_charges_avrg", ("TotalCharges", "tenure"))
SPEC = {"name": "main.churn.churn_features", "features": [
    {"featureLookup": {"table": "main.churn.features", "lookupKeys": ["customerID"]}},
    {"featureFunction": {"udf": AVG.name, "output": "m_charges_avrg",
                         "inputBindings": [{"parameter": "TotalCharges",
                                            "boundFeature": "TotalCharges"},
                                           {"parameter": "tenure", "boundFeature": "tenure"}]}}]}


def tables(name):
    return {"main.churn.features": FEATURES, "main.churn.raw": RAW}.get(name)


def checked(change=lambda spec: None, function=AVG):
    spec = copy.deepcopy(SPEC)
    change(spec)
    check(FeatureSpecSpec.model_validate(spec), tables, [None, function])


def lookup(spec):
    return spec["features"][0]["featureLookup"]


def function(spec):
    return spec["features"][1]["featureFunction"]


def test_the_notebooks_bundle_fits():
    checked()


BAD = [
    ("a missing table", lambda s: lookup(s).update(table="main.churn.nope"), AVG,
     reasons.NOT_FOUND, "spec.features[0].featureLookup.table: table main.churn.nope does not exist"),
    ("a table with no primary key", lambda s: lookup(s).update(table="main.churn.raw",
                                                               lookupKeys=["id"]), AVG,
     INVALID_FEATURES, "spec.features[0].featureLookup.table: main.churn.raw has no primary key"),
    ("two keys for a one-column key", lambda s: lookup(s).update(lookupKeys=["customerID", "x"]),
     AVG, INVALID_FEATURES, "lookupKeys: ['customerID', 'x'] has 2 key(s) but the primary key"),
    ("a feature that is not a column", lambda s: lookup(s).update(featureNames=["tenure", "churn"]),
     AVG, INVALID_FEATURES, "spec.features[0].featureLookup.featureNames[1]: churn is not a "
                            "column of main.churn.features"),
    ("a default for no output", lambda s: lookup(s).update(defaultValues=[
        {"feature": "months", "defaultValue": "1"}]), AVG, INVALID_FEATURES,
     "defaultValues[0].feature: months is not an output of this lookup"),
    ("a missing function", lambda s: None, None, reasons.NOT_FOUND,
     "spec.features[1].featureFunction.udf: function main.churn.monthly_charges_avrg does not "
     "exist"),
    ("a binding naming a missing parameter", lambda s: function(s)["inputBindings"][0].update(
        parameter="Total"), AVG, INVALID_FEATURES,
     "spec.features[1].featureFunction.inputBindings[0].parameter: "
     "main.churn.monthly_charges_avrg has no parameter Total; its parameters are: TotalCharges, "
     "tenure"),
    ("a parameter left unbound", lambda s: function(s)["inputBindings"].pop(), AVG,
     INVALID_FEATURES, "parameter(s) tenure of main.churn.monthly_charges_avrg are not bound"),
    ("an output clashing with a looked-up feature", lambda s: function(s).update(output="tenure"),
     AVG, INVALID_FEATURES, "spec.features[1].featureFunction.output: duplicate output name "
                            "tenure, also produced by spec.features[0].featureLookup"),
    ("an output named like the lookup key", lambda s: function(s).update(output="customerID"),
     AVG, INVALID_FEATURES, "duplicate output name customerID, also produced by a lookup key"),
]


@pytest.mark.parametrize("case, change, fn, reason, message", BAD, ids=[c[0] for c in BAD])
def test_what_does_not_fit_is_named(case, change, fn, reason, message):
    with pytest.raises(SpecError) as caught:
        checked(change, fn)
    assert caught.value.reason == reason, case
    assert message in caught.value.message, case
