"""Verbatim quotes and coverage: the shipped policies, and the rules on small made-up ones."""

from __future__ import annotations

import dataclasses

import pytest

from bot.audit import (
    check_knowledge,
    check_policy,
    coverage,
    is_exempt_line,
    loose_key,
    needs_a_person,
    polarity_warnings,
)
from bot.knowledge import Clause, KnowledgeBase, NotRule, Policy
from tests.bot.made_up import made_up_policy
from tests.conftest import ORGS

POLICY_TEXT = """# Social Media Policy

1. Scope

1.1 This policy applies to all employees.
- Do not accept friend requests from service users.
- Do not swear.
Page 4 of 9 Acceptable Use Policy
Never post confidential information about
colleagues or service users on any site.
"""


def _policy(*clauses: Clause, not_rules: tuple[NotRule, ...] = ()) -> Policy:
    return made_up_policy(*clauses, text=POLICY_TEXT, not_rules=not_rules)


def _clause(
    clause_id: str,
    quote: str,
    related: tuple[str, ...] = (),
    *,
    answer: str = "The rule, stated plainly.",
    asks: str | None = None,
    questions: tuple[str, ...] = ("a", "b", "c", "d", "e"),
) -> Clause:
    return Clause(
        id=clause_id,
        section="1",
        quote=quote,
        answer=answer,
        questions=questions,
        related=related,
        asks=asks,
    )


def test_shipped_knowledge_has_no_problems(knowledge: KnowledgeBase) -> None:
    assert [str(p) for p in check_knowledge(knowledge)] == []


def test_every_shipped_clause_says_which_question_it_answers(knowledge: KnowledgeBase) -> None:
    missing = [
        f"{org}/{clause.id}"
        for org, policy in knowledge.policies.items()
        for clause in policy.clauses
        if not clause.asks
    ]
    assert missing == []


@pytest.mark.parametrize("org", ORGS)
def test_every_rule_bearing_line_of_each_policy_is_quoted(
    knowledge: KnowledgeBase, org: str
) -> None:
    report = coverage(knowledge.policies[org])
    assert [line.text for line in report.uncovered] == []
    assert report.fraction == 1.0
    assert report.count("quoted") > 50


def test_uncovered_rule_lines_are_reported_and_headings_are_not() -> None:
    report = coverage(_policy(_clause("scope", "1.1 This policy applies to all employees.")))
    uncovered = [line.text for line in report.uncovered]
    assert uncovered == [
        "- Do not accept friend requests from service users.",
        "- Do not swear.",
        "Never post confidential information about",  # short, but continued on the next line
        "colleagues or service users on any site.",
    ]
    assert {line.text for line in report.lines if line.status == "exempt"} == {
        "# Social Media Policy",
        "1. Scope",
        "Page 4 of 9 Acceptable Use Policy",
    }


def test_a_quote_across_a_line_break_covers_both_lines_and_not_rules_are_exempt() -> None:
    policy = _policy(
        _clause(
            "confidential",
            "Never post confidential information about colleagues or service users on any site.",
        ),
        _clause("friends", "Do not accept friend requests from service users."),
        _clause("swearing", "- Do not swear."),
        _clause("scope", "This policy applies to all employees."),
        not_rules=(NotRule(text="Page 4 of 9", why="page footer"),),
    )
    report = coverage(policy)
    assert report.uncovered == ()
    assert report.count("not-a-rule") == 1  # listed, so not counted as a heading
    assert check_policy(policy) == []


def test_check_policy_names_each_problem() -> None:
    policy = _policy(
        _clause("swearing", "Do not swear!"),
        _clause("swearing", "Do not swear."),
        _clause("scope", "This policy applies to all employees.", related=("missing",)),
        not_rules=(NotRule(text="Page 5 of 9", why="footer"),),
    )
    messages = [str(p) for p in check_policy(policy)]
    assert "testshire: clause 'swearing' defined 2 times" in messages
    assert "testshire: clause 'swearing': quote is not verbatim in policy.txt" in messages
    assert "testshire: clause 'scope': related clause 'missing' does not exist" in messages
    assert "testshire: not_rules text not in policy: 'Page 5 of 9'" in messages


FRIENDS = "Do not accept friend requests from service users."


