"""Case notices by email, sent with aiosmtplib to a real local SMTP server (aiosmtpd) on a free
port: the alert's headers and both bodies, threading, re-sends, authentication, failures, and a
case from report to threaded update through the outbox worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from adapters.config import SmtpSettings
from adapters.email.channel import MAX_SUBJECT_CHARS, EmailChannel
from bot.escalation.cases import Cases
from bot.escalation.delivery import OutboxWorker
from bot.escalation.desks import Destination, Directory, RouteDesk
from bot.escalation.model import (
    Action,
    Actor,
    Delivery,
    Notice,
    Purpose,
    Removal,
    Reporter,
)
from bot.escalation.report import parse_report
from bot.knowledge import KnowledgeBase, Route
from bot.storage import Store
from tests.bot.escalation.case_fixtures import START, Clock, alert_notice
from tests.conftest import free_port
from tests.fakes.smtp import LocalSmtp, Mailbox, local_smtp

SENDER = "policybot@council.example"
DESK = "comms-desk@council.example"
PUBLIC_URL = "https://policybot.council.example/"


def accept_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and auth_data == (b"policybot", b"s3cret")
    # handled=False: the server, not this function, answers a failure (535).
    return AuthResult(success=good, handled=False, auth_data=auth_data if good else None)


@pytest.fixture
def smtp_server(mailbox: Mailbox) -> Iterator[LocalSmtp]:
    with local_smtp(mailbox) as server:
        yield server


@pytest.fixture
def authenticating_server(mailbox: Mailbox) -> Iterator[LocalSmtp]:
    with local_smtp(
        mailbox,
        authenticator=accept_login,
        auth_required=True,
        auth_require_tls=False,  # a test server has no certificate; real ones use STARTTLS
    ) as server:
        yield server


def smtp_settings(server: LocalSmtp | None = None, **changes: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port if server else 25,
        "sender": SENDER,
        "starttls": False,
        "timeout_seconds": 5,
        **changes,
    }
    return SmtpSettings.model_validate(values)


def delivery(notice: Notice | None = None, **changes: Any) -> Delivery:
    values: dict[str, Any] = {
        "id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "platform": "email",
        "address": DESK,
        "notice": notice or alert_notice(),
        "attempts": 1,
        **changes,
    }
    return Delivery(**values)


# --- one message --------------------------------------------------------------------------------


async def test_an_alert_has_the_headers_and_both_bodies(
    smtp_server: LocalSmtp, mailbox: Mailbox
) -> None:
    channel = EmailChannel(smtp=smtp_settings(smtp_server), public_url=PUBLIC_URL)
    sent_id = await channel.send(delivery())
    (received,) = mailbox.received
    message = received.message
    assert received.mail_from == SENDER and received.rcpt_tos == [DESK]
    assert message["From"] == SENDER and message["To"] == DESK
    assert message["Subject"] == "[WIL-7K3Q9M] Content could damage the council's reputation"
    assert sent_id == message["Message-ID"]
    assert sent_id == "<0f1e2d3c4b5a69788796a5b4c3d2e1f0.policybot@council.example>"
    assert message["In-Reply-To"] is None and message["References"] is None
    assert message["Auto-Submitted"] == "auto-generated"

    text = received.body("plain")
    for expected in (
        "A colleague posted <script>alert(1)</script> & more",
        "Where: https://social.example/post/1",
        "Line manager involved: Yes",
        "Reported by: Sam <script>Jones</script>",
        "Job title: Officer",
        "Area: Housing",
        "Phone: 01225 000000",
        "  https://social.example/post/1?a=1&b=2",
        "> Managers should inform HR and the Communications team.",
        "23 · Wiltshire Council, Social Media Policy",
        "Keep a copy of the post before it is deleted.",
        "https://policybot.council.example/escalations",
        "Slack or Teams",
    ):
        assert expected in text, expected

    page = received.body("html")
    assert "<script>" not in page  # neither the report's nor the reporter's name
    assert "A colleague posted &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "Sam &lt;script&gt;Jones&lt;/script&gt;" in page
    assert (
        '<a href="https://social.example/post/1?a=1&amp;b=2">'
        "https://social.example/post/1?a=1&amp;b=2</a>" in page
    )
    assert "Managers should inform HR and the Communications team." in page
    assert "23 · Wiltshire Council, Social Media Policy" in page
    assert "Keep a copy of the post before it is deleted." in page
    assert (
        '<a href="https://policybot.council.example/escalations">'
        "https://policybot.council.example/escalations</a>" in page
    )


async def test_without_a_public_url_the_alert_still_says_where_to_act(
    smtp_server: LocalSmtp, mailbox: Mailbox
) -> None:
    await EmailChannel(smtp=smtp_settings(smtp_server)).send(delivery())
    (received,) = mailbox.received
    assert (
        "escalations page" in received.body("plain")
        and "http" not in received.body("plain").split("Keep a copy")[1]
    )
    assert "/escalations" not in received.body("html")


async def test_a_thread_update_replies_to_the_alert(
    smtp_server: LocalSmtp, mailbox: Mailbox
) -> None:
    channel = EmailChannel(smtp=smtp_settings(smtp_server), public_url=PUBLIC_URL)
    alert_id = await channel.send(delivery())
    update = alert_notice(
        purpose=Purpose.THREAD,
        status="acknowledged",
        summary="WIL-7K3Q9M acknowledged by <b>Alex</b>",
        event={"kind": "acknowledged", "actor": "slack:UCOMMS"},
    )
    update_id = await channel.send(delivery(update, id="a" * 32, thread=alert_id))
    alert, reply = mailbox.received
    assert reply.message["In-Reply-To"] == alert_id
    assert reply.message["References"] == alert_id
    assert reply.message["Message-ID"] == update_id != alert_id
    # The same subject as the alert's, so that clients grouping by subject keep the thread.
    assert reply.message["Subject"] == f"Re: {alert.message['Subject']}"
    assert "WIL-7K3Q9M acknowledged by <b>Alex</b>" in reply.body("plain")
    assert "acknowledged by &lt;b&gt;Alex&lt;/b&gt;" in reply.body("html")
    assert "What happened" not in reply.body("plain")  # the facts are in the alert


async def test_a_resend_of_the_same_delivery_has_the_same_message_id(
    smtp_server: LocalSmtp, mailbox: Mailbox
) -> None:
    channel = EmailChannel(smtp=smtp_settings(smtp_server))
    first = await channel.send(delivery(attempts=1))
    again = await channel.send(delivery(attempts=2))
    assert first == again
    assert [each.message["Message-ID"] for each in mailbox.received] == [first, first]
    assert await channel.already_sent(delivery(attempts=2)) is None


async def test_a_subject_is_one_clipped_line_whatever_the_summary_holds(
    smtp_server: LocalSmtp, mailbox: Mailbox
) -> None:
    reminder = alert_notice(
        purpose=Purpose.REMINDER,
        summary="Reminder:\r\nBcc: everyone@council.example\n" + "x" * 400,
    )
    await EmailChannel(smtp=smtp_settings(smtp_server)).send(delivery(reminder))
    (received,) = mailbox.received
    subject = received.message["Subject"]
    assert subject.startswith("[WIL-7K3Q9M] Reminder: Bcc: everyone@council.example xxx")
    assert len(subject) <= MAX_SUBJECT_CHARS and "\n" not in subject
    assert received.message["Bcc"] is None and received.rcpt_tos == [DESK]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_the_mail_server_login_is_used(
    authenticating_server: LocalSmtp, mailbox: Mailbox
) -> None:
    settings = smtp_settings(authenticating_server, username="policybot", password="s3cret")
    await EmailChannel(smtp=settings).send(delivery())
    (received,) = mailbox.received
    assert received.login == b"policybot"

    wrong = smtp_settings(authenticating_server, username="policybot", password="guess")
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await EmailChannel(smtp=wrong).send(delivery())
    assert len(mailbox.received) == 1


async def test_a_refused_recipient_raises_for_the_worker_to_retry(
    smtp_server: LocalSmtp, mailbox: Mailbox
) -> None:
    mailbox.refuse.add(DESK)
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await EmailChannel(smtp=smtp_settings(smtp_server)).send(delivery())
    assert mailbox.received == []


async def test_no_server_raises() -> None:
    settings = smtp_settings(port=free_port())
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await EmailChannel(smtp=settings).send(delivery())


async def test_a_server_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greets
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        settings = smtp_settings(port=port, timeout_seconds=0.2)
        with pytest.raises(aiosmtplib.SMTPTimeoutError):
            await EmailChannel(smtp=settings).send(delivery())
    finally:
        server.close()


async def test_an_email_cannot_be_removed_so_it_is_kept() -> None:
    # No server at all: remove() must not try to reach one.
    channel = EmailChannel(smtp=smtp_settings(port=free_port()))
    removal = alert_notice(purpose=Purpose.REMOVAL, summary="Removed under the retention policy")
    assert await channel.remove(delivery(removal, removes="<x.policybot@council.example>")) is (
        Removal.KEPT
    )


# --- a case from report to threaded update ------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    made = Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'cases.sqlite3'}")
    await made.create_tables()
    await made.start()
    yield made
    await made.close()


HR_DESK = "hr-desk@council.example"


def email_desks(store: Store, knowledge: KnowledgeBase, clock: Clock) -> Cases:
    """Wiltshire's comms and HR desks, each a shared mailbox."""
    directory = Directory(
        {
            ("wiltshire", Route.COMMS): RouteDesk(
                destinations=(Destination("email", DESK),),
                members=frozenset({Actor("slack", "UCOMMS")}),
            ),
            ("wiltshire", Route.HR): RouteDesk(destinations=(Destination("email", HR_DESK),)),
        }
    )
    return Cases(store, knowledge.policies, directory, clock=clock)


