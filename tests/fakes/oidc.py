"""A local OpenID Connect provider on a free port, standing in for the council's (Entra ID):
discovery, an authorization endpoint that signs in `user` at once, a token endpoint that checks
the client's secret, the redirect URI and the PKCE verifier, and the keys its ID tokens are
signed with (RS256)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "policybot-test-client"
CLIENT_SECRET = "provider-issued-secret-for-tests"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeProvider:
    # Who signs in at the authorization endpoint: the ID token's claims about them.
    user: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "00000000-0000-0000-0000-0000000000a1",
            "preferred_username": "Priya.Shah@Council.example",
            "name": "Priya Shah",
        }
    )
    # What the next ID token gets instead of the right value (a forged nonce, a wrong audience).
    tamper: dict[str, Any] = field(default_factory=dict)
    server: TestServer | None = None
    _codes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/keys", self._keys)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self.issuer

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/keys",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return web.Response(status=400, text="unknown client")
        if query.get("code_challenge_method") != "S256":
            return web.Response(status=400, text="PKCE required")
        code = secrets.token_urlsafe(16)
        self._codes[code] = dict(query)
        back = urlencode({"code": code, "state": query.get("state", "")})
        return web.Response(status=302, headers={"Location": f"{query['redirect_uri']}?{back}"})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        asked = self._codes.pop(str(form.get("code")), None)
        if asked is None or form.get("client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_grant"}, status=400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if challenge.decode().rstrip("=") != asked["code_challenge"]:
            return web.json_response({"error": "invalid_grant", "why": "pkce"}, status=400)
        if form.get("redirect_uri") != asked["redirect_uri"]:
            return web.json_response({"error": "invalid_grant", "why": "redirect"}, status=400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 3600,
            "nonce": asked.get("nonce"),
            **self.user,
            **self.tamper,
        }
        token = jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "test-key"})
        return web.json_response(
            {"id_token": token, "access_token": "unused", "token_type": "Bearer"}
        )

    async def _keys(self, request: web.Request) -> web.Response:
        public = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
        return web.json_response(
            {"keys": [{**public, "kid": "test-key", "use": "sig", "alg": "RS256"}]}
        )
