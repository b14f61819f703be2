"""What the admin API and the CLI share: a person's data export finds their questions under
the opaque id they were stored with, and their part of other people's cases only."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.case_admin import (
    AdminAction,
    AdminActionError,
    act_as_admin,
    admin_actor,
    person_export,
)
from bot.escalation.cases import Cases
from bot.escalation.model import Actor, Reporter
from bot.escalation.report import parse_report
from bot.knowledge import KnowledgeBase
from bot.storage import Asked, Store, opaque_asker
from tests.bot.escalation.case_fixtures import directory, report

EXPORTED_AT = datetime(2026, 11, 21, tzinfo=UTC)


async def test_a_persons_export_holds_their_questions_and_their_part_of_cases(
    tmp_path: Path, knowledge: KnowledgeBase
) -> None:
    store = Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    await store.create_tables()
    await store.start()
    try:
        cases = Cases(store, knowledge.policies, directory(), clock=lambda: EXPORTED_AT)
        # Slack stores an asker by the user id alone, salted and hashed.
        mine = Asked(
            org="wiltshire",
            kind="answer",
            clause="c1",
            score=0.87654,
            asker=opaque_asker("U1", salt="pepper"),
            channel="slack",
        )
        asked = await store.record_asked(mine)
        await store.record_asked(replace(mine, asker="someone-else"))
        await store.flush()
        await store.record_feedback(asked, helpful=False, text="can I [redacted] this?")
        await store.flush()
        theirs = await cases.open(parse_report(report()), Reporter(Actor("slack", "U2")))
        await act_as_admin(cases, theirs.reference, AdminAction.NOTE, by="Priya", text="seen")

        exported = await person_export(
            cases,
            store,
            knowledge.policies,
            Actor("slack", "U1"),
            name=None,
            salt="pepper",
        )
        assert [
            (q["clause"], q["score"], q["helpful"], q["text"]) for q in exported["questions"]
        ] == [("c1", 0.877, [False], "can I [redacted] this?")]
        assert exported["reported_cases"] == exported["actions_on_other_cases"] == []
        assert exported["exported_at"] == EXPORTED_AT.isoformat()

        priya = await person_export(
            cases,
            store,
            knowledge.policies,
            Actor("admin", "Priya"),
            name=None,
            salt="pepper",
        )
        (acted,) = priya["actions_on_other_cases"]
        assert acted["reference"] == theirs.reference
        assert [event["text"] for event in acted["events"]] == ["Note: seen"]
        assert "report" not in acted  # someone else's report is not theirs to receive

        # A Teams reporter: the chat kept to tell them what happens is theirs too (review L5).
        chat = {"conversation": {"id": "a:megan"}, "user": {"name": "Megan Bowen"}}
        await store.save_conversation(
            platform="teams",
            conversation_id="a:megan",
            org="wiltshire",
            reference=json.dumps(chat),
            personal=True,
        )
        megan = Reporter(Actor("teams", "aad-megan"), address="a:megan")
        for what in ("One thing", "Another"):
            await cases.open(parse_report(report(what=what)), megan)
        exported = await person_export(
            cases, store, knowledge.policies, megan.actor, name=None, salt="pepper"
        )
        assert len(exported["reported_cases"]) == 2 and exported["chats"] == [chat]
    finally:
        await store.close()


def test_an_admin_cannot_act_under_a_platform_id() -> None:
    """Security review L7: "slack:UHR1" as an admin's name read in a thread as that Slack user."""
    with pytest.raises(AdminActionError, match="without ':'"):
        admin_actor("slack:UHR1")
    assert admin_actor(" Priya Shah ") == Actor("admin", "Priya Shah")
