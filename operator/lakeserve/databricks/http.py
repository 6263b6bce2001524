"""The HTTP session under a WorkspaceClient, made fit for thousands of calls.

The SDK sends every call through one ``requests.Session``. Per call, requests merges the
session's settings into the request (headers, cookies, hooks, proxies and the environment's),
keeps cookies twice over and follows redirects -- in requests 2.34 on Python 3.11 through
runtime-checked protocols, each ``isinstance`` a few microseconds. Against the local workspace
that is a fifth of a call's CPU in the operator (0.65 -> 0.54 ms a call, with the changes here),
and the three calls of a new object are a quarter of the operator's CPU for it. Nothing here
changes what goes on the wire or what the SDK sees; a unit test sends the same requests both ways
and compares.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
from databricks.sdk import WorkspaceClient
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from requests.hooks import dispatch_hook
from requests.models import PreparedRequest
from requests.structures import CaseInsensitiveDict


def http_session(client: WorkspaceClient) -> requests.Session:
    """The requests session under a WorkspaceClient (databricks-sdk 0.162.0 internals; the
    SDK version is pinned and a unit test fails if this path moves)."""
    return client.api_client._api_client._session  # noqa: SLF001


def tune_http_session(client: WorkspaceClient, workers: int,
                      environ: Mapping[str, str] | None = None) -> None:
    """One kept connection per worker thread, whatever the scheme: the SDK sizes only https://
    (20), and requests' default for http:// (10, not blocking) makes 16 workers open and throw
    away connections ("Connection pool is full, discarding connection").

    And requests reads the environment once here, not on every request: without proxies or a
    netrc file, a CA bundle it would find there (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) becomes the
    session's own and it stops looking -- otherwise it scans the whole environment twice per
    request for proxies, a good part of a call's CPU time. Then plain calls take the short way
    (``LeanSession``)."""
    adapter = KeptContextAdapter(pool_connections=20, pool_maxsize=max(20, workers),
                                 pool_block=True)
    session = http_session(client)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    environ = os.environ if environ is None else environ
    if _proxies_or_netrc(environ):
        return
    bundle = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle  # what requests' merge_environment_settings would pick
    session.trust_env = False
    client.api_client._api_client._session = LeanSession.taking_over(session)  # noqa: SLF001


class LeanSession(requests.Session):
    """A Session that prepares and sends a plain call the short way: what the long way would
    merge in is empty, so the prepared request is the same (``prepare_*`` as requests calls
    them), and the response gets what ``Session.send`` gives it (elapsed time, response hooks,
    cookies kept, redirects followed by requests' own ``resolve_redirects``).

    Not plain, and sent the standard way: the environment consulted (``trust_env``), cookies in
    the session or the call, session proxies or params, or any per-call files, proxies, hooks,
    verify, cert, or ``allow_redirects=False``."""

    @classmethod
    def taking_over(cls, session: requests.Session) -> LeanSession:
        """A LeanSession with everything of ``session`` (its adapters and their connections
        included): the attributes requests itself names as a session's state."""
        lean = cls()
        for adapter in lean.adapters.values():
            adapter.close()
        for name in requests.Session.__attrs__:
            setattr(lean, name, getattr(session, name))
        return lean

    def request(self, method: str | bytes, url: str | bytes, params: Any = None,
                data: Any = None, headers: Any = None, cookies: Any = None, files: Any = None,
                auth: Any = None, timeout: Any = None, allow_redirects: bool = True,
                proxies: Any = None, hooks: Any = None, stream: bool | None = None,
                verify: Any = None, cert: Any = None, json: Any = None) -> requests.Response:
        if not self._plain(cookies, files, proxies, hooks, verify, cert, allow_redirects):
            return super().request(
                method, url, params=params, data=data, headers=headers, cookies=cookies,
                files=files, auth=auth, timeout=timeout, allow_redirects=allow_redirects,
                proxies=proxies, hooks=hooks, stream=stream, verify=verify, cert=cert, json=json)
        prepared = self._prepared(method, url, params, data, headers, auth, json)
        stream = self.stream if stream is None else stream
        options = {"stream": stream, "timeout": timeout, "verify": self.verify,
                   "cert": self.cert, "proxies": {}}
        started = time.perf_counter()
        response = self.get_adapter(url=prepared.url).send(prepared, **options)
        response.elapsed = timedelta(seconds=time.perf_counter() - started)
        response = dispatch_hook("response", prepared.hooks, response, **options)
        if "set-cookie" in response.headers:
            extract_cookies_to_jar(self.cookies, prepared, response.raw)
        if response.is_redirect:
            history = [response, *self.resolve_redirects(response, prepared, **options)]
            response = history.pop()
            response.history = history
        if not stream:
            response.content  # noqa: B018 - read the body now, as Session.send does
        return response

    def _plain(self, cookies: Any, files: Any, proxies: Any, hooks: Any, verify: Any,
               cert: Any, allow_redirects: bool) -> bool:
        return not (self.trust_env or self.proxies or self.params or len(self.cookies)
                    or cookies or files or proxies or hooks or not allow_redirects
                    or verify is not None or cert is not None)

    def _prepared(self, method: str | bytes, url: str | bytes, params: Any, data: Any,
                  headers: Any, auth: Any, json: Any) -> PreparedRequest:
        merged = CaseInsensitiveDict(self.headers)
        if headers:
            merged.update(headers)
        prepared = PreparedRequest()
        prepared.prepare_method(method)
        prepared.prepare_url(url, params)
        prepared.prepare_headers({name: value for name, value in merged.items()
                                  if value is not None})
        prepared.prepare_cookies(RequestsCookieJar())
        prepared.prepare_body(data, None, json)
        prepared.prepare_auth(self.auth if auth is None else auth, url)
        prepared.prepare_hooks(self.hooks)
        return prepared


class KeptContextAdapter(requests.adapters.HTTPAdapter):
    """Works out each host's connection-pool key once: requests does it per request, with a
    stat() of the CA bundle path (``os.path.isdir``) each time. The hook is the one requests
    documents for subclasses."""

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)
        self._contexts: dict[tuple, tuple[dict, dict]] = {}

    def build_connection_pool_key_attributes(self, request: requests.PreparedRequest,
                                             verify: bool | str, cert: object = None,
                                             ) -> tuple[dict, dict]:
        parsed = urlparse(request.url)
        key = (parsed.scheme.lower(), parsed.hostname, parsed.port, verify, cert)
        known = self._contexts.get(key)
        if known is None:
            known = super().build_connection_pool_key_attributes(request, verify, cert)
            self._contexts[key] = known
        host_params, pool_kwargs = known
        return dict(host_params), dict(pool_kwargs)


def _proxies_or_netrc(environ: Mapping[str, str]) -> bool:
    """Whether requests' trust_env would find proxies or a netrc file (which it must keep
    reading per request: no_proxy decides per URL)."""
    names = {name.lower() for name, value in environ.items() if value}
    if any(name.endswith("_proxy") for name in names) or "netrc" in names:
        return True
    return any(Path(f"~/{name}").expanduser().exists() for name in (".netrc", "_netrc"))
