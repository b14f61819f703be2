"""Tokens on Teams. Inbound: validation with locally generated keys and a local OpenID
metadata document: a wrong issuer, audience, expired token, unknown key or missing endorsement
are all rejected with 401. Outbound: the bot's own token is fetched off the event loop.

The SDK fetches the metadata with synchronous `requests`, on the server's event loop; so the
metadata is served from a plain HTTP server in a thread of its own."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from adapters.config import Settings
from adapters.server import build_app
from adapters.slack.mount import SlackSettings
from adapters.teams.mount import TeamsSettings, teams_from_environment
from tests.conftest import shipped_assistant
from tests.fakes.slack_web_api import FakeSlack, signed_headers

APP_ID = "00000000-0000-0000-0000-0000000000aa"
ISSUER = "https://api.botframework.test"
SERVICE_URL = "http://127.0.0.1:9/"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEYS_SERVED: list[float] = []


@pytest.fixture(scope="module")
def metadata_url() -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    keys = {
        "keys": [
            {**jwk, "kid": "good", "use": "sig", "endorsements": ["msteams"]},
            {**jwk, "kid": "not-for-teams", "use": "sig", "endorsements": ["other"]},
        ]
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{port}"
            if self.path == "/keys":
                KEYS_SERVED.append(time.monotonic())
            body = keys if self.path == "/keys" else {"issuer": ISSUER, "jwks_uri": f"{base}/keys"}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/openid-configuration"
    server.shutdown()


def teams_settings(metadata_url: str) -> TeamsSettings:
    return TeamsSettings(
        app_id=APP_ID,
        app_password="secret",
        tenant_id="00000000-0000-0000-0000-0000000000cc",
        openid_metadata_url=metadata_url,
        token_issuer=ISSUER,
    )


def test_a_certificate_can_stand_in_for_the_password(tmp_path: Path, metadata_url: str) -> None:
    key_file = tmp_path / "bot-key.pem"
    key_file.write_bytes(
        KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    teams = teams_from_environment(
        {
            "MicrosoftAppId": APP_ID,
            "MicrosoftAppTenantId": "00000000-0000-0000-0000-0000000000cc",
            "MicrosoftAppCertificateThumbprint": "0123456789ABCDEF",
            "MicrosoftAppCertificateKeyFile": str(key_file),
        }
    )
    assert teams is not None and teams.app_password is None
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.sqlite3'}")
    build_app(settings=settings, assistant=shipped_assistant(), teams=teams)


def token(*, key: Any = KEY, kid: str = "good", **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": APP_ID,
        "nbf": now - 10,
        "exp": now + 300,
        "serviceurl": SERVICE_URL,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def activity() -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"tok-{time.time_ns()}",
        "channelId": "msteams",
        "serviceUrl": SERVICE_URL,
        "text": "hello",
        "from": {"id": "29:user"},
        "recipient": {"id": f"28:{APP_ID}"},
        "conversation": {"id": "a:personal", "conversationType": "personal"},
    }


@pytest.mark.parametrize(
    ("make_token", "accepted"),
    [
        (lambda: token(), True),
        (lambda: token(iss="https://evil.test"), False),
        (lambda: token(aud="00000000-0000-0000-0000-0000000000bb"), False),
        (lambda: token(exp=int(time.time()) - 600, nbf=int(time.time()) - 900), False),
        (lambda: token(kid="unknown"), False),
        (lambda: token(key=OTHER_KEY), False),
        (lambda: token(kid="not-for-teams"), False),
        (lambda: token(serviceurl="http://attacker.test/"), False),
    ],
    ids=[
        "valid",
        "wrong-issuer",
        "wrong-audience",
        "expired",
        "unknown-key",
        "forged",
        "not-endorsed",
        "another-service-url",
    ],
)
async def test_tokens_are_validated(
    tmp_path: Path, metadata_url: str, make_token: Any, accepted: bool
) -> None:
    teams = teams_settings(metadata_url)
    settings = Settings(
        default_org="derbyshire", database_url=f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}"
    )
    server = TestServer(
        build_app(settings=settings, assistant=shipped_assistant(), teams=teams), host="127.0.0.1"
    )
    await server.start_server()
    try:
        async with (
            ClientSession() as http,
            http.post(
                server.make_url("/api/messages"),
                json=activity(),
                headers={"Authorization": f"Bearer {make_token()}"},
            ) as response,
        ):
            status = response.status
    finally:
        await server.close()
    if accepted:
        assert status != 401  # past authentication (the reply itself has no connector to reach)
    else:
        assert status == 401


async def test_signing_keys_are_fetched_at_startup_before_any_request(
    tmp_path: Path, metadata_url: str
) -> None:
    """So that the SDK's own blocking fetch never runs on the event loop of a live request."""
    settings = Settings(
        default_org="derbyshire", database_url=f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}"
    )
    app = build_app(
        settings=settings, assistant=shipped_assistant(), teams=teams_settings(metadata_url)
    )
    before = len(KEYS_SERVED)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        for _ in range(100):
            if len(KEYS_SERVED) > before:
                break
            await asyncio.sleep(0.02)
        assert len(KEYS_SERVED) > before
    finally:
        await server.close()


