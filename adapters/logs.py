"""Log output for the server: one JSON object per line, or readable lines for a terminal.

Handlers log facts (council, kind of reply, clause, timings) through `extra`; question text
and secrets are never passed to a log call at INFO, so neither format can leak them.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import TextIO

from aiohttp.http_exceptions import HttpProcessingError

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# Line breaks and other control characters in what a log line quotes: written out, they would
# let text someone sent begin a forged line of its own.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class ReadableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        message = _printable(record.getMessage())
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {message}"
        line = f"{line} {_printable(extras)}" if extras else line
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


# Libraries that log what they send and receive (SQL with its parameters, API bodies) at
# DEBUG: that would be reports, names and phone numbers in the log, so they stay at WARNING
# whatever level the server runs at.
CHATTY_LIBRARIES = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy",
    "slack_sdk",
    "slack_bolt",
    "botbuilder",
    "botframework",
    "msrest",
    "aiosmtplib",
)


def quiet_chatty_libraries() -> None:
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


class HoldChattyLibraries(logging.Filter):
    """Drops what the chatty libraries log below WARNING, whatever level their loggers have.
    A level on a library's logger is not enough: Bolt gives each of its child loggers a level
    of its own, copied from the root when the app is built, and logs a request that fails
    verification, body and all, at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        name = record.name
        return not any(name == lib or name.startswith(f"{lib}.") for lib in CHATTY_LIBRARIES)


class HideMalformedRequests(logging.Filter):
    """aiohttp logs a request it cannot parse with the offending bytes quoted (a header line, a
    request line: whatever was sent, a person's details included): keep only that it happened
    and which kind of error it was."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg, record.args = "malformed HTTP request refused (%s)", (type(error).__name__,)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def configure(*, json_lines: bool, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Every log line through one handler (on standard error unless `stream` is given)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(HoldChattyLibraries())
    handler.addFilter(HideMalformedRequests())
    handler.setFormatter(JsonFormatter() if json_lines else ReadableFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_chatty_libraries()
    # aiohttp's access log would print every URL; ours says what matters without the noise.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
