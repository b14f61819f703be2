"""The web chat in a real browser: Debian's Chromium driven by Playwright, against the real server.

Set POLICYBOT_SCREENSHOT=path to keep a screenshot of the page (the README's comes from here).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from adapters.config import Settings
from adapters.server import build_app
from adapters.web.app import SERVICES
from bot.knowledge import default_root

CHROMIUM = Path("/usr/bin/chromium")
# Without these, Chromium keeps calling home, and this closed network refuses it many times over.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing: ./run-tests installs Debian's chromium package"
    if os.environ.get("CI"):
        raise RuntimeError(reason)  # CI must run the browser test, never skip it
    pytest.skip(reason, allow_module_level=True)

playwright_api = pytest.importorskip("playwright.async_api")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'browser.sqlite3'}")
    test_server = TestServer(build_app(settings=settings, knowledge_root=default_root()))
    await test_server.start_server()
    yield test_server
    await test_server.close()


async def test_ask_clarify_and_feedback_in_a_real_browser(server: TestServer) -> None:
    expect = playwright_api.expect
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        page = await browser.new_page(viewport={"width": 420, "height": 900})  # a phone's width
        await page.goto(str(server.make_url("/")))

        await page.get_by_label("Your council").select_option("derbyshire")
        await page.get_by_label("Your question").fill("can I friend a service user")
        await page.get_by_role("button", name="Ask").click()
        first = page.locator("#conversation li.bot").first
        await expect(first.locator("blockquote")).to_contain_text(re.compile("friend", re.I))
        await expect(first.locator(".source")).to_contain_text("Derbyshire County Council")

        # A vague question gets "did you mean" options; choosing one answers it.
        await page.get_by_label("Your question").fill("social media")
        await page.keyboard.press("Enter")
        options = page.locator(".options button")
        await expect(options.first).to_be_visible()
        await options.first.click()
        await expect(page.locator("#conversation li.bot blockquote")).to_have_count(2)

        await first.get_by_role("button", name="Helpful", exact=True).click()
        await expect(first.locator(".feedback")).to_contain_text("Thank you")

        # The council is remembered on the next visit.
        await page.reload()
        await expect(page.get_by_label("Your council")).to_have_value("derbyshire")

        screenshot = os.environ.get("POLICYBOT_SCREENSHOT")
        if screenshot:
            await page.goto(str(server.make_url("/")))
            await page.set_viewport_size({"width": 900, "height": 900})
            await page.get_by_label("Your question").fill(
                "a colleague is posting nasty things about me"
            )
            await page.get_by_role("button", name="Ask").click()
            await expect(page.locator("#conversation li.bot")).to_have_count(1)
            await page.screenshot(path=screenshot, full_page=True)
        await browser.close()

    assert server.app is not None
    store = server.app[SERVICES].store
    await store.flush()
    asked = 3 if screenshot else 2
    assert sum((await store.count_by_kind("derbyshire")).values()) == asked
    assert await store.feedback_summary("derbyshire") == {True: 1}
