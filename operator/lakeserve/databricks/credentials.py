"""The credentials Secret of a Workspace or ClusterWorkspace: exactly one auth method, no other
keys. Problems are named by key (never by value), so the Stalled message says what to fix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lakeserve.databricks.workspace import CREDENTIALS_INVALID, CredentialsError

# The keys of a credentials Secret, per auth method (docs/reference.md, "Workspaces").
TOKEN_KEYS = ("DATABRICKS_TOKEN",)
OAUTH_KEYS = ("DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET")
AZURE_KEYS = ("ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_TENANT_ID")


@dataclass(frozen=True)
class AuthMethod:
    name: str  # what the docs call it
    auth_type: str  # the SDK's auth_type
    keys: tuple[str, ...]  # Secret keys, in the order of ``attributes``
    attributes: tuple[str, ...]  # Config attributes they fill


METHODS = (
    AuthMethod("a personal access token", "pat", TOKEN_KEYS, ("token",)),
    AuthMethod("OAuth M2M", "oauth-m2m", OAUTH_KEYS, ("client_id", "client_secret")),
    AuthMethod("an Azure service principal", "azure-client-secret", AZURE_KEYS,
               ("azure_client_id", "azure_client_secret", "azure_tenant_id")),
)
KNOWN_KEYS = tuple(key for method in METHODS for key in method.keys)
METHODS_HINT = ("DATABRICKS_TOKEN; or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET; or "
                "ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID")


@dataclass(frozen=True)
class Credentials:
    auth_type: str
    attributes: dict[str, str] = field(repr=False)  # Config attributes, secrets included


def credentials_from_secret(where: str, data: Mapping[str, str]) -> Credentials:
    """The one auth method ``data`` holds; CredentialsInvalid naming the keys otherwise."""
    _refuse_unknown_keys(where, data)
    empty = sorted(key for key, value in data.items() if not value)
    if empty:
        raise _invalid(where, f"empty: {', '.join(empty)}; give them values or remove them")
    present = [method for method in METHODS if any(key in data for key in method.keys)]
    if not present:
        raise _invalid(where, f"no credentials: it needs {METHODS_HINT}")
    if len(present) > 1:
        found = "; ".join(", ".join(k for k in m.keys if k in data) for m in present)
        raise _invalid(where, f"keys of {len(present)} auth methods at once ({found}): keep "
                              "the keys of one")
    return _complete(where, present[0], data)


def _refuse_unknown_keys(where: str, data: Mapping[str, str]) -> None:
    unknown = sorted(key for key in data if key not in KNOWN_KEYS)
    if not unknown:
        return
    hint = (" (the host comes from spec.host)" if "DATABRICKS_HOST" in unknown else "")
    raise _invalid(where, f"keys the operator does not read: {', '.join(unknown)}{hint}; it "
                          f"holds {METHODS_HINT}, and nothing else")


def _complete(where: str, method: AuthMethod, data: Mapping[str, str]) -> Credentials:
    missing = [key for key in method.keys if key not in data]
    if missing:
        raise _invalid(where, f"an incomplete credential: {method.name} needs "
                              f"{' and '.join(method.keys)}; missing {', '.join(missing)}")
    attributes = {attr: data[key] for key, attr in zip(method.keys, method.attributes)}
    return Credentials(method.auth_type, attributes)


def _invalid(where: str, problem: str) -> CredentialsError:
    return CredentialsError(CREDENTIALS_INVALID, f"the credentials Secret {where} has {problem}")
