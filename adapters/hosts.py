"""Whether a host is this machine: a server listening only there needs no sign-in, and the
unauthenticated Teams mode answers only an emulator there."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """ "localhost" or a loopback address (127.0.0.0/8, ::1); anything else, including
    0.0.0.0 (every interface) and names, may be reached from elsewhere."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
