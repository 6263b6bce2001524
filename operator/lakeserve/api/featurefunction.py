"""FeatureFunction: a Unity Catalog Python UDF computing an on-demand feature at serving time.

The notebook's ``CREATE OR REPLACE FUNCTION monthly_charges_avrg(TotalCharges DOUBLE, tenure
DOUBLE) RETURNS DOUBLE LANGUAGE PYTHON AS $$ ... $$``, declared field by field.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from lakeserve.api.common import (
    DELETION_POLICY_DESCRIPTION,
    MANAGEMENT_POLICY_DESCRIPTION,
    CamelModel,
    DeletionPolicy,
    ManagementPolicy,
    StatusBase,
    cel,
    cel_quote,
    immutable,
    validations,
)
from lakeserve.api.crd import KindInfo, ready_columns
from lakeserve.api.workspace import WORKSPACE_REF_DESCRIPTION, WorkspaceReference, workspace_ref_rule

KIND = "FeatureFunction"
PLURAL = "featurefunctions"
SINGULAR = "featurefunction"
SHORT_NAMES = ["ff"]

IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
UC_PART_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]*$"

# SQL types a Python UDF can take and return (Databricks SQL type names, any case).
SCALAR_TYPES = ("STRING", "DOUBLE", "FLOAT", "INT", "INTEGER", "BIGINT", "LONG", "SMALLINT",
                "SHORT", "TINYINT", "BYTE", "BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMP_NTZ",
                "BINARY", "VARIANT")
SQL_TYPE_PATTERN = (r"(?i)^(" + "|".join(SCALAR_TYPES) + r"|DECIMAL(\([0-9]+, ?[0-9]+\))?"
                    r"|ARRAY<.+>|MAP<.+,.+>|STRUCT<.+>)$")
SQL_TYPE_HINT = ("a Databricks SQL type: " + ", ".join(SCALAR_TYPES)
                 + ", DECIMAL(p,s), ARRAY<...>, MAP<...,...> or STRUCT<...>")


def _sql_type_rule(field: str) -> dict:
    return validations(cel(f"self.matches({cel_quote(SQL_TYPE_PATTERN)})",
                           f"{field} must be {SQL_TYPE_HINT}", reason="FieldValueInvalid"))


class Language(str, Enum):
    PYTHON = "Python"


class Parameter(CamelModel):
    """One input of the function."""

    name: str = Field(max_length=128, pattern=IDENTIFIER_PATTERN,
                      description="Parameter name; feature specs bind inputs to it by name.")
    type: str = Field(max_length=512, description=f"Parameter type: {SQL_TYPE_HINT}.",
                      json_schema_extra=_sql_type_rule("parameters[].type"))
    comment: str | None = Field(default=None, max_length=1024, description="Parameter comment.")


class FeatureFunctionSpec(CamelModel):
    """Desired Unity Catalog Python function."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": validations(
            immutable("catalog", "part of the function's identity"),
            immutable("schema", "part of the function's identity"),
            cel("self.name == oldSelf.name",
                "name is part of the function's identity and cannot change; create a new "
                "FeatureFunction instead", reason="FieldValueForbidden", field_path=".name"),
            workspace_ref_rule(),
        )
    }

    catalog: str = Field(max_length=255, pattern=UC_PART_PATTERN,
                         description="Unity Catalog catalog of the function.")
    schema_: str = Field(alias="schema", max_length=255, pattern=UC_PART_PATTERN,
                         description="Schema of the function.")
    name: str = Field(max_length=255, pattern=IDENTIFIER_PATTERN,
                      description="Function name, e.g. monthly_charges_avrg.")
    parameters: list[Parameter] = Field(
        default_factory=list, max_length=64,
        description="Inputs, in call order.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]})
    returns: str = Field(max_length=512, description=f"Return type: {SQL_TYPE_HINT}.",
                         json_schema_extra=_sql_type_rule("returns"))
    language: Language = Field(default=Language.PYTHON,
                               description="Implementation language; Python.")
    body: str = Field(
        max_length=262144, min_length=1,
        description="The Python body: statements ending in return, using the parameters as "
                    "variables.",
        json_schema_extra=validations(
            cel("self.trim() != ''", "body must contain Python code", reason="FieldValueRequired"),
            cel("!self.contains('$$')", "body cannot contain $$: it delimits the body in SQL",
                reason="FieldValueInvalid")))
    comment: str | None = Field(default=None, max_length=1024, description="Function comment.")
    deterministic: bool = Field(default=True,
                                description="Whether the same inputs always give the same output.")
    warehouse_id: str | None = Field(
        default=None, max_length=128,
        description="SQL warehouse that runs CREATE OR REPLACE FUNCTION. Without one the "
                    "Unity Catalog functions API is used (replace = drop and create).")
    deletion_policy: DeletionPolicy = Field(
        default=DeletionPolicy.DELETE, description=DELETION_POLICY_DESCRIPTION)
    management_policy: ManagementPolicy = Field(
        default=ManagementPolicy.FULL, description=MANAGEMENT_POLICY_DESCRIPTION)
    workspace_ref: WorkspaceReference | None = Field(
        default=None, description=WORKSPACE_REF_DESCRIPTION)

    @property
    def full_name(self) -> str:
        return f"{self.catalog}.{self.schema_}.{self.name}"


class FeatureFunctionStatus(StatusBase):
    """Observed state of the function."""

    full_name: str | None = Field(default=None, description="catalog.schema.name.")
    function_id: str | None = Field(default=None, description="Unity Catalog function id.")
    statement_id: str | None = Field(
        default=None, description="SQL statement creating or replacing the function, while it "
                                  "runs.")
    state: str | None = Field(
        default=None, description="Defined (the function matches the spec), Pending (a statement "
                                  "is running), Failed or Absent.")
    applied_hash: str | None = Field(
        default=None, description="Hash of the definition last applied.")


INFO = KindInfo(
    kind=KIND,
    plural=PLURAL,
    singular=SINGULAR,
    short_names=SHORT_NAMES,
    spec_model=FeatureFunctionSpec,
    status_model=FeatureFunctionStatus,
    description="A Unity Catalog Python function computing an on-demand feature, used by feature "
                "specs of served models.",
    printer_columns=ready_columns(
        {"name": "Function", "type": "string", "jsonPath": ".status.fullName",
         "description": "catalog.schema.name"},
        {"name": "State", "type": "string", "jsonPath": ".status.state",
         "description": "Defined, Pending, Failed or Absent."},
    ),
)
