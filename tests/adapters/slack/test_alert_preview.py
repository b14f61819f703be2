"""The Slack alert in a real browser: the exact Block Kit `notice_message` posts, drawn as a Slack
message and loaded in Debian's Chromium, to check that what a reporter typed shows as text and
never becomes markup, end to end.

There is no Slack workspace here, so the README's picture comes from this test too: set
POLICYBOT_SLACK_ALERT_SCREENSHOT=path to keep a screenshot of the message (docs/slack-alert.png).
"""

from __future__ import annotations

import html
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.views import CASE_BUTTONS, notice_message
from bot.escalation.cases import Cases
from bot.escalation.model import Case, Notice, Purpose
from bot.escalation.report import parse_report
from bot.knowledge import KnowledgeBase, Route
from bot.storage import Store
from tests.bot.escalation.case_fixtures import REPORTER, START, directory, report
from tests.browser import CHROMIUM, CHROMIUM_FLAGS, require_chromium

require_chromium()

playwright_api = pytest.importorskip("playwright.async_api")

# What a hostile reporter might type: it must show as these characters, never become elements.
HOSTILE = "<script>alert(1)</script> & <b>bold</b>"
HOSTILE_WHAT = "A post went viral with a comment <img src=x onerror=alert(2)> about our staff"

# --- a test-only Block Kit renderer -------------------------------------------------------------
# Only the block types `notice_message` produces. Our code escapes everything a person typed
# (`&amp; &lt; &gt;`) before it goes into mrkdwn, as Slack requires, so mrkdwn is inserted into
# the HTML exactly as it comes: were anything left unescaped, it would become markup here, as it
# would become a mention or link in Slack, and the test would catch it. Only the formatting is
# converted (`*bold*`, `> ` quotes, line breaks), never the entities. Bold is drawn as <strong>,
# so that any <b> on the page can only have come from what the reporter typed.

BOLD = re.compile(r"\*([^*\n]+)\*")
STYLE = """
body { margin: 0; background: #fff; font: 15px/1.47 "Lato", "Liberation Sans", sans-serif;
       color: #1d1c1d; }
#message { display: flex; gap: 8px; width: 860px; padding: 12px 20px; box-sizing: border-box; }
.avatar { flex: none; width: 36px; height: 36px; border-radius: 6px; background: #2b6cb0;
          color: #fff; font-weight: 700; display: grid; place-items: center; }
.meta { display: flex; align-items: baseline; gap: 6px; }
.name { font-weight: 900; }
.badge { font-size: 10px; font-weight: 700; color: #616061; background: #e8e8e8;
         border-radius: 2px; padding: 0 3px; }
.time { font-size: 12px; color: #616061; }
h2 { font-size: 18px; font-weight: 900; margin: 6px 0 4px; }
.context { font-size: 12px; color: #616061; margin: 4px 0; }
.section { margin: 8px 0; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; }
blockquote { margin: 2px 0; padding-left: 12px; border-left: 4px solid #ddd; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0 4px; }
button { font: 700 13px "Lato", "Liberation Sans", sans-serif; color: #1d1c1d; background: #fff;
         border: 1px solid #c8c8c8; border-radius: 4px; padding: 0 12px; height: 28px; }
"""


def mrkdwn_html(text: str) -> str:
    """Slack mrkdwn, already escaped by our code, as HTML: formatting converted, entities kept."""
    out: list[str] = []
    for line in BOLD.sub(r"<strong>\1</strong>", text).split("\n"):
        if line.startswith("> "):  # a quote (a typed `>` arrives as `&gt;`, so is never one)
            out.append(f"<blockquote>{line[2:]}</blockquote>")
        else:
            out.append(line + "<br>")
    return "".join(out).removesuffix("<br>")


def text_html(text: dict[str, Any]) -> str:
    # plain_text is shown by Slack as it is, so here it is escaped like any text put into HTML.
    return mrkdwn_html(text["text"]) if text["type"] == "mrkdwn" else html.escape(text["text"])


def block_html(block: dict[str, Any]) -> str:
    kind = block["type"]
    if kind == "header":
        return f"<h2>{html.escape(block['text']['text'])}</h2>"
    if kind == "context":
        return f'<div class="context">{" ".join(map(text_html, block["elements"]))}</div>'
    if kind == "section":
        text = f"<div>{text_html(block['text'])}</div>" if "text" in block else ""
        cells = "".join(f"<div>{text_html(field)}</div>" for field in block.get("fields", []))
        fields = f'<div class="fields">{cells}</div>' if cells else ""
        return f'<div class="section">{text}{fields}</div>'
    if kind == "actions":
        labels = (html.escape(button["text"]["text"]) for button in block["elements"])
        buttons = "".join(f'<button type="button">{label}</button>' for label in labels)
        return f'<div class="actions">{buttons}</div>'
    raise AssertionError(f"the preview cannot draw a {kind!r} block")


