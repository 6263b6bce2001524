"""Starting detached processes, telling whether they run, and stopping them."""

import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from lakeserve.devcluster import processes
from lakeserve.devcluster.processes import ProcessRecord, is_running, log_tail, spawn, stop

pytestmark = pytest.mark.timeout(30)

# The printed words are passed separately: the log's header line repeats the command line, and
# a test must find what the process printed, not its command line.
SLEEPER = [sys.executable, "-c",
           "import time; print('now', 'sleeping', flush=True); time.sleep(60)"]
# Ignores SIGTERM, so only SIGKILL ends it.
STUBBORN = [sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('handler', 'installed', flush=True); time.sleep(60)"]


def _eventually(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _start_time_of(pid: int) -> str:
    text = open(f"/proc/{pid}/stat").read()
    return text[text.rindex(")") + 2:].split()[19]


def test_spawn_runs_in_its_own_session_and_logs(tmp_path):
    record = spawn("sleeper", SLEEPER, tmp_path / "logs" / "sleeper.log")
    try:
        assert is_running(record)
        assert os.getsid(record.pid) == record.pid
        assert _eventually(lambda: "now sleeping" in log_tail(record.log))
    finally:
        stop([record], grace_seconds=5)
    assert not is_running(record)
    assert _gone(record.pid)


def test_stop_kills_what_ignores_sigterm(tmp_path):
    record = spawn("stubborn", STUBBORN, tmp_path / "stubborn.log")
    assert _eventually(lambda: "handler installed" in log_tail(record.log))
    assert stop([record], grace_seconds=0.5) == ["stubborn"]
    assert _gone(record.pid)


def test_stop_goes_in_reverse_start_order(tmp_path, monkeypatch):
    records = [spawn(name, SLEEPER, tmp_path / f"{name}.log") for name in ("first", "second")]
    waited_for = []
    original = processes.wait_until_stopped

    def recording(record, timeout):
        waited_for.append(record.name)
        return original(record, timeout)

    monkeypatch.setattr(processes, "wait_until_stopped", recording)
    try:
        stop(records, grace_seconds=5)
    finally:
        monkeypatch.undo()
        stop(records, grace_seconds=5)
    assert waited_for == ["second", "first"]


def test_a_recycled_pid_is_not_our_process(tmp_path):
    record = spawn("sleeper", SLEEPER, tmp_path / "sleeper.log")
    try:
        # What another process sees when the recorded pid now belongs to someone else.
        stranger = replace(record, pid=os.getpid(), start_time="1")
        assert not is_running(stranger)
        assert stop([stranger], grace_seconds=1) == []  # and it is never signalled
    finally:
        stop([record], grace_seconds=5)


def test_a_process_started_by_another_process_is_found_through_proc():
    # Not started through spawn here, so only /proc can tell: this very process is alive.
    record = ProcessRecord(name="self", pid=os.getpid(), start_time=_start_time_of(os.getpid()),
                           log="/dev/null")
    assert is_running(record)


def test_log_tail_shows_only_the_latest_run(tmp_path):
    log = tmp_path / "x.log"
    first = spawn("x", [sys.executable, "-c", "print('first', 'run')"], log)
    assert _eventually(lambda: not is_running(first))
    second = spawn("x", [sys.executable, "-c", "print('second', 'run')"], log)
    assert _eventually(lambda: not is_running(second))
    tail = log_tail(log)
    assert "second run" in tail
    assert "first run" not in tail
    assert "first run" in log.read_text()  # earlier runs stay in the file


def test_log_tail_of_a_missing_log(tmp_path):
    assert "no log" in log_tail(tmp_path / "missing.log")
