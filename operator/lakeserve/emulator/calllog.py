"""A log of the API calls the emulator answered, for tests to count and inspect."""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

# Bodies above this size are logged by size only (inference payloads can be megabytes).
MAX_LOGGED_BODY = 256 * 1024


@dataclass(frozen=True)
class Call:
    seq: int
    time: float
    method: str
    path: str
    query_string: str
    status: int
    raw_body: bytes | None  # kept raw: decoding waits until someone reads the log
    fault: str | None = None  # the injected fault's mode, when one applied
    workspace_id: str | None = None  # the X-Databricks-Workspace-Id header, when sent
    body_size: int = 0
    principal: str | None = None  # who the credential authenticated, when it did

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string))

    @property
    def body(self) -> Any:
        """The request's JSON body; None when empty, not JSON, or too large to keep."""
        if not self.raw_body:
            return None
        try:
            return json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError):
            return None

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time, "method": self.method, "path": self.path,
                "query": self.query, "status": self.status, "body": self.body,
                "body_size": self.body_size, "fault": self.fault,
                "workspace_id": self.workspace_id, "principal": self.principal}


class CallLog:
    def __init__(self, max_entries: int = 100_000):
        self._calls: deque[Call] = deque()
        self._next_seq = 1
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def record(self, *, time: float, method: str, path: str, query_string: str = "",
               status: int, body: bytes | None, fault: str | None = None,
               workspace_id: str | None = None, principal: str | None = None) -> Call:
        size = len(body or b"")
        kept = body if size <= MAX_LOGGED_BODY else None
        with self._lock:
            call = Call(self._next_seq, time, method, path, query_string, status, kept, fault,
                        workspace_id, size, principal)
            self._next_seq += 1
            self._calls.append(call)
            while len(self._calls) > self.max_entries:
                self._calls.popleft()
            return call

    def since(self, seq: int = 0) -> list[Call]:
        """Calls with a sequence number greater than ``seq``, oldest first."""
        with self._lock:
            return [call for call in self._calls if call.seq > seq]

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._next_seq - 1

    def continue_after(self, seq: int) -> None:
        """Number the next call after ``seq`` (a restarted workspace keeps its numbering; the
        last saved number, which after a crash may be behind the last call answered)."""
        with self._lock:
            self._next_seq = max(self._next_seq, seq + 1)

    def clear(self) -> None:
        """Forget all calls; sequence numbers keep growing so ``since`` cursors stay valid."""
        with self._lock:
            self._calls.clear()


def count_calls(calls: list[Call]) -> dict[str, int]:
    """``{"METHOD /raw/path": n}`` over the given calls."""
    return dict(Counter(call.key for call in calls))
