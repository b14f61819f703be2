"""Benchmarks of the answer engine: knowledge load time and per-question latency.

Latency is measured on the shipped councils (every example question of every clause, asked of
its own council) and on a synthetic knowledge base of many clauses, built from the shipped
vocabulary with a fixed seed so that runs are comparable. The councils' own questions are the
quick path (their words name their clause, so no embedding is computed): messages staff write,
such as the posts of an evaluation file, can be timed beside them.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from bot.assistant import Assistant, Question
from bot.knowledge import Clause, Contacts, KnowledgeBase, Policy, load_knowledge
from bot.matcher import Matcher
from bot.normalise import Normaliser, words
from bot.semantic import DIMENSIONS, ClauseVectors, Encoder, Semantics

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Timing:
    name: str
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, name: str, seconds: Sequence[float]) -> Timing:
        ms = sorted(s * 1000 for s in seconds)
        q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
        return cls(name=name, count=len(ms), p50_ms=q[49], p99_ms=q[98], max_ms=ms[-1])


@dataclass(frozen=True, slots=True)
class BenchReport:
    load_seconds: float
    councils: Timing
    synthetic_build_seconds: float
    synthetic: Timing
    synthetic_clauses: int
    posts: Timing | None = None  # the messages given to `run`, when any


def time_calls(name: str, calls: Sequence[Callable[[], object]], clock: Clock) -> Timing:
    for call in calls[: min(50, len(calls))]:  # warm caches the way a running server has them
        call()
    seconds = []
    for call in calls:
        started = clock()
        call()
        seconds.append(clock() - started)
    return Timing.of(name, seconds)


def synthetic_policy(knowledge: KnowledgeBase, *, clauses: int, seed: int = 7) -> Policy:
    """A policy of `clauses` clauses whose words follow the shipped knowledge base's mix.

    Each clause gets five example questions drawn from the real vocabulary (so common words are
    as common as in real questions) plus two words of its own (so every clause can be found).
    """
    rng = random.Random(seed)
    vocabulary = [
        word
        for policy in knowledge.policies.values()
        for clause in policy.clauses
        for text in (*clause.questions, clause.quote)
        for word in words(text)
    ]
    made: list[Clause] = []
    for index in range(clauses):
        own = [f"zq{index}x", f"kv{index * 7919 % 100_003}w"]
        questions = tuple(
            " ".join([*rng.sample(vocabulary, rng.randint(5, 12)), own[i % 2]]) for i in range(5)
        )
        quote = " ".join(rng.sample(vocabulary, 30))
        made.append(
            Clause(
                id=f"synthetic-{index}",
                section=f"{index // 10}.{index % 10}",
                quote=quote,
                answer=" ".join(rng.sample(vocabulary, 15)),
                questions=questions,
            )
        )
    return Policy(
        org="synthetic",
        council="Synthetic Council",
        title="Synthetic Policy",
        date="today",
        contacts=Contacts(hr="HR", comms="Communications"),
        text=" ".join(c.quote for c in made),
        clauses=tuple(made),
    )


def _random_semantics(encoder: Encoder, policy: Policy) -> Semantics:
    """One random unit vector per synthetic clause: encoding 50,000 clauses' questions would take
    hours, and what is timed (encoding the message, comparing it with each candidate) costs the
    same whatever the vectors hold."""
    vectors = np.random.default_rng(3).standard_normal((len(policy.clauses), DIMENSIONS))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    owners = range(len(policy.clauses))
    return Semantics(encoder, ClauseVectors(vectors.astype(np.float32), owners, len(owners)))


def run(
    root: Path,
    *,
    synthetic_clauses: int = 50_000,
    synthetic_questions: int = 2_000,
    council_questions: int | None = None,
    posts: Sequence[Question] = (),
    clock: Clock = time.perf_counter,
    seed: int = 11,
) -> BenchReport:
    started = clock()
    knowledge = load_knowledge(root)
    assistant = Assistant(knowledge)
    load_seconds = clock() - started

    questions = [
        Question(org=org, text=question)
        for org, policy in knowledge.policies.items()
        for clause in policy.clauses
        for question in clause.questions
    ]
    if council_questions is not None and council_questions < len(questions):
        questions = random.Random(seed).sample(questions, council_questions)
    councils = time_calls("five councils", [partial(assistant.ask, q) for q in questions], clock)
    timed_posts = (
        time_calls("posts", [partial(assistant.ask, q) for q in posts], clock) if posts else None
    )

    policy = synthetic_policy(knowledge, clauses=synthetic_clauses)
    started = clock()
    normaliser = Normaliser(knowledge.vocabulary, known_text=(c.quote for c in policy.clauses))
    matcher = Matcher(policy, normaliser, semantics=_random_semantics(assistant.encoder, policy))
    build_seconds = clock() - started
    rng = random.Random(seed)
    # Half the questions are a synthetic clause's own question with one word dropped (they
    # find a clause), half are real staff questions (they share only common words).
    sample: list[str] = []
    for _ in range(synthetic_questions // 2):
        text = rng.choice(rng.choice(policy.clauses).questions).split()
        text.pop(rng.randrange(len(text) - 1))
        sample.append(" ".join(text))
        sample.append(rng.choice(questions).text)
    synthetic = time_calls(
        f"{synthetic_clauses} clauses", [partial(matcher.decide, s) for s in sample], clock
    )
    return BenchReport(
        load_seconds=load_seconds,
        councils=councils,
        synthetic_build_seconds=build_seconds,
        synthetic=synthetic,
        synthetic_clauses=synthetic_clauses,
        posts=timed_posts,
    )
