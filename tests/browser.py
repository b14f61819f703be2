"""What every browser test shares: Debian's Chromium, launched quietly, or a clear skip (never in
CI, which must run them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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


def require_chromium() -> None:
    """Call at the top of a browser test module: skips the module where Chromium is missing."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: ./run-tests installs Debian's chromium package"
        if os.environ.get("CI"):
            raise RuntimeError(reason)  # CI must run the browser tests, never skip them
        pytest.skip(reason, allow_module_level=True)
