"""The `policybot` command run as a real process, the way staff and CI run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

POLICYBOT = str(Path(sys.executable).with_name("policybot"))


def run(*args: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [POLICYBOT, *args], input=stdin, capture_output=True, timeout=120, check=False, env=env
    )
