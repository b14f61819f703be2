"""Both log formats carry the facts passed as `extra`."""

from __future__ import annotations

import json
import logging

from adapters.logs import JsonFormatter, ReadableFormatter


def _record() -> logging.LogRecord:
    record = logging.LogRecord("policybot.web", logging.INFO, __file__, 1, "answered", None, None)
    record.org = "derbyshire"
    record.ms = 1.5
    return record


def test_json_lines_are_one_object_with_the_extras() -> None:
    line = JsonFormatter().format(_record())
    entry = json.loads(line)
    assert entry["message"] == "answered" and entry["org"] == "derbyshire" and entry["ms"] == 1.5
    assert entry["level"] == "info" and "\n" not in line


def test_readable_lines_show_the_extras() -> None:
    assert "answered org=derbyshire ms=1.5" in ReadableFormatter().format(_record())
