"""The feature spec a model carries when it was trained with feature lookups and functions.

A model logged this way has a ``feature_spec.yaml`` at the root of its MLflow model directory;
serving it looks features up in online tables by key and computes on-demand features with Unity
Catalog Python functions, so a request needs only the lookup keys. The layout follows the
``feature_spec.yaml`` that Databricks' ``FeatureEngineeringClient.log_model`` writes:

.. code-block:: yaml

    input_columns:                      # in the order the model takes its inputs
      - customerID:
          source: training_data         # comes with the request
      - tenure:
          source: feature_store         # looked up online
          table_name: main.churn.features   # the offline (source) table
          lookup_key: [customerID]      # request columns matching its primary key
          feature_name: tenure          # column of that table (defaults to the output name)
      - m_charges_avrg:
          source: on_demand_feature     # computed at request time
          udf_name: main.churn.monthly_charges_avrg
          input_bindings: {TotalCharges: TotalCharges, tenure: tenure}  # parameter: column
    input_tables:
      - table_name: main.churn.features
    input_functions:
      - udf_name: main.churn.monthly_charges_avrg
    exclude_columns: [customerID]       # given to the lookups, not to the model
    serialization_version: 10

``lookup_key`` may be a string or a list; ``feature_name`` and ``output_name`` default to the
column's own name. Unknown keys are ignored, so specs written by Databricks load too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FILE_NAME = "feature_spec.yaml"
TRAINING_DATA = "training_data"
FEATURE_STORE = "feature_store"
ON_DEMAND = "on_demand_feature"


@dataclass(frozen=True)
class Lookup:
    output_name: str
    table_name: str
    lookup_key: tuple[str, ...]
    feature_name: str
    default: Any = None  # for a key with no online row (a feature spec's default_values)


@dataclass(frozen=True)
class OnDemand:
    output_name: str
    udf_name: str
    input_bindings: dict[str, str]


@dataclass(frozen=True)
class FeatureSpec:
    columns: tuple[str, ...]  # every input column, in order
    request_columns: tuple[str, ...]
    lookups: tuple[Lookup, ...]
    functions: tuple[OnDemand, ...]
    exclude_columns: tuple[str, ...] = field(default=())

    @property
    def model_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in self.exclude_columns)


def parse(document: dict[str, Any]) -> FeatureSpec:
    columns, request, lookups, functions = [], [], [], []
    for entry in document.get("input_columns") or []:
        ((name, info),) = entry.items()
        info = info or {}
        output = info.get("output_name") or name
        columns.append(output)
        source = info.get("source", TRAINING_DATA)
        if source == FEATURE_STORE:
            key = info.get("lookup_key") or []
            lookups.append(Lookup(output, info["table_name"],
                                  tuple([key] if isinstance(key, str) else key),
                                  info.get("feature_name") or name))
        elif source == ON_DEMAND:
            functions.append(OnDemand(output, info["udf_name"],
                                      dict(info.get("input_bindings") or {})))
        else:
            request.append(output)
    return FeatureSpec(tuple(columns), tuple(request), tuple(lookups), tuple(functions),
                       tuple(document.get("exclude_columns") or ()))


def load(model_dir: str | Path) -> FeatureSpec | None:
    """The model's feature spec, or None for a plain model."""
    path = Path(model_dir) / FILE_NAME
    if not path.is_file():
        return None
    return parse(yaml.safe_load(path.read_text()) or {})


def write(model_dir: str | Path, request_columns: list[str], lookups: list[Lookup],
          functions: list[OnDemand], exclude_columns: list[str]) -> Path:
    """Write a feature spec next to a saved MLflow model (what a training job does)."""
    columns: list[dict[str, Any]] = [{name: {"source": TRAINING_DATA}} for name in request_columns]
    columns += [{lookup.output_name: {"source": FEATURE_STORE, "table_name": lookup.table_name,
                                      "lookup_key": list(lookup.lookup_key),
                                      "feature_name": lookup.feature_name}}
                for lookup in lookups]
    columns += [{function.output_name: {"source": ON_DEMAND, "udf_name": function.udf_name,
                                        "input_bindings": dict(function.input_bindings)}}
                for function in functions]
    document = {
        "input_columns": columns,
        "input_tables": [{"table_name": t} for t in dict.fromkeys(x.table_name for x in lookups)],
        "input_functions": [{"udf_name": f.udf_name} for f in functions],
        "exclude_columns": list(exclude_columns),
        "serialization_version": 10,
    }
    path = Path(model_dir) / FILE_NAME
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
