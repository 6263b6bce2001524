"""CPU time and memory of a process, from /proc (Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (threads included), 0.0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Memory:
    rss: int  # bytes resident now
    peak: int  # the highest resident size so far (VmHWM)


def memory(pid: int) -> Memory:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    except OSError:
        return Memory(0, 0)
    return Memory(values.get("VmRSS", 0), values.get("VmHWM", 0))


class CpuMeter:
    """CPU seconds of named processes between ``start`` and ``stop``."""

    def __init__(self, pids: dict[str, int]):
        self.pids = {name: pid for name, pid in pids.items() if pid}
        self._start: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def start(self) -> CpuMeter:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        return self

    def stop(self) -> dict[str, float]:
        self.seconds = {name: cpu_seconds(pid) - self._start[name]
                        for name, pid in self.pids.items()}
        return self.seconds
