"""FeatureSpec: a named set of feature lookups and feature functions, stored by Databricks as a
Unity Catalog function of type FEATURE_SPEC and served by name from a ServingEndpoint.

The spec mirrors the Feature Engineering API's create body (``POST
/api/2.0/feature-engineering/feature-specs``) in camelCase: ``features[].featureLookup`` /
``features[].featureFunction`` and ``excludeColumns``. A function is named by its Unity Catalog
name (``udf``) or by a FeatureFunction object in this namespace (``udfRef``), which the spec then
waits for. Databricks has no update for feature specs: every field but the policies is fixed
unless ``updatePolicy: Recreate``.
"""

from __future__ import annotations

from pydantic import Field

from lakeserve.api.common import (
    DELETION_POLICY_DESCRIPTION,
    MANAGEMENT_POLICY_DESCRIPTION,
    UC_THREE_LEVEL_HINT,
    UC_THREE_LEVEL_PATTERN,
    UPDATE_POLICY_DESCRIPTION,
    CamelModel,
    DeletionPolicy,
    ManagementPolicy,
    ObjectReference,
    StatusBase,
    UpdatePolicy,
    cel,
    validations,
)
from lakeserve.api.crd import KindInfo, ready_columns
from lakeserve.api.workspace import (
    WORKSPACE_REF_DESCRIPTION,
    WorkspaceReference,
    workspace_ref_rule,
)

KIND = "FeatureSpec"
PLURAL = "featurespecs"
SINGULAR = "featurespec"
SHORT_NAMES = ["fspec"]

MAX_FEATURES = 32
MAX_COLUMNS = 128
MAX_RENAMES = 32  # the uniqueness rule on output names is quadratic (CEL cost budget)
DURATION_PATTERN = r"^[0-9]+(\.[0-9]{1,9})?s$"
# Databricks cannot update a feature spec: what it serves is fixed unless it may be replaced.
_RECREATE_ONLY = ("features", "excludeColumns")
# A function's output name as CEL sees it (a FeatureFunction reference stands in for its name).
FUNCTION_OUTPUT_CEL = (
    "(has({f}.featureFunction.output) ? {f}.featureFunction.output : "
    "(has({f}.featureFunction.udf) ? {f}.featureFunction.udf.split('.')[2] : "
    "'~' + {f}.featureFunction.udfRef.name))"
)


def _three_level(field: str) -> dict:
    return validations(cel(f"self.matches('{UC_THREE_LEVEL_PATTERN}')",
                           f"{field} must be {UC_THREE_LEVEL_HINT}", reason="FieldValueInvalid"))


def _columns(description: str, max_items: int = MAX_COLUMNS, **extra) -> dict:
    return dict(max_length=max_items, description=description, json_schema_extra={
        "x-kubernetes-list-type": "set",
        "items": {"type": "string", "maxLength": 255, "minLength": 1},
        **extra})


def _unchanged(field: str) -> str:
    return (f"(has(self.{field}) == has(oldSelf.{field}) && "
            f"(!has(self.{field}) || self.{field} == oldSelf.{field}))")


class RenameOutput(CamelModel):
    """An output name for a looked-up feature."""

    feature: str = Field(max_length=255, min_length=1,
                         description="Name of the feature in the feature table.")
    output: str = Field(max_length=255, min_length=1, description="Output name for it.")


class DefaultValue(CamelModel):
    """The value served for a feature when its key has no row in the online table."""

    feature: str = Field(max_length=255, min_length=1,
                         description="The feature's output name (its new name when renamed).")
    default_value: str = Field(
        max_length=1024,
        description="The value, as text; it is read as the feature column's type (\"0\", "
                    "\"unknown\").")


