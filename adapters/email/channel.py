"""Case notices by email: the core's `Notice` as a plain-text and HTML message, and
`EmailChannel`, through which the outbox worker mails alerts, reminders and thread updates to a
desk's shared mailbox over SMTP (aiosmtplib).

Email has no buttons: a message says where the case is acted on (Slack, Teams or the web
escalations page). Each message's Message-ID is made from its outbox id, so a re-send after a
crash carries the same one and mail systems that de-duplicate by it show the message once; a
thread update names the alert's Message-ID in In-Reply-To and References so that mail clients
put it under the alert.

Nothing here logs: a message holds a report's personal data, and its addresses are personal
data too. SMTP failures raise for the worker, which records only the error's type.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib

from adapters.config import SmtpSettings
from bot.escalation.desks import route_name
from bot.escalation.model import Clock, Delivery, Notice, Purpose, Removal, utc_now
from bot.knowledge import Route

# Long enough for a reference and a reminder's summary; mail clients cut the rest anyway.
MAX_SUBJECT_CHARS = 150
WEB_ACTIONS = "acknowledge, assign, ask the reporter, add a note or resolve"
NOT_READ = "Replies to this email are not read."


def header_text(text: str, limit: int = MAX_SUBJECT_CHARS) -> str:
    """Text fit for one header line: what a person typed can hold line breaks and control
    characters, which would end the header (or start another) if they went in as they are."""
    printable = "".join(char if char.isprintable() else " " for char in text)
    single = " ".join(printable.split())
    return single if len(single) <= limit else single[: limit - 1].rstrip() + "\u2026"


def message_id(outbox_id: str, sender: str) -> str:
    """The same for every attempt at one delivery: what lets mail systems drop a re-send."""
    return f"<{outbox_id}.policybot@{sender.rpartition('@')[2]}>"


def subject(notice: Notice) -> str:
    """An alert and its thread updates share one subject ("Re: " before the updates): mail
    clients group a conversation by subject as well as by References, so a subject that changed
    with every update would split the thread. Reminders and reporter notices stand alone."""
    if notice.purpose is Purpose.ALERT:
        return header_text(f"[{notice.reference}] {notice.kind_label}")
    if notice.purpose is Purpose.THREAD:
        return header_text(f"Re: [{notice.reference}] {notice.kind_label}")
    return header_text(f"[{notice.reference}] {notice.summary}")


# --- the facts, as labelled values both bodies are made from ---------------------------------


def _facts(facts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The report's fields as (label, value), leaving out the empty ones."""
    reporter: Mapping[str, Any] = facts.get("reporter") or {}
    pairs = [
        ("Where", facts.get("where")),
        ("When", facts.get("when")),
        ("Who is involved", facts.get("involved")),
        ("Line manager involved", "Yes" if facts.get("manager_involved") else "No"),
        ("Reported by", reporter.get("name")),
        ("Job title", reporter.get("job_title")),
        ("Area", reporter.get("area")),
        ("Phone", reporter.get("phone")),
    ]
    return [(label, str(value)) for label, value in pairs if value]


def _context(notice: Notice) -> str:
    routes = " and ".join(route_name(Route(route)) for route in notice.routes)
    return f"{notice.council} \u00b7 sent to {routes} \u00b7 status: {notice.status}"


def _where_to_act(
    notice: Notice,
    public_url: str | None,
    *,
    text: Callable[[str], str] = str,
    link: Callable[[str], str] = str,
) -> str:
    """Where the team acts on the case, in words passed through `text` and the page's address
    through `link` (escaped and linked, for HTML)."""
    said = text(f"To {WEB_ACTIONS} {notice.reference}, use the alert in Slack or Teams, or ")
    if public_url:
        said += text("the escalations page: ") + link(f"{public_url.rstrip('/')}/escalations")
    else:
        said += text("policybot's escalations page.")
    return said


def _clause_source(notice: Notice) -> str:
    section, title = (notice.clause.section, notice.clause.title) if notice.clause else ("", "")
    return f"{section} \u00b7 {notice.council}, {title}"


def _is_alert(notice: Notice) -> bool:
    return notice.purpose in (Purpose.ALERT, Purpose.REMINDER)


def _advice_label(notice: Notice) -> str:
    return "What the policy asks" if _is_alert(notice) else "What the policy asks of you"


def _shows_advice(notice: Notice) -> bool:
    # The reporter's receipt (no event yet) carries the advice; later notices would repeat it.
    return bool(notice.advice) and (
        _is_alert(notice) or (notice.purpose is Purpose.REPORTER and notice.event is None)
    )


# --- plain text -----------------------------------------------------------------------------


def text_body(notice: Notice, *, public_url: str | None) -> str:
    """The plain-text part: paragraphs, a blank line between each."""
    paragraphs = [f"{notice.summary}\n{_context(notice)}"]
    if _is_alert(notice):
        facts = notice.facts
        paragraphs.append(f"What happened:\n{facts.get('what') or ''}")
        paragraphs.append("\n".join(f"{label}: {value}" for label, value in _facts(facts)))
        evidence = [str(link) for link in facts.get("evidence") or ()]
        if evidence:
            paragraphs.append("\n".join(["Evidence:", *(f"  {link}" for link in evidence)]))
        if notice.clause:
            quote = [f"> {line}" for line in notice.clause.quote.splitlines()]
            paragraphs.append("\n".join(["Why it came to you:", *quote, _clause_source(notice)]))
    if _shows_advice(notice):
        paragraphs.append(f"{_advice_label(notice)}:\n{notice.advice}")
    if notice.purpose is not Purpose.REPORTER:
        paragraphs.append(f"{_where_to_act(notice, public_url)}\n{NOT_READ}")
    return "\n\n".join(paragraphs) + "\n"


