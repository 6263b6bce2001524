"""Keep credentials out of logs, events, status and exception text.

Every secret the operator learns (tokens, client secrets) is registered here; every message that
leaves the process (log records, Kubernetes events, status conditions) passes through ``redact``.
"""

from __future__ import annotations

import logging
import re
import threading

_MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()
_longest_first: tuple[str, ...] = ()  # _secrets, sorted once per registration, not per message

# Shapes that are secrets whatever their value: bearer headers, Databricks PATs, key=value pairs.
_PATTERNS = [
    re.compile(r"(?i)(authorization:\s*bearer\s+)[^\s,;'\"]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\b(dapi)[0-9a-f]{16,}(-\d+)?\b"),
    re.compile(r"(?i)((?:token|client_secret|password|secret)\s*[=:]\s*)(?!\*\*\*)[^\s,;'\"]+"),
]


def register_secret(value: str | None) -> None:
    """Mask this exact value from now on (ignored when empty or too short to be a secret)."""
    global _longest_first
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)
            _longest_first = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """The text with every registered secret and secret-shaped token masked."""
    if not text:
        return text
    for secret in _longest_first:
        text = text.replace(secret, _MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + _MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the final message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_log_redaction() -> None:
    """Attach the filter to every handler of the root logger (call after logging is set up)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
