"""Building WorkspaceClients the way an operator needs them.

Construction does network I/O (the host-metadata probe, OIDC discovery) and, with default
timeouts, can block for five minutes on an unreachable host; so clients are built once per
credential set, lazily, with explicit timeouts, and a clock that refuses long in-call sleeps
(a long Retry-After becomes a requeue, not a blocked thread).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from databricks.sdk import WorkspaceClient
from databricks.sdk.clock import Clock
from databricks.sdk.config import Config

from lakeserve import __version__
from lakeserve.databricks.clients import ClientBuilder, normalize_host, unreachable_cause
from lakeserve.databricks.errors import RetryDeferred, without_config_dump
from lakeserve.databricks.http import tune_http_session
from lakeserve.databricks.limiter import HostLimiters, WriteLimiter
from lakeserve.redact import redact, register_secret
from lakeserve.settings import Settings

# Secret keys the operator accepts in a credentials Secret, mapped to Config attributes.
SECRET_KEYS = {
    "DATABRICKS_HOST": "host",
    "DATABRICKS_TOKEN": "token",
    "DATABRICKS_CLIENT_ID": "client_id",
    "DATABRICKS_CLIENT_SECRET": "client_secret",
    "DATABRICKS_AUTH_TYPE": "auth_type",
    "DATABRICKS_ACCOUNT_ID": "account_id",
    "DATABRICKS_WORKSPACE_ID": "workspace_id",
    "DATABRICKS_AZURE_RESOURCE_ID": "azure_workspace_resource_id",
    "ARM_CLIENT_ID": "azure_client_id",
    "ARM_CLIENT_SECRET": "azure_client_secret",
    "ARM_TENANT_ID": "azure_tenant_id",
}
SENSITIVE_ATTRIBUTES = ("token", "client_secret", "azure_client_secret", "password")
# Sets of Config attributes that each make a complete credential.
CREDENTIAL_SETS = (("token",), ("client_id", "client_secret"),
                   ("azure_client_id", "azure_client_secret", "azure_tenant_id"))
CREDENTIAL_HINT = ("DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, or "
                   "ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID")

# Reasons of the Stalled condition (re-exported by lakeserve.reconcile.reasons).
CREDENTIALS_NOT_FOUND = "CredentialsNotFound"
CREDENTIALS_INVALID = "CredentialsInvalid"


class CredentialsError(Exception):
    """No usable Databricks credentials; ``reason`` becomes the Stalled condition's reason."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = redact(message)


class DeferringClock(Clock):
    """The SDK's clock, except that a sleep longer than ``max_sleep`` raises RetryDeferred."""

    def __init__(self, max_sleep: float):
        self.max_sleep = max_sleep

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > self.max_sleep:
            raise RetryDeferred(seconds)
        time.sleep(seconds)


@dataclass
class Workspace:
    """A ready client plus what belongs to its workspace: its host and its write limiter."""

    client: WorkspaceClient
    host: str
    limiter: WriteLimiter


SecretReader = Callable[[str, str], Mapping[str, str] | None]


