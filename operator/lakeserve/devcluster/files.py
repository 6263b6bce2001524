"""Writing files that hold secrets (keys, tokens, kubeconfigs) or must appear all at once."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: str | bytes) -> None:
    """Write ``data`` readable by the owner only, replacing ``path`` atomically.

    The file is created with mode 0600 rather than chmod-ed afterwards, so the secret is never
    readable by others, and renamed into place, so a reader never sees half of it.
    """
    payload = data.encode() if isinstance(data, str) else data
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, text: str) -> None:
    """Write a non-secret text file so a concurrent reader sees the old or the new content."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(text)
    os.replace(temporary, path)


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700: it will hold keys and tokens."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
