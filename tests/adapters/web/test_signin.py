"""Sign-in through the council's identity provider (a local OpenID Connect provider on a free
port): on a server reachable beyond this machine, the report form and the escalations page
need it, the signed-in person is the actor in the audit trail, and the admin token is for the
CLI and automation only (security review H5)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from adapters.config import Settings
from adapters.server import build_app
from adapters.web.signin import SESSION_COOKIE
from tests.conftest import shipped_assistant
from tests.fakes.oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider

ADMIN_TOKEN = "automation-token-0123456789"
SESSION_SECRET = "a-session-secret-of-at-least-32-characters"


async def start(tmp_path: Path, desks: dict[str, Any], **changes: Any) -> TestServer:
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'signin.sqlite3'}",
            "admin_token": ADMIN_TOKEN,
            **desks,
            **changes,
        }
    )
    app = build_app(settings=settings, assistant=shipped_assistant(), public=True)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


def sign_in_settings(provider: FakeProvider, admins: list[str]) -> dict[str, Any]:
    return {
        "sign_in": {
            "issuer": provider.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "admins": admins,
            "session_secret": SESSION_SECRET,
        }
    }


@pytest.fixture
async def server(
    tmp_path: Path, desks_by_email: dict[str, Any], provider: FakeProvider
) -> AsyncIterator[TestServer]:
    test_server = await start(
        tmp_path, desks_by_email, **sign_in_settings(provider, ["priya.shah@council.example"])
    )
    yield test_server
    await test_server.close()


def browser() -> ClientSession:
    """Cookies kept as a browser keeps them (for 127.0.0.1 too)."""
    return ClientSession(cookie_jar=CookieJar(unsafe=True))


async def sign_in(http: ClientSession, server: TestServer, then: str = "/escalations") -> str:
    """Through the provider and back; where the server sent the browser in the end."""
    async with http.get(server.make_url("/auth/login"), params={"next": then}) as landed:
        assert landed.status == 200, await landed.text()
        return landed.url.path


REPORT = {"org": "wiltshire", "what": "Someone is posting about me", "reporter": {"name": "P"}}


async def test_an_administrator_signs_in_and_acts_as_themselves(server: TestServer) -> None:
    async with browser() as http:
        async with http.get(server.make_url("/api/me")) as me:
            assert (await me.json())["signed_in"] is False
        async with http.get(server.make_url("/api/escalations")) as refused:
            assert refused.status == 401 and (await refused.json())["sign_in"] == "/auth/login"
        assert await sign_in(http, server) == "/escalations"
        async with http.get(server.make_url("/api/me")) as me:
            assert await me.json() == {
                "sign_in_required": True,
                "sign_in": "/auth/login",
                "signed_in": True,
                "name": "Priya Shah",
                "admin": True,
                "policy_owner": True,
            }
        async with http.post(server.make_url("/api/escalations"), json=REPORT) as filed:
            assert filed.status == 201
            reference = (await filed.json())["reference"]
        note = {"action": "note", "text": "Called the reporter", "by": "Someone Else"}
        actions = server.make_url(f"/api/escalations/{reference}/actions")
        async with http.post(actions, json=note) as acted:
            assert acted.status == 200
            timeline = (await acted.json())["timeline"]
    # The identity the provider vouched for, not a typed name, is in the audit trail; so is
    # the reporter's.
    assert [(event["kind"], event["actor"]) for event in timeline] == [
        ("reported", "sso:priya.shah@council.example"),
        ("note", "sso:priya.shah@council.example"),
    ]


async def test_someone_signed_in_may_report_but_not_read_cases(
    tmp_path: Path, desks_by_email: dict[str, Any], provider: FakeProvider
) -> None:
    server = await start(tmp_path, desks_by_email, **sign_in_settings(provider, admins=[]))
    try:
        async with browser() as http:
            async with http.post(server.make_url("/api/escalations"), json=REPORT) as refused:
                assert refused.status == 401
            assert await sign_in(http, server, then="/") == "/"
            async with http.post(server.make_url("/api/escalations"), json=REPORT) as filed:
                assert filed.status == 201
                assert (await filed.json())["follow"] is None  # they follow it signed in
            follow = server.make_url("/api/escalations/follow")
            async with http.post(follow, json={"tokens": []}) as followed:
                (mine,) = (await followed.json())["reports"]
            async with http.get(server.make_url("/api/escalations")) as refused:
                assert refused.status == 403
        assert mine["status"] == "open"
    finally:
        await server.close()


async def test_the_admin_token_is_for_automation_not_for_a_page(server: TestServer) -> None:
    token = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with ClientSession() as http:
        async with http.get(server.make_url("/api/escalations"), headers=token) as automation:
            assert automation.status == 200
        own_page = {**token, "Origin": f"http://{server.host}:{server.port}"}
        async with http.get(server.make_url("/api/escalations"), headers=own_page) as page:
            assert page.status == 401


@pytest.mark.parametrize(
    "tamper",
    [{"nonce": "replayed"}, {"aud": "another-app"}, {"iss": "https://evil.example"}],
    ids=["nonce", "audience", "issuer"],
)
async def test_an_id_token_that_does_not_check_out_signs_nobody_in(
    server: TestServer, provider: FakeProvider, tamper: dict[str, str]
) -> None:
    provider.tamper = tamper
    async with browser() as http:
        async with http.get(server.make_url("/auth/login")) as failed:
            assert failed.status == 400
            assert "could not be completed" in await failed.text()
        async with http.get(server.make_url("/api/me")) as me:
            assert (await me.json())["signed_in"] is False


async def test_a_forged_session_or_a_foreign_next_gets_nowhere(server: TestServer) -> None:
    async with browser() as http:
        assert await sign_in(http, server, then="https://evil.example/steal") == "/"
        cookie = next(c for c in http.cookie_jar if c.key == SESSION_COOKIE)
        payload, _, _ = cookie.value.rpartition(".")
    forged = {SESSION_COOKIE: f"{payload}.bm90LXRoZS1zaWduYXR1cmU"}
    async with (
        ClientSession(cookies=forged) as http,
        http.get(server.make_url("/api/me")) as me,
    ):
        assert (await me.json())["signed_in"] is False
    async with browser() as http:  # a callback this browser did not start
        callback = server.make_url("/auth/callback")
        async with http.get(callback, params={"code": "x", "state": "y"}) as refused:
            assert refused.status == 400


async def test_a_public_server_without_sign_in_takes_no_web_reports(
    tmp_path: Path, desks_by_email: dict[str, Any]
) -> None:
    server = await start(tmp_path, desks_by_email)
    try:
        async with ClientSession() as http:
            async with http.post(server.make_url("/api/escalations"), json=REPORT) as refused:
                assert refused.status == 403
                assert "sign-in" in (await refused.json())["error"]
            async with http.post(
                server.make_url("/api/ask"),
                json={"org": "wiltshire", "question": "can I friend a service user?"},
            ) as asked:
                assert asked.status == 200  # questions stay open to all
    finally:
        await server.close()


def test_the_session_secret_must_be_long_and_the_issuer_https() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings.model_validate(
            {
                "sign_in": {
                    "issuer": "https://login.example/tenant/v2.0",
                    "client_id": "x",
                    "client_secret": "y",
                    "session_secret": "short",
                }
            }
        )
    with pytest.raises(ValueError, match="https"):
        Settings.model_validate(
            {
                "sign_in": {
                    "issuer": "http://login.example",
                    "client_id": "x",
                    "client_secret": "y",
                    "session_secret": SecretStr(SESSION_SECRET),
                }
            }
        )


async def test_metrics_on_a_public_server_need_the_admin_token(server: TestServer) -> None:
    """Security review L7: /metrics was public (how busy each council's desks are)."""
    async with ClientSession() as http:
        async with http.get(server.make_url("/metrics")) as refused:
            assert refused.status == 401
        token = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with http.get(server.make_url("/metrics"), headers=token) as scraped:
            assert scraped.status == 200 and "policybot_outbox_rows" in await scraped.text()
