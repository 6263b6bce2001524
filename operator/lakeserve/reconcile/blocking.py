"""Running the blocking Databricks SDK calls in a thread pool without losing their exceptions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any


async def run_blocking(executor: Executor | None, fn: Callable[..., Any], *args: Any) -> Any:
    loop = asyncio.get_running_loop()
    result, error = await loop.run_in_executor(executor, _captured, fn, args)
    if error is not None:
        raise error
    return result


def _captured(fn: Callable[..., Any], args: tuple) -> tuple[Any, BaseException | None]:
    """Run ``fn`` and hand back its exception as a value: asyncio replaces a TimeoutError
    crossing from a thread with a fresh one, losing the SDK's cause (what was retried)."""
    try:
        return fn(*args), None
    except Exception as exc:  # noqa: BLE001 - re-raised by the caller
        return None, exc