# --- HTML: every piece of text escaped, whoever wrote it -------------------------------------


def _escaped(text: str) -> str:
    return html.escape(text, quote=True).replace("\n", "<br>\n")


def _link(url: str) -> str:
    """A live link only for web addresses (the report's evidence is checked to be, but a
    `javascript:` link must never reach a mailbox whatever let it through)."""
    if url.startswith(("https://", "http://")):
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>'
    return html.escape(url)


HTML_PAGE = (
    '<!DOCTYPE html>\n<html lang="en"><body style="font-family:sans-serif">\n'
    "{body}\n</body></html>\n"
)


def html_body(notice: Notice, *, public_url: str | None) -> str:
    """The HTML part: the plain text's content, with the evidence and the page as links."""
    parts = [
        f"<p><strong>{_escaped(notice.summary)}</strong></p>",
        f'<p style="color:#555555">{_escaped(_context(notice))}</p>',
    ]
    if _is_alert(notice):
        facts = notice.facts
        parts.append(f"<h3>What happened</h3>\n<p>{_escaped(str(facts.get('what') or ''))}</p>")
        rows = "\n".join(
            f'<tr><th align="left" valign="top">{_escaped(label)}</th>'
            f"<td>{_escaped(value)}</td></tr>"
            for label, value in _facts(facts)
        )
        parts.append(f'<table cellpadding="4">\n{rows}\n</table>')
        evidence = [str(link) for link in facts.get("evidence") or ()]
        if evidence:
            items = "\n".join(f"<li>{_link(link)}</li>" for link in evidence)
            parts.append(f"<h3>Evidence</h3>\n<ul>\n{items}\n</ul>")
        if notice.clause:
            parts.append(
                "<h3>Why it came to you</h3>\n"
                f"<blockquote>{_escaped(notice.clause.quote)}</blockquote>\n"
                f'<p style="color:#555555">{_escaped(_clause_source(notice))}</p>'
            )
    if _shows_advice(notice):
        parts.append(
            f"<h3>{_escaped(_advice_label(notice))}</h3>\n<p>{_escaped(str(notice.advice))}</p>"
        )
    if notice.purpose is not Purpose.REPORTER:
        act = _where_to_act(notice, public_url, text=_escaped, link=_link)
        parts.append(f"<p>{act}<br>\n{_escaped(NOT_READ)}</p>")
    return HTML_PAGE.format(body="\n".join(parts))


def notice_email(
    delivery: Delivery, *, sender: str, public_url: str | None, now: datetime
) -> EmailMessage:
    """The message for one delivery, headers and both bodies, ready to send."""
    notice = delivery.notice
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery.address
    message["Subject"] = subject(notice)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(delivery.id, sender)
    if delivery.thread:
        message["In-Reply-To"] = delivery.thread
        message["References"] = delivery.thread
    # No out-of-office or other automatic replies to a sender nobody reads (RFC 3834; the
    # second is Exchange's own word for it).
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text_body(notice, public_url=public_url))
    message.add_alternative(html_body(notice, public_url=public_url), subtype="html")
    return message


# --- the outbox channel ---------------------------------------------------------------------


class EmailChannel:
    """The outbox worker's way to a mailbox (`bot.escalation.delivery.Channel`): an address is an
    email address, taken from a desk's `email` or `backup_email` setting."""

    def __init__(
        self,
        *,
        smtp: SmtpSettings,
        public_url: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._smtp = smtp
        self._public_url = public_url
        self._clock = clock

    async def send(self, delivery: Delivery) -> str:
        if delivery.notice.purpose is Purpose.REFRESH:
            # A sent email cannot be redrawn, and its thread already has the change.
            assert delivery.thread is not None
            return delivery.thread
        message = notice_email(
            delivery, sender=self._smtp.sender, public_url=self._public_url, now=self._clock()
        )
        smtp = self._smtp
        await aiosmtplib.send(
            message,
            sender=smtp.sender,
            recipients=[delivery.address],
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=smtp.password.get_secret_value() if smtp.password else None,
            use_tls=smtp.tls,
            # Required when asked for, never merely attempted: a report must not cross the
            # network in clear because a server stopped offering STARTTLS.
            start_tls=smtp.starttls and not smtp.tls,
            timeout=smtp.timeout_seconds,
        )
        return str(message["Message-ID"])

    async def already_sent(self, delivery: Delivery) -> str | None:
        # SMTP cannot be asked what a mailbox holds. A re-send carries the same Message-ID
        # (made from the outbox id), which is what keeps it from showing twice.
        return None

    async def remove(self, delivery: Delivery) -> Removal:
        # An email cannot be recalled from the mailboxes it reached.
        return Removal.KEPT
