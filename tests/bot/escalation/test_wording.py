"""What each audience is told of each event (bot/escalation/wording.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.escalation import wording
from bot.escalation.model import Actor, EventKind
from bot.knowledge import Route

DETAIL: dict[EventKind, dict[str, Any]] = {
    EventKind.REPORTED: {"routes": "hr,comms", "kind": "bullying"},
    EventKind.REFUSED: {"action": "resolve"},
    EventKind.ACKNOWLEDGED: {},
    EventKind.ASSIGNED: {"to": "slack:UHR"},
    EventKind.ASKED_REPORTER: {"question": "Is it still up?"},
    EventKind.REPORTER_ANSWERED: {"answer": "Yes"},
    EventKind.NOTE: {"note": "Rang them"},
    EventKind.RESOLVED: {"outcome": "content_removed"},
    EventKind.LEGAL_HOLD: {"reason": "tribunal"},
    EventKind.HOLD_RELEASED: {},
    EventKind.REMINDED: {"step": 2},
}
TOLD_TO_THE_REPORTER = {EventKind.ACKNOWLEDGED, EventKind.ASKED_REPORTER, EventKind.RESOLVED}


TIMELINE = {
    EventKind.REPORTED: "Reported; sent to HR and the communications team",
    EventKind.REFUSED: "Refused to resolve: not on the case's team",
    EventKind.ACKNOWLEDGED: "Acknowledged",
    EventKind.ASSIGNED: "Assigned to UHR",
    EventKind.ASKED_REPORTER: "Asked the reporter: Is it still up?",
    EventKind.REPORTER_ANSWERED: "The reporter answered: Yes",
    EventKind.NOTE: "Note: Rang them",
    EventKind.RESOLVED: "Resolved: Content removed",
    EventKind.LEGAL_HOLD: "Put under legal hold: tribunal",
    EventKind.HOLD_RELEASED: "Released from legal hold",
    EventKind.REMINDED: "Reminder 2 sent: not yet acknowledged",
}


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_event_reads_as_a_sentence_in_the_timeline(kind: EventKind) -> None:
    assert wording.timeline_line(kind, DETAIL[kind]) == TIMELINE[kind]


@pytest.mark.parametrize("kind", list(EventKind))
def test_the_reporter_hears_only_what_concerns_them(kind: EventKind) -> None:
    notice = wording.reporter_notice(kind, DETAIL[kind], "WIL-ABC234")
    update = wording.reporter_update(kind, DETAIL[kind], (Route.HR,))
    assert (notice is not None) is (kind in TOLD_TO_THE_REPORTER)
    assert (update is not None) is (kind in TOLD_TO_THE_REPORTER | {EventKind.REPORTED})
    assert "Rang them" not in f"{notice} {update}"  # the team's notes stay the team's


def test_the_team_is_told_who_did_it_by_name_not_by_platform() -> None:
    line = wording.team_line(
        EventKind.RESOLVED, DETAIL[EventKind.RESOLVED], "WIL-ABC234", Actor("slack", "UHR")
    )
    assert line == "WIL-ABC234 resolved by UHR: Content removed"