class FeatureLookup(CamelModel):
    """Features looked up by key in a feature table (served from its online copy)."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("!has(self.lookbackWindow) || has(self.timestampLookupKeys)",
                "lookbackWindow applies to point-in-time lookups: set timestampLookupKeys too",
                reason="FieldValueRequired", field_path=".timestampLookupKeys"),
        )
    }

    table: str = Field(
        max_length=255,
        description=f"The feature table, {UC_THREE_LEVEL_HINT}: a Delta table with a primary "
                    "key, published to an online table (an OnlineTable's sourceTableFullName).",
        json_schema_extra=_three_level("table"))
    lookup_keys: list[str] = Field(
        min_length=1, max_length=16,
        description="Request columns matched, in order, to the table's primary key columns; a "
                    "request carries them.",
        json_schema_extra={"items": {"type": "string", "maxLength": 255, "minLength": 1}})
    feature_names: list[str] | None = Field(
        default=None, **_columns("Columns to look up; every column outside the primary key when "
                                 "unset."))
    rename_outputs: list[RenameOutput] | None = Field(
        default=None, max_length=MAX_RENAMES,
        description="Output names for features, in place of their names in the table.",
        json_schema_extra={
            "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["feature"],
            **validations(cel("self.all(a, self.exists_one(b, b.output == a.output))",
                              "renameOutputs: each output name may be used once",
                              reason="FieldValueInvalid"))})
    default_values: list[DefaultValue] | None = Field(
        default=None, max_length=MAX_COLUMNS,
        description="Values served when a key has no row; without one the feature is null.",
        json_schema_extra={"x-kubernetes-list-type": "map",
                           "x-kubernetes-list-map-keys": ["feature"]})
    timestamp_lookup_keys: list[str] | None = Field(
        default=None, **_columns("Request columns matched to the table's timeseries key, for "
                                 "point-in-time lookups.", max_items=16))
    lookback_window: str | None = Field(
        default=None, max_length=32, pattern=DURATION_PATTERN,
        description="How far back a point-in-time lookup looks, in seconds: \"3600s\".")


class FunctionReference(CamelModel):
    """A FeatureFunction object in this namespace."""

    name: str = Field(max_length=253, min_length=1, description="metadata.name of the "
                                                               "FeatureFunction.")


class InputBinding(CamelModel):
    """Binds one parameter of the function to a feature or a request column."""

    parameter: str = Field(max_length=255, min_length=1, description="The function's parameter.")
    bound_feature: str = Field(
        max_length=255, min_length=1,
        description="The feature (a lookup's output) or request column passed to it.")


class FunctionFeature(CamelModel):
    """A feature computed on demand by a Unity Catalog Python function."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("has(self.udf) != has(self.udfRef)",
                "give exactly one of udf (the function's Unity Catalog name) or udfRef (a "
                "FeatureFunction object in this namespace)", reason="FieldValueInvalid"),
        )
    }

    udf: str | None = Field(
        default=None, max_length=255,
        description=f"The function, {UC_THREE_LEVEL_HINT}. Exclusive with udfRef.",
        json_schema_extra=_three_level("udf"))
    udf_ref: FunctionReference | None = Field(
        default=None,
        description="A FeatureFunction object in this namespace and the spec's workspace; the "
                    "spec waits until it is Ready and uses its function. Exclusive with udf.")
    input_bindings: list[InputBinding] | None = Field(
        default=None, max_length=64,
        description="The function's parameters and what is passed to each.",
        json_schema_extra={"x-kubernetes-list-type": "map",
                           "x-kubernetes-list-map-keys": ["parameter"]})
    output: str | None = Field(
        default=None, max_length=255, min_length=1,
        description="Output name of the computed feature; the function's name when unset.")


