"""Shared fixtures: the shipped knowledge base, loaded once per test session."""

from __future__ import annotations

import functools
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.assistant import Assistant
from bot.knowledge import KnowledgeBase, default_root, load_knowledge
from tests.fakes.smtp import Mailbox, local_smtp, mailbox_desks

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
# Copies of what ../shared holds that the tests compare against, so that a public clone runs
# every test (tests/fixtures/shared/README.md); tests/test_shared_copies.py keeps them current.
DEV_EVAL = REPO / "tests" / "eval" / "dev.yaml"
SHARED_COPIES = REPO / "tests" / "fixtures" / "shared"
ORGS = ("chelmsford", "derbyshire", "gloucestershire", "west-dunbartonshire", "wiltshire")


# A question quoted in a review: "...?" or “...?”
QUOTED_QUESTION = re.compile(r'[\u201c"]([^"\u201d\n]{8,200}\?)[\u201d"]')


def published_policy_digests() -> dict[str, str]:
    """File name -> sha256 of each council's published policy (../shared/policies)."""
    lines = (SHARED_COPIES / "published-policies.sha256").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line)}


def reviewed_questions() -> set[str]:
    """The questions quoted in the HR adviser's reviews of the knowledge base
    (../shared/reviews/knowledge-*.md)."""
    text = (SHARED_COPIES / "reviewed-questions.txt").read_text(encoding="utf-8")
    return set(text.splitlines()) - {""}


def free_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


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


def captured_payload(platform: str, name: str) -> dict[str, Any]:
    """A captured Slack or Teams payload from tests/fixtures/<platform>/ (public sources,
    copied byte for byte: tests/fixtures/README.md names each one's origin and licence)."""
    path = REPO / "tests" / "fixtures" / platform / name
    payload: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return payload


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def desks_by_email(mailbox: Mailbox) -> Iterator[dict[str, Any]]:
    """Settings giving every shipped council mailbox desks on a local SMTP server, so that
    a server built with them takes reports (alerts arrive in `mailbox`)."""
    with local_smtp(mailbox) as server:
        yield mailbox_desks(server, *shipped_assistant().knowledge.orgs)
