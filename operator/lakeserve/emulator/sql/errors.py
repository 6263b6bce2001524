"""SQL errors as Databricks puts them in a statement's status: ``[CLASS] message SQLSTATE: x``."""

from __future__ import annotations


class SqlError(Exception):
    """A failed statement: error class, message, SQLSTATE and (for parse errors) a position."""

    def __init__(self, error_class: str, message: str, sql_state: str,
                 position: tuple[int, int] | None = None):
        self.error_class = error_class
        self.message = message
        self.sql_state = sql_state
        self.position = position
        super().__init__(self.text)

    @property
    def text(self) -> str:
        where = f" (line {self.position[0]}, pos {self.position[1]})" if self.position else ""
        return f"[{self.error_class}] {self.message} SQLSTATE: {self.sql_state}{where}"


def line_pos(text: str, offset: int) -> tuple[int, int]:
    """1-based line and 0-based column of ``offset``, as Spark reports positions."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1)
    return line, column


def syntax_error(text: str, offset: int, near: str, hint: str = "") -> SqlError:
    return SqlError("PARSE_SYNTAX_ERROR", f"Syntax error at or near {near}{hint}.", "42601",
                    position=line_pos(text, offset))


def not_supported(what: str) -> SqlError:
    return SqlError("NOT_SUPPORTED_IN_LOCAL_WORKSPACE",
                    f"{what} is not supported by the local workspace (lakeserve emulator): it "
                    "runs CREATE [OR REPLACE] FUNCTION ... LANGUAGE PYTHON, DROP FUNCTION, "
                    "CREATE [OR REPLACE] TABLE, INSERT INTO ... VALUES and DROP TABLE "
                    "statements only.", "0A000")
