"""Progress lines for people waiting on a build or a cluster start."""

from __future__ import annotations

import sys
import time


def say(message: str) -> None:
    """Write one line to stderr, so it shows in ``make test``/``make demo`` and not in stdout."""
    sys.stderr.write(f"lakeserve dev-cluster: {message}\n")
    sys.stderr.flush()


def elapsed_since(start: float) -> str:
    """``1m05s``-style duration since ``start`` (a ``time.monotonic()`` value)."""
    seconds = int(time.monotonic() - start)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
