"""Councils side by side on a shared topic, and the checks that keep topics honest."""

from __future__ import annotations

import dataclasses

import pytest

from bot.audit import topic_problems
from bot.comparison import UnknownTopicError, compare, comparison_json, find_topic
from bot.knowledge import Clause, KnowledgeBase, Topic
from tests.bot.made_up import FRIENDS, PHOTOS, made_up_policy
from tests.conftest import shipped_assistant

FRIEND_REQUESTS = Topic(
    id="friend-requests", title="Friend requests", asks="Can I accept a friend request?"
)
PHOTOGRAPHS = Topic(id="photographs", title="Photos of colleagues", asks="Can I post photos?")


def knowledge(**councils: dict[Clause, tuple[str, ...]]) -> KnowledgeBase:
    """Made-up councils whose clauses are on the topics given: org -> {clause: topic ids}."""
    policies = {}
    for org, clauses in councils.items():
        on_topics = [
            dataclasses.replace(clause, topics=topics) for clause, topics in clauses.items()
        ]
        policy = made_up_policy(*on_topics)
        policies[org] = dataclasses.replace(policy, org=org, council=f"{org.title()} Council")
    return KnowledgeBase(
        policies=policies,
        vocabulary=shipped_assistant().knowledge.vocabulary,
        topics={topic.id: topic for topic in (FRIEND_REQUESTS, PHOTOGRAPHS)},
    )


def test_each_council_addressing_a_topic_is_shown_with_its_clause_and_the_rest_as_silent() -> None:
    base = knowledge(
        north={FRIENDS: ("friend-requests",), PHOTOS: ("photographs",)},
        south={FRIENDS: ("friend-requests",)},
        west={PHOTOS: ("photographs",)},
    )
    found = compare(base, FRIEND_REQUESTS)
    assert [(rule.org, rule.clauses) for rule in found.rules] == [
        ("north", (dataclasses.replace(FRIENDS, topics=("friend-requests",)),)),
        ("south", (dataclasses.replace(FRIENDS, topics=("friend-requests",)),)),
    ]
    assert found.silent == ("West Council",)
    shown = comparison_json(found)
    (clause,) = shown["councils"][0]["clauses"]  # type: ignore[index]
    assert (clause["section"], clause["quote"], clause["verdict"]) == (
        "3.1",
        FRIENDS.quote,
        "no",
    )


def test_a_topic_is_found_by_id_or_title_and_a_near_miss_is_named() -> None:
    base = knowledge(north={FRIENDS: ("friend-requests",)})
    assert find_topic(base, "friend-requests") is FRIEND_REQUESTS
    assert find_topic(base, "  FRIEND REQUESTS ") is FRIEND_REQUESTS
    with pytest.raises(UnknownTopicError) as refused:
        find_topic(base, "friend-request")
    assert refused.value.near == ["friend-requests"]
    assert "did you mean friend-requests" in str(refused.value)


def test_topics_must_exist_and_compare_at_least_two_councils() -> None:
    base = knowledge(
        north={FRIENDS: ("friend-requests", "no-such-topic")},
        south={FRIENDS: ("friend-requests",), PHOTOS: ("photographs",)},
    )
    problems = [problem.message for problem in topic_problems(base)]
    assert problems == [
        "topic 'no-such-topic' is not in topics",
        "topic 'photographs' is addressed by 1 council(s); a topic compares at least 2",
    ]
    alone = knowledge(south={PHOTOS: ("photographs",)})
    assert topic_problems(alone) == []  # one council checked on its own compares nothing
