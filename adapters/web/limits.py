"""How often one client may file web reports (security review H5: one client filed 5,756 cases
in 20 seconds, each alerting a team). The core limits each person (`cases.MAX_REPORTS`); a web
report without sign-in has no person behind it, so the web edge also limits each address.

The window is kept in memory, per server: with several replicas a client gets the allowance
once per replica, which still turns thousands into a handful. Councils put many staff behind
one address, so the allowance is generous; sign-in (per person) is the real guard.
"""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from collections.abc import Callable, Sequence

from aiohttp import web

# Web reports from one address: generous, since a council's staff may share one.
REPORTS_PER_ADDRESS = 20
REPORTS_PER_ADDRESS_WINDOW = 600.0

# The most tracked addresses: beyond it the stalest are forgotten (a flood from many addresses
# cannot grow memory without bound).
MAX_TRACKED = 10_000


class RateLimit:
    """At most `most` events per `window` seconds for each key (a sliding window)."""

    def __init__(
        self, most: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._most = most
        self._window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    def wait_for(self, key: str) -> float | None:
        """Count an event for `key`; None if it is allowed, else the seconds until it would be."""
        now = self._clock()
        times = self._seen.pop(key, None) or deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        self._seen[key] = times  # re-inserted: the dict's order is least recently seen first
        if len(times) >= self._most:
            return times[0] + self._window - now
        times.append(now)
        if len(self._seen) > MAX_TRACKED:
            del self._seen[next(iter(self._seen))]
        return None


def client_address(request: web.Request, trusted_proxies: Sequence[str]) -> str:
    """Who is calling: the peer's address, or behind proxies we trust, the last address in
    `X-Forwarded-For` that is not one of them (anything further left the client can forge)."""
    peer = request.remote or ""
    networks = [ipaddress.ip_network(each, strict=False) for each in trusted_proxies]

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in networks)

    if not trusted(peer):
        return peer
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    for address in reversed(forwarded):
        if address and not trusted(address):
            return address
    return peer
