"""Waiting, by polling with a deadline, until a component answers what its users need."""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_POLL_SECONDS = 0.25
_REQUEST_TIMEOUT_SECONDS = 5.0


class NotReady(TimeoutError):
    """A condition did not hold before its deadline; the message says which and the last answer."""


@dataclass(frozen=True)
class Probe:
    """One HTTP GET that must answer 200."""

    description: str
    url: str
    token: str | None = None
    ca_file: Path | None = None


def get_status(probe: Probe) -> tuple[int | None, str]:
    """(HTTP status, body or error text) of ``probe``; status None if nothing answered."""
    request = urllib.request.Request(probe.url)
    if probe.token:
        request.add_header("Authorization", f"Bearer {probe.token}")
    context = ssl.create_default_context(cafile=str(probe.ca_file)) if probe.ca_file else None
    try:
        with urllib.request.urlopen(request, timeout=_REQUEST_TIMEOUT_SECONDS,
                                    context=context) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as error:
        return None, str(error)


def wait_for(probe: Probe, deadline: float, check_alive: Callable[[], None]) -> None:
    """Poll ``probe`` until it answers 200 or ``deadline`` (a ``time.monotonic()`` value) passes.

    ``check_alive`` runs before each attempt and raises if a component died, so a crash is
    reported at once with its log instead of after the whole timeout.
    """
    last = "no answer yet"
    while True:
        check_alive()
        status, body = get_status(probe)
        if status == 200:
            return
        last = f"HTTP {status}: {body.strip()[:500]}" if status else body
        if time.monotonic() >= deadline:
            raise NotReady(f"timed out waiting for {probe.description} ({probe.url}); "
                           f"last answer: {last}")
        time.sleep(_POLL_SECONDS)
