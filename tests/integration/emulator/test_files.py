"""The Files API over HTTP with the SDK's own client (``w.files``), presigned URLs, and which
paths may be written."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from databricks.sdk.errors import NotFound

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]



@pytest.fixture
def run_dir() -> str:
    """A directory of its own per test (the Files area outlives resets, like a workspace)."""
    return f"/WorkspaceInternal/Mlflow/Artifacts/9/Runs/{uuid.uuid4().hex}/artifacts"


def rest(emulator, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, emulator.host + path, timeout=10,
                         headers={"Authorization": f"Bearer {emulator.token}",
                                  **kwargs.pop("headers", {})}, **kwargs)


def test_the_sdk_uploads_lists_downloads_and_deletes(workspace, calls, run_dir):
    workspace.files.upload(f"{run_dir}/model/MLmodel", io.BytesIO(b"flavors: {}\n"), overwrite=True)
    workspace.files.create_directory(f"{run_dir}/empty")
    listed = [(e.name, e.is_directory) for e in workspace.files.list_directory_contents(run_dir)]
    assert listed == [("empty", True), ("model", True)]
    assert workspace.files.get_metadata(f"{run_dir}/model/MLmodel").content_length == 12
    assert workspace.files.download(f"{run_dir}/model/MLmodel").contents.read() == b"flavors: {}\n"
    workspace.files.delete(f"{run_dir}/model/MLmodel")
    with pytest.raises(NotFound):
        workspace.files.get_metadata(f"{run_dir}/model/MLmodel")
    # downloads take a presigned URL first, as the SDK prefers on a workspace that offers them
    assert calls.statuses("POST", "/api/2.0/fs/create-download-url") == [200]
    assert calls.statuses("GET", f"/presigned/files{run_dir}/model/MLmodel") == [200]


def test_downloads_honour_byte_ranges(emulator, workspace, run_dir):
    workspace.files.upload(f"{run_dir}/data.bin", io.BytesIO(b"0123456789"))
    answer = rest(emulator, "GET", f"/api/2.0/fs/files{run_dir}/data.bin",
                  headers={"Range": "bytes=2-4"})
    assert (answer.status_code, answer.content) == (206, b"234")
    assert answer.headers["Content-Range"] == "bytes 2-4/10"


def test_a_presigned_upload_url_needs_no_token(emulator, run_dir):
    created = rest(emulator, "POST", "/api/2.0/fs/create-upload-url",
                   json={"path": f"{run_dir}/signed.txt"}).json()
    assert httpx.put(created["url"], content=b"signed").status_code == 200
    download = rest(emulator, "POST", "/api/2.0/fs/create-download-url",
                    json={"path": f"{run_dir}/signed.txt"}).json()
    assert httpx.get(download["url"]).content == b"signed"
    assert httpx.get(download["url"].replace("signature=", "signature=0")).status_code == 403


@pytest.mark.parametrize("path, status, code", [
    ("/Volumes/main/default/v/f.txt", 400, "INVALID_PARAMETER_VALUE"),
    ("/Models/main/churn/ml_model/1/MLmodel", 404, "RESOURCE_DOES_NOT_EXIST"),
    ("/Models/main/churn/ml_model", 403, "PERMISSION_DENIED"),
])
def test_writes_outside_what_is_writable_are_refused(emulator, path, status, code):
    answer = rest(emulator, "PUT", f"/api/2.0/fs/files{path}", content=b"x")
    assert (answer.status_code, answer.json()["error_code"]) == (status, code)


def test_the_files_api_needs_the_token(emulator, run_dir):
    answer = httpx.get(f"{emulator.host}/api/2.0/fs/directories{run_dir}")
    assert answer.status_code == 401
