"""WorkspaceClients built within a deadline, once per workspace and credentials version.

Building a client does network I/O (the host-metadata probe, OAuth discovery with the SDK's own
300 s retry budget), so an unreachable host could hold a thread for minutes. Each build runs in a
small pool of its own and the caller waits at most ``build_timeout``; a build still running is
shared by every caller asking for the same key, never started twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config

UNREACHABLE = "Unreachable"


class WorkspaceUnreachable(Exception):
    """The workspace did not answer in time, or could not be reached at all."""

    def __init__(self, message: str):
        super().__init__(message)
        self.reason = UNREACHABLE
        self.message = message


def unreachable_cause(exc: BaseException, host: str) -> None:
    """Raise WorkspaceUnreachable when the SDK's ValueError at client construction hides a
    network failure (OAuth discovery that could not reach the host), not a credentials one."""
    text, cause = str(exc), exc.__cause__
    while cause is not None:
        if isinstance(cause, (requests.ConnectionError, requests.Timeout, TimeoutError)):
            break
        cause = cause.__cause__
    if cause is not None or "Invalid URL 'None'" in text:
        raise WorkspaceUnreachable(
            f"{host} could not be reached while the client was being set up (host metadata, "
            "OAuth discovery): check the host and the network path to it") from None


class IsolatedConfig(Config):
    """A Config made from its arguments alone: not from the operator's DATABRICKS_* environment
    (the default workspace's) nor from ~/.databrickscfg, so one workspace's settings never leak
    into another's."""

    @classmethod
    def attributes(cls):  # Config lists the attributes of its own class only
        return Config.attributes()

    def _load_from_env(self) -> None:  # databricks-sdk 0.162.0 internals; a unit test guards
        return

    def _known_file_config_loader(self) -> None:
        return


def normalize_host(host: str) -> str:
    """One spelling per workspace: lower case, no trailing slash, no default port."""
    parts = urlsplit(host.strip())
    scheme = (parts.scheme or "https").lower()
    netloc = (parts.netloc or parts.path).lower().rstrip("/")
    default_port = {"https": ":443", "http": ":80"}.get(scheme, "")
    if default_port and netloc.endswith(default_port):
        netloc = netloc[: -len(default_port)]
    return f"{scheme}://{netloc}"


class ClientBuilder:
    """Builds clients in its own threads, waiting at most ``build_timeout`` for one; keeps the
    last client built per key."""

    def __init__(self, build_timeout: float, workers: int = 4):
        self.build_timeout = build_timeout
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="client-build")
        # Reentrant: a build that is already done settles inside add_done_callback.
        self._lock = threading.RLock()
        self._built: dict[Hashable, WorkspaceClient] = {}
        self._pending: dict[Hashable, Future] = {}

    def get(self, key: Hashable, build: Callable[[], WorkspaceClient], host: str) -> WorkspaceClient:
        """The client for ``key``, building it with ``build`` if needed (blocking, bounded)."""
        with self._lock:
            if key in self._built:
                return self._built[key]
            future = self._pending.get(key)
            if future is None:
                future = self._pool.submit(build)
                self._pending[key] = future
                future.add_done_callback(lambda done: self._settle(key, done))
        try:
            return future.result(self.build_timeout)
        except FutureTimeout:
            raise WorkspaceUnreachable(
                f"{host} did not answer within {self.build_timeout:.0f}s while the client was "
                "being set up (host metadata, OAuth discovery): check the host and the network "
                "path to it") from None

    def forget(self, keep: Callable[[Hashable], bool]) -> None:
        """Drop the clients whose key ``keep`` refuses (rotated credentials, deleted objects)."""
        with self._lock:
            for key in [k for k in self._built if not keep(k)]:
                del self._built[key]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _settle(self, key: Hashable, future: Future) -> None:
        with self._lock:
            self._pending.pop(key, None)
            if not future.cancelled() and future.exception() is None:
                self._built[key] = future.result()
