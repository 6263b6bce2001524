"""Offset-token pagination as the list APIs here use it (``max_results``/``page_token``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from starlette.requests import Request

from lakeserve.emulator.errors import invalid

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page(items: Sequence[T], size: int | None, token: str | None) -> tuple[list[T], str | None]:
    """One page of ``items`` (already ordered); the token is the next offset as text.

    ``size`` None or 0 means the server's default page size, as UC does for ``max_results=0``.
    """
    if size is not None and not 0 <= size <= MAX_PAGE_SIZE:
        raise invalid(f"max_results must be between 0 and {MAX_PAGE_SIZE}")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise invalid(f"Invalid page_token '{token}'") from None
    if start < 0:
        raise invalid(f"Invalid page_token '{token}'")
    end = start + (size or DEFAULT_PAGE_SIZE)
    return list(items[start:end]), (str(end) if end < len(items) else None)


def int_param(request: Request, name: str) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise invalid(f"Invalid {name} '{text}': expected an integer") from None


def principal(request: Request, default: str) -> str:
    """Who is calling (set by the gateway's auth), or ``default``."""
    return getattr(request.state, "principal", None) or default
