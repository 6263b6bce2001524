"""Files and directories on disk, addressed by Files API paths (``/Models/c/s/m/1/MLmodel``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lakeserve.emulator.errors import ApiError, invalid

NOT_FOUND = "NOT_FOUND"  # the Files API's code for a missing file or directory (MLflow checks it)
ALREADY_EXISTS = "ALREADY_EXISTS"
MAX_PAGE_SIZE = 1000

# A root (``/Models``) -> a check that raises when a path under it may not be written now.
WriteGuard = Callable[[PurePosixPath], None]


@dataclass(frozen=True)
class Entry:
    path: str  # the Files API path
    name: str
    is_directory: bool
    size: int
    modified: float  # seconds since the epoch


class FileStore:
    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / "files"
        self.root.mkdir(parents=True, exist_ok=True)
        self._guards: dict[str, WriteGuard] = {}  # the roots served, each with its write check

    def serve(self, root: str, guard: WriteGuard) -> None:
        """Serve paths under ``root`` (``/Models``); ``guard`` raises when one may not be written."""
        self._guards[root] = guard

    # paths

    def parse(self, text: str) -> PurePosixPath:
        """A served absolute path without ``.``/``..``; raises INVALID_PARAMETER_VALUE otherwise."""
        segments = (text or "").split("/")
        inner = segments[1:-1] if text.endswith("/") else segments[1:]  # a trailing / is fine
        if segments[0] or any(s in ("", ".", "..") for s in inner):
            raise invalid(f"Invalid path '{text}': expected an absolute path without '.', '..' "
                          "or empty segments")
        path = PurePosixPath(text)
        parts = path.parts[1:]
        if not parts or f"/{parts[0]}" not in self._guards:
            roots = ", ".join(f"{root}/" for root in self._guards)
            raise invalid(f"Invalid path '{text}': the local workspace serves files under "
                          f"{roots} only")
        return path

    def disk_path(self, path: PurePosixPath) -> Path:
        return self.root.joinpath(*path.parts[1:])

    def check_writable(self, path: PurePosixPath) -> None:
        self._guards[f"/{path.parts[1]}"](path)

    # files

    def write(self, path: PurePosixPath, data: bytes, overwrite: bool = True) -> None:
        self.check_writable(path)
        target = self.disk_path(path)
        if target.is_dir():
            raise invalid(f"Cannot write '{path}': a directory exists at this path")
        if target.exists() and not overwrite:
            raise ApiError(409, ALREADY_EXISTS, f"The file being created already exists: {path}")
        self._make_parents(path)
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(handle, "wb") as out:  # whole file or nothing, even with parallel writers
            out.write(data)
        os.replace(temp, target)

    def file(self, path: PurePosixPath) -> Entry:
        target = self.disk_path(path)
        if not target.is_file():
            raise missing(f"The file being accessed is not found: {path}")
        return _entry(path, target)

    def read(self, path: PurePosixPath, start: int = 0, end: int | None = None) -> bytes:
        self.file(path)
        with open(self.disk_path(path), "rb") as source:
            source.seek(start)
            return source.read() if end is None else source.read(end - start + 1)

    def delete_file(self, path: PurePosixPath) -> None:
        self.check_writable(path)
        self.file(path)
        self.disk_path(path).unlink()

    # directories

    def directory(self, path: PurePosixPath) -> None:
        if not self.disk_path(path).is_dir():
            raise missing(f"The directory being accessed is not found: {path}")

    def make_directory(self, path: PurePosixPath) -> None:
        self.check_writable(path)
        self._make_parents(path / "_")

    def list(self, path: PurePosixPath) -> list[Entry]:
        self.directory(path)
        children = sorted(self.disk_path(path).iterdir(), key=lambda child: child.name)
        return [_entry(path / child.name, child) for child in children
                if not child.name.startswith(".upload-")]

    def delete_directory(self, path: PurePosixPath) -> None:
        self.check_writable(path)
        if self.list(path):
            raise ApiError(409, "DIRECTORY_NOT_EMPTY",
                           f"The directory being deleted is not empty: {path}")
        self.disk_path(path).rmdir()

    def wipe(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)

    def _make_parents(self, path: PurePosixPath) -> None:
        for parent in reversed(path.parents[:-1]):  # a file in the way is a clear error
            if self.disk_path(parent).is_file():
                raise invalid(f"Cannot create '{parent}': a file exists at this path")
        self.disk_path(path).parent.mkdir(parents=True, exist_ok=True)


def missing(message: str) -> ApiError:
    return ApiError(404, NOT_FOUND, message)


def _entry(path: PurePosixPath, target: Path) -> Entry:
    stat = target.stat()
    is_directory = target.is_dir()
    return Entry(str(path), target.name, is_directory, 0 if is_directory else stat.st_size,
                 stat.st_mtime)