class Feature(CamelModel):
    """One entry of the spec: a lookup or a function."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("has(self.featureLookup) != has(self.featureFunction)",
                "each entry of features sets exactly one of featureLookup or featureFunction",
                reason="FieldValueInvalid"),
        )
    }

    feature_lookup: FeatureLookup | None = Field(
        default=None, description="Features looked up from a feature table.")
    feature_function: FunctionFeature | None = Field(
        default=None, description="A feature computed by a Python function.")


class FeatureSpecSpec(CamelModel):
    """Desired feature spec."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            cel("self.name == oldSelf.name",
                "name is the feature spec's identity in Unity Catalog and cannot change; create "
                "a new FeatureSpec instead", reason="FieldValueForbidden", field_path=".name"),
            cel("(has(self.updatePolicy) && self.updatePolicy == 'Recreate') || ("
                + " && ".join(_unchanged(f) for f in _RECREATE_ONLY) + ")",
                "Databricks cannot change a feature spec in place: features and excludeColumns "
                "are fixed; set updatePolicy: Recreate to have it deleted and created again",
                reason="FieldValueForbidden"),
            cel("self.features.all(a, !has(a.featureFunction) || self.features.exists_one(b, "
                "has(b.featureFunction) && " + FUNCTION_OUTPUT_CEL.format(f="b") + " == "
                + FUNCTION_OUTPUT_CEL.format(f="a") + "))",
                "duplicate output name: two featureFunction entries produce the same output "
                "(it defaults to the function's name); set output on one of them",
                reason="FieldValueInvalid", field_path=".features"),
            workspace_ref_rule(),
        )
    }

    name: str = Field(
        max_length=255,
        description=f"The feature spec, {UC_THREE_LEVEL_HINT} (e.g. main.churn.churn_features); "
                    "a ServingEndpoint serves it by this name.",
        json_schema_extra=_three_level("name"))
    features: list[Feature] = Field(
        min_length=1, max_length=MAX_FEATURES,
        description="The lookups and functions whose outputs the spec serves, in order.")
    exclude_columns: list[str] | None = Field(
        default=None, **_columns("Output columns to leave out (e.g. the lookup keys)."))
    depends_on: list[ObjectReference] | None = Field(
        default=None, max_length=32,
        description="OnlineTable and FeatureFunction objects in this namespace and in the "
                    "spec's workspace that must be Ready before the spec is created (functions "
                    "named by udfRef are waited for anyway).")
    deletion_policy: DeletionPolicy = Field(
        default=DeletionPolicy.DELETE, description=DELETION_POLICY_DESCRIPTION)
    management_policy: ManagementPolicy = Field(
        default=ManagementPolicy.FULL, description=MANAGEMENT_POLICY_DESCRIPTION)
    update_policy: UpdatePolicy = Field(
        default=UpdatePolicy.UPDATE, description=UPDATE_POLICY_DESCRIPTION)
    workspace_ref: WorkspaceReference | None = Field(
        default=None, description=WORKSPACE_REF_DESCRIPTION)

    def dependencies(self) -> list[ObjectReference]:
        """dependsOn, and the FeatureFunction objects udfRef names."""
        refs = list(self.depends_on or [])
        for entry in self.features:
            function = entry.feature_function
            if function is not None and function.udf_ref is not None:
                refs.append(ObjectReference(kind="FeatureFunction", name=function.udf_ref.name))
        unique = {(ref.kind, ref.name): ref for ref in refs}
        return list(unique.values())


class FeatureSpecStatus(StatusBase):
    """Observed state of the feature spec."""

    full_name: str | None = Field(default=None, description="catalog.schema.name.")
    tables: list[str] | None = Field(default=None, description="Feature tables looked up.")
    functions: list[str] | None = Field(
        default=None, description="Functions computing on-demand features (udfRef resolved).")
    state: str | None = Field(
        default=None, description="Defined (Databricks holds this spec) or Absent.")


INFO = KindInfo(
    kind=KIND,
    plural=PLURAL,
    singular=SINGULAR,
    short_names=SHORT_NAMES,
    spec_model=FeatureSpecSpec,
    status_model=FeatureSpecStatus,
    description="A feature spec: feature lookups and on-demand feature functions, stored in "
                "Unity Catalog and served by a feature serving endpoint (a ServingEndpoint "
                "whose entityName names it).",
    printer_columns=ready_columns(
        {"name": "Spec", "type": "string", "jsonPath": ".status.fullName",
         "description": "catalog.schema.name"},
        {"name": "State", "type": "string", "jsonPath": ".status.state",
         "description": "Defined or Absent."},
        {"name": "Tables", "type": "string", "jsonPath": ".status.tables", "priority": 1,
         "description": "Feature tables looked up."},
    ),
)
