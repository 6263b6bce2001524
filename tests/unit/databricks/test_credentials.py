"""A Workspace's credentials Secret: one auth method, no other keys; problems named by key."""

from __future__ import annotations

import pytest

from lakeserve.databricks.credentials import credentials_from_secret
from lakeserve.databricks.workspace import CREDENTIALS_INVALID, CredentialsError

TOKEN = "dapi0123456789abcdef0123456789abcdef"
SECRET = "oauth-secret-value-0123"

# (reason for the case, Secret data, words the CredentialsInvalid message must hold)
INVALID = [
    ("an empty Secret", {}, ["no credentials", "DATABRICKS_TOKEN; or DATABRICKS_CLIENT_ID"]),
    ("the host belongs in the spec", {"DATABRICKS_HOST": "https://x", "DATABRICKS_TOKEN": TOKEN},
     ["keys the operator does not read: DATABRICKS_HOST", "comes from spec.host"]),
    ("a misspelled key", {"DATABRICKS_TOKN": TOKEN}, ["does not read: DATABRICKS_TOKN"]),
    ("a token and an OAuth client at once",
     {"DATABRICKS_TOKEN": TOKEN, "DATABRICKS_CLIENT_ID": "sp", "DATABRICKS_CLIENT_SECRET": SECRET},
     ["keys of 2 auth methods at once", "DATABRICKS_TOKEN; DATABRICKS_CLIENT_ID, "
                                        "DATABRICKS_CLIENT_SECRET", "keep the keys of one"]),
    ("an OAuth client id without its secret", {"DATABRICKS_CLIENT_ID": "sp"},
     ["OAuth M2M needs DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET",
      "missing DATABRICKS_CLIENT_SECRET"]),
    ("an Azure service principal without its tenant",
     {"ARM_CLIENT_ID": "a", "ARM_CLIENT_SECRET": SECRET},
     ["an Azure service principal needs ARM_CLIENT_ID and ARM_CLIENT_SECRET and ARM_TENANT_ID",
      "missing ARM_TENANT_ID"]),
    ("an empty token", {"DATABRICKS_TOKEN": ""}, ["empty: DATABRICKS_TOKEN"]),
]


@pytest.mark.parametrize("case, data, words", INVALID, ids=[c[0] for c in INVALID])
def test_an_unusable_secret_names_the_keys_to_fix(case, data, words):
    with pytest.raises(CredentialsError) as raised:
        credentials_from_secret("team-a/databricks", data)
    assert raised.value.reason == CREDENTIALS_INVALID
    message = raised.value.message
    assert "Secret team-a/databricks" in message
    assert all(word in message for word in words), message
    assert TOKEN not in message and SECRET not in message


@pytest.mark.parametrize("data, auth_type, attributes", [
    ({"DATABRICKS_TOKEN": TOKEN}, "pat", {"token": TOKEN}),
    ({"DATABRICKS_CLIENT_ID": "sp", "DATABRICKS_CLIENT_SECRET": SECRET}, "oauth-m2m",
     {"client_id": "sp", "client_secret": SECRET}),
    ({"ARM_CLIENT_ID": "a", "ARM_CLIENT_SECRET": SECRET, "ARM_TENANT_ID": "t"},
     "azure-client-secret",
     {"azure_client_id": "a", "azure_client_secret": SECRET, "azure_tenant_id": "t"}),
], ids=["personal-access-token", "oauth-m2m", "azure-service-principal"])
def test_each_auth_method_maps_to_the_sdks_attributes(data, auth_type, attributes):
    credentials = credentials_from_secret("ns/s", data)
    assert (credentials.auth_type, credentials.attributes) == (auth_type, attributes)
    assert TOKEN not in repr(credentials) and SECRET not in repr(credentials)
