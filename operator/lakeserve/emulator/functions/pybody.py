"""Python UDF bodies: checked and compiled as ``def f(<params>): <body>``, as Databricks runs them.

The body is dedented first, so both the notebook's flush-left body and unitycatalog-ai's indented
one work. Line numbers in errors count from the body's first line.
"""

from __future__ import annotations

import ast
import keyword
import textwrap
from collections.abc import Callable
from typing import Any

WRAPPER = "__lakeserve_udf__"


class BodyError(Exception):
    """The body does not parse: Python's message, the body line and its text."""

    def __init__(self, reason: str, line: int | None = None, text: str | None = None):
        self.reason, self.line, self.text = reason, line, text
        super().__init__(reason)

    def __str__(self) -> str:
        where = f" (line {self.line} of the body" if self.line else ""
        if where:
            where += f": {self.text.strip()})" if self.text and self.text.strip() else ")"
        return f"{self.reason}{where}"


def source(body: str, params: list[str]) -> str:
    lines = textwrap.dedent(body.strip("\n")).splitlines() or ["pass"]
    if not any(line.strip() for line in lines):
        lines = ["pass"]
    indented = "\n".join("    " + line if line.strip() else "" for line in lines)
    return f"def {WRAPPER}({', '.join(params)}):\n{indented}\n"


def check(body: str, params: list[str]) -> None:
    """Raise :class:`BodyError` when ``body`` is not a valid function body for ``params``."""
    for name in params:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise BodyError(f"parameter name '{name}' is not a valid Python identifier")
    text = source(body, params)
    try:
        ast.parse(text, filename="<udf>")
    except SyntaxError as exc:
        line = (exc.lineno or 1) - 1
        body_lines = text.splitlines()
        shown = body_lines[line] if 0 < line < len(body_lines) else None
        raise BodyError(exc.msg, line if line > 0 else None, shown) from None


def compile_function(body: str, params: list[str], name: str) -> Callable[..., Any]:
    """The body as a Python function of ``params`` (call :func:`check` first)."""
    code = compile(source(body, params), f"<udf {name}>", "exec")
    namespace: dict[str, Any] = {"__name__": f"udf:{name}"}
    exec(code, namespace)  # noqa: S102 - running user-defined functions is the point
    return namespace[WRAPPER]
