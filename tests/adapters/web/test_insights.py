"""The Insights API: a council's policy owners read their own council's, administrators and
the admin token every council's; nobody else reads any (a local OpenID Connect provider)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from adapters.config import Settings
from adapters.server import build_app
from tests.adapters.web.test_signin import (
    ADMIN_TOKEN,
    browser,
    sign_in,
    sign_in_settings,
    start,
)
from tests.conftest import shipped_assistant
from tests.fakes.oidc import FakeProvider

OWNER = "priya.shah@council.example"  # who the fake provider signs in


async def owner_of(
    tmp_path: Path, provider: FakeProvider, desks: dict[str, Any], owns: dict[str, list[str]]
) -> TestServer:
    settings = sign_in_settings(provider, admins=[])
    settings["sign_in"]["policy_owners"] = owns
    return await start(tmp_path, desks, **settings)


async def test_a_policy_owner_reads_only_their_own_council(
    tmp_path: Path, provider: FakeProvider, desks_by_email: dict[str, Any]
) -> None:
    server = await owner_of(tmp_path, provider, desks_by_email, {"wiltshire": [OWNER.upper()]})
    try:
        async with browser() as http:
            async with http.get(server.make_url("/api/insights")) as refused:
                assert refused.status == 401
            assert await sign_in(http, server, then="/insights") == "/insights"
            async with http.get(server.make_url("/api/me")) as me:
                assert (await me.json())["policy_owner"] is True
            async with http.get(server.make_url("/api/insights")) as own:
                assert own.status == 200 and own.headers["Cache-Control"] == "no-store"
                body = await own.json()
            assert [each["org"] for each in body["councils"]] == ["wiltshire"]
            assert body["insights"]["org"] == "wiltshire" and len(body["insights"]["days"]) == 30
            for other in ("derbyshire", "nowhere"):
                async with http.get(server.make_url("/api/insights"), params={"org": other}) as r:
                    assert r.status == 404
            async with http.get(server.make_url("/api/insights"), params={"days": "x"}) as r:
                assert r.status == 400 and (await r.json())["field"] == "days"
    finally:
        await server.close()


async def test_someone_who_owns_no_policy_reads_none(
    tmp_path: Path, provider: FakeProvider, desks_by_email: dict[str, Any]
) -> None:
    server = await owner_of(tmp_path, provider, desks_by_email, {"wiltshire": ["someone@else"]})
    try:
        async with browser() as http:
            await sign_in(http, server, then="/insights")
            async with http.get(server.make_url("/api/insights")) as refused:
                assert refused.status == 403
    finally:
        await server.close()


async def test_the_admin_token_reads_every_council_on_this_machine(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'insights.sqlite3'}",
        admin_token=SecretStr(ADMIN_TOKEN),
    )
    server = TestServer(build_app(settings=settings, assistant=shipped_assistant()))
    await server.start_server()
    try:
        async with ClientSession() as http:
            url = server.make_url("/api/insights")
            async with http.get(url) as refused:
                assert refused.status == 401
            bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            async with http.get(url, headers=bearer, params={"org": "derbyshire"}) as r:
                body = await r.json()
            assert len(body["councils"]) == 5 and body["insights"]["org"] == "derbyshire"
            async with http.get(server.make_url("/insights")) as page:
                assert page.status == 200 and "chart.umd.min.js" in await page.text()
            async with http.get(server.make_url("/static/vendor/chart.umd.min.js")) as script:
                assert script.status == 200 and b"Chart.js v4" in await script.read()
    finally:
        await server.close()
