"""Councils side by side: each council's own clause on one shared topic (knowledge/topics.yaml),
its verdict and section, and which councils are silent on it.

The same question gets a different answer in each council ("never accept" in one, "consider
carefully" in another): a policy owner reviewing their rule, or a member of staff who moved
from a neighbouring council, sees exactly where they differ, in each policy's own words.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.knowledge import Clause, KnowledgeBase, KnowledgeError, Topic
from bot.verdict import verdict_of


@dataclass(frozen=True, slots=True)
class CouncilRule:
    """One council's clauses on a topic."""

    org: str
    council: str
    title: str  # the policy's title
    clauses: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    topic: Topic
    rules: tuple[CouncilRule, ...]  # councils that address the topic, in name order
    silent: tuple[str, ...]  # the names of the councils that do not


class UnknownTopicError(KnowledgeError):
    def __init__(self, wanted: str, near: list[str]) -> None:
        self.wanted = wanted
        self.near = near
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        super().__init__(f"no topic {wanted[:60]!r}{hint} (`policybot compare` lists them)")


def find_topic(knowledge: KnowledgeBase, wanted: str) -> Topic:
    """A topic by its id, or by its title in any case. Raises `UnknownTopicError` naming the
    nearest ones."""
    key = wanted.strip().casefold()
    for topic in knowledge.topics.values():
        if key in (topic.id, topic.title.casefold()):
            return topic
    names = {topic.title.casefold(): topic.id for topic in knowledge.topics.values()}
    names.update({topic.id: topic.id for topic in knowledge.topics.values()})
    near = difflib.get_close_matches(key, list(names), n=3, cutoff=0.5)
    raise UnknownTopicError(wanted, list(dict.fromkeys(names[name] for name in near)))


def comparison_path(topic: Topic) -> str:
    """Where the Compare page shows `topic`: every front end's link to it."""
    return f"/compare?topic={topic.id}"


def compare(knowledge: KnowledgeBase, topic: Topic) -> Comparison:
    addressing = knowledge.addressing(topic.id)
    found = {policy.org for policy, _ in addressing}
    return Comparison(
        topic=topic,
        rules=tuple(
            CouncilRule(policy.org, policy.council, policy.title, clauses)
            for policy, clauses in addressing
        ),
        silent=tuple(knowledge.policies[org].council for org in knowledge.orgs if org not in found),
    )


def comparison_json(comparison: Comparison) -> dict[str, object]:
    """The one JSON shape of a comparison: `policybot compare --json` and the HTTP API."""
    return {
        "topic": comparison.topic.id,
        "title": comparison.topic.title,
        "asks": comparison.topic.asks,
        "councils": [
            {
                "org": rule.org,
                "council": rule.council,
                "policy": rule.title,
                "clauses": [
                    {
                        "clause": clause.id,
                        "section": clause.section,
                        "quote": clause.quote,
                        "asks": clause.asks,
                        "answer": clause.answer,
                        "verdict": verdict_word(clause),
                    }
                    for clause in rule.clauses
                ],
            }
            for rule in comparison.rules
        ],
        "silent": list(comparison.silent),
    }


def verdict_word(clause: Clause) -> str | None:
    """yes, no or depends: how the clause answers the question it `asks`; None for a rule
    stated without a verdict."""
    verdict = verdict_of(clause.answer)
    return verdict.value if verdict else None


def topics_json(knowledge: KnowledgeBase) -> list[dict[str, object]]:
    """Every topic with the councils that address it."""
    return [
        {
            "topic": topic.id,
            "title": topic.title,
            "asks": topic.asks,
            "councils": [policy.org for policy, _ in knowledge.addressing(topic.id)],
        }
        for topic in knowledge.topics.values()
    ]
