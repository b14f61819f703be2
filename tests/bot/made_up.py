"""A made-up council's policy, for tests of the rules that need no real council."""

from __future__ import annotations

from bot.assistant import Answer, PolicyRef, Question
from bot.knowledge import Clause, Contacts, NotRule, Policy
from bot.matcher import Match


def made_up_policy(*clauses: Clause, text: str = "", not_rules: tuple[NotRule, ...] = ()) -> Policy:
    return Policy(
        org="testshire",
        council="Testshire Council",
        title="Social Media Policy",
        date="2024",
        contacts=Contacts(hr="HR", comms="Comms"),
        text=text,
        clauses=clauses,
        not_rules=not_rules,
    )


def made_up_draft(clause_id: str, section: str, quote: str, *borrowed: str) -> Clause:
    """A clause as `kb draft` writes it: the policy's words, no answer yet, and the questions
    it borrowed from other councils."""
    return Clause(
        id=clause_id,
        section=section,
        quote=quote,
        answer="",
        questions=borrowed,
        borrowed=borrowed,
        drafted=True,
    )


FRIENDS = Clause(
    id="friends",
    section="3.1",
    quote="Do not accept friend requests from service users.",
    answer="No. Politely decline them.",
    questions=(),
    asks="Can I accept a friend request from a service user?",
)
# Clauses that also apply to the question FRIENDS answers. TAGGING's text carries each front
# end's markup, which must show as written; PHOTOS has no `asks` and two paragraphs.
TAGGING = Clause(
    id="tagging",
    section="4.2",
    quote="Never tag <script>alert(1)</script> & *colleagues* in <!channel> posts.",
    answer="No.",
    questions=(),
    asks="Can I tag <@U123> & _others_?",
)
PHOTOS = Clause(
    id="photos",
    section="Appendix A",
    quote="Ask before you post a photo of anyone.\nThat includes colleagues.",
    answer="Ask first.",
    questions=(),
)


def made_up_answer(*also: Clause) -> Answer:
    """The answer of FRIENDS, with `also` the other clauses that apply."""
    policy = made_up_policy(FRIENDS, *also)
    matches = (Match(FRIENDS, 0.9), *(Match(clause, 0.5) for clause in also))
    question = Question(org=policy.org, text="can I add a client on facebook?")
    return Answer(question, PolicyRef.of(policy), FRIENDS, matches, matches[1:])
