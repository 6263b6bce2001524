"""Search parameters of the MLflow UC protocol: the ``name='...'`` filter and offset pages."""

from __future__ import annotations

import re
from typing import TypeVar

from lakeserve.emulator.errors import invalid
from lakeserve.emulator.registry.names import ModelName, parse_full_name

T = TypeVar("T")

DEFAULT_PAGE = 100
_NAME_FILTER = re.compile(r"""^\s*name\s*=\s*(['"])(?P<name>[^'"]+)\1\s*$""")


def name_filter(text: str) -> ModelName:
    """The model a version search is about; Unity Catalog searches one model's versions."""
    match = _NAME_FILTER.match(text or "")
    if match is None:
        raise invalid(f"Invalid filter '{text}': the local workspace searches model versions "
                      "by name only, e.g. name='catalog.schema.model'")
    return parse_full_name(match.group("name"), "name")


def offset_page(items: list[T], max_results: int, page_token: str) -> tuple[list[T], str]:
    """One page of ``items``; the token is the next offset ("" on the last page). MLflow asks
    for up to 10,000 versions by default, so large pages are served as asked."""
    if max_results < 0:
        raise invalid("max_results must not be negative")
    try:
        start = int(page_token) if page_token else 0
    except ValueError:
        raise invalid(f"Invalid page_token '{page_token}'") from None
    end = start + (max_results or DEFAULT_PAGE)
    return items[start:end], str(end) if end < len(items) else ""
