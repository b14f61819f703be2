"""Sign-in through the council's identity provider: OpenID Connect's authorization code flow
with PKCE, for the web report form and the escalations page of a server reachable beyond this
machine (security review H5). Microsoft Entra ID, or any provider that publishes discovery.

    GET  /auth/login?next=/escalations   to the provider, with state, nonce and PKCE
    GET  /auth/callback                  back from it: the code exchanged, the ID token checked
    POST /auth/logout                    the session ended
    GET  /api/me                         who is signed in, and whether sign-in is needed here

The ID token is validated by PyJWT against the provider's published keys (fetched with the
server's own HTTP client, never a blocking call): signature, issuer, audience, expiry, nonce.
The session is a cookie signed with `session_secret` (HttpOnly, SameSite=Lax, so no other site
can send it with a POST), holding who signed in and until when: nothing to store server-side,
and every replica reads it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from aiohttp import ClientSession, ClientTimeout, web

from adapters.config import SignInSettings
from bot.escalation.model import Actor

log = logging.getLogger("policybot.signin")

SESSION_COOKIE = "policybot_session"
FLOW_COOKIE = "policybot_sign_in"
FLOW_SECONDS = 600  # from leaving for the provider to coming back
PROVIDER_TIMEOUT = ClientTimeout(total=10)
# A clock a little off between us and the provider should not refuse a fresh token.
LEEWAY_SECONDS = 60


class SignInError(Exception):
    """The provider's answer could not be trusted or used; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone signed in: `username` as the provider gives it (their email address, for Entra
    ID), lower-cased; it is who they are in the audit trail."""

    username: str
    name: str

    @property
    def actor(self) -> Actor:
        return Actor("sso", self.username)


class Sealed:
    """Small JSON values in cookies, signed with HMAC-SHA256 and carrying their expiry."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def seal(self, value: dict[str, Any], seconds: float) -> str:
        body = json.dumps({**value, "exp": int(time.time() + seconds)}, separators=(",", ":"))
        payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return f"{payload}.{self._sign(payload)}"

    def open(self, sealed: str | None) -> dict[str, Any] | None:
        """The value, if the cookie is ours, untouched and not expired."""
        if not sealed or "." not in sealed:
            return None
        payload, _, signature = sealed.rpartition(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            value = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("exp"), int):
            return None
        return value if value["exp"] > time.time() else None

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class Provider:
    """The identity provider, as its discovery document describes it; keys are cached and
    fetched again when a token names one not seen yet (the provider rotated them)."""

    def __init__(self, settings: SignInSettings) -> None:
        self._settings = settings
        self._metadata: dict[str, Any] | None = None
        self._keys: jwt.PyJWKSet | None = None

    async def metadata(self, http: ClientSession) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self._settings.issuer}/.well-known/openid-configuration"
            self._metadata = await _json(http, "GET", url)
        return self._metadata

    async def key_for(self, http: ClientSession, token: str) -> jwt.PyJWK:
        wanted = jwt.get_unverified_header(token).get("kid")
        for fresh in (False, True):
            if self._keys is None or fresh:
                jwks_uri = (await self.metadata(http))["jwks_uri"]
                self._keys = jwt.PyJWKSet.from_dict(await _json(http, "GET", jwks_uri))
            for key in self._keys.keys:
                if key.key_id == wanted:
                    return key
        raise SignInError("the sign-in was signed with a key the provider does not publish")


