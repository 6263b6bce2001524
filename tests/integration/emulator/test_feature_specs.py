"""Feature specs through the Feature Engineering API, stored as FEATURE_SPEC functions, and the
primary keys that make a Delta table a feature table, through the real SDK."""

from __future__ import annotations

import pytest
from databricks.sdk.errors import InvalidParameterValue, NotFound, ResourceAlreadyExists
from databricks.sdk.service.catalog import PrimaryKeyConstraint, TableConstraint
from databricks.sdk.service.ml import (
    DefaultValue,
    FeatureFunction,
    FeatureFunctionInputBinding,
    FeatureLookup,
    Features,
    FeatureSpec,
    RenameOutput,
)

from .test_sql_functions import NAME as FUNCTION, NOTEBOOK_FUNCTION, execute

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

TABLE = "main.default.features"
SPEC = "main.default.churn_features"
ROWS = [{"customerID": "7590-VHVEG", "TotalCharges": 29.85, "tenure": 1.0},
        {"customerID": "5575-GNVDE", "TotalCharges": 1889.5, "tenure": 34.0}]


def add_primary_key(workspace, table: str = TABLE) -> None:
    workspace.table_constraints.create(table, TableConstraint(
        primary_key_constraint=PrimaryKeyConstraint(name="features_pk",
                                                    child_columns=["customerID"])))


@pytest.fixture
def feature_table(emulator, workspace) -> str:
    emulator.control("POST", "/_emulator/catalog/tables", {"name": TABLE, "rows": ROWS})
    add_primary_key(workspace)
    execute(workspace, NOTEBOOK_FUNCTION)
    return TABLE


def notebook_spec(name: str = SPEC, **lookup) -> FeatureSpec:
    bindings = [FeatureFunctionInputBinding(parameter=p, bound_feature=p)
                for p in ("TotalCharges", "tenure")]
    return FeatureSpec(name=name, exclude_columns=["customerID"], features=[
        Features(feature_lookup=FeatureLookup(table=TABLE, lookup_keys=["customerID"], **lookup)),
        Features(feature_function=FeatureFunction(udf=FUNCTION, input_bindings=bindings,
                                                  output="m_charges_avrg"))])


def test_a_primary_key_shows_on_the_table_and_can_be_dropped(emulator, workspace):
    emulator.control("POST", "/_emulator/catalog/tables", {"name": TABLE, "rows": ROWS})
    assert not workspace.tables.get(TABLE).table_constraints
    add_primary_key(workspace)
    (constraint,) = workspace.tables.get(TABLE).table_constraints
    assert constraint.primary_key_constraint.child_columns == ["customerID"]
    with pytest.raises(ResourceAlreadyExists):
        add_primary_key(workspace)
    workspace.table_constraints.delete(TABLE, "features_pk", cascade=False)
    assert not workspace.tables.get(TABLE).table_constraints


def test_create_get_delete_and_the_spec_is_a_unity_catalog_function(workspace, feature_table):
    created = workspace.feature_engineering.create_feature_spec(notebook_spec())
    assert created.as_dict() == notebook_spec().as_dict()
    assert workspace.feature_engineering.get_feature_spec(SPEC).as_dict() == \
        notebook_spec().as_dict()
    assert workspace.functions.get(SPEC).full_name == SPEC
    assert SPEC in [f.full_name for f in workspace.functions.list("main", "default")]
    with pytest.raises(ResourceAlreadyExists):
        workspace.feature_engineering.create_feature_spec(notebook_spec())
    workspace.feature_engineering.delete_feature_spec(SPEC)
    with pytest.raises(NotFound, match=f"Feature spec '{SPEC}' does not exist"):
        workspace.feature_engineering.get_feature_spec(SPEC)
    with pytest.raises(NotFound):
        workspace.functions.get(SPEC)
    with pytest.raises(NotFound):
        workspace.feature_engineering.delete_feature_spec(SPEC)


def test_a_table_without_a_primary_key_is_not_a_feature_table(emulator, workspace):
    emulator.control("POST", "/_emulator/catalog/tables", {"name": TABLE, "rows": ROWS})
    execute(workspace, NOTEBOOK_FUNCTION)
    with pytest.raises(InvalidParameterValue, match="features\\[0\\].feature_lookup.table: "
                                                    f"'{TABLE}' has no primary key"):
        workspace.feature_engineering.create_feature_spec(notebook_spec())
    with pytest.raises(NotFound):
        workspace.functions.get(SPEC)  # nothing half-created


def test_filled_echo_lists_every_feature_and_reorders_defaults(emulator, workspace,
                                                               feature_table):
    emulator.control("PUT", "/_emulator/settings", {"feature_spec_echo": "filled"})
    defaults = [DefaultValue(feature="tenure", default_value="1"),
                DefaultValue(feature="spend", default_value="0")]
    renames = [RenameOutput(feature="TotalCharges", output="spend")]
    spec = notebook_spec(default_values=defaults, rename_outputs=renames)
    spec.features[1].feature_function.input_bindings[0].bound_feature = "spend"
    workspace.feature_engineering.create_feature_spec(spec)
    lookup = workspace.feature_engineering.get_feature_spec(SPEC).features[0].feature_lookup
    assert lookup.feature_names == ["TotalCharges", "tenure"]
    assert [d.feature for d in lookup.default_values] == ["spend", "tenure"]
