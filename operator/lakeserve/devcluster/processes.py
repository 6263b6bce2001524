"""Starting the components as detached background processes, and stopping them again.

A process is identified by its pid *and* its start time, so a pid recycled by an unrelated
process after a crash is never mistaken for a component, let alone signalled.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Processes this Python process started: polling them reaps them once they exit, so an exited
# component does not linger as a zombie that still "exists" for kill(pid, 0).
_children: dict[int, subprocess.Popen[bytes]] = {}

_POLL_SECONDS = 0.1
# Starts each run's section in a component's log.
_RUN_HEADER = "--- started "


@dataclass(frozen=True)
class ProcessRecord:
    """A started component, as recorded in state.json."""

    name: str
    pid: int
    start_time: str | None  # from /proc/<pid>/stat; None where /proc does not exist
    log: str


def spawn(name: str, argv: Sequence[str], log: Path) -> ProcessRecord:
    """Start ``argv`` in its own session with output appended to ``log``.

    Its own session keeps it alive when the starting terminal or process goes away and lets us
    signal its whole process group later.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        output.write(f"{_RUN_HEADER}{_now()}: {' '.join(argv)}\n".encode())
        output.flush()
        process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    _children[process.pid] = process
    return ProcessRecord(name=name, pid=process.pid, start_time=_start_time(process.pid),
                         log=str(log))


def is_running(record: ProcessRecord) -> bool:
    """Whether the process of ``record`` is still alive (not exited, not a zombie, not a reuse)."""
    child = _children.get(record.pid)
    if child is not None:
        return child.poll() is None
    stat = _proc_stat(record.pid)
    if stat is None:
        return record.start_time is None and _signalable(record.pid)
    state, start_time = stat
    return state != "Z" and start_time == record.start_time


def exit_code(record: ProcessRecord) -> int | None:
    """The exit status, when this process started it and it has exited."""
    child = _children.get(record.pid)
    return None if child is None else child.poll()


def stop(records: Sequence[ProcessRecord], grace_seconds: float = 15.0) -> list[str]:
    """Stop ``records`` one by one in reverse start order; names of those that had to be killed.

    Reverse order lets each component shut down while what it depends on is still there (the
    API server finishes its requests against a live etcd). SIGTERM first, SIGKILL after the grace.
    """
    killed = []
    for record in reversed(records):
        if not _signal(record, signal.SIGTERM):
            continue
        if not wait_until_stopped(record, grace_seconds):
            _signal(record, signal.SIGKILL)
            killed.append(record.name)
            wait_until_stopped(record, grace_seconds)
    return killed


def wait_until_stopped(record: ProcessRecord, timeout_seconds: float) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while is_running(record):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_SECONDS)
    _children.pop(record.pid, None)
    return True


def log_tail(path: str | Path, lines: int = 25) -> str:
    """The last ``lines`` lines the latest run wrote to ``path``, for error messages.

    Logs are appended across restarts; earlier runs' lines would only mislead.
    """
    try:
        text = Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    latest_run = text[text.rfind(_RUN_HEADER):] if _RUN_HEADER in text else text
    return "\n".join(latest_run.rstrip().splitlines()[-lines:])


def _signal(record: ProcessRecord, signum: signal.Signals) -> bool:
    """Signal the process group of ``record`` if it is still that process; whether it was."""
    if not is_running(record):
        return False
    try:
        os.killpg(record.pid, signum)  # the pid is its group id: it leads its own session
    except ProcessLookupError:
        return False
    return True


def _signalable(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) from /proc; None if there is no such pid."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], fields[19]


def _start_time(pid: int) -> str | None:
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")