async def open_reputation_case(cases: Cases) -> str:
    report = parse_report(
        {
            "org": "wiltshire",
            "kind": "reputation",
            "what": "A colleague shared a post that could damage the council's reputation",
            "evidence": ["https://social.example/post/1"],
            "reporter": {"name": "Sam Jones", "job_title": "Officer"},
        }
    )
    reporter = Reporter(Actor("web", "abc123"))  # no address: nothing to tell them
    case = await cases.open(report, reporter)
    return case.reference


async def test_an_email_desk_gets_the_alert_and_then_the_update_in_its_thread(
    store: Store, knowledge: KnowledgeBase, smtp_server: LocalSmtp, mailbox: Mailbox
) -> None:
    clock = Clock()
    cases = email_desks(store, knowledge, clock)
    channel = EmailChannel(smtp=smtp_settings(smtp_server), public_url=PUBLIC_URL, clock=clock)
    worker = OutboxWorker(cases, {"email": channel})
    reference = await open_reputation_case(cases)

    assert await worker.run_once() == 2  # Wiltshire 23: HR and comms at once
    (alert,) = mailbox.to(DESK)
    (hr_alert,) = mailbox.to(HR_DESK)
    assert alert.message["Subject"].startswith(f"[{reference}] ")
    assert "A colleague shared a post" in alert.body("plain")
    assert "https://policybot.council.example/escalations" in alert.body("plain")
    assert alert.message["Date"].datetime == START

    clock.advance(minutes=5)
    acted = await cases.act(reference, Action.ACKNOWLEDGE, actor=Actor("slack", "UCOMMS"))
    assert acted.changed
    # Into both alerts' threads; the redraw of each alert sends nothing by email.
    assert await worker.run_once() == 4
    _, update = mailbox.to(DESK)
    assert update.message["In-Reply-To"] == alert.message["Message-ID"]
    assert update.message["References"] == alert.message["Message-ID"]
    assert f"{reference} acknowledged by UCOMMS" in update.body("plain")
    _, hr_update = mailbox.to(HR_DESK)
    assert hr_update.message["In-Reply-To"] == hr_alert.message["Message-ID"]
    assert await worker.run_once() == 0


async def test_a_refused_alert_is_retried_by_the_worker(
    store: Store, knowledge: KnowledgeBase, smtp_server: LocalSmtp, mailbox: Mailbox
) -> None:
    clock = Clock()
    cases = email_desks(store, knowledge, clock)
    channel = EmailChannel(smtp=smtp_settings(smtp_server), clock=clock)
    worker = OutboxWorker(cases, {"email": channel})
    await open_reputation_case(cases)
    mailbox.refuse.add(DESK)

    assert await worker.run_once() == 1  # HR's went; comms' waits for its retry
    assert mailbox.to(DESK) == [] and len(mailbox.to(HR_DESK)) == 1
    mailbox.refuse.clear()
    clock.advance(minutes=1)  # past the first backoff (at most two seconds)
    assert await worker.run_once() == 1
    assert len(mailbox.to(DESK)) == 1
    assert await cases.outbox.counts() == {"sent": 2}
