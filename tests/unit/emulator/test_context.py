"""What the workspace itself keeps across a restart: settings, the write limit's window and the
call log's numbering; a reset returns to the startup settings."""

from __future__ import annotations

from lakeserve.emulator.auth import TokenAuthority
from lakeserve.emulator.calllog import CallLog
from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.persistence import codec
from lakeserve.emulator.settings import EmulatorSettings

from .conftest import TOKEN


def fresh_context(clock, tmp_path) -> EmulatorContext:
    auth = TokenAuthority(TOKEN, clock, lambda: "user")
    return EmulatorContext(settings=EmulatorSettings(), clock=clock, auth=auth,
                           data_dir=tmp_path, calls=CallLog())


def test_settings_limiter_window_and_call_numbers_come_back(ctx, clock, tmp_path):
    ctx.update_settings({"write_limit": {"limit": 2, "window_seconds": 60}, "call_log_max": 5,
                         "user_name": "someone@example.com"})
    ctx.limiter.admit("Creating")
    clock.advance(1)
    ctx.limiter.admit("Creating")
    ctx.calls.record(time=clock.now(), method="GET", path="/x", status=200, body=None)

    restarted = fresh_context(clock, tmp_path)
    restarted.restore(codec.loads(codec.dumps(ctx.snapshot())))

    assert restarted.settings == ctx.settings and restarted.calls.max_entries == 5
    assert restarted.limiter.snapshot() == ctx.limiter.snapshot()
    call = restarted.calls.record(time=clock.now(), method="GET", path="/y", status=200,
                                  body=None)
    assert call.seq == 2, "numbering goes on, so since= cursors stay valid"


def test_a_reset_after_a_restart_returns_to_the_startup_settings(ctx, clock, tmp_path):
    ctx.update_settings({"user_name": "someone@example.com"})
    restarted = fresh_context(clock, tmp_path)
    restarted.restore(codec.loads(codec.dumps(ctx.snapshot())))
    restarted.reset({})
    assert restarted.settings == EmulatorSettings()
