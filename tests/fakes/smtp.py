"""A real SMTP server on a free port (aiosmtpd): what it was sent, with the addresses it is
told to refuse, for tests of the email desks and of servers whose desks are mailboxes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: bytes | None  # the user name the client authenticated with, if it did

    def body(self, subtype: str) -> str:
        part = self.message.get_body((subtype,))
        assert isinstance(part, EmailMessage)
        content: str = part.get_content()
        return content


class Mailbox:
    """The SMTP server's handler: keeps what it was given, refuses the addresses it is told to."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.original_content, bytes)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), message, login)
        )
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        return [each for each in self.received if address in each.rcpt_tos]


class LocalSmtp(Controller):
    """aiosmtpd's threaded server, bound to a port the system picks (port 0): the port it got
    is read back before the controller's start-up connection needs it."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]  # aiosmtpd leaves it bare


@contextmanager
def local_smtp(mailbox: Mailbox, **options: Any) -> Iterator[LocalSmtp]:
    """An SMTP server on 127.0.0.1 at a free port, delivering into `mailbox`. Its own log
    (every line of every message, at DEBUG) is held back: it is the test's server, not
    policybot, and tests that search the logs for personal data must see only policybot's."""
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    controller = LocalSmtp(mailbox, hostname="127.0.0.1", port=0, **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()
        server_log.setLevel(level)


def mailbox_desks(server: LocalSmtp, *orgs: str) -> dict[str, Any]:
    """Settings whose councils' every route is a shared mailbox on `server`: a server built
    with them takes those councils' reports, and its alerts arrive in the mailbox."""
    return {
        "smtp": {
            "host": "127.0.0.1",
            "port": server.port,
            "sender": "policybot@council.example",
            "starttls": False,
        },
        "escalations": {
            org: {route: {"email": f"{route}@{org}.example"} for route in ("comms", "hr", "senior")}
            for org in orgs
        },
    }
