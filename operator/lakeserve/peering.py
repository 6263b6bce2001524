"""Following kopf's peering: when another replica is active, kopf holds back its watch-streams,
and the scheduler -- which runs passes on timers of its own, fed by the operator's own watch of
the managed kinds -- must hold back with them.

kopf has no public signal for this, but it logs (at DEBUG) each stream it starts (saying when it
starts paused), holds back and releases. ``StreamPauses`` reads those records for the kinds kopf
watches -- the workspace kinds, in the same namespaces as the managed kinds -- and tells the
scheduler whether any of their streams is held. With peering, kopf starts every stream held
until the peering says this replica may work, and the operator's own watch feeds the scheduler
from the start: so the scheduler starts held too, until kopf has started a stream unheld or
released one. A unit test pins the message texts to the installed kopf.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Protocol

WATCHING_LOGGER = "kopf._cogs.clients.watching"
_MESSAGE = re.compile(r"^(Starting|Pausing|Resuming) the watch-stream for (\S+) "
                      r"(in '[^']*'|cluster-wide)( \(paused\))?")


class Pausable(Protocol):
    def pause(self) -> None: ...

    def resume(self) -> None: ...


class StreamPauses(logging.Filter):
    """A filter on kopf's watching logger: follows the pauses, passes records on as usual."""

    def __init__(self, resources: Iterable[str], held_at_start: bool = True):
        super().__init__()
        self.resources = frozenset(resources)  # e.g. workspaces.v1alpha1.lakeserve.dev
        self.held: set[tuple[str, str]] = set()
        self.running = not held_at_start  # kopf has run a stream of ours unheld
        self.target: Pausable | None = None
        self.show_debug = False

    @property
    def paused(self) -> bool:
        return bool(self.held) or not self.running

    def attach(self, target: Pausable) -> None:
        self.target = target
        self._tell()

    def filter(self, record: logging.LogRecord) -> bool:
        match = _MESSAGE.match(record.getMessage())
        if match and match.group(2) in self.resources:
            action, stream = match.group(1), (match.group(2), match.group(3))
            was = self.paused
            if action == "Pausing":
                self.held.add(stream)
            elif action == "Resuming" or not match.group(4):  # released, or started unheld
                self.held.discard(stream)
                self.running = True
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
