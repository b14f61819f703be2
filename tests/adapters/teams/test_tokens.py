"""Token validation with locally generated keys and a local OpenID metadata document: a wrong
issuer, audience, expired token, unknown key or missing endorsement are all rejected with 401.

The SDK fetches the metadata with synchronous `requests`, on the server's event loop; so the
metadata is served from a plain HTTP server in a thread of its own."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
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
from adapters.teams.mount import TeamsSettings, teams_from_environment
from tests.conftest import shipped_assistant

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
