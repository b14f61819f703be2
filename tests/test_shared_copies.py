"""The copies in tests/ of what ../shared holds are still what it holds, wherever ../shared sits
beside the checkout (in CI and on the project's machines; a public clone has only the copies)."""

from __future__ import annotations

import hashlib

from tests.conftest import (
    DEV_EVAL,
    QUOTED_QUESTION,
    SHARED,
    published_policy_digests,
    reviewed_questions,
)


def test_the_dev_evaluation_file_is_the_shared_one() -> None:
    shared = SHARED / "eval" / "dev.yaml"
    if shared.exists():
        assert DEV_EVAL.read_bytes() == shared.read_bytes()


def test_the_policy_digests_are_the_published_policies() -> None:
    policies = sorted((SHARED / "policies").glob("*.txt"))
    if policies:
        digests = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in policies}
        assert digests == published_policy_digests()


def test_the_reviewed_questions_are_the_reviews_questions() -> None:
    reviews = sorted((SHARED / "reviews").glob("knowledge-*.md"))
    if reviews:
        quoted = {q for path in reviews for q in QUOTED_QUESTION.findall(path.read_text())}
        assert quoted == reviewed_questions()
