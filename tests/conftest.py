"""Shared fixtures: the shipped knowledge base, loaded once per test session."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from bot.assistant import Assistant
from bot.knowledge import KnowledgeBase, default_root, load_knowledge

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
ORGS = ("chelmsford", "derbyshire", "gloucestershire", "west-dunbartonshire", "wiltshire")


@functools.cache
def shipped_assistant() -> Assistant:
    """The assistant for the shipped knowledge, built once per test session (it is immutable):
    for fixtures, and for servers a test builds."""
    return Assistant(load_knowledge(default_root()))


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return shipped_assistant().knowledge


@pytest.fixture(scope="session")
def assistant() -> Assistant:
    return shipped_assistant()


@pytest.fixture(scope="session")
def dev_eval() -> Path:
    path = SHARED / "eval" / "dev.yaml"
    if not path.exists():
        pytest.skip(f"{path} not present (shared/ sits beside the checkout in CI)")
    return path


def captured_payload(platform: str, name: str) -> dict[str, Any]:
    """A captured Slack or Teams payload from tests/fixtures/<platform>/ (public sources,
    copied byte for byte: tests/fixtures/README.md names each one's origin and licence)."""
    path = REPO / "tests" / "fixtures" / platform / name
    payload: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return payload
