"""A model's raw predictions as plain JSON values.

Arrays and series become lists, data frames lists of records (as MLflow's scoring server answers),
numpy scalars Python numbers, dates ISO strings, bytes base64; NaN, infinities and missing values
become null, so the answer is strict JSON.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import math
from typing import Any

import numpy as np
import pandas as pd

_PLAIN = (str, int, bool, type(None))


def jsonable(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return _clean(value.to_dict(orient="records"))
    if isinstance(value, (pd.Series, pd.Index)):
        return _clean(value.tolist())
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    return _clean(value)


def _clean(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is list or kind is tuple:
        return _clean_list(value)
    if kind is dict:
        return {str(key): _clean(item) for key, item in value.items()}
    return _other(value)


def _clean_list(values: list | tuple) -> list:
    # Lists of plain values (the usual predictions) are returned without copying element-wise.
    if all(type(item) in _PLAIN for item in values):
        return values if type(values) is list else list(values)
    return [_clean(item) for item in values]


def _other(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return _clean(value.item())
    if isinstance(value, (np.ndarray, pd.Series, pd.Index, pd.DataFrame)):
        return jsonable(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return _clean(float(value))
    # subclasses of the plain types (e.g. IntEnum members)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _clean(float(value))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(item) for item in value]
    return str(value)