SLACK_SECRET = "slack-signing-secret-for-the-test"


def slack_dm(number: int) -> bytes:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "D1",
        "user": "U1",
        "text": "can I friend a service user?",
        "ts": f"{number}.000100",
    }
    body = {"type": "event_callback", "team_id": "T1", "event_id": f"EvH{number}", "event": event}
    return json.dumps(body).encode()


@contextlib.contextmanager
def hanging_proxy(hold: float = 8.0) -> Iterator[str]:
    """An HTTPS proxy that accepts connections and answers nothing for `hold` seconds, then
    hangs up: the login endpoint as the security review's probe saw it, without reaching the
    real one. Hanging up in the end lets a server that did block recover, so the test fails
    instead of hanging."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    accepted: list[tuple[float, socket.socket]] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append((time.monotonic(), listener.accept()[0]))
            for at, connection in accepted:
                if time.monotonic() - at > hold:
                    connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for _, connection in accepted:  # the token fetch's thread fails now, and ends
            connection.close()
        listener.close()


async def test_a_hanging_login_endpoint_never_stalls_the_server(
    tmp_path: Path, metadata_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Security review H4: the bot's token was fetched with blocking `requests` on the event
    loop, and a login endpoint that never answered froze /healthz, the web chat and Slack's
    acknowledgements. Each wait below is all three, one after the other."""
    teams = replace(teams_settings(metadata_url), token_timeout=3.0)
    settings = Settings(
        default_org="derbyshire", database_url=f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}"
    )
    slack_api = FakeSlack()
    await slack_api.start()
    assert slack_api.server is not None
    slack = SlackSettings(
        signing_secret=SLACK_SECRET,
        bot_token="xoxb-test",
        api_url=str(slack_api.server.make_url("/api/")),
    )
    server = TestServer(
        build_app(settings=settings, assistant=shipped_assistant(), teams=teams, slack=slack),
        host="127.0.0.1",
    )
    await server.start_server()
    with hanging_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        try:
            async with ClientSession() as http:
                message = asyncio.create_task(
                    http.post(
                        server.make_url("/api/messages"),
                        json=activity(),
                        headers={"Authorization": f"Bearer {token()}"},
                    )
                )
                waits: list[float] = []
                started = time.monotonic()
                while not message.done() and time.monotonic() - started < 10:
                    sent = time.monotonic()
                    async with http.get(server.make_url("/healthz")) as health:
                        assert health.status == 200
                    async with http.post(
                        server.make_url("/api/ask"),
                        json={"org": "derbyshire", "question": "can I friend a service user?"},
                    ) as asked:
                        assert asked.status == 200
                    dm = slack_dm(len(waits))
                    async with http.post(
                        server.make_url("/slack/events"),
                        data=dm,
                        headers={
                            "Content-Type": "application/json",
                            **signed_headers(SLACK_SECRET, dm),
                        },
                    ) as acked:
                        assert acked.status == 200  # Slack's acknowledgement
                    waits.append(time.monotonic() - sent)
                    await asyncio.sleep(0.05)
                async with await message as replied:
                    status = replied.status
        finally:
            await server.close()
            await slack_api.close()
    assert len(waits) >= 20, "the server was answering while the token fetch hung"
    waits.sort()
    assert waits[int(len(waits) * 0.99)] < 0.1, waits[-5:]
    # The Teams reply waited its timeout, then asked Teams to send the message again.
    assert status == 503
