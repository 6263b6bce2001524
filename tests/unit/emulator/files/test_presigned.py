"""Presigned URLs: a URL works for its operation and path until it expires, and only then."""

from __future__ import annotations

import warnings
from pathlib import PurePosixPath
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi import FastAPI

from lakeserve.emulator.files.presigned import UrlSigner, build_router
from lakeserve.emulator.files.store import FileStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PATH = PurePosixPath("/WorkspaceInternal/run/model.pkl")


@pytest.fixture
def signer(clock) -> UrlSigner:
    return UrlSigner(clock)


@pytest.fixture
def client(tmp_path, signer) -> TestClient:
    store = FileStore(tmp_path)
    store.serve("/WorkspaceInternal", lambda path: None)
    store.write(PATH, b"model bytes")
    app = FastAPI()
    app.include_router(build_router(store, signer))
    return TestClient(app)


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_download_url_serves_the_file_without_a_token(client, signer, clock):
    url = signer.url("http://testserver", "get", PATH, clock.now() + 60)
    answer = client.get(local(url))
    assert (answer.status_code, answer.content) == (200, b"model bytes")


def test_an_upload_url_writes_the_file(client, signer, clock):
    url = signer.url("http://testserver", "put", PATH.parent / "new.txt", clock.now() + 60)
    assert client.put(local(url), content=b"fresh").status_code == 200
    download = signer.url("http://testserver", "get", PATH.parent / "new.txt", clock.now() + 60)
    assert client.get(local(download)).content == b"fresh"


@pytest.mark.parametrize("tamper, code", [
    (lambda q: {**q, "signature": "0" * 64}, "SignatureDoesNotMatch"),
    (lambda q: {**q, "op": "put"}, "SignatureDoesNotMatch"),  # a GET URL used for a PUT
    (lambda q: {**q, "expires": str(int(q["expires"]) + 3600)}, "SignatureDoesNotMatch"),
    (lambda q: {k: v for k, v in q.items() if k != "expires"}, "AccessDenied"),
])
def test_a_tampered_url_is_refused_as_cloud_storage_does(client, signer, clock, tamper, code):
    url = urlsplit(signer.url("http://testserver", "get", PATH, clock.now() + 60))
    query = tamper(dict(parse_qsl(url.query)))
    answer = client.get(url.path, params=query)
    assert answer.status_code == 403
    assert f"<Code>{code}</Code>" in answer.text


def test_an_expired_url_says_so_in_the_words_the_sdk_recognises(client, signer, clock):
    url = signer.url("http://testserver", "get", PATH, clock.now() + 60)
    clock.advance(61)
    answer = client.get(local(url))
    assert answer.status_code == 403
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in answer.text


def test_a_missing_file_is_no_such_key(client, signer, clock):
    url = signer.url("http://testserver", "get", PATH.parent / "nope", clock.now() + 60)
    answer = client.get(local(url))
    assert answer.status_code == 404 and "<Code>NoSuchKey</Code>" in answer.text


def test_expiry_comes_from_the_requested_time_or_an_hour(signer, clock):
    assert signer.expiry(None) == clock.now() + 3600
    assert signer.expiry("2030-01-01T00:00:00Z") == 1893456000
