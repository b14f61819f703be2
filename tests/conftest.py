"""Shared fixtures: the shipped knowledge base, loaded once per test session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.assistant import Assistant
from bot.knowledge import KnowledgeBase, default_root, load_knowledge

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
ORGS = ("chelmsford", "derbyshire", "gloucestershire", "west-dunbartonshire", "wiltshire")


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return load_knowledge(default_root())


@pytest.fixture(scope="session")
def assistant(knowledge: KnowledgeBase) -> Assistant:
    return Assistant(knowledge)


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
