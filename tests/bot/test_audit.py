"""Verbatim quotes and coverage: the shipped policies, and the rules on small made-up ones."""

from __future__ import annotations

import pytest

from bot.audit import check_knowledge, check_policy, coverage, is_exempt_line, loose_key
from bot.knowledge import Clause, Contacts, KnowledgeBase, NotRule, Policy
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
    return Policy(
        org="testshire",
        council="Testshire Council",
        title="Social Media Policy",
        date="2024",
        contacts=Contacts(hr="HR", comms="Comms"),
        text=POLICY_TEXT,
        clauses=clauses,
        not_rules=not_rules,
    )


def _clause(clause_id: str, quote: str, related: tuple[str, ...] = ()) -> Clause:
    return Clause(
        id=clause_id,
        section="1",
        quote=quote,
        answer="Yes.",
        questions=("a", "b", "c", "d", "e"),
        related=related,
    )


def test_shipped_knowledge_has_no_problems(knowledge: KnowledgeBase) -> None:
    assert [str(p) for p in check_knowledge(knowledge)] == []


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


@pytest.mark.parametrize(
    ("line", "exempt"),
    [
        ("## 6.3 Access to social media at work", True),
        ("<b>1. Introduction.....</b>\t<b>3</b>", True),
        ("31. Can something I post be used as evidence in a disciplinary case?", True),
        ("Personal Use", True),
        ("- Avoid identifying individuals", False),
        ("5. Ensure that you have reviewed any privacy settings.", False),
    ],
)
def test_exempt_lines(line: str, exempt: bool) -> None:
    assert is_exempt_line(line) is exempt


def test_loose_key_matches_the_evaluation_files_comparison() -> None:
    assert loose_key("the \u201cmoral  intensity\u201d **of**\n the content") == (
        'the "moral intensity" of the content'
    )
