"""The scheduler follows kopf's peering pauses of its watch-streams (the workspace kinds')."""

import inspect
import logging

import pytest
from kopf._cogs.clients import watching

from lakeserve.peering import WATCHING_LOGGER, StreamPauses

pytestmark = pytest.mark.timeout(10)

SERVING = "workspaces.v1alpha1.lakeserve.dev"
TABLES = "clusterworkspaces.v1alpha1.lakeserve.dev"


class Target:
    def __init__(self):
        self.calls = []

    def pause(self):
        self.calls.append("pause")

    def resume(self):
        self.calls.append("resume")


def record(message, level=logging.DEBUG):
    return logging.LogRecord(WATCHING_LOGGER, level, __file__, 1, message, None, None)


def test_the_installed_kopf_still_logs_what_is_followed():
    source = inspect.getsource(watching.streaming_block)
    assert 'f"Pausing the watch-stream for {resource} {where}' in source
    assert 'f"Resuming the watch-stream for {resource} {where}' in source
    starting = inspect.getsource(watching.infinite_watch)
    assert "how = ' (paused)' if operator_paused is not None and operator_paused.is_on()" \
        in starting
    assert 'f"Starting the watch-stream for {resource} {where}{how}' in starting
    assert watching.logger.name == WATCHING_LOGGER


def test_paused_while_any_stream_of_ours_is_held():
    pauses, target = StreamPauses([SERVING, TABLES], held_at_start=False), Target()
    pauses.attach(target)
    for message in [f"Pausing the watch-stream for {SERVING} in 'a' (blockers: x).",
                    f"Pausing the watch-stream for {TABLES} in 'a'.",
                    f"Pausing the watch-stream for {SERVING} in 'b'.",
                    "Pausing the watch-stream for kopfpeerings.v1.kopf.dev in 'a'.",
                    f"Resuming the watch-stream for {SERVING} in 'a' (resolved: x).",
                    f"Resuming the watch-stream for {TABLES} in 'a'.",
                    f"Resuming the watch-stream for {SERVING} in 'b'."]:
        pauses.filter(record(message))
    assert target.calls == ["resume", "pause", "resume"], "the state on attach, then each change"


@pytest.mark.parametrize("messages, calls, reason", [
    ([], ["pause"], "nothing started yet: a standby must not work before kopf says so"),
    ([f"Starting the watch-stream for {SERVING} in 'a' (paused).",
      f"Pausing the watch-stream for {SERVING} in 'a' (blockers: peering@a)."],
     ["pause"], "started held by the peering"),
    ([f"Starting the watch-stream for {SERVING} in 'a' (paused).",
      f"Pausing the watch-stream for {SERVING} in 'a' (blockers: peering@a).",
      f"Resuming the watch-stream for {SERVING} in 'a' (resolved: peering@a)."],
     ["pause", "resume"], "released: this replica is the active one"),
    ([f"Starting the watch-stream for {SERVING} in 'a'."],
     ["pause", "resume"], "started unheld: the peering had already let this replica work"),
    ([f"Starting the watch-stream for kopfpeerings.v1.kopf.dev in 'a'."],
     ["pause"], "another kind's stream says nothing about ours"),
], ids=lambda case: case if isinstance(case, str) and " " in case else "")
def test_with_peering_the_scheduler_starts_held(messages, calls, reason):
    pauses, target = StreamPauses([SERVING]), Target()
    pauses.attach(target)
    for message in messages:
        pauses.filter(record(message))
    assert target.calls == calls


def test_debug_lines_are_shown_only_when_verbose():
    pauses = StreamPauses([SERVING], held_at_start=False)
    line = record(f"Pausing the watch-stream for {SERVING} cluster-wide.")
    assert pauses.filter(line) is False and pauses.paused
    pauses.show_debug = True
    assert pauses.filter(line) is True
    assert StreamPauses([SERVING]).filter(record("anything", logging.INFO)) is True
