"""Credentials from a Secret: what is missing is named (keys, never values)."""

from __future__ import annotations

import pytest

from lakeserve.databricks.workspace import (
    CREDENTIALS_INVALID,
    CREDENTIALS_NOT_FOUND,
    CredentialsError,
    WorkspaceProvider,
    secret_attributes,
)
from lakeserve.settings import Settings

HOST = {"DATABRICKS_HOST": "https://adb-1.example"}
TOKEN = "dapi-0123456789abcdef"

# (reason for the case, Secret data, words the CredentialsInvalid message must hold)
INVALID = [
    ("no host", {"DATABRICKS_TOKEN": TOKEN}, ["no DATABRICKS_HOST"]),
    ("host but no credential", HOST, ["no credentials (DATABRICKS_TOKEN"]),
    ("a misspelled token key", {**HOST, "DATABRICKS_TOKN": TOKEN},
     ["no credentials", "keys the operator does not read: DATABRICKS_TOKN"]),
    ("an empty token", {**HOST, "DATABRICKS_TOKEN": ""}, ["empty: DATABRICKS_TOKEN"]),
    ("an OAuth client id without its secret", {**HOST, "DATABRICKS_CLIENT_ID": "sp-1"},
     ["DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET"]),
    ("nothing usable at all", {"token": TOKEN}, ["no DATABRICKS_HOST and no credentials",
                                                 "does not read: token"]),
]


@pytest.mark.parametrize("case, data, words", INVALID, ids=[c[0] for c in INVALID])
def test_an_unusable_secret_names_the_keys_to_fix(case, data, words):
    with pytest.raises(CredentialsError) as raised:
        secret_attributes("ops/databricks", data)
    error = raised.value
    assert error.reason == CREDENTIALS_INVALID
    assert "ops/databricks" in error.message
    assert all(word in error.message for word in words), error.message
    assert TOKEN not in error.message


@pytest.mark.parametrize("data", [
    {**HOST, "DATABRICKS_TOKEN": TOKEN},
    {**HOST, "DATABRICKS_CLIENT_ID": "sp-1", "DATABRICKS_CLIENT_SECRET": "s"},
    {**HOST, "ARM_CLIENT_ID": "a", "ARM_CLIENT_SECRET": "b", "ARM_TENANT_ID": "c"},
    {**HOST, "DATABRICKS_AUTH_TYPE": "env-oidc"},
], ids=["token", "oauth-m2m", "azure-sp", "auth-type-decides"])
def test_a_complete_credential_is_accepted(data):
    assert secret_attributes("ops/databricks", data)["host"] == HOST["DATABRICKS_HOST"]


def provider(data):
    settings = Settings(credentials_secret="ops/databricks", retry_timeout=1, http_timeout=1)
    return WorkspaceProvider(settings, secret_reader=lambda namespace, name: data)


def test_a_missing_secret_is_credentials_not_found():
    with pytest.raises(CredentialsError) as raised:
        provider(None).get()
    assert raised.value.reason == CREDENTIALS_NOT_FOUND


def test_two_auth_methods_are_refused_without_the_sdk_config_dump():
    data = {**HOST, "DATABRICKS_TOKEN": TOKEN, "DATABRICKS_CLIENT_ID": "sp-1",
            "DATABRICKS_CLIENT_SECRET": "very-secret"}
    with pytest.raises(CredentialsError) as raised:
        provider(data).get()
    message = raised.value.message
    assert raised.value.reason == CREDENTIALS_INVALID
    assert "more than one authorization method" in message and "Secret ops/databricks" in message
    assert "Config:" not in message and "adb-1.example" not in message
    assert TOKEN not in message and "very-secret" not in message


# (reason, settings, this replica's writes per window)
SHARES = [
    ("one replica takes the whole limit", Settings(write_limit=50), 50),
    ("two shards split it evenly", Settings(write_limit=50, shard_count=2), 25),
    ("three shards round down, never above the limit together",
     Settings(write_limit=50, shard_count=3, shard_index=2), 16),
    ("an explicit share wins", Settings(write_limit=50, shard_count=2, write_share=40), 40),
    ("no limit stays no limit", Settings(write_limit=0, shard_count=2), 0),
]


@pytest.mark.parametrize("case, settings, writes", SHARES, ids=[c[0] for c in SHARES])
def test_each_shard_limits_its_writes_to_its_share(case, settings, writes):
    provider = WorkspaceProvider(settings)
    assert provider._limiters.for_host("https://adb-1.example").limit == writes


# (reason, shards, a Workspace's writeLimit, this replica's part of it)
WORKSPACE_SHARES = [
    ("one replica takes a Workspace's whole limit", 1, 20, 20),
    ("two shards split a Workspace's limit too", 2, 20, 10),
    ("a Workspace without a limit stays without one", 2, 0, 0),
]


@pytest.mark.parametrize("case, shards, limit, writes", WORKSPACE_SHARES,
                         ids=[c[0] for c in WORKSPACE_SHARES])
def test_each_shard_takes_its_part_of_a_workspace_limit(case, shards, limit, writes):
    from lakeserve.databricks.limiter import HostLimiters

    settings = Settings(write_limit=50, shard_count=shards)
    limiters = HostLimiters(settings.writes_per_window, 300, share=settings.share_of)
    limiters.claim("Workspace team/prod", "https://adb-1.example", (limit, 60.0))
    limiter = limiters.for_host("https://adb-1.example")
    assert (limiter.limit, limiter.window) == (writes, 60.0)


class FakeClient:
    class config:  # noqa: N801 - stands in for WorkspaceClient.config
        host = "https://adb-1.example"


class OneClientBuilder:
    """Stands in for ClientBuilder: no network."""

    def get(self, key, build, host):
        return FakeClient()

    def forget(self, keep):
        pass


# (reason, seconds between Secret reads, whether the event loop may use the built workspace)
CURRENT = [
    ("built, Secret read recently: no thread needed", 30.0, True),
    ("Secret due for a re-read: get() must run in a thread", 0.0, False),
]


@pytest.mark.parametrize("case, refresh, usable", CURRENT, ids=[c[0] for c in CURRENT])
def test_current_hands_out_the_built_workspace_only_while_nothing_is_due(case, refresh, usable):
    settings = Settings(credentials_secret="ops/databricks", secret_refresh=refresh)
    data = {**HOST, "DATABRICKS_TOKEN": TOKEN}
    provider = WorkspaceProvider(settings, secret_reader=lambda namespace, name: data,
                                 builder=OneClientBuilder())
    assert provider.current() is None, "nothing built yet"
    built = provider.get()
    assert provider.current() is (built if usable else None)
