"""Feature lookups and on-demand features assembled for a model with a feature spec."""

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.featurespec import FeatureSpec, Lookup, OnDemand, parse
from lakeserve.emulator.invocations.features import FeatureServing

ROWS = {"c1": {"customerID": "c1", "tenure": 4.0, "TotalCharges": 100.0},
        "c2": {"customerID": "c2", "tenure": 10.0, "TotalCharges": 500.0}}

SPEC = parse({
    "input_columns": [
        {"customerID": {"source": "training_data"}},
        {"tenure": {"source": "feature_store", "table_name": "main.s.features",
                    "lookup_key": "customerID"}},
        {"TotalCharges": {"source": "feature_store", "table_name": "main.s.features",
                          "lookup_key": ["customerID"]}},
        {"m_charges_avrg": {"source": "on_demand_feature", "udf_name": "main.s.avg",
                            "input_bindings": {"TotalCharges": "TotalCharges",
                                               "tenure": "tenure"}}},
    ],
    "exclude_columns": ["customerID"],
    "some_key_databricks_writes": {"ignored": True},
})


class Online:
    def __init__(self, known=True):
        self.known = known
        self.lookups = []

    def find_online_table(self, source):
        return "main.s.features_online" if self.known else None

    def table(self, name):
        return SimpleNamespace(primary_keys=["customerID"])

    def lookup(self, name, keys):
        self.lookups.append(keys)
        return [ROWS.get(k["customerID"]) for k in keys]


class Functions:
    def callable(self, name):
        return lambda TotalCharges, tenure: TotalCharges / tenure


def serve(ids, online=None):
    serving = FeatureServing(online or Online(), Functions())
    return serving.model_input(SPEC, pd.DataFrame({"customerID": ids}))


def test_spec_lists_model_columns_in_order_without_excluded_keys():
    assert SPEC.model_columns == ("tenure", "TotalCharges", "m_charges_avrg")
    assert SPEC.request_columns == ("customerID",)


def test_features_are_looked_up_and_computed():
    frame = serve(["c1", "c2"])
    assert list(frame.columns) == ["tenure", "TotalCharges", "m_charges_avrg"]
    assert frame["m_charges_avrg"].tolist() == [25.0, 50.0]


def test_one_lookup_per_table_for_all_rows():
    online = Online()
    serve(["c1", "c2"], online)
    assert online.lookups == [[{"customerID": "c1"}, {"customerID": "c2"}]]


def test_unknown_key_gives_nan_features_not_an_error():
    frame = serve(["nobody"])
    assert all(math.isnan(v) for v in frame.iloc[0])


def test_missing_key_column_is_a_clear_400():
    serving = FeatureServing(Online(), Functions())
    with pytest.raises(ApiError) as error:
        serving.model_input(SPEC, pd.DataFrame({"id": ["c1"]}))
    assert error.value.status == 400 and "customerID" in error.value.body().decode()


def test_feature_table_without_online_table_is_a_clear_400():
    with pytest.raises(ApiError) as error:
        serve(["c1"], Online(known=False))
    assert "no online table" in error.value.body().decode()


def test_spec_round_trips_through_its_file(tmp_path):
    from lakeserve.emulator import featurespec

    featurespec.write(tmp_path, ["customerID"], [Lookup("tenure", "main.s.f", ("customerID",),
                                                        "tenure")],
                      [OnDemand("x", "main.s.avg", {"tenure": "tenure"})], ["customerID"])
    loaded = featurespec.load(tmp_path)
    assert isinstance(loaded, FeatureSpec) and loaded.model_columns == ("tenure", "x")
    assert featurespec.load(tmp_path / "elsewhere") is None
