"""The scheduler follows kopf's peering pauses of the lakeserve kinds' watch-streams."""

import inspect
import logging

import pytest
from kopf._cogs.clients import watching

from lakeserve.peering import WATCHING_LOGGER, StreamPauses

pytestmark = pytest.mark.timeout(10)

SERVING = "servingendpoints.v1alpha1.lakeserve.dev"
TABLES = "onlinetables.v1alpha1.lakeserve.dev"


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
    assert watching.logger.name == WATCHING_LOGGER


def test_paused_while_any_stream_of_ours_is_held():
    pauses, target = StreamPauses([SERVING, TABLES]), Target()
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


def test_debug_lines_are_shown_only_when_verbose():
    pauses = StreamPauses([SERVING])
    line = record(f"Pausing the watch-stream for {SERVING} cluster-wide.")
    assert pauses.filter(line) is False and pauses.paused
    pauses.show_debug = True
    assert pauses.filter(line) is True
    assert StreamPauses([SERVING]).filter(record("anything", logging.INFO)) is True
