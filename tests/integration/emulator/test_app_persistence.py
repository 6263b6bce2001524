"""Which apps persist: with a data dir by default; never without one or when told not to (the
CLI without --data-dir). In-process apps, each with its own MLflow registry (seconds each)."""

from __future__ import annotations

import warnings

import pytest

from lakeserve.emulator.app import create_app
from lakeserve.emulator.persistence import STATE_FILE

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TOKEN = "unit-test-token"


def change_a_setting(app) -> None:
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        assert client.put("/_emulator/settings", json={"user_name": "a@b.c"}).status_code == 200


@pytest.mark.parametrize("persist, written", [
    (None, True),   # a given data dir keeps the workspace
    (False, False),  # the CLI without --data-dir: the dir is a throwaway
])
def test_a_data_dir_persists_unless_told_not_to(tmp_path, persist, written):
    change_a_setting(create_app(TOKEN, tmp_path, persist=persist))
    assert (tmp_path / STATE_FILE).exists() == written


def test_without_a_data_dir_nothing_is_persisted():
    app = create_app(TOKEN)
    change_a_setting(app)
    assert not app.state.emulator.persistence.enabled
    assert not (app.state.emulator.data_dir / STATE_FILE).exists()


def test_the_next_app_on_the_data_dir_starts_where_the_last_one_stopped(tmp_path):
    change_a_setting(create_app(TOKEN, tmp_path))
    app = create_app(TOKEN, tmp_path)
    assert app.state.emulator.settings.user_name == "a@b.c"
