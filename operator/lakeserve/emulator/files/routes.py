"""Files API 2.0: ``/api/2.0/fs/files{path}`` (PUT, GET with ``Range``, HEAD, DELETE) and
``/api/2.0/fs/directories{path}`` (PUT, GET listing, HEAD, DELETE), as ``w.files`` calls them."""

from __future__ import annotations

from email.utils import formatdate, parsedate_to_datetime
from pathlib import PurePosixPath

from databricks.sdk.service.files import DirectoryEntry, ListDirectoryResponse
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeserve.emulator.errors import ApiError, invalid
from lakeserve.emulator.files.store import MAX_PAGE_SIZE, Entry, FileStore
from lakeserve.emulator.wire import decode_json_object, json_response

FILES = "/api/2.0/fs/files"
DIRECTORIES = "/api/2.0/fs/directories"
OCTET_STREAM = "application/octet-stream"


def build_router(store: FileStore) -> APIRouter:
    router = APIRouter()
    _add_file_routes(router, store)
    _add_directory_routes(router, store)
    return router


def _add_file_routes(router: APIRouter, store: FileStore) -> None:
    @router.put(FILES + "/{file_path:path}")
    async def upload(file_path: str, request: Request) -> Response:
        overwrite = request.query_params.get("overwrite", "true").lower() != "false"
        data = await request.body()
        await run_in_threadpool(store.write, _path(store, file_path), data, overwrite)
        return Response(status_code=204)

    @router.head(FILES + "/{file_path:path}")
    def metadata(file_path: str) -> Response:
        entry = store.file(_path(store, file_path))
        return Response(status_code=200, headers={**file_headers(entry),
                                                  "Content-Length": str(entry.size)})

    @router.get(FILES + "/{file_path:path}")
    def download(file_path: str, request: Request) -> Response:
        return file_response(store, _path(store, file_path), request)

    @router.delete(FILES + "/{file_path:path}")
    def delete(file_path: str) -> Response:
        store.delete_file(_path(store, file_path))
        return Response(status_code=204)


def _add_directory_routes(router: APIRouter, store: FileStore) -> None:
    @router.put(DIRECTORIES + "/{directory_path:path}")
    def create(directory_path: str) -> Response:
        store.make_directory(_path(store, directory_path))
        return Response(status_code=204)

    @router.head(DIRECTORIES + "/{directory_path:path}")
    def exists(directory_path: str) -> Response:
        store.directory(_path(store, directory_path))
        return Response(status_code=200)

    @router.get(DIRECTORIES + "/{directory_path:path}")
    async def list_contents(directory_path: str, request: Request) -> Response:
        # MLflow sends its page token as a JSON body on this GET; the SDK as a query parameter.
        body = decode_json_object(await request.body())
        token = request.query_params.get("page_token") or body.get("page_token")
        size = _page_size(request.query_params.get("page_size"))
        entries = store.list(_path(store, directory_path))
        return json_response(_page(entries, token, size).as_dict())

    @router.delete(DIRECTORIES + "/{directory_path:path}")
    def delete(directory_path: str) -> Response:
        store.delete_directory(_path(store, directory_path))
        return Response(status_code=204)


def file_response(store: FileStore, path: PurePosixPath, request: Request) -> Response:
    """The file's bytes, honouring ``Range`` and ``If-Unmodified-Since`` (also for presigned
    URLs)."""
    entry = store.file(path)
    _check_unmodified(entry, request.headers.get("if-unmodified-since"))
    headers = file_headers(entry)
    byte_range = _byte_range(request.headers.get("range"), entry.size)
    if byte_range is None:
        return Response(store.read(path), headers=headers, media_type=OCTET_STREAM)
    start, end = byte_range
    headers["Content-Range"] = f"bytes {start}-{end}/{entry.size}"
    return Response(store.read(path, start, end), status_code=206, headers=headers,
                    media_type=OCTET_STREAM)


def file_headers(entry: Entry) -> dict[str, str]:
    return {"Last-Modified": formatdate(entry.modified, usegmt=True),
            "Content-Type": OCTET_STREAM}


def _path(store: FileStore, text: str) -> PurePosixPath:
    return store.parse("/" + text)


def _page(entries: list[Entry], token: str | None, size: int) -> ListDirectoryResponse:
    try:
        start = int(token) if token else 0
    except ValueError:
        raise invalid(f"Invalid page_token '{token}'") from None
    page = entries[start:start + size]
    following = start + size
    return ListDirectoryResponse(
        contents=[DirectoryEntry(path=e.path, name=e.name, is_directory=e.is_directory,
                                 file_size=None if e.is_directory else e.size,
                                 last_modified=int(e.modified * 1000)) for e in page],
        next_page_token=str(following) if following < len(entries) else None)


def _page_size(text: str | None) -> int:
    if text is None:
        return MAX_PAGE_SIZE
    try:
        size = int(text)
    except ValueError:
        raise invalid(f"Invalid page_size '{text}': expected an integer") from None
    if size < 1:
        raise invalid(f"Invalid page_size '{text}': expected a positive integer")
    return min(size, MAX_PAGE_SIZE)  # larger values are coerced, as documented


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range; None for the whole file."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    try:
        if unit.strip() != "bytes" or not dash or "," in spec:
            raise ValueError
        if not first:  # bytes=-N: the last N bytes
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
    except ValueError:
        raise invalid(f"Invalid Range header '{header}'") from None
    if start > end or start >= size:
        raise ApiError(416, "INVALID_PARAMETER_VALUE",
                       f"Range '{header}' is not satisfiable for a file of {size} bytes")
    return start, end


def _check_unmodified(entry: Entry, header: str | None) -> None:
    if not header:
        return
    try:
        since = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        raise invalid(f"Invalid If-Unmodified-Since header '{header}'") from None
    if int(entry.modified) > since:
        raise ApiError(412, "PRECONDITION_FAILED",
                       f"The file was modified after {header}: {entry.path}")
