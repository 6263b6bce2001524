"""The HTTP session under a WorkspaceClient: a connection per worker, the environment read once,
and plain calls sent the short way with what goes on the wire and what comes back unchanged."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.errors import NotFound

from lakeserve.databricks.http import LeanSession, http_session, tune_http_session

TOKEN = "dapi-0123456789abcdef"


# (reason, host): every worker keeps its connection, whatever the scheme
SCHEMES = [("a local workspace over http", "http://127.0.0.1:9"),
           ("a workspace over https", "https://127.0.0.1:9")]


@pytest.mark.parametrize("case, host", SCHEMES, ids=[c[0] for c in SCHEMES])
def test_the_connection_pool_holds_a_connection_per_worker(case, host):
    client = WorkspaceClient(config=Config(host=host, token=TOKEN, retry_timeout_seconds=1,
                                           http_timeout_seconds=1))
    tune_http_session(client, 48)
    adapter = http_session(client).get_adapter(host + "/api/2.0/serving-endpoints")
    assert adapter._pool_maxsize == 48
    assert adapter._pool_block, "a full pool waits rather than opening throwaway connections"


# (reason, environment, whether requests keeps reading it on every request, the CA bundle)
ENVIRONMENTS = [
    ("nothing for requests there", {"PATH": "/bin", "DATABRICKS_HOST": "h"}, False, True),
    ("a proxy", {"HTTPS_PROXY": "http://proxy:3128"}, True, True),
    ("a lower-case proxy", {"https_proxy": "http://proxy:3128"}, True, True),
    ("an empty proxy variable is none", {"HTTPS_PROXY": ""}, False, True),
    ("a corporate CA bundle becomes the session's, read once",
     {"REQUESTS_CA_BUNDLE": "/etc/ca.pem"}, False, "/etc/ca.pem"),
    ("curl's CA bundle too, as requests would take it", {"CURL_CA_BUNDLE": "/etc/curl.pem"},
     False, "/etc/curl.pem"),
]


@pytest.fixture(scope="module")
def local_client():
    return WorkspaceClient(config=Config(host="http://127.0.0.1:9", token=TOKEN,
                                         retry_timeout_seconds=1, http_timeout_seconds=1))


@pytest.mark.parametrize("case, environ, trusted, verify", ENVIRONMENTS,
                         ids=[c[0] for c in ENVIRONMENTS])
def test_requests_reads_the_environment_once_unless_proxies_decide_per_url(
        case, environ, trusted, verify, local_client, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    session = http_session(local_client)
    session.trust_env, session.verify = True, True
    tune_http_session(local_client, 16, environ)
    tuned = http_session(local_client)
    assert tuned.trust_env is trusted
    assert tuned.verify == verify


def test_the_pool_key_of_a_host_is_worked_out_once(local_client, monkeypatch):
    tune_http_session(local_client, 16, {})
    adapter = http_session(local_client).get_adapter("http://127.0.0.1:9/")
    request = requests.Request("GET", "http://127.0.0.1:9/api/2.0/x").prepare()
    first = adapter.build_connection_pool_key_attributes(request, "/etc/ca.pem")
    monkeypatch.setattr("os.path.isdir", lambda path: pytest.fail("stat per request"))
    again = adapter.build_connection_pool_key_attributes(request, "/etc/ca.pem")
    assert again == first and again[1]["ca_certs"] == "/etc/ca.pem"
    other = requests.Request("GET", "https://127.0.0.1:9/api/2.0/x").prepare()
    with pytest.raises(pytest.fail.Exception):
        adapter.build_connection_pool_key_attributes(other, "/etc/ca.pem")


def test_a_netrc_file_keeps_requests_reading_it(local_client, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".netrc").write_text("machine x login u password p\n")
    http_session(local_client).trust_env = True
    tune_http_session(local_client, 16, {})
    assert http_session(local_client).trust_env is True


# ---- the short way: the same requests, the same answers ----------------------------------

class Recorder(BaseHTTPRequestHandler):
    """Answers by path; records what arrived (method, path, headers, body)."""

    seen: list[dict] = []

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append({"method": self.command, "path": self.path, "body": body,
                          "headers": {k.lower(): v for k, v in self.headers.items()}})
        path = self.path.split("?")[0]
        if path == "/redirect":
            self._send(307, b"", {"Location": "/echo?from=redirect"})
        elif path == "/cookie":
            self._send(200, b"{}", {"Set-Cookie": "affinity=node-1; Path=/"})
        elif path == "/missing":
            self._send(404, b'{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no"}')
        else:
            self._send(200, json.dumps({"path": self.path, "body": body.decode()}).encode())

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def bearer(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    prepared.headers["Authorization"] = "Bearer " + TOKEN
    return prepared


def configured(session: requests.Session, answers: list) -> requests.Session:
    """As the SDK and tune_http_session leave it: auth, a response hook, no environment."""
    session.auth = bearer
    session.trust_env = False
    session.hooks["response"].append(lambda response, **_: answers.append(response.status_code))
    return session


# (reason, method, path, keyword arguments of Session.request as the SDK passes them)
CALLS = [
    ("a read with query parameters", "GET", "/echo", {"params": {"a": "1", "b": ["x", "y"]}}),
    ("a create: a JSON string and its content type", "POST", "/echo",
     {"data": '{"name": "e"}', "headers": {"Content-Type": "application/json"}}),
    ("a body from json=", "PATCH", "/echo", {"json": {"tags": [{"key": "k"}]}}),
    ("a header set to None is left out", "GET", "/echo", {"headers": {"X-Gone": None}}),
    ("an error answer", "GET", "/missing", {}),
    ("a delete without a body", "DELETE", "/echo", {}),
    ("a redirect is followed", "POST", "/redirect", {"data": "{}"}),
    ("a streamed answer", "GET", "/echo", {"stream": True}),
]


def _sent_and_answered(session, server, method, path, kwargs):
    Recorder.seen.clear()
    response = session.request(method, server + path, timeout=5, **kwargs)
    arrived = [{**seen, "headers": {k: v for k, v in seen["headers"].items()
                                    if k not in ("date",)}} for seen in Recorder.seen]
    return arrived, {
        "status": response.status_code, "reason": response.reason, "url": response.url,
        "content": response.content, "encoding": response.encoding,
        "headers": {k: v for k, v in response.headers.items() if k.lower() != "date"},
        "history": [r.status_code for r in response.history],
        "request": (response.request.method, response.request.url,
                    dict(response.request.headers), response.request.body),
        "elapsed": isinstance(response.elapsed, timedelta) and response.elapsed.total_seconds() > 0,
    }


@pytest.mark.parametrize("case, method, path, kwargs", CALLS, ids=[c[0] for c in CALLS])
def test_a_plain_call_sends_and_answers_exactly_as_requests_does(case, method, path, kwargs,
                                                                   server):
    standard_answers, lean_answers = [], []
    standard = configured(requests.Session(), standard_answers)
    lean = configured(LeanSession(), lean_answers)
    assert lean._plain(None, None, None, None, None, None, True)
    assert _sent_and_answered(lean, server, method, path, kwargs) == \
        _sent_and_answered(standard, server, method, path, kwargs)
    assert lean_answers == standard_answers, "response hooks (the metrics) see every answer"


def test_a_cookie_set_by_the_workspace_is_kept_and_sent_back_as_requests_does(server):
    lean = configured(LeanSession(), [])
    lean.get(server + "/cookie", timeout=5)
    assert lean.cookies.get("affinity") == "node-1"
    Recorder.seen.clear()
    lean.get(server + "/echo", timeout=5)
    assert Recorder.seen[0]["headers"]["cookie"] == "affinity=node-1"


# (reason, what the session has, keyword arguments of the call): each goes the standard way
NOT_PLAIN = [
    ("the environment is consulted", {"trust_env": True}, {}),
    ("session proxies", {"proxies": {"https": "http://proxy:3128"}}, {}),
    ("session params", {"params": {"a": "1"}}, {}),
    ("cookies in the call", {}, {"cookies": {"a": "b"}}),
    ("files", {}, {"files": {"f": b"x"}}),
    ("per-call proxies", {}, {"proxies": {"https": "http://proxy:3128"}}),
    ("per-call hooks", {}, {"hooks": {"response": []}}),
    ("per-call verify", {}, {"verify": False}),
    ("a client certificate", {}, {"cert": "/etc/cert.pem"}),
    ("redirects not followed", {}, {"allow_redirects": False}),
]


@pytest.mark.parametrize("case, state, kwargs", NOT_PLAIN, ids=[c[0] for c in NOT_PLAIN])
def test_anything_requests_would_merge_or_decide_goes_the_standard_way(case, state, kwargs,
                                                                        monkeypatch):
    lean = configured(LeanSession(), [])
    for name, value in state.items():
        setattr(lean, name, value)
    taken = []
    monkeypatch.setattr(requests.Session, "request",
                        lambda self, method, url, **kw: taken.append(kw) or "standard")
    assert lean.request("GET", "http://127.0.0.1:9/x", **kwargs) == "standard"
    assert taken, case


def test_the_sdk_calls_through_the_short_way_after_tuning(server):
    client = WorkspaceClient(config=Config(host=server, token=TOKEN, retry_timeout_seconds=1,
                                           http_timeout_seconds=5))
    old = http_session(client)
    tune_http_session(client, 4, {})
    lean = http_session(client)
    assert isinstance(lean, LeanSession) and lean.adapters is old.adapters
    Recorder.seen.clear()
    with pytest.raises(NotFound):
        client.api_client.do("GET", "/missing")
    assert client.api_client.do("POST", "/echo", body={"name": "e"})["body"] == '{"name": "e"}'
    assert Recorder.seen[0]["headers"]["authorization"] == "Bearer " + TOKEN
