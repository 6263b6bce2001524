"""Files on disk by Files API path: which paths are served, writes, listings, guards, errors."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.files.store import FileStore


@pytest.fixture
def refused() -> set[str]:
    return set()  # paths the /Models guard refuses


@pytest.fixture
def store(tmp_path, refused) -> FileStore:
    files = FileStore(tmp_path)

    def guard(path: PurePosixPath) -> None:
        if str(path) in refused:
            raise ApiError(403, "PERMISSION_DENIED", f"no writes to {path}")
    files.serve("/Models", guard)
    files.serve("/WorkspaceInternal", lambda path: None)
    return files


@pytest.mark.parametrize("text, message", [
    ("relative/file", "absolute path"),
    ("/Models/../etc/passwd", "absolute path without"),
    ("/Models/./a", "absolute path without"),
    ("/Models//a", "empty segments"),
    ("/", "serves files under /Models/, /WorkspaceInternal/ only"),
    ("/Volumes/main/default/v/f", "serves files under /Models/, /WorkspaceInternal/ only"),
])
def test_paths_outside_the_served_roots_or_escaping_them_are_refused(store, text, message):
    with pytest.raises(ApiError, match=message) as caught:
        store.parse(text)
    assert (caught.value.status, caught.value.error_code) == (400, "INVALID_PARAMETER_VALUE")


def test_a_written_file_reads_back_whole_and_in_ranges(store, tmp_path):
    path = store.parse("/WorkspaceInternal/a/b/data.bin")
    store.write(path, b"0123456789")
    assert store.read(path) == b"0123456789"
    assert store.read(path, 2, 4) == b"234"
    assert (tmp_path / "files/WorkspaceInternal/a/b/data.bin").read_bytes() == b"0123456789"
    assert store.file(path).size == 10


def test_listing_names_children_in_order_with_sizes(store):
    root = store.parse("/WorkspaceInternal/run")
    store.write(root / "b.txt", b"xy")
    store.write(root / "a/inner.txt", b"x")
    assert [(e.path, e.name, e.is_directory, e.size) for e in store.list(root)] == [
        ("/WorkspaceInternal/run/a", "a", True, 0),
        ("/WorkspaceInternal/run/b.txt", "b.txt", False, 2)]


def test_overwrite_false_refuses_an_existing_file(store):
    path = store.parse("/WorkspaceInternal/f")
    store.write(path, b"1")
    store.write(path, b"2")  # overwrite is the default
    with pytest.raises(ApiError) as caught:
        store.write(path, b"3", overwrite=False)
    assert (caught.value.status, caught.value.error_code) == (409, "ALREADY_EXISTS")
    assert store.read(path) == b"2"


def test_missing_files_and_directories_are_not_found_with_the_files_api_code(store):
    for probe in (lambda: store.file(store.parse("/WorkspaceInternal/nope")),
                  lambda: store.list(store.parse("/WorkspaceInternal/nope")),
                  lambda: store.directory(store.parse("/WorkspaceInternal/nope"))):
        with pytest.raises(ApiError) as caught:
            probe()
        assert (caught.value.status, caught.value.error_code) == (404, "NOT_FOUND")


def test_the_root_guard_decides_every_write(store, refused):
    path = store.parse("/Models/c/s/m/1/MLmodel")
    refused.add(str(path))
    for write in (lambda: store.write(path, b"x"), lambda: store.make_directory(path),
                  lambda: store.delete_file(path)):
        with pytest.raises(ApiError, match="no writes"):
            write()
    store.write(store.parse("/Models/c/s/m/1/other"), b"fine")


def test_directories_are_made_with_parents_and_deleted_only_when_empty(store):
    directory = store.parse("/WorkspaceInternal/x/y")
    store.make_directory(directory)
    store.make_directory(directory)  # idempotent
    store.write(directory / "f", b"1")
    with pytest.raises(ApiError) as caught:
        store.delete_directory(directory)
    assert caught.value.status == 409
    store.delete_file(directory / "f")
    store.delete_directory(directory)
    with pytest.raises(ApiError):
        store.directory(directory)


def test_a_file_in_the_way_of_a_directory_is_a_clear_error(store):
    store.write(store.parse("/WorkspaceInternal/f"), b"1")
    with pytest.raises(ApiError, match="a file exists at this path"):
        store.write(store.parse("/WorkspaceInternal/f/child"), b"2")
    with pytest.raises(ApiError, match="a directory exists"):
        store.write(store.parse("/WorkspaceInternal"), b"2")
