"""Feature lookups and on-demand features at inference time, for models with a feature spec.

A request to such a model carries only the lookup keys (e.g. ``customerID``). For each request
row the features are looked up in the online table synced from each feature table named by the
spec, on-demand features are computed by the Unity Catalog Python functions, and the model gets
the columns the spec lists. A key with no online row yields the lookup's default value when the
spec gives one, otherwise NaN, as Databricks online serving does; functions then receive that.
The same computation answers feature serving endpoints (a feature spec served on its own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pandas as pd

from lakeserve.emulator.featurespec import FeatureSpec, Lookup
from lakeserve.emulator.invocations.payload import bad_request

NAN = float("nan")


class OnlineTables(Protocol):
    def find_online_table(self, source_table_full_name: str) -> str | None: ...

    def lookup(self, online_table_name: str, keys: list[dict[str, Any]]) -> list[dict | None]: ...

    def table(self, name: str) -> Any: ...


class Functions(Protocol):
    def callable(self, full_name: str) -> Callable[..., Any]: ...


class FeatureServing:
    def __init__(self, online_tables: OnlineTables, functions: Functions):
        self._online = online_tables
        self._functions = functions

    def model_input(self, spec: FeatureSpec, request: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns for these request rows."""
        missing = [c for c in _request_columns(spec) if c not in request.columns]
        if missing:
            raise bad_request(f"Missing lookup key columns in the request: {missing}. Feature "
                              "lookups need them in every record.")
        frame = request.reset_index(drop=True).copy()
        for (table, key), lookups in _by_table(spec.lookups).items():
            self._look_up(frame, table, key, lookups)
        for function in spec.functions:
            frame[function.output_name] = self._compute(function.udf_name,
                                                        function.input_bindings, frame)
        return frame[list(spec.model_columns)]

    def _look_up(self, frame: pd.DataFrame, table: str, key: tuple[str, ...],
                 lookups: list[Lookup]) -> None:
        online = self._online.find_online_table(table)
        if online is None:
            raise bad_request(f"Feature table '{table}' has no online table: features cannot be "
                              "looked up at serving time. Create an online table (a synced "
                              "table) of it.")
        primary_keys = list(getattr(self._online.table(online), "primary_keys", key))
        keys = [dict(zip(primary_keys, values)) for values in
                frame[list(key)].itertuples(index=False, name=None)]
        try:
            rows = self._online.lookup(online, keys)
        except (LookupError, ValueError) as error:
            raise bad_request(f"Feature lookup in '{online}' failed: {error}") from None
        for lookup in lookups:
            frame[lookup.output_name] = [_value(row, lookup) for row in rows]

    def _compute(self, udf_name: str, bindings: dict[str, str],
                 frame: pd.DataFrame) -> list[Any]:
        try:
            function = self._functions.callable(udf_name)
        except Exception as error:  # noqa: BLE001 - unknown function: the request fails
            raise bad_request(f"On-demand feature function '{udf_name}' is not available: "
                              f"{error}") from None
        # Plain column lists, not DataFrame rows: this runs per request on the inference path.
        columns = {parameter: frame[column].tolist() for parameter, column in bindings.items()}
        return [_call(function, udf_name, {p: values[i] for p, values in columns.items()})
                for i in range(len(frame))]


def _call(function: Callable[..., Any], name: str, arguments: dict[str, Any]) -> Any:
    # A missing lookup reaches the function as NaN, as in Databricks online serving.
    try:
        return function(**arguments)
    except Exception as error:  # noqa: BLE001 - the user's function failed on this row
        raise bad_request(f"On-demand feature function '{name}' failed: "
                          f"{type(error).__name__}: {error}") from None


def _value(row: dict | None, lookup: Lookup) -> Any:
    value = None if row is None else row.get(lookup.feature_name)
    if value is not None:
        return value
    return NAN if lookup.default is None else lookup.default


def _request_columns(spec: FeatureSpec) -> list[str]:
    keys = [column for lookup in spec.lookups for column in lookup.lookup_key]
    return list(dict.fromkeys(keys + list(spec.request_columns)))


def _by_table(lookups: tuple[Lookup, ...]) -> dict[tuple[str, tuple[str, ...]], list[Lookup]]:
    grouped: dict[tuple[str, tuple[str, ...]], list[Lookup]] = {}
    for lookup in lookups:
        grouped.setdefault((lookup.table_name, lookup.lookup_key), []).append(lookup)
    return grouped
