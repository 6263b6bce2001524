"""Settings change through partial, validated, all-or-nothing updates."""

from __future__ import annotations

import pytest

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.settings import EmulatorSettings


def test_defaults_follow_databricks_limits():
    settings = EmulatorSettings()
    assert (settings.write_limit.limit, settings.write_limit.window_seconds) == (50, 300)
    assert settings.serving_create_seconds == settings.serving_update_seconds == 3


def test_mlflow_uc_artifacts_choose_files_api_or_presigned_urls():
    settings = EmulatorSettings()
    assert settings.mlflow_uc_artifacts == "files_api"
    settings.update({"mlflow_uc_artifacts": "presigned_urls"})
    assert settings.mlflow_uc_artifacts == "presigned_urls"


def test_partial_update_changes_only_what_is_named():
    settings = EmulatorSettings()
    settings.update({"serving_update_seconds": 0.5, "write_limit": {"limit": 0}})
    assert settings.serving_update_seconds == 0.5
    assert settings.serving_create_seconds == 3
    assert (settings.write_limit.limit, settings.write_limit.window_seconds) == (0, 300)


@pytest.mark.parametrize("change, message", [
    ({"no_such_setting": 1}, "Unknown setting 'no_such_setting'"),
    ({"serving_create_seconds": -1}, "at least 0"),
    ({"serving_create_seconds": "3"}, "must be a number"),
    ({"write_limit": {"limit": 1.5}}, "must be an integer"),
    ({"write_limit": {"limits": 5}}, "Unknown write_limit field"),
    ({"write_limit": 50}, "must be an object"),
    ({"user_name": ""}, "non-empty string"),
    ({"legacy_online_tables": "sometimes"}, "legacy_online_tables must be one of available"),
    ({"mlflow_uc_artifacts": "s3"}, "one of files_api, presigned_urls"),
])
def test_invalid_changes_are_refused(change, message):
    with pytest.raises(ApiError, match=message):
        EmulatorSettings().update(change)


def test_a_refused_update_changes_nothing():
    settings = EmulatorSettings()
    with pytest.raises(ApiError):
        settings.update({"serving_create_seconds": 1, "bogus": 2})
    assert settings.serving_create_seconds == 3
