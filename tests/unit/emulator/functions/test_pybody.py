"""Python bodies are checked as the body of a function with the declared parameters."""

from __future__ import annotations

import pytest

from lakeserve.emulator.functions.pybody import BodyError, check, compile_function


@pytest.mark.parametrize("body", ["return x", "\n  y = x * 2\n  return y\n", "", "pass"])
def test_valid_bodies(body):
    check(body, ["x"])


def test_syntax_errors_name_the_body_line():
    with pytest.raises(BodyError) as failure:
        check("a = 1\nreturn (a", ["x"])
    assert failure.value.line == 2
    assert "line 2 of the body: return (a" in str(failure.value)


def test_parameters_must_be_python_identifiers():
    with pytest.raises(BodyError, match="not a valid Python identifier"):
        check("return 1", ["class"])


def test_compiled_bodies_see_their_parameters():
    assert compile_function("  return a - b", ["a", "b"], "f")(5, 3) == 2