def test_a_verdict_needs_the_question_it_answers() -> None:
    policy = _policy(
        _clause("bare", FRIENDS, answer="No. Never accept one."),
        _clause("depends", FRIENDS, answer="It depends. Ask your manager."),
        _clause("statement", FRIENDS, asks="Friend requests.", answer="Never accept one."),
        _clause("right", FRIENDS, asks="Can I accept a friend request?", answer="No. Never."),
        _clause("plain", FRIENDS, answer="Never accept a friend request from a service user."),
    )
    messages = [str(p) for p in check_policy(policy)]
    assert messages == [
        "testshire: clause 'bare': answer opens with a verdict (no) but the clause has no "
        "`asks`: say which question the verdict answers, or state the rule without "
        "Yes/No/It depends",
        "testshire: clause 'depends': answer opens with a verdict (depends) but the clause has "
        "no `asks`: say which question the verdict answers, or state the rule without "
        "Yes/No/It depends",
        "testshire: clause 'statement': asks 'Friend requests.' is not a question (words "
        "ending with '?')",
    ]


def test_questions_asked_the_other_way_round_from_a_verdict_are_warned_of() -> None:
    questions = (
        "can I add a client on facebook?",
        "should I decline a friend request from a service user?",
        "am I in trouble if I accepted one?",
        "what do I do about a friend request from a client?",
        "friend request from service user",
    )
    verdict = _clause(
        "friends",
        FRIENDS,
        asks="Can I accept a friend request from a service user?",
        answer="No. Never accept one.",
        questions=questions,
    )
    rule = _clause("rule", FRIENDS, asks=verdict.asks, answer="Never.", questions=questions)
    warnings = [str(w) for w in polarity_warnings(_policy(verdict, rule))]
    assert warnings == [
        "testshire: clause 'friends': question 'should I decline a friend request from a "
        "service user?' is asked the other way round from asks 'Can I accept a friend request "
        "from a service user?'",
        "testshire: clause 'friends': question 'am I in trouble if I accepted one?' is asked "
        "the other way round from asks 'Can I accept a friend request from a service user?'",
    ]


@pytest.mark.parametrize(
    ("line", "exempt"),
    [
        ("## 6.3 Access to social media at work", True),
        ("<b>1. Introduction.....</b>\t<b>3</b>", True),
        ("31. Can something I post be used as evidence in a disciplinary case?", True),
        ("Personal Use", True),
        # a numbered title that names its part, longer than a plain heading may be
        ("Section 3 \u2013 Personal use of social media during working time", True),
        ("Appendix A: Quick checklist before you post on any social media site", True),
        ("Part 2 of this policy applies to every employee of the council.", False),
        ("- Avoid identifying individuals", False),
        ("5. Ensure that you have reviewed any privacy settings.", False),
    ],
)
def test_exempt_lines(line: str, exempt: bool) -> None:
    assert is_exempt_line(line) is exempt


def test_a_markdown_tables_header_row_is_exempt_but_a_rule_above_a_break_is_not() -> None:
    header = "| Contact | When to get in touch about a concern | Email address |"
    assert is_exempt_line(header, "| --- | :---: | --- |")
    rule = "Tell your line manager the same day if anyone you support contacts you."
    assert not is_exempt_line(rule, "---")  # a break between paragraphs, not a table


def test_loose_key_matches_the_evaluation_files_comparison() -> None:
    assert loose_key("the \u201cmoral  intensity\u201d **of**\n the content") == (
        'the "moral intensity" of the content'
    )


def test_an_answered_clause_needs_five_questions_of_its_own_and_a_draft_none() -> None:
    written = Clause(
        id="few",
        section="1",
        quote="Be polite.",
        answer="Be polite online.",
        questions=("a", "b", "c", "d", "e", "f"),
        borrowed=("c", "d", "e", "f"),
    )
    drafted = dataclasses.replace(written, id="draft", drafted=True)
    problems = check_policy(made_up_policy(written, drafted, text="Be polite."))
    assert [(p.where.rsplit(" ", 1)[-1], p.message) for p in problems] == [
        ("'few'", "2 example question(s) of its own; an answered clause has at least 5")
    ]
    needs = needs_a_person(made_up_policy(written, drafted, text="Be polite."))
    assert (needs.without_answer, needs.borrowed) == (("draft",), 8)
