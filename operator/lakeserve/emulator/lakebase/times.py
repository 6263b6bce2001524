"""Timestamps as the database and online-table APIs write them (RFC 3339 strings, UTC)."""

from __future__ import annotations

from datetime import datetime, timezone


def rfc3339(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
