"""The policy owner's pages in a real browser (Debian's Chromium, Playwright): signed in through
the council's provider, a policy owner sees only their own council's insights with the charts
drawn, at a phone's width and a desk's, then opens the Compare page.

Set POLICYBOT_INSIGHTS_SCREENSHOT=path and POLICYBOT_COMPARE_SCREENSHOT=path to keep
screenshots (docs/insights.png and docs/compare.png come from here).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from adapters.config import Settings
from adapters.server import build_app
from adapters.web.http import SERVICES
from bot.assistant import Question
from tests.browser import CHROMIUM, CHROMIUM_FLAGS, require_chromium
from tests.conftest import shipped_assistant
from tests.fakes.oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider

require_chromium()

playwright_api = pytest.importorskip("playwright.async_api")

UNANSWERED = {
    "parking": [
        "how do I get a staff parking permit",
        "where can I park my car at county hall",
        "is there free parking for employees",
    ],
    "mileage": ["how do I claim mileage", "what is the mileage rate for my own car"],
}
ANSWERED = [
    "Can I accept a friend request from a service user?",
    "can I share political stuff online",
    "can I post party political content",
]


async def seed(server: TestServer) -> None:
    """Questions as staff of two councils asked them through the web chat."""
    assert server.app is not None
    answering = server.app[SERVICES].answering
    asker = 0
    for org in ("wiltshire", "derbyshire"):
        for texts in UNANSWERED.values():
            for text in texts:
                asker += 1
                await answering.answer(Question(org=org, text=text, asker=f"a{asker}"))
        for text in ANSWERED:
            asker += 1
            answered = await answering.answer(Question(org=org, text=text, asker=f"a{asker}"))
            await server.app[SERVICES].store.flush()
            await answering.feedback(answered.id, helpful=asker % 2 == 0)
    await server.app[SERVICES].store.flush()


async def test_a_policy_owner_sees_their_councils_insights_then_compares(
    tmp_path: Path, desks_by_email: dict[str, Any]
) -> None:
    expect = playwright_api.expect
    provider = FakeProvider()
    await provider.start()
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'insights.sqlite3'}",
            "sign_in": {
                "issuer": provider.issuer,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "policy_owners": {"wiltshire": ["priya.shah@council.example"]},
                "session_secret": "a-session-secret-of-at-least-32-characters",
            },
            **desks_by_email,
        }
    )
    server = TestServer(build_app(settings=settings, assistant=shipped_assistant(), public=True))
    await server.start_server()
    await seed(server)
    try:
        async with playwright_api.async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
            )
            try:
                page = await browser.new_page(viewport={"width": 420, "height": 900})
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                # Every request the pages make succeeds (the browser's own favicon aside).
                page.on(
                    "response",
                    lambda r: (
                        errors.append(f"{r.status} {r.url}")
                        if r.status >= 400 and not r.url.endswith("/favicon.ico")
                        else None
                    ),
                )
                await page.goto(str(server.make_url("/insights")))
                await page.get_by_role("link", name="Sign in with your council account").click()
                await expect(page).to_have_url(re.compile(r"/insights$"))

                council = page.get_by_label("Council")
                await expect(council.locator("option")).to_have_count(1)
                await expect(council).to_have_value("wiltshire")
                await expect(page.locator("#totals")).to_contain_text("8questions asked")
                themes = page.locator("#themes > li")
                await expect(themes.first).to_contain_text("3 people asked about parking")
                await expect(themes.nth(1)).to_contain_text("2 people asked about")
                for chart in ("chart-outcomes", "chart-platforms", "chart-clauses"):
                    drawn = await page.evaluate(
                        "(id) => { const c = Chart.getChart(document.getElementById(id));"
                        " return c ? c.data.datasets.flatMap((d) => d.data)"
                        ".reduce((a, b) => a + b, 0) : -1; }",
                        chart,
                    )
                    assert drawn > 0, chart
                # What the chart shows, for a screen reader.
                outcomes = await page.get_attribute("#chart-outcomes", "aria-label")
                assert outcomes is not None and outcomes.startswith("Answered 3, ")
                # Readable on a phone: nothing wider than the screen.
                assert await page.evaluate(
                    "document.documentElement.scrollWidth <= window.innerWidth"
                )
                await page.get_by_label("Period").select_option("7")
                await expect(page.locator("#status")).to_contain_text("Wiltshire Council")
                if screenshot := os.environ.get("POLICYBOT_INSIGHTS_SCREENSHOT"):
                    await page.set_viewport_size({"width": 1100, "height": 900})
                    await page.wait_for_timeout(300)  # the charts redraw at the new width
                    await page.screenshot(path=screenshot, full_page=True)

                await page.get_by_role("link", name="Compare councils").click()
                await expect(page).to_have_url(re.compile(r"/compare\?topic="))
                await page.get_by_label("Topic").select_option("friend-requests-from-service-users")
                await expect(page).to_have_url(re.compile(r"topic=friend-requests-from-service"))
                cards = page.locator("#councils article")
                await expect(cards.first).to_be_visible()
                assert await cards.count() >= 3
                await expect(page.locator("#silent")).to_contain_text("Silent on this")
                await expect(page.locator("#councils blockquote").first).not_to_be_empty()
                if screenshot := os.environ.get("POLICYBOT_COMPARE_SCREENSHOT"):
                    await page.set_viewport_size({"width": 1100, "height": 900})
                    await page.screenshot(path=screenshot, full_page=True)
                assert errors == []
            finally:
                await browser.close()
    finally:
        await server.close()
        await provider.close()
