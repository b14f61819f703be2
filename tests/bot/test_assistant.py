"""The assistant: questions in, typed replies out, one JSON shape for every edge."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.assistant import (
    MAX_QUESTION_CHARS,
    Answer,
    Assistant,
    Clarify,
    Fallback,
    Question,
    QuestionError,
    also_of,
    reply_json,
    route_of,
    validate_text,
)
from bot.knowledge import Clause, KnowledgeBase, Route, UnknownOrgError
from bot.matcher import Match
from bot.reading import read
from bot.semantic import DIMENSIONS, QuoteAdapter, shipped_adapter
from tests.bot.made_up import FRIENDS, made_up_draft, made_up_policy
from tests.conftest import ORGS, reviewed_questions
from tests.fakes.encoder import Counting


# A question quoted in a review: "…?" or “…?”.
def test_answer_quotes_the_councils_clause(assistant: Assistant) -> None:
    reply = assistant.ask(Question(org="derbyshire", text="Can I friend a service user?"))
    assert isinstance(reply, Answer)
    assert "friend" in reply.clause.quote  # either of Derbyshire's two clauses on friending
    assert reply.policy.council == "Derbyshire County Council"
    body = reply_json(reply)
    assert set(body) >= {"org", "question", "kind", "answer", "route", "matches"}
    assert body["kind"] == "answer"
    assert body["matches"][0]["clause"] == reply.clause.id
    assert body["matches"][0]["quote"] == reply.clause.quote
    assert len(body["matches"]) >= 3
    # Matches are ranked by match strength; `score` is each one's calibrated probability, which
    # also weighs the evidence and may order the runners-up differently. The best is answered.
    assert body["matches"][0]["score"] >= 0.5


def test_incident_answers_carry_a_route(assistant: Assistant) -> None:
    reply = assistant.ask(
        Question(org="gloucestershire", text="a colleague keeps cyber bullying me on facebook")
    )
    assert reply.route is Route.HR
    body = reply_json(reply)
    assert body["route"] == "hr"
    assert body["contact"] == reply.policy.contacts.hr


def test_fallback_names_who_to_ask(assistant: Assistant) -> None:
    reply = assistant.ask(Question(org="wiltshire", text="how do I claim mileage for my car?"))
    assert isinstance(reply, Fallback)
    assert reply.contact in reply.text
    assert "doesn't cover this" in reply.text
    assert reply_json(reply)["route"] is None


def test_vague_question_offers_options(assistant: Assistant) -> None:
    reply = assistant.ask(Question(org="west-dunbartonshire", text="social media"))
    assert isinstance(reply, Clarify)
    assert 1 <= len(reply.options) <= 3


def test_options_are_the_best_clause_and_any_others_that_are_near(assistant: Assistant) -> None:
    reply = assistant.ask(Question(org="derbyshire", text="can I tweet?"))
    assert isinstance(reply, Clarify)
    floor = assistant.matcher("derbyshire").tuning.clarify_threshold
    assert reply.options[0] == reply.matches[0]
    assert all(option.score >= floor for option in reply.options[1:])
    assert any(match.score < floor for match in reply.matches[1:3])  # left out


def test_unknown_council_names_the_known_ones(assistant: Assistant) -> None:
    with pytest.raises(UnknownOrgError, match="derbyshire"):
        assistant.ask(Question(org="atlantis", text="hello"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("x" * (MAX_QUESTION_CHARS + 1), "too long"),
        ("a" * 100_000, "too long"),
        ("can I \x00\x01 post", "binary"),
        ("\udcff\udcfe", "binary"),
        ("caf\ufffd", "binary"),
    ],
)
def test_bad_questions_are_refused_plainly(text: str, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        validate_text(text)


def test_text_is_stripped() -> None:
    assert validate_text("  can I post?\n") == "can I post?"


def _match(clause_id: str, score: float, route: Route | None = None) -> Match:
    clause = Clause(id=clause_id, section="1", quote="q", answer="a", questions=(), route=route)
    return Match(clause, score)


def test_route_comes_from_a_close_routed_runner_up() -> None:
    rule, reporting = _match("rule", 0.8), _match("report", 0.7, Route.HR)
    assert route_of((rule, reporting)) is Route.HR
    assert route_of((rule, _match("report", 0.3, Route.HR))) is None
    assert route_of((_match("comms", 0.9, Route.COMMS), reporting)) is Route.COMMS
    assert route_of((rule, _match("other", 0.7), reporting)) is Route.HR  # third counts
    other = _match("other", 0.7)
    assert route_of((rule, other, other, reporting)) is None  # fourth does not
    assert route_of(()) is None


def _with_quote(clause_id: str, score: float, quote: str) -> Match:
    return Match(Clause(id=clause_id, section="1", quote=quote, answer="a", questions=()), score)


def test_also_lists_likely_runners_up_and_what_happens_after_a_breach() -> None:
    rule = _with_quote("rule", 0.9, "Do not criticise the council online.")
    likely = _with_quote("likely", 0.5, "Think before you post.")
    unlikely = _with_quote("unlikely", 0.1, "Official accounts need approval.")
    breach = _with_quote("breach", 0.05, "Breaches may lead to disciplinary action.")
    matches = (rule, likely, unlikely, breach)
    assert also_of(matches, read("can I moan about the council on facebook?")) == (likely,)
    after = read("I moaned about the council on Facebook and now I'm suspended. Is that fair?")
    assert also_of(matches, after) == (breach, likely)
    # the answer says what happens next: the rule broken comes with it
    assert also_of((breach, likely, rule), after) == (likely, rule)
    assert also_of((breach, unlikely, likely), after) == (unlikely, likely)
    assert also_of((rule,), after) == ()
    # the rule broken is looked for first among the clauses for what was posted
    told = read("I moaned about the council on Facebook. Now I'm suspended. Is that fair?")
    ranked: list[str] = []

    def rank(text: str) -> tuple[Match, ...]:
        ranked.append(text)
        return (breach, rule)

    assert also_of((breach, unlikely, likely), told, rank) == (rule, likely)
    assert ranked == ["I moaned about the council on Facebook."]
    # ... and only looked for when the answer is what happens next
    assert also_of((rule, likely, breach), told, rank) == (breach, likely)
    assert ranked == ["I moaned about the council on Facebook."]


def test_a_post_about_being_disciplined_gets_the_rule_and_what_happens_next(
    assistant: Assistant,
) -> None:
    reply = assistant.ask(
        Question(
            org="derbyshire",
            text="I put a post on facebook slagging off my manager and the way the office is "
            "run. Now I've been suspended pending a disciplinary. Can they do this?",
        )
    )
    assert isinstance(reply, Answer | Clarify)
    shown = (
        [reply.clause, *(m.clause for m in reply.also)]
        if isinstance(reply, Answer)
        else [m.clause for m in reply.options]
    )
    assert any(re.search("disciplinary|misconduct", c.quote, re.I) for c in shown)
    assert any(re.search("criticis|disrepute", c.quote, re.I) for c in shown)


def test_no_question_the_reviews_flagged_gets_a_verdict_without_its_question(
    assistant: Assistant,
) -> None:
    """Every question quoted in the HR-adviser reviews of the knowledge base (the ones that got a
    "Yes." or "No." turning the policy upside down), asked of every council: a reply that opens
    with a verdict always says which question it answers."""
    questions = reviewed_questions()
    assert len(questions) > 200
    bare = [
        (org, question, reply.text)
        for org in ORGS
        for question in sorted(questions)
        if isinstance(reply := assistant.ask(Question(org=org, text=question)), Answer)
        and reply.verdict is not None
        and not reply.asks
    ]
    assert bare == []


def test_a_council_with_drafted_clauses_is_compared_through_the_quote_adapter(
    knowledge: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_CACHE_DIR", str(tmp_path))
    drafted = made_up_draft("tell", "10.4 Posting by mistake", "- tell your manager straight away")
    councils = replace(
        knowledge,
        policies={
            "testshire": made_up_policy(drafted),
            "otherton": replace(made_up_policy(FRIENDS), org="otherton"),
        },
    )
    encoder = Counting()
    given = QuoteAdapter(np.eye(DIMENSIONS, dtype=np.float32))
    assistant = Assistant(councils, encoder=encoder, adapters={"testshire": given})
    draft = assistant.matcher("testshire")._semantics
    assert draft is not None and draft.adapter is given
    assert "10.4 Posting by mistake: - tell your manager straight away" in encoder.encoded
    reviewed = assistant.matcher("otherton")._semantics
    assert reviewed is not None and reviewed.adapter is None and reviewed.headed_quotes is None
    # not given one: the shipped adapter, fitted on the shipped councils
    shipped = Assistant(councils, encoder=encoder).matcher("testshire")._semantics
    assert shipped is not None and shipped.adapter is shipped_adapter()
