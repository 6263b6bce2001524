"""Presigned URLs, as a workspace with default storage hands them out.

``POST /api/2.0/fs/create-upload-url`` and ``/create-download-url`` (path in a JSON body, as
MLflow sends it, or in the query, as the SDK does) answer ``{"url", "headers"}``; the URL points
at this server's ``/presigned/files{path}`` and carries its own expiry and HMAC signature, so it
works without a token, like a cloud-storage URL. Failures there answer as S3 does (XML), which is
what the SDK and MLflow expect from a presigned URL (an expired one is fetched again).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from starlette.responses import Response

from lakeserve.emulator.clock import Clock
from lakeserve.emulator.errors import ApiError, invalid
from lakeserve.emulator.files.routes import file_response
from lakeserve.emulator.files.store import FileStore
from lakeserve.emulator.wire import decode_json_object, json_response

CREATE_UPLOAD_URL = "/api/2.0/fs/create-upload-url"
CREATE_DOWNLOAD_URL = "/api/2.0/fs/create-download-url"
PRESIGNED = "/presigned/files"
DEFAULT_LIFETIME_SECONDS = 3600.0


class UrlSigner:
    def __init__(self, clock: Clock):
        self._key = secrets.token_bytes(32)  # per process: URLs die with the server, as they should
        self._clock = clock

    def url(self, base: str, operation: str, path: PurePosixPath, expires: float) -> str:
        query = urlencode({"op": operation, "expires": int(expires),
                           "signature": self._signature(operation, str(path), int(expires))})
        return f"{base}{PRESIGNED}{quote(str(path))}?{query}"

    def check(self, operation: str, path: PurePosixPath, request: Request) -> Response | None:
        """None when the request carries a valid, unexpired signature; else the S3-style error."""
        query = request.query_params
        try:
            expires = int(query.get("expires", ""))
        except ValueError:
            return s3_error(403, "AccessDenied", "Query-string authentication requires expires")
        expected = self._signature(operation, str(path), expires)
        if query.get("op") != operation or \
                not hmac.compare_digest(expected, query.get("signature", "")):
            return s3_error(403, "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature "
                            "you provided.")
        if expires < self._clock.now():
            return s3_error(403, "AccessDenied", "Request has expired")
        return None

    def expiry(self, expire_time: str | None) -> float:
        if not expire_time:
            return self._clock.now() + DEFAULT_LIFETIME_SECONDS
        try:
            return datetime.fromisoformat(expire_time.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise invalid(f"Invalid expire_time '{expire_time}': expected an RFC 3339 "
                          "timestamp") from None

    def _signature(self, operation: str, path: str, expires: int) -> str:
        message = f"{operation}\n{path}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def build_router(store: FileStore, signer: UrlSigner) -> APIRouter:
    router = APIRouter()

    @router.post(CREATE_UPLOAD_URL)
    async def create_upload_url(request: Request) -> Response:
        path, expires = await _requested(store, signer, request)
        store.check_writable(path)
        return _url_answer(signer.url(_base(request), "put", path, expires))

    @router.post(CREATE_DOWNLOAD_URL)
    async def create_download_url(request: Request) -> Response:
        path, expires = await _requested(store, signer, request)
        store.file(path)
        return _url_answer(signer.url(_base(request), "get", path, expires))

    _add_presigned_routes(router, store, signer)
    return router


def _add_presigned_routes(router: APIRouter, store: FileStore, signer: UrlSigner) -> None:
    @router.put(PRESIGNED + "/{file_path:path}")
    async def put(file_path: str, request: Request) -> Response:
        path = PurePosixPath("/" + file_path)
        refused = signer.check("put", path, request)
        if refused is not None:
            return refused
        try:
            store.write(path, await request.body())
        except ApiError as error:
            return s3_error(403, "AccessDenied", error.message)
        return Response(status_code=200, headers={"ETag": '"' + secrets.token_hex(16) + '"'})

    @router.get(PRESIGNED + "/{file_path:path}")
    def get(file_path: str, request: Request) -> Response:
        path = PurePosixPath("/" + file_path)
        refused = signer.check("get", path, request)
        if refused is not None:
            return refused
        try:
            return file_response(store, path, request)
        except ApiError as error:
            if error.status == 404:
                return s3_error(404, "NoSuchKey", "The specified key does not exist.")
            return s3_error(error.status, "InvalidRequest", error.message)


async def _requested(store: FileStore, signer: UrlSigner,
                     request: Request) -> tuple[PurePosixPath, float]:
    body = decode_json_object(await request.body())
    text = body.get("path") or request.query_params.get("path")
    if not isinstance(text, str) or not text:
        raise invalid("Missing required field: path")
    expire_time = body.get("expire_time") or request.query_params.get("expire_time")
    return store.parse(text), signer.expiry(expire_time)


def _url_answer(url: str) -> Response:
    return json_response({"url": url, "headers": []})


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def s3_error(status: int, code: str, message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message></Error>")
    return Response(body, status_code=status, media_type="application/xml")