async def _json(http: ClientSession, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        async with http.request(method, url, timeout=PROVIDER_TIMEOUT, **kwargs) as response:
            body = await response.json(content_type=None)
            if response.status != 200 or not isinstance(body, dict):
                raise SignInError(f"the identity provider answered {response.status}")
            return body
    except (OSError, TimeoutError, ValueError) as exc:
        raise SignInError("the identity provider could not be reached") from exc


class SignIn:
    """The sign-in routes, and who a request's session says is signed in."""

    def __init__(self, settings: SignInSettings, *, public_url: str | None) -> None:
        self.settings = settings
        self._public_url = public_url
        self._provider = Provider(settings)
        self._cookies = Sealed(settings.session_secret.get_secret_value().encode())
        self._http: ClientSession | None = None

    def person(self, request: web.Request) -> Person | None:
        found = self._cookies.open(request.cookies.get(SESSION_COOKIE))
        if found is None or not isinstance(found.get("username"), str):
            return None
        return Person(found["username"], str(found.get("name") or found["username"]))

    def is_admin(self, person: Person) -> bool:
        return person.username in self.settings.admins

    def owns_a_policy(self, person: Person) -> bool:
        """An administrator, or the owner of at least one council's policy."""
        return self.owns(person) != frozenset()

    def owns(self, person: Person) -> frozenset[str] | None:
        """The councils whose policy `person` owns (their insights are theirs to read): None
        for an administrator, who reads every council's."""
        if self.is_admin(person):
            return None
        return frozenset(
            org
            for org, owners in self.settings.policy_owners.items()
            if person.username in {owner.lower() for owner in owners}
        )

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/auth/login", self.login)
        app.router.add_get("/auth/callback", self.callback)
        app.router.add_post("/auth/logout", self.logout)

        async def client(app: web.Application) -> Any:
            self._http = ClientSession()
            yield
            await self._http.close()

        app.cleanup_ctx.append(client)

    async def login(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        back = _local_path(request.query.get("next", "/"))
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .decode()
            .rstrip("=")
        )
        try:
            authorize = (await self._provider.metadata(self._http))["authorization_endpoint"]
        except (SignInError, KeyError) as exc:
            log.warning("sign-in could not start (%s)", type(exc).__name__)
            return _sign_in_failed("The council's sign-in service could not be reached.")
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.client_id,
                "redirect_uri": self._redirect_uri(request),
                "scope": "openid profile email",
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        response = _redirect(f"{authorize}?{query}")
        flow = {"state": state, "nonce": nonce, "verifier": verifier, "next": back}
        self._set_cookie(request, response, FLOW_COOKIE, flow, FLOW_SECONDS)
        return response

    async def callback(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        flow = self._cookies.open(request.cookies.get(FLOW_COOKIE))
        state = request.query.get("state", "")
        if flow is None or not hmac.compare_digest(state, str(flow.get("state", ""))):
            return _sign_in_failed("That sign-in was not started here, or took too long.")
        if "code" not in request.query:
            return _sign_in_failed("The sign-in was cancelled or refused.")
        try:
            person = await self._person_from_code(request, request.query["code"], flow)
        except SignInError as exc:
            log.warning("sign-in refused: %s", exc)
            return _sign_in_failed(f"The sign-in could not be completed: {exc}.")
        response = _redirect(_local_path(str(flow.get("next", "/"))))
        session = {"username": person.username, "name": person.name}
        self._set_cookie(
            request, response, SESSION_COOKIE, session, self.settings.session.total_seconds()
        )
        response.del_cookie(FLOW_COOKIE, path="/")
        log.info("signed in", extra={"admin": self.is_admin(person)})
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        response = web.json_response({"signed_in": False})
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    async def _person_from_code(
        self, request: web.Request, code: str, flow: dict[str, Any]
    ) -> Person:
        assert self._http is not None
        metadata = await self._provider.metadata(self._http)
        tokens = await _json(
            self._http,
            "POST",
            metadata["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self._redirect_uri(request),
                "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret.get_secret_value(),
                "code_verifier": str(flow.get("verifier", "")),
            },
        )
        token = tokens.get("id_token")
        if not isinstance(token, str):
            raise SignInError("the provider sent no ID token")
        key = await self._provider.key_for(self._http, token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256", "RS384", "RS512", "ES256", "ES384"],
                audience=self.settings.client_id,
                issuer=metadata.get("issuer", self.settings.issuer),
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise SignInError(f"the ID token is not valid ({type(exc).__name__})") from None
        if not hmac.compare_digest(str(claims.get("nonce", "")), str(flow.get("nonce", ""))):
            raise SignInError("the ID token is not for this sign-in")
        # Entra ID names the account in preferred_username; other providers in email.
        username = claims.get("preferred_username") or claims.get("email") or claims["sub"]
        return Person(str(username).strip().casefold(), str(claims.get("name") or username))

    def _redirect_uri(self, request: web.Request) -> str:
        base = self._public_url or f"{request.scheme}://{request.host}"
        return f"{base.rstrip('/')}/auth/callback"

    def _set_cookie(
        self,
        request: web.Request,
        response: web.StreamResponse,
        name: str,
        value: dict[str, Any],
        seconds: float,
    ) -> None:
        secure = request.secure or (self._public_url or "").startswith("https://")
        response.set_cookie(
            name,
            self._cookies.seal(value, seconds),
            max_age=int(seconds),
            path="/",
            httponly=True,
            secure=secure,
            samesite="Lax",
        )


def _local_path(wanted: str) -> str:
    """Where to go after signing in: a path on this site only, never another site's address."""
    parts = urlsplit(wanted)
    if parts.scheme or parts.netloc or not wanted.startswith("/") or wanted.startswith("//"):
        return "/"
    return wanted


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def _sign_in_failed(message: str) -> web.Response:
    page = (
        "<!doctype html><meta charset=utf-8><title>Sign-in failed</title>"
        f"<p>{html.escape(message)}</p><p><a href='/'>Back to policybot</a></p>"
    )
    return web.Response(text=page, content_type="text/html", status=400)
