"""Shared fixtures: an emulator context on a manual clock, with no server and no registry."""

from __future__ import annotations

import pytest

from lakeserve.emulator.auth import ClientCredentials, TokenAuthority
from lakeserve.emulator.calllog import CallLog
from lakeserve.emulator.clock import ManualClock
from lakeserve.emulator.context import EmulatorContext
from lakeserve.emulator.settings import EmulatorSettings

TOKEN = "unit-test-token"
CLIENT = ClientCredentials("client-id", "client-secret")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ctx(clock, tmp_path) -> EmulatorContext:
    settings = EmulatorSettings(serving_create_seconds=10, serving_update_seconds=5)
    holder: dict = {}
    auth = TokenAuthority(TOKEN, clock, lambda: holder["ctx"].settings.user_name, CLIENT)
    holder["ctx"] = EmulatorContext(settings=settings, clock=clock, auth=auth,
                                    data_dir=tmp_path, calls=CallLog())
    return holder["ctx"]