class WorkspaceProvider:
    """Hands out the Workspace for the configured credentials, building it on first use."""

    def __init__(self, settings: Settings, secret_reader: SecretReader | None = None,
                 on_client: Callable[[WorkspaceClient], None] | None = None,
                 builder: ClientBuilder | None = None, limiters: HostLimiters | None = None):
        self._settings = settings
        self._secret_reader = secret_reader
        self._on_client = on_client  # e.g. metrics instrumenting the client's HTTP session
        self._builder = builder or ClientBuilder(settings.client_build_timeout)
        self._limiters = limiters or HostLimiters(
            settings.writes_per_window, settings.write_window, share=settings.share_of)
        self._lock = threading.Lock()
        self._workspace: Workspace | None = None
        self._fingerprint: str | None = None
        self._checked_at = 0.0

    def get(self) -> Workspace:
        """Blocking (may do network I/O): call it from a worker thread."""
        with self._lock:
            if self._workspace is not None and not self._secret_due():
                return self._workspace
            attributes = self._credential_attributes()
            fingerprint = _fingerprint(attributes)
            if self._workspace is None or fingerprint != self._fingerprint:
                self._workspace = self._build(attributes)
                self._fingerprint = fingerprint
            return self._workspace

    def current(self) -> Workspace | None:
        """The Workspace already built, while its Secret is not due for a re-read; None when
        ``get`` has work to do. Never blocks: the event loop asks this on every pass, and only
        goes to a thread (``get``) when it says None."""
        workspace = self._workspace
        return workspace if workspace is not None and not self._secret_due() else None

    @property
    def source(self) -> str:
        """Where the credentials come from, for messages that say what to fix."""
        if self._settings.credentials_secret:
            return f"Secret {self._settings.credentials_secret}"
        return "the operator's DATABRICKS_* environment"

    def _secret_due(self) -> bool:
        if not self._settings.credentials_secret:
            return False
        return time.monotonic() - self._checked_at > self._settings.secret_refresh

    def _credential_attributes(self) -> dict[str, str]:
        if not self._settings.credentials_secret:
            return {}  # the SDK reads DATABRICKS_* from the environment itself
        self._checked_at = time.monotonic()
        namespace, _, name = self._settings.credentials_secret.partition("/")
        data = self._secret_reader(namespace, name) if self._secret_reader else None
        if data is None:
            raise CredentialsError(
                CREDENTIALS_NOT_FOUND,
                f"the Databricks credentials Secret {namespace}/{name} does not exist; create it "
                f"with DATABRICKS_HOST and {CREDENTIAL_HINT}")
        return secret_attributes(f"{namespace}/{name}", data)

    def _build(self, attributes: dict[str, str]) -> Workspace:
        for key in SENSITIVE_ATTRIBUTES:
            register_secret(attributes.get(key))
        host_hint = attributes.get("host") or os.environ.get("DATABRICKS_HOST") or "the workspace"
        key = ("Default", _fingerprint(attributes))
        client = self._builder.get(key, lambda: self._construct(attributes), host_hint)
        self._builder.forget(lambda k: k[0] != "Default" or k == key)
        host = normalize_host(client.config.host)
        return Workspace(client=client, host=host, limiter=self._limiters.for_host(host))

    def _construct(self, attributes: dict[str, str]) -> WorkspaceClient:
        try:
            config = Config(
                **attributes,
                http_timeout_seconds=self._settings.http_timeout,
                retry_timeout_seconds=self._settings.retry_timeout,
                clock=DeferringClock(self._settings.max_sdk_sleep),
                product="lakeserve",
                product_version=__version__,
            )
        except ValueError as exc:
            unreachable_cause(exc, attributes.get("host") or "the workspace")
            raise CredentialsError(
                CREDENTIALS_INVALID, f"the Databricks SDK cannot use the credentials from "
                f"{self.source}: {without_config_dump(str(exc))}; fix them there (with several "
                f"auth methods, set DATABRICKS_AUTH_TYPE or keep one)") from None
        for key in SENSITIVE_ATTRIBUTES:
            register_secret(getattr(config, key, None))
        if not config.host:
            raise CredentialsError(
                CREDENTIALS_NOT_FOUND,
                "no Databricks host configured: set DATABRICKS_HOST (and a token or OAuth client) "
                "in the operator's environment or LAKESERVE_CREDENTIALS_SECRET")
        client = WorkspaceClient(config=config)
        tune_http_session(client, self._settings.workers)
        if self._on_client:
            self._on_client(client)
        return client


def secret_attributes(where: str, data: Mapping[str, str]) -> dict[str, str]:
    """Config attributes from a credentials Secret's keys; CredentialsInvalid naming the keys to
    fix (never their values) when there is no host or no complete credential."""
    attributes = {SECRET_KEYS[k]: v for k, v in data.items() if k in SECRET_KEYS and v}
    missing = []
    if "host" not in attributes:
        missing.append("DATABRICKS_HOST")
    if "auth_type" not in attributes and not any(
            all(attributes.get(a) for a in needed) for needed in CREDENTIAL_SETS):
        missing.append(f"credentials ({CREDENTIAL_HINT})")
    if missing:
        raise CredentialsError(CREDENTIALS_INVALID, f"the Secret {where} has no "
                               f"{' and no '.join(missing)}{_key_hints(data)}")
    return attributes


def _key_hints(data: Mapping[str, str]) -> str:
    empty = sorted(k for k, v in data.items() if k in SECRET_KEYS and not v)
    unknown = sorted(k for k in data if k not in SECRET_KEYS)
    hints = [f"; empty: {', '.join(empty)}"] if empty else []
    if unknown:
        hints.append(f"; keys the operator does not read: {', '.join(unknown)} (known: "
                     f"{', '.join(SECRET_KEYS)})")
    return "".join(hints)


def _fingerprint(attributes: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(attributes.items())).encode()).hexdigest()
