"""Tokens of Databricks SQL, as far as the statements the local workspace runs need them.

Identifiers (bare or in backquotes, ```` `` ```` escaping a backquote), string literals in single
or double quotes with Spark's backslash escapes, dollar-quoted bodies (``$$ ... $$`` or
``$tag$ ... $tag$``), numbers and punctuation; ``--`` and ``/* */`` comments are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakeserve.emulator.sql.errors import SqlError, line_pos, syntax_error

IDENT, QUOTED_IDENT, STRING, BODY, NUMBER, PUNCT, END = (
    "ident", "quoted_ident", "string", "body", "number", "punct", "end")

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<line_comment>--[^\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z0-9_]*)?\$)
  | (?P<quoted_ident>`(?:[^`]|``)*`)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),.<>:;=*+\-/])
""", re.VERBOSE | re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "0": "\0", "Z": "\x1a"}


@dataclass(frozen=True)
class Token:
    kind: str
    value: str
    pos: int  # offset in the statement text
    raw: str = ""

    def is_keyword(self, *words: str) -> bool:
        return self.kind == IDENT and self.value.upper() in words

    @property
    def shown(self) -> str:
        return "end of input" if self.kind == END else f"'{self.raw or self.value}'"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise syntax_error(text, pos, f"'{text[pos]}'")
        kind = match.lastgroup if match.lastgroup != "tag" else "dollar"
        if kind == "dollar":
            token, pos = _dollar_body(text, match)
            tokens.append(token)
            continue
        raw = match.group(0)
        if kind == "quoted_ident":
            tokens.append(Token(QUOTED_IDENT, raw[1:-1].replace("``", "`"), pos, raw))
        elif kind == "string":
            tokens.append(Token(STRING, unescape(raw[1:-1]), pos, raw))
        elif kind in (IDENT, NUMBER, PUNCT):
            tokens.append(Token(kind, raw, pos, raw))
        pos = match.end()
    tokens.append(Token(END, "", len(text)))
    return tokens


def unescape(text: str) -> str:
    """Spark's string-literal escapes: ``\\'``, ``\\\\``, ``\\n`` ...; others keep the char."""
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars, "")
        out.append(_ESCAPES.get(following, following))
    return "".join(out)


def _dollar_body(text: str, match: re.Match[str]) -> tuple[Token, int]:
    opener = match.group(0)
    start = match.end()
    end = text.find(opener, start)
    if end < 0:
        raise SqlError("PARSE_SYNTAX_ERROR",
                       f"Syntax error at or near '{opener}': the body is not closed by "
                       f"'{opener}'.", "42601", position=line_pos(text, match.start()))
    return Token(BODY, text[start:end], match.start(), opener), end + len(opener)

