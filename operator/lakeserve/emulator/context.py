"""What every API area shares: settings, clock, auth, call log, faults, the write limiter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakeserve.emulator.auth import TokenAuthority
from lakeserve.emulator.calllog import CallLog
from lakeserve.emulator.clock import Clock
from lakeserve.emulator.faults import FaultBook
from lakeserve.emulator.persistence import Persistence
from lakeserve.emulator.ratelimit import WriteLimiter
from lakeserve.emulator.settings import EmulatorSettings

# Fixed identities of the emulated workspace (what the SDK reads from the host metadata).
WORKSPACE_ID = "1234567890123456"
ACCOUNT_ID = "00000000-0000-4000-8000-00000000e3a1"
METASTORE_ID = "00000000-0000-4000-8000-0000000003e7"

ResetHook = Callable[[dict[str, Any]], None]


@dataclass
class EmulatorContext:
    settings: EmulatorSettings
    clock: Clock
    auth: TokenAuthority
    data_dir: Path
    calls: CallLog
    faults: FaultBook = field(default_factory=FaultBook)
    # Areas register here to keep their state under --data-dir (disabled: in memory only).
    persistence: Persistence = field(default_factory=Persistence)
    limiter: WriteLimiter = field(init=False)
    workspace_id: str = WORKSPACE_ID
    # False (``--no-control``): nothing under /_emulator/ answers, as in a real workspace.
    control: bool = True
    account_id: str = ACCOUNT_ID
    _initial_settings: EmulatorSettings = field(init=False)
    _reset_hooks: list[ResetHook] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._initial_settings = self.settings.copy()
        self.limiter = WriteLimiter(self.clock, lambda: self.settings.write_limit)

    def on_reset(self, hook: ResetHook) -> None:
        """Areas register here to clear their own state on ``POST /_emulator/reset``."""
        self._reset_hooks.append(hook)

    def update_settings(self, changes: dict[str, Any]) -> None:
        self.settings.update(changes)
        self.calls.max_entries = self.settings.call_log_max

    def snapshot(self) -> dict[str, Any]:
        """What the workspace itself keeps across a restart: settings, the write limit's window
        and the call log's numbering (its entries, like armed faults, stay in memory)."""
        return {"settings": self.settings, "write_limit_window": self.limiter.snapshot(),
                "last_call_seq": self.calls.last_seq}

    def restore(self, state: dict[str, Any]) -> None:
        self.settings.__dict__.update(state["settings"].__dict__)
        self.calls.max_entries = self.settings.call_log_max
        self.limiter.restore(state["write_limit_window"])
        self.calls.continue_after(state["last_call_seq"])

    def reset(self, options: dict[str, Any]) -> None:
        self.settings.__dict__.update(self._initial_settings.copy().__dict__)
        self.calls.max_entries = self.settings.call_log_max
        self.faults.clear()
        self.limiter.reset()
        self.calls.clear()
        for hook in self._reset_hooks:
            hook(options)
