"""Where built binaries live, and the lock that keeps concurrent processes from building twice."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """``$LAKESERVE_CACHE_DIR``, else ``${XDG_CACHE_HOME:-~/.cache}/lakeserve``.

    Outside the repository on purpose: the binaries are ~300 MB and shared by every checkout.
    """
    env = os.environ if environ is None else environ
    explicit = env.get("LAKESERVE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = env.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "lakeserve"


def binary_path(name: str, version: str, root: Path | None = None) -> Path:
    """The cached binary for ``name`` at ``version``; a new pin never reuses an old build."""
    return (root or cache_root()) / "bin" / f"{name}-{version}"


@contextmanager
def file_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` for the duration of the block.

    ``flock`` is released by the kernel when the holder dies, so a killed build never leaves a
    stale lock behind. ``on_wait`` is called once if another process holds it, to say why we wait.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
