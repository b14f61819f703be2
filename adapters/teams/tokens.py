"""The bot's outbound Teams tokens, fetched off the event loop (security review H4).

botbuilder asks for a token inside msrest's synchronous `signed_session`, and MSAL fetches it
with blocking `requests` and no timeout; botbuilder also makes new credentials, with an empty
token cache, for every connector it builds. On the loop the web chat, Slack and the health
checks share, one slow login endpoint froze the whole server.

`OffLoopTokens` wraps the SDK's credentials factory (password or certificate): it keeps one
credentials object per audience for the server's life, so MSAL's cache lasts, and fetches the
token in a worker thread, with a timeout, before handing the credentials to a connector. The
connector then signs with the token already in hand. One fetch runs at a time per audience; a
fetch that hangs makes callers fail with `TokenUnavailable` (the outbox retries later) while
the thread finishes or fails on its own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import requests
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory
from msrest.authentication import Authentication

log = logging.getLogger("policybot.teams")

TOKEN_TIMEOUT_SECONDS = 10.0


class TokenUnavailable(ConnectionError):
    """The login endpoint did not give a token in time; worth trying again later."""


class KeptCredentials(Authentication):
    """An app's credentials for one audience, signing with a token fetched beforehand."""

    def __init__(self, inner: AppCredentials, timeout: float) -> None:
        self._inner = inner
        self._timeout = timeout
        self._token: str | None = None
        self._fetching: asyncio.Future[str] | None = None

    async def fetch(self) -> None:
        """Make sure a current token is in hand: MSAL answers from its cache while the token
        is fresh, so this is a thread hop, and a network call only when it is due."""
        if self._fetching is None or self._fetching.done():
            self._fetching = asyncio.ensure_future(asyncio.to_thread(self._inner.get_access_token))
        try:
            self._token = await asyncio.wait_for(asyncio.shield(self._fetching), self._timeout)
        except TimeoutError:
            log.warning("Teams login endpoint gave no token in %.0f s", self._timeout)
            raise TokenUnavailable("the Teams login endpoint did not answer in time") from None

    def signed_session(self, session: requests.Session | None = None) -> requests.Session:
        """What msrest calls, on the loop, before each request: never a network call."""
        if self._token is None:
            raise TokenUnavailable("no Teams token fetched yet")
        session = session or requests.Session()
        session.headers["Authorization"] = f"Bearer {self._token}"
        return session


class OffLoopTokens(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """The SDK's credentials factory, with every token fetched off the loop."""

    def __init__(
        self, inner: ServiceClientCredentialsFactory, timeout: float = TOKEN_TIMEOUT_SECONDS
    ) -> None:
        self._inner = inner
        self._timeout = timeout
        self._kept: dict[tuple[str, str, str, bool], KeptCredentials] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(await self._inner.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        return bool(await self._inner.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        if await self._inner.is_authentication_disabled():  # local anonymous mode: no token
            return await self._inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
        key = (app_id, oauth_scope, login_endpoint, validate_authority)
        kept = self._kept.get(key)
        if kept is None:
            inner = await self._inner.create_credentials(*key)
            kept = self._kept.setdefault(key, KeptCredentials(inner, self._timeout))
        await kept.fetch()
        return kept
