"""The shipped knowledge base, and the loader's handling of bad files."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from bot.audit import verbatim_key
from bot.knowledge import (
    MIN_QUESTIONS,
    KnowledgeBase,
    KnowledgeError,
    Route,
    UnknownOrgError,
    default_root,
    load_knowledge,
)
from tests.conftest import ORGS, REPO, published_policy_digests


def test_all_five_councils_are_shipped(knowledge: KnowledgeBase) -> None:
    assert knowledge.orgs == ORGS


@pytest.mark.parametrize("org", ORGS)
def test_policy_text_is_the_published_policy(knowledge: KnowledgeBase, org: str) -> None:
    text = knowledge.policies[org].text.encode("utf-8")
    assert hashlib.sha256(text).hexdigest() == published_policy_digests()[f"{org}.txt"]


@pytest.mark.parametrize("org", ORGS)
def test_every_quote_stands_verbatim_in_the_policy(knowledge: KnowledgeBase, org: str) -> None:
    policy = knowledge.policies[org]
    text = verbatim_key(policy.text)
    missing = [c.id for c in policy.clauses if verbatim_key(c.quote) not in text]
    assert missing == []


@pytest.mark.parametrize("org", ORGS)
def test_clauses_are_complete(knowledge: KnowledgeBase, org: str) -> None:
    policy = knowledge.policies[org]
    ids = [c.id for c in policy.clauses]
    assert len(ids) == len(set(ids))
    for clause in policy.clauses:
        assert len(clause.questions) >= MIN_QUESTIONS, clause.id
        assert clause.section and clause.answer, clause.id
        assert set(clause.related) <= set(ids), clause.id
    assert policy.contacts.hr and policy.contacts.comms
    assert any(c.route is Route.HR for c in policy.clauses)


def test_no_example_question_is_taken_from_an_evaluation_file(knowledge: KnowledgeBase) -> None:
    import yaml

    asked = set()
    for path in sorted((REPO / "tests" / "eval").rglob("*.yaml")):
        asked |= {c["question"].strip().casefold() for c in yaml.safe_load(path.read_text())}
    examples = {
        q.strip().casefold()
        for policy in knowledge.policies.values()
        for clause in policy.clauses
        for q in (*clause.questions,)
    } | {q.strip().casefold() for q in knowledge.outside}
    assert asked & examples == set()


def _copy_kb(tmp_path: Path, *orgs: str) -> Path:
    root = tmp_path / "knowledge"
    root.mkdir()
    shutil.copy(default_root() / "vocabulary.yaml", root)
    for org in orgs:
        shutil.copytree(default_root() / org, root / org)
    return root


def test_load_only_named_councils(tmp_path: Path) -> None:
    root = _copy_kb(tmp_path, "derbyshire", "wiltshire")
    assert load_knowledge(root, orgs=["wiltshire"]).orgs == ("wiltshire",)
    with pytest.raises(UnknownOrgError, match="unknown council 'narnia'"):
        load_knowledge(root, orgs=["narnia"])


def test_schema_error_names_file_and_clause(tmp_path: Path) -> None:
    root = _copy_kb(tmp_path, "derbyshire")
    clauses = root / "derbyshire" / "clauses.yaml"
    text = clauses.read_text(encoding="utf-8")
    first_id = text.split("id: ", 1)[1].split("\n", 1)[0].strip()
    clauses.write_text(text.replace("route: hr", "route: payroll", 1), encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(root)
    message = str(caught.value)
    assert str(clauses) in message and "route" in message and "clause '" in message
    assert first_id  # the file has clauses to name


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("clauses: [", "cannot read"),
        ("clauses: []", "clauses"),
        (
            "clauses:\n  - id: Bad Id\n    section: s\n    quote: q\n    answer: a\n"
            "    questions: [a, b, c, d, e]\n",
            "clause 'Bad Id' id",
        ),
        (
            "clauses:\n  - id: dup\n    section: s\n    quote: q\n    answer: a\n"
            "    questions: [a, b, c, d, A]\n",
            "repeated",
        ),
    ],
)
def test_bad_clause_files_are_refused(tmp_path: Path, content: str, expected: str) -> None:
    root = _copy_kb(tmp_path, "derbyshire")
    (root / "derbyshire" / "clauses.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=expected):
        load_knowledge(root)


def test_missing_folder_and_files(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="not found"):
        load_knowledge(tmp_path / "nowhere")
    root = _copy_kb(tmp_path, "derbyshire")
    (root / "derbyshire" / "policy.yaml").unlink()
    with pytest.raises(KnowledgeError, match=r"policy\.yaml: missing"):
        load_knowledge(root)


def test_a_term_in_two_synonym_groups_is_refused(tmp_path: Path) -> None:
    root = _copy_kb(tmp_path, "derbyshire")
    vocabulary = root / "vocabulary.yaml"
    vocabulary.write_text(
        "synonyms:\n  - [boss, manager]\n  - [supervisor, boss]\n", encoding="utf-8"
    )
    with pytest.raises(KnowledgeError, match="'boss' is in group 1 and group 2"):
        load_knowledge(root)
