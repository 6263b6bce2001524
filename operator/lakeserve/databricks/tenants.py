"""Clients for the workspaces that Workspace and ClusterWorkspace objects describe.

One client per workspace object and version of its credentials Secret (``resourceVersion``): a
rotated Secret gives a new client on the next pass, without a restart, and the old one is
dropped. Every client of one host shares that host's write limiter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from databricks.sdk import WorkspaceClient

from lakeserve import __version__
from lakeserve.databricks.clients import ClientBuilder, IsolatedConfig, unreachable_cause
from lakeserve.databricks.credentials import Credentials, credentials_from_secret
from lakeserve.databricks.errors import without_config_dump
from lakeserve.databricks.http import tune_http_session
from lakeserve.databricks.limiter import HostLimiters
from lakeserve.databricks.workspace import (
    CREDENTIALS_INVALID,
    SENSITIVE_ATTRIBUTES,
    CredentialsError,
    DeferringClock,
    Workspace,
)
from lakeserve.redact import register_secret
from lakeserve.settings import Settings


@dataclass(frozen=True)
class WorkspaceSource:
    """A Workspace or ClusterWorkspace, as far as building its client goes."""

    kind: str
    namespace: str | None  # None for a ClusterWorkspace
    name: str
    uid: str
    generation: int
    host: str  # normalized
    secret_namespace: str
    secret_name: str
    http_timeout: float | None = None
    retry_timeout: float | None = None
    write_limit: tuple[int, float] | None = None

    @property
    def identity(self) -> str:
        """"Workspace ns/name" or "ClusterWorkspace name": how messages name it."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"

    @property
    def secret(self) -> str:
        return f"{self.secret_namespace}/{self.secret_name}"


class WorkspaceClients:
    """Hands out the Workspace (client, host, limiter) of a workspace object."""

    def __init__(self, settings: Settings, builder: ClientBuilder, limiters: HostLimiters,
                 on_client: Callable[[WorkspaceClient], None] | None = None):
        self._settings = settings
        self._builder = builder
        self._limiters = limiters
        self._on_client = on_client
        self._lock = threading.Lock()
        self._last: dict[str, tuple[Workspace, str]] = {}  # identity -> (workspace, auth type)
        self._current: dict[str, tuple[tuple, Workspace]] = {}  # identity -> (key, workspace)

    def workspace(self, source: WorkspaceSource, secret: Mapping[str, str],
                  secret_version: str) -> Workspace:
        """Blocking (may build a client: bounded by the builder's timeout)."""
        credentials = credentials_from_secret(source.secret, secret)
        for attribute in SENSITIVE_ATTRIBUTES:
            register_secret(credentials.attributes.get(attribute))
        key = _key(source, secret_version)
        client = self._builder.get(key, lambda: self._build(source, credentials), source.host)
        self._builder.forget(lambda k: k[0] != source.identity or k == key)
        self._limiters.claim(source.identity, source.host, source.write_limit)
        workspace = Workspace(client=client, host=source.host,
                              limiter=self._limiters.for_host(source.host))
        with self._lock:
            self._last[source.identity] = (workspace, credentials.auth_type)
            self._current[source.identity] = (key, workspace)
        return workspace

    def current(self, source: WorkspaceSource, secret_version: str) -> Workspace | None:
        """What ``workspace`` handed out last for this very spec generation and Secret version;
        None when it has work to do. Never blocks: asked on the event loop on every pass."""
        with self._lock:
            key, workspace = self._current.get(source.identity, ((), None))
        return workspace if key == _key(source, secret_version) else None

    def auth_type(self, source: WorkspaceSource) -> str | None:
        with self._lock:
            last = self._last.get(source.identity)
        return last[1] if last else None

    def last_built(self, identity: str) -> Workspace | None:
        """The last client handed out for this workspace object (deletion after its Secret went)."""
        with self._lock:
            last = self._last.get(identity)
        return last[0] if last else None

    def forget(self, identity: str) -> None:
        """The workspace object is gone: its clients and its write limit go too."""
        self._builder.forget(lambda key: key[0] != identity)
        self._limiters.withdraw(identity)
        with self._lock:
            self._last.pop(identity, None)
            self._current.pop(identity, None)

    def _build(self, source: WorkspaceSource, credentials: Credentials) -> WorkspaceClient:
        settings = self._settings
        try:
            config = IsolatedConfig(
                host=source.host, auth_type=credentials.auth_type, **credentials.attributes,
                http_timeout_seconds=source.http_timeout or settings.http_timeout,
                retry_timeout_seconds=source.retry_timeout or settings.retry_timeout,
                clock=DeferringClock(settings.max_sdk_sleep),
                product="lakeserve", product_version=__version__)
        except ValueError as exc:
            unreachable_cause(exc, source.host)
            raise CredentialsError(CREDENTIALS_INVALID, (
                f"the Databricks SDK cannot use the credentials of {source.identity} (Secret "
                f"{source.secret}): {without_config_dump(str(exc))}")) from None
        client = WorkspaceClient(config=config)
        tune_http_session(client, settings.workers)
        if self._on_client:
            self._on_client(client)
        return client


def _key(source: WorkspaceSource, secret_version: str) -> tuple:
    """A client per workspace object, spec generation and Secret version."""
    return (source.identity, source.uid, source.generation, secret_version)
