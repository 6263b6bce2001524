"""Injected faults: the next N requests matching a method and a path pattern misbehave.

Modes: ``error`` answers with the error instead of handling the request; ``after_commit`` handles it
(the write happens) and then answers with the error, like a response lost on the way back;
``delay`` handles it and waits ``delay_seconds`` before answering, to provoke client timeouts.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from lakeserve.emulator.errors import DEFAULT_CODE_BY_STATUS, invalid

MODES = ("error", "after_commit", "delay")


@dataclass
class Fault:
    path: str  # a regular expression searched in the request path (anchor it with ^...$)
    method: str | None = None  # None matches every method
    status: int = 503
    error_code: str | None = None  # defaults from the status
    message: str = "Injected fault"
    retry_after: float | None = None  # seconds for Retry-After; None sends no header
    times: int | None = 1  # None: until cleared
    mode: str = "error"
    delay_seconds: float = 0.0
    id: int = 0
    hits: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)
        if self.error_code is None:
            self.error_code = DEFAULT_CODE_BY_STATUS.get(self.status, "UNKNOWN")

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self._pattern.search(path))

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "method": self.method, "path": self.path, "status": self.status,
                "error_code": self.error_code, "message": self.message,
                "retry_after": self.retry_after, "times": self.times, "mode": self.mode,
                "delay_seconds": self.delay_seconds, "hits": self.hits}


def parse_fault(body: Any) -> Fault:
    """A :class:`Fault` from the JSON a test posts; raises ``INVALID_PARAMETER_VALUE`` on errors."""
    if not isinstance(body, dict):
        raise invalid("A fault must be a JSON object")
    unknown = set(body) - {"method", "path", "status", "error_code", "message", "retry_after",
                           "times", "mode", "delay_seconds"}
    if unknown:
        raise invalid(f"Unknown fault field(s): {', '.join(sorted(unknown))}")
    path = body.get("path")
    if not isinstance(path, str) or not path:
        raise invalid("path (a regular expression) is required")
    try:
        re.compile(path)
    except re.error as exc:
        raise invalid(f"path is not a valid regular expression: {exc}") from None
    mode = body.get("mode", "error")
    if mode not in MODES:
        raise invalid(f"mode must be one of {', '.join(MODES)}")
    method = body.get("method")
    return Fault(path=path, method=method.upper() if method else None,
                 status=_int(body, "status", 503, 100, 599),
                 error_code=body.get("error_code"),
                 message=str(body.get("message", "Injected fault")),
                 retry_after=_optional_number(body, "retry_after"),
                 times=_times(body), mode=mode,
                 delay_seconds=_optional_number(body, "delay_seconds") or 0.0)


def _int(body: dict, key: str, default: int, low: int, high: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(f"{key} must be an integer from {low} to {high}")
    return value


def _times(body: dict) -> int | None:
    if "times" in body and body["times"] is None:
        return None
    return _int(body, "times", 1, 1, 1_000_000)


def _optional_number(body: dict, key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise invalid(f"{key} must be a non-negative number or null")
    return float(value)


class FaultBook:
    """The active faults; the first matching, not yet exhausted one applies to a request."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request, counting it as used; exhausted faults are dropped."""
        if not self._faults:  # the common case, without the lock
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    if fault.exhausted:
                        self._faults.remove(fault)
                    return fault
            return None

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
