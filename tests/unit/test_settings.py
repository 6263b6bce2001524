import pytest

from lakeserve.settings import Settings


def test_defaults_follow_the_documented_write_limit():
    settings = Settings.from_env({})
    assert (settings.write_limit, settings.write_window) == (50, 300.0)


def test_environment_overrides_with_types():
    settings = Settings.from_env({"LAKESERVE_DRIFT_INTERVAL": "12.5", "LAKESERVE_WRITE_LIMIT": "7",
                                  "LAKESERVE_LOG_FORMAT": "json"})
    assert settings.drift_interval == 12.5
    assert settings.write_limit == 7
    assert settings.log_format == "json"


def test_bad_values_name_the_variable():
    with pytest.raises(ValueError, match="LAKESERVE_WRITE_LIMIT"):
        Settings.from_env({"LAKESERVE_WRITE_LIMIT": "many"})


@pytest.mark.parametrize("raw, expected", [("false", False), ("False", False), ("0", False),
                                           ("true", True), ("yes", True)])
def test_flags_read_true_and_false(raw, expected):
    assert Settings.from_env({"LAKESERVE_DEFAULT_WORKSPACE": raw}).default_workspace is expected


def test_a_flag_that_is_neither_is_refused():
    with pytest.raises(ValueError, match="LAKESERVE_DEFAULT_WORKSPACE='off' is not true or false"):
        Settings.from_env({"LAKESERVE_DEFAULT_WORKSPACE": "off"})
