"""Following kopf's peering: when another replica is active, kopf holds back the watch-streams
of this operator's kinds, and the scheduler -- which runs passes on timers of its own -- must
hold back with them.

kopf has no public signal for this, but it logs (at DEBUG) each stream it holds back and each it
releases. ``StreamPauses`` reads those records for the lakeserve kinds and tells the scheduler
whether any of their streams is held. A unit test pins the message texts to the installed kopf.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Protocol

WATCHING_LOGGER = "kopf._cogs.clients.watching"
_MESSAGE = re.compile(r"^(Pausing|Resuming) the watch-stream for (\S+) (in '[^']*'|cluster-wide)")


class Pausable(Protocol):
    def pause(self) -> None: ...

    def resume(self) -> None: ...


class StreamPauses(logging.Filter):
    """A filter on kopf's watching logger: follows the pauses, passes records on as usual."""

    def __init__(self, resources: Iterable[str]):
        super().__init__()
        self.resources = frozenset(resources)  # e.g. servingendpoints.v1alpha1.lakeserve.dev
        self.held: set[tuple[str, str]] = set()
        self.target: Pausable | None = None
        self.show_debug = False

    @property
    def paused(self) -> bool:
        return bool(self.held)

    def attach(self, target: Pausable) -> None:
        self.target = target
        self._tell()

    def filter(self, record: logging.LogRecord) -> bool:
        match = _MESSAGE.match(record.getMessage())
        if match and match.group(2) in self.resources:
            stream = (match.group(2), match.group(3))
            was = self.paused
            (self.held.add if match.group(1) == "Pausing" else self.held.discard)(stream)
            if self.paused != was:
                self._tell()
        # The logger is at DEBUG only for this filter's sake: show its DEBUG lines when asked.
        return record.levelno > logging.DEBUG or self.show_debug

    def _tell(self) -> None:
        if self.target is not None:
            (self.target.pause if self.paused else self.target.resume)()


def follow(resources: Iterable[str], verbose: bool) -> StreamPauses:
    follower = StreamPauses(resources)
    follower.show_debug = verbose
    logger = logging.getLogger(WATCHING_LOGGER)
    logger.setLevel(logging.DEBUG)
    logger.addFilter(follower)
    return follower
