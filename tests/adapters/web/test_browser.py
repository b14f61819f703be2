"""The web chat in a real browser: Debian's Chromium driven by Playwright, against the real server.

Set POLICYBOT_SCREENSHOT=path to keep a screenshot of the page (the README's comes from here),
POLICYBOT_ESCALATIONS_SCREENSHOT=path for one of the escalations page (docs/escalations.png),
and POLICYBOT_ALSO_SCREENSHOT=path for an answer with clauses that also apply.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from adapters.config import Settings
from adapters.server import build_app
from adapters.web.http import SERVICES
from bot.escalation.model import Actor, Reporter, Status
from bot.escalation.report import parse_report
from tests.browser import CHROMIUM, CHROMIUM_FLAGS, require_chromium
from tests.conftest import shipped_assistant
from tests.fakes.oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider

require_chromium()

playwright_api = pytest.importorskip("playwright.async_api")


ADMIN_TOKEN = "browser-admin-token-0123456789"
# What a hostile reporter might type: it must show as these characters, never become an element.
HOSTILE = "<img src=x onerror=alert(1)>"
REFERENCE = re.compile(r"[A-Z]{3}-[A-Z2-9]{6}")
# A question that more than one Derbyshire clause bears on (`policybot ask --json` lists the
# others under "also"); pick another that does if the matcher changes.
ALSO_QUESTION = "Can I put down a colleague in a Facebook post?"


@contextlib.asynccontextmanager
async def chat_page(server: TestServer, org: str) -> AsyncIterator[Any]:
    """The chat page in Debian's Chromium at a phone's width, with `org` chosen."""
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            page = await browser.new_page(viewport={"width": 420, "height": 900})
            await page.goto(str(server.make_url("/")))
            await page.get_by_label("Your council").select_option(org)
            yield page
        finally:
            await browser.close()


@pytest.fixture
async def server(tmp_path: Path, desks_by_email: dict[str, Any]) -> AsyncIterator[TestServer]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'browser.sqlite3'}",
        admin_token=SecretStr(ADMIN_TOKEN),
        **desks_by_email,
    )
    test_server = TestServer(build_app(settings=settings, assistant=shipped_assistant()))
    await test_server.start_server()
    yield test_server
    await test_server.close()


@pytest.fixture
async def server_without_desks(tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'browser.sqlite3'}")
    test_server = TestServer(build_app(settings=settings, assistant=shipped_assistant()))
    await test_server.start_server()
    yield test_server
    await test_server.close()


async def test_a_council_without_desks_is_told_whom_to_tell_instead_of_a_form(
    server_without_desks: TestServer,
) -> None:
    expect = playwright_api.expect
    async with chat_page(server_without_desks, "chelmsford") as page:
        await page.get_by_role("button", name="Report an incident").click()
        dialog = page.get_by_role("dialog", name="Report an incident")
        await expect(dialog.locator("#report-elsewhere-text")).to_contain_text(
            "Reports for Chelmsford City Council cannot be taken here yet"
        )
        await expect(dialog.locator("#report-elsewhere-text")).to_contain_text(
            "HR: your manager, or Human Resources"
        )
        await expect(dialog.locator("#report-form")).to_be_hidden()
        if screenshot := os.environ.get("POLICYBOT_NO_DESK_SCREENSHOT"):
            await page.screenshot(path=screenshot)
        await dialog.get_by_role("button", name="Close").click()
        await expect(dialog).to_be_hidden()


async def test_ask_clarify_and_feedback_in_a_real_browser(server: TestServer) -> None:
    expect = playwright_api.expect
    async with chat_page(server, "derbyshire") as page:
        await page.get_by_label("Your question").fill("can I friend a service user")
        await page.get_by_role("button", name="Ask").click()
        first = page.locator("#conversation li.bot").first
        await expect(first.locator(":scope > blockquote")).to_contain_text(
            re.compile("friend", re.I)
        )
        await expect(first.locator(":scope > .source")).to_contain_text("Derbyshire County Council")
        # The verdict is shown under the question it answers.
        await expect(first.locator(":scope > .asks")).to_have_text(re.compile(r"friend.*\?$", re.I))
        await expect(first.locator(".asks + .answer")).to_be_visible()

        # A vague question gets "did you mean" options, each the question a clause answers;
        # choosing one answers it, under that question.
        await page.get_by_label("Your question").fill("social media")
        await page.keyboard.press("Enter")
        options = page.locator(".options button")
        await expect(options.first).to_be_visible()
        label = await options.first.locator(".option-label").text_content()
        assert label and label.endswith("?")
        await options.first.click()
        await expect(page.locator("#conversation li.bot > blockquote")).to_have_count(2)
        await expect(page.locator("#conversation li.bot .asks").last).to_have_text(label)

        await first.get_by_role("button", name="Helpful", exact=True).click()
        await expect(first.locator(".feedback")).to_contain_text("Thank you")

        # The council is remembered on the next visit.
        await page.reload()
        await expect(page.get_by_label("Your council")).to_have_value("derbyshire")

        screenshot = os.environ.get("POLICYBOT_SCREENSHOT")
        if screenshot:
            await page.goto(str(server.make_url("/")))
            await page.set_viewport_size({"width": 900, "height": 900})
            # Asked the other way round from the clause's question: the reply shows which
            # question it answers, and states the rule so it reads right either way.
            await page.get_by_label("Your question").fill(
                "should I decline a friend request from a service user?"
            )
            await page.get_by_role("button", name="Ask").click()
            await expect(page.locator("#conversation li.bot")).to_have_count(1)
            await page.screenshot(path=screenshot, full_page=True)

    assert server.app is not None
    store = server.app[SERVICES].store
    await store.flush()
    asked = 3 if screenshot else 2
    assert sum((await store.count_by_kind("derbyshire")).values()) == asked
    assert await store.feedback_summary("derbyshire") == {True: 1}


async def test_clauses_that_also_apply_are_quoted_under_the_answer(server: TestServer) -> None:
    expect = playwright_api.expect
    async with chat_page(server, "derbyshire") as page:
        await page.get_by_label("Your question").fill(ALSO_QUESTION)
        async with page.expect_response("**/api/ask") as response:
            await page.get_by_role("button", name="Ask").click()
        reply = await (await response.value).json()
        also = reply["also"]
        assert also, f"{ALSO_QUESTION!r} gets no clauses that also apply: choose another question"

        turn = page.locator("#conversation li.bot")
        block = turn.get_by_role("group", name="Also relevant")
        await expect(block).to_be_visible()
        # Under the answer's own quote and source: the heading, then each clause's question
        # (where it has one), its quote and its source.
        shown = await turn.evaluate("t => [...t.children].map((n) => n.className || n.localName)")
        at = shown.index("answer")
        assert shown[at : at + 4] == ["answer", "blockquote", "source", "also"]
        policy = f"{reply['policy']['council']}, {reply['policy']['title']}"
        quoted = [(m["asks"], m["quote"], f"{m['section']} · {policy}") for m in also]
        await expect(block.locator(":scope > *")).to_have_text(
            ["Also relevant:", *(text for clause in quoted for text in clause if text)]
        )

        screenshot = os.environ.get("POLICYBOT_ALSO_SCREENSHOT")
        if screenshot:
            await page.set_viewport_size({"width": 900, "height": 900})
            await page.screenshot(path=screenshot, full_page=True)


async def test_report_an_incident_then_acknowledge_it_on_the_admin_page(server: TestServer) -> None:
    expect = playwright_api.expect
    async with chat_page(server, "gloucestershire") as page:
        alerts: list[str] = []
        page.on("dialog", lambda dialog: alerts.append(dialog.message))

        # An answer with a route offers the form under it.
        await page.get_by_label("Your question").fill("I'm being cyber bullied by a colleague")
        await page.get_by_role("button", name="Ask").click()
        answer = page.locator("#conversation li.bot").first
        await answer.locator(".route").get_by_role("button", name="Report an incident").click()
        form = page.get_by_role("dialog", name="Report an incident")
        await expect(form).to_be_visible()
        await expect(form.get_by_label("What is it about?")).to_be_focused()

        await form.get_by_label("What is it about?").select_option(
            label="Someone is being bullied or harassed online"
        )
        await form.get_by_label("What happened").fill(f"Nasty comments about me {HOSTILE}")
        await form.get_by_label("Where (a link or a description)").fill("Facebook")
        await form.get_by_label("When").fill("Last night")
        await form.get_by_label("Who is involved").fill(HOSTILE)
        await form.get_by_label("Evidence links (one per line)").fill("not a link")
        await form.get_by_label("Your name").fill("Sam Jones")
        await form.get_by_label("Job title").fill("Housing officer")
        await form.get_by_label("Area or service").fill("Housing")
        await form.get_by_label("Phone").fill("01234 567890")
        await form.get_by_label("My line manager is involved").check()
        await form.get_by_role("button", name="Send report").click()
        # The server names the field; its message shows beside that field.
        await expect(form.locator("#report-error-evidence")).to_contain_text("not a web link")
        await expect(form.get_by_label("Evidence links (one per line)")).to_be_focused()

        await form.get_by_label("Evidence links (one per line)").fill(
            "https://social.example/post/1\nhttps://social.example/post/2"
        )
        await form.get_by_role("button", name="Send report").click()
        await expect(page.locator("#report-receipt")).to_contain_text(REFERENCE)
        receipt = await page.locator("#report-receipt").text_content() or ""
        reference = REFERENCE.search(receipt)
        assert reference is not None
        # Gloucestershire's policy: when the line manager is involved, "speak to the
        # Communications Team or use the council's Whistleblowing procedure".
        await expect(page.locator("#report-receipt")).to_contain_text("the communications team")
        await page.get_by_role("button", name="Close").click()
        await expect(form).to_be_hidden()
        # The reporter follows their report from the chat page.
        mine = page.locator(f'#my-reports-list li[data-reference="{reference[0]}"]')
        await expect(mine).to_contain_text("Sent to the communications team")
        chat_url = page.url

        # The admin page: a wrong token is refused, the right one shows the case.
        await page.goto(str(server.make_url("/escalations")))
        await page.get_by_label("Admin token").fill("not-the-token")
        await page.keyboard.press("Enter")
        await expect(page.locator("#login-error")).to_contain_text("not accepted")
        await page.get_by_label("Admin token").fill(ADMIN_TOKEN)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_label("Status").select_option("open")
        open_case = page.get_by_role("button", name=f"Open case {reference[0]}")
        await open_case.click()
        facts = page.locator("#case-facts")
        await expect(facts).to_contain_text(f"Nasty comments about me {HOSTILE}")
        await expect(facts).to_contain_text("https://social.example/post/2")
        await expect(page.locator("#case-timeline li")).to_have_count(1)

        await page.get_by_label("Your name").fill("Priya")
        await page.get_by_role("button", name="Acknowledge").click()
        timeline = page.locator("#case-timeline li")
        await expect(timeline).to_have_count(2)
        await expect(timeline.nth(1)).to_contain_text("Acknowledged (Priya)")
        await expect(page.locator("#action-status")).to_contain_text("acknowledged by Priya")
        # The list is filtered to open cases, so the acknowledged one has left it.
        await expect(open_case).to_have_count(0)

        await page.get_by_label("Note").fill("Employment tribunal claim")
        await page.get_by_role("button", name="Place legal hold").click()
        await expect(timeline.nth(2)).to_contain_text("legal hold: Employment tribunal claim")
        await expect(facts).to_contain_text("Yes: kept whatever the retention period")
        await expect(page.get_by_role("button", name="Release legal hold")).to_be_visible()

        # Back on the chat page, the reporter sees their report was picked up.
        await page.goto(chat_url)
        await expect(mine).to_contain_text("Picked up by the team")
        await expect(mine).not_to_contain_text("Employment tribunal")  # the team's own business
        await page.goto(str(server.make_url("/escalations")))

        # The token stays for the tab: a reload is still signed in.
        await page.reload()
        await expect(page.get_by_label("Council")).to_be_visible()
        assert await page.locator("img").count() == 0
        assert alerts == []

        screenshot = os.environ.get("POLICYBOT_ESCALATIONS_SCREENSHOT")
        if screenshot:
            await screenshot_escalations(page, server, Path(screenshot))

    assert server.app is not None
    case = await server.app[SERVICES].cases.get(reference[0])
    assert case.status is Status.ACKNOWLEDGED and case.report.involved == HOSTILE
    assert case.legal_hold


async def screenshot_escalations(page: object, server: TestServer, path: Path) -> None:
    """The docs' picture: a plain report, acknowledged and noted, shown at a desktop's width."""
    expect = playwright_api.expect
    assert isinstance(page, playwright_api.Page)
    report = {
        "org": "wiltshire",
        "kind": "reputation",
        "what": "A post on a community page shares a photo of a council van parked on a "
        "pavement, with comments about staff.",
        "where": "https://social.example/groups/town/posts/1",
        "when": "This morning, about 8am",
        "involved": "Highways crew (not named in the post)",
        "evidence": ["https://social.example/groups/town/posts/1"],
        "reporter": {
            "name": "Alex Morgan",
            "job_title": "Team leader",
            "area": "Highways",
            "phone": "01225 000000",
        },
        "manager_involved": False,
    }
    async with (
        ClientSession() as http,
        http.post(server.make_url("/api/escalations"), json=report) as response,
    ):
        reference = (await response.json())["reference"]
    await page.set_viewport_size({"width": 1100, "height": 900})
    await page.get_by_label("Status").select_option("")
    await page.get_by_role("button", name=f"Open case {reference}").click()
    await page.get_by_label("Your name").fill("Priya")
    await page.get_by_role("button", name="Acknowledge").click()
    await page.get_by_label("Note").fill("Asked the page admin to blur the van's plate.")
    await page.get_by_role("button", name="Add note").click()
    await expect(page.locator("#case-timeline li")).to_have_count(3)
    await page.screenshot(path=str(path), full_page=True)


async def test_an_administrator_signs_in_through_the_councils_provider(
    tmp_path: Path, desks_by_email: dict[str, Any]
) -> None:
    """On a server reachable beyond this machine the escalations page wants sign-in: through
    a local OpenID Connect provider here, and the person is who acts on the case."""
    expect = playwright_api.expect
    provider = FakeProvider()
    await provider.start()
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'sso.sqlite3'}",
            "sign_in": {
                "issuer": provider.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "admins": ["priya.shah@council.example"],
                "session_secret": "a-session-secret-of-at-least-32-characters",
            },
            **desks_by_email,
        }
    )
    server = TestServer(build_app(settings=settings, assistant=shipped_assistant(), public=True))
    await server.start_server()
    assert server.app is not None
    await server.app[SERVICES].cases.open(
        parse_report(
            {"org": "wiltshire", "what": "A fake council page", "reporter": {"name": "A"}}
        ),
        Reporter(Actor("sso", "alex@council.example")),
    )
    try:
        async with playwright_api.async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
            )
            try:
                page = await browser.new_page(viewport={"width": 1100, "height": 900})
                await page.goto(str(server.make_url("/escalations")))
                await expect(page.get_by_label("Admin token")).to_be_hidden()
                await page.get_by_role("link", name="Sign in with your council account").click()
                await expect(page).to_have_url(re.compile(r"/escalations$"))
                await page.get_by_label("Status").select_option("")
                await page.get_by_role("button", name=re.compile(r"^Open case WIL-")).click()
                await expect(page.locator("#acting-as")).to_contain_text("Acting as Priya Shah")
                await expect(page.get_by_label("Your name")).to_be_hidden()
                await page.get_by_role("button", name="Acknowledge").click()
                await expect(page.locator("#case-timeline li")).to_have_count(2)
                await expect(page.locator("#case-timeline li").last).to_contain_text(
                    re.compile(r"Acknowledged.*\(priya\.shah@council\.example\)")
                )
                await expect(page.get_by_role("button", name="Acknowledge")).to_be_disabled()
                if screenshot := os.environ.get("POLICYBOT_SIGN_IN_SCREENSHOT"):
                    await page.screenshot(path=screenshot, full_page=True)
            finally:
                await browser.close()
    finally:
        await server.close()
        await provider.close()