def message_html(blocks: list[dict[str, Any]], posted: datetime) -> str:
    """A whole page holding one message from the bot, as a channel shows it."""
    time = posted.strftime("%I:%M %p").lstrip("0")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><style>{STYLE}</style>'
        '</head><body><div id="message"><div class="avatar">pb</div><div>'
        '<div class="meta"><span class="name">policybot</span><span class="badge">APP</span>'
        f'<span class="time">{time}</span></div>{"".join(map(block_html, blocks))}'
        "</div></div></body></html>"
    )


# --- the tests ----------------------------------------------------------------------------------


def test_the_preview_keeps_entities_and_converts_only_formatting() -> None:
    # The browser test below is only as strict as this: were the preview to escape again,
    # a raw `<b>` from our code would pass unseen.
    assert mrkdwn_html("*Who*\n&lt;b&gt; &amp; <b>x</b>") == (
        "<strong>Who</strong><br>&lt;b&gt; &amp; <b>x</b>"
    )
    assert mrkdwn_html("*Why*\n> 23. If\n> &gt; not a quote") == (
        "<strong>Why</strong><br><blockquote>23. If</blockquote><blockquote>&gt; not a quote"
        "</blockquote>"
    )


async def open_case(cases: Cases, **changes: Any) -> Case:
    details = {"name": "Sam Jones", "job_title": "Officer", "area": "Housing", "phone": "01225 1"}
    changes = {"kind": "reputation", "reporter": details, **changes}
    return await cases.open(parse_report(report("wiltshire", **changes)), REPORTER)


def alert_page(case: Case, knowledge: KnowledgeBase) -> str:
    notice = Notice.of(
        case,
        knowledge.policies["wiltshire"],
        Purpose.ALERT,
        f"New report {case.reference}: {case.kind.label}",
    )
    _, blocks = notice_message(notice)
    return message_html(blocks, case.created_at)


async def test_the_alert_shows_what_was_typed_as_text_in_a_real_browser(
    tmp_path: Path, knowledge: KnowledgeBase
) -> None:
    store = Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'alert.sqlite3'}")
    await store.create_tables()
    await store.start()
    try:
        cases = Cases(store, knowledge.policies, directory(), clock=lambda: START)
        case = await open_case(
            cases,
            what=HOSTILE_WHAT,
            involved=HOSTILE,
            evidence=["https://social.example/post/1", "https://social.example/post/2"],
        )
        assert case.routes == (Route.HR, Route.COMMS)  # Wiltshire 23
        tidy = None
        if os.environ.get("POLICYBOT_SLACK_ALERT_SCREENSHOT"):
            tidy = await open_case(
                cases,
                what="A post on a community page shares a photo of a council van parked on a "
                "pavement, with comments about staff & the service.",
                where="Town community group on Facebook",
                when="This morning, about 8am",
                involved="Highways crew (not named in the post)",
                evidence=["https://social.example/groups/town/posts/1"],
                reporter={
                    "name": "Alex Morgan",
                    "job_title": "Team leader",
                    "area": "Highways & Transport",
                    "phone": "01225 000000",
                },
            )
    finally:
        await store.close()

    expect = playwright_api.expect
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        page = await browser.new_page(viewport={"width": 900, "height": 900})
        dialogs: list[str] = []

        async def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        await page.set_content(alert_page(case, knowledge))

        header = page.get_by_role("heading", level=2)
        await expect(header).to_contain_text(case.reference)
        await expect(header).to_contain_text("Content could damage the council's reputation")
        await expect(page.locator(".context").first).to_contain_text("sent to HR and")
        # What the reporter typed reads as the characters they typed...
        await expect(page.get_by_text("<script>alert(1)</script>")).to_be_visible()
        await expect(page.locator("#message")).to_contain_text(HOSTILE)
        await expect(page.locator("#message")).to_contain_text(HOSTILE_WHAT)
        # ...and became no element: our bold is <strong>, so any <b> would be the reporter's.
        for tag in ("script", "b", "img"):
            assert await page.locator(tag).count() == 0, tag
        await expect(page.get_by_text("https://social.example/post/2")).to_be_visible()
        await expect(page.locator(".fields").last).to_contain_text("Sam Jones")

        # The clause that routed it, quoted, with its section.
        quote = page.locator("blockquote")
        await expect(quote).to_contain_text("immediately liaise with HR and the communications")
        await expect(page.get_by_text("Why it came to you")).to_be_visible()
        await expect(page.locator(".context").last).to_contain_text(
            "23. Line manager responsibilities"
        )
        buttons = page.get_by_role("button")
        await expect(buttons).to_have_text(list(CASE_BUTTONS.values()))
        for label in ("Acknowledge", "Assign to me", "Ask the reporter", "Add note", "Resolve"):
            await expect(page.get_by_role("button", name=label, exact=True)).to_be_visible()
        assert dialogs == []

        screenshot = os.environ.get("POLICYBOT_SLACK_ALERT_SCREENSHOT")
        if screenshot and tidy is not None:
            await page.set_content(alert_page(tidy, knowledge))
            await expect(page.get_by_role("heading", level=2)).to_contain_text(tidy.reference)
            await page.locator("#message").screenshot(path=screenshot)
        await browser.close()
