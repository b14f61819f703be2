"""`policybot compare` on the shipped councils: the issue's own check."""

from __future__ import annotations

import json

from bot.audit import verbatim_key
from tests.adapters.cli.invoke import run
from tests.conftest import shipped_assistant


def test_compare_lists_at_least_thirty_topics_each_addressed_by_two_councils() -> None:
    listed = run("compare", "--json")
    assert listed.returncode == 0, listed.stderr
    topics = json.loads(listed.stdout)
    assert len(topics) >= 30
    assert all(len(topic["councils"]) >= 2 for topic in topics)
    readable = run("compare").stdout.decode()
    assert "friend-requests-from-service-users" in readable and "councils" in readable


def test_friend_requests_shows_every_council_that_addresses_it_verbatim() -> None:
    knowledge = shipped_assistant().knowledge
    done = run("compare", "friend-requests-from-service-users", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    expected = sorted(
        org
        for org, policy in knowledge.policies.items()
        if any("friend-requests-from-service-users" in c.topics for c in policy.clauses)
    )
    assert [council["org"] for council in shown["councils"]] == expected
    assert len(expected) >= 3
    for council in shown["councils"]:
        policy = knowledge.policies[council["org"]]
        for clause in council["clauses"]:
            assert verbatim_key(clause["quote"]) in verbatim_key(policy.text)
            assert clause["section"] == policy.clause(clause["clause"]).section
    silent = {policy.council for org, policy in knowledge.policies.items() if org not in expected}
    assert set(shown["silent"]) == silent

    text = run("compare", "Friend requests from service users").stdout.decode()
    assert "Derbyshire County Council" in text and "\u2502" in text


def test_an_unknown_topic_names_the_nearest() -> None:
    refused = run("compare", "friend-request-from-service-users")
    assert refused.returncode == 2
    assert b"did you mean friend-requests-from-service-users" in refused.stderr
