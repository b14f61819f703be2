"""What the case tests share: a fake clock, a channel that records instead of posting, the
desks every council's routes go to, and a report as the web form would send it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.escalation.desks import Destination, Directory, RouteDesk
from bot.escalation.model import Actor, ClauseRef, Delivery, Notice, Purpose, Removal, Reporter
from bot.knowledge import Route

START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
COMMS = Destination("slack", "C0COMMS")
HR = Destination("slack", "C0HR")
SENIOR = Destination("slack", "C0SENIOR")
BACKUP = Destination("slack", "C0BACKUP")


class Clock:
    """The cases' time (`Cases(..., clock=clock)`): it stands still until a test advances it."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class RecordingChannel:
    """Stands in for a platform: keeps what was posted, by address, with its thread."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, str | None, Purpose, str]] = []
        self.fail_next = 0
        # What was removed, as (address, message id, direct); ids to tombstone instead.
        self.removed: list[tuple[str, str, bool]] = []
        self.undeletable: set[str] = set()
        # Alerts redrawn in place, as (message id, status shown).
        self.redrawn: list[tuple[str, str]] = []

    async def send(self, delivery: Delivery) -> str:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("platform away")
        if delivery.notice.purpose is Purpose.REFRESH:  # edits its alert, posts nothing
            assert delivery.thread is not None
            self.redrawn.append((delivery.thread, delivery.notice.status))
            return delivery.thread
        self.posted.append(
            (delivery.address, delivery.thread, delivery.notice.purpose, delivery.notice.summary)
        )
        return f"m{len(self.posted)}"

    async def already_sent(self, delivery: Delivery) -> str | None:
        return None

    async def remove(self, delivery: Delivery) -> Removal:
        assert delivery.removes is not None
        self.removed.append((delivery.address, delivery.removes, delivery.direct))
        if delivery.removes in self.undeletable:
            return Removal.TOMBSTONED
        return Removal.DELETED

    def to(self, address: str, purpose: Purpose | None = None) -> list[str]:
        return [
            summary
            for where, _, kind, summary in self.posted
            if where == address and purpose in (None, kind)
        ]


def directory() -> Directory:
    desks = {}
    for org in ("wiltshire", "west-dunbartonshire", "gloucestershire", "derbyshire"):
        desks[(org, Route.COMMS)] = RouteDesk(
            destinations=(COMMS,),
            members=frozenset({Actor("slack", "UCOMMS")}),
            remind_every=timedelta(minutes=15),
            reminders_before_backup=2,
            backup=(BACKUP,),
        )
        desks[(org, Route.HR)] = RouteDesk(
            destinations=(HR,),
            members=frozenset({Actor("slack", "UHR")}),
            remind_every=timedelta(hours=4),
        )
        desks[(org, Route.SENIOR)] = RouteDesk(
            destinations=(SENIOR,), members=frozenset({Actor("slack", "USENIOR")})
        )
    return Directory(desks)


def report(org: str = "wiltshire", **changes: Any) -> dict[str, Any]:
    return {
        "org": org,
        "what": "A colleague shared a post that could damage the council's reputation",
        "where": "https://social.example/post/1",
        "when": "this morning",
        "involved": "a colleague in my team",
        "evidence": ["https://social.example/post/1"],
        "reporter": {"name": "Sam Jones", "job_title": "Officer", "area": "Housing"},
        "manager_involved": False,
        **changes,
    }


REPORTER = Reporter(Actor("slack", "UREPORTER"), address="UREPORTER")


def alert_notice(**changes: Any) -> Notice:
    """An alert as a desk gets it, with hostile text in its facts to show it is escaped."""
    notice = Notice(
        purpose=Purpose.ALERT,
        reference="WIL-7K3Q9M",
        org="wiltshire",
        council="Wiltshire Council",
        kind="reputation",
        kind_label="Content could damage the council's reputation",
        routes=("hr", "comms"),
        status="open",
        summary="New report WIL-7K3Q9M: Content could damage the council's reputation",
        facts={
            "what": "A colleague posted <script>alert(1)</script> & more",
            "where": "https://social.example/post/1",
            "when": "this morning",
            "involved": "a colleague in my team",
            "evidence": ["https://social.example/post/1?a=1&b=2", "https://social.example/x"],
            "reporter": {
                "name": "Sam <script>Jones</script>",
                "job_title": "Officer",
                "area": "Housing",
                "phone": "01225 000000",
            },
            "manager_involved": True,
        },
        clause=ClauseRef(
            id="manager-reputational-damage",
            section="23",
            quote="Managers should inform HR and the Communications team.",
            title="Social Media Policy",
        ),
        advice="Keep a copy of the post before it is deleted.",
    )
    return replace(notice, **changes)
