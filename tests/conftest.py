"""Shared fixtures: the shipped knowledge base, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

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
