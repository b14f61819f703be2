"""Running `policybot` in tests: in this process through click's own test runner (fast: no
interpreter start, and the model and vectors already loaded), or as a real process for the
smoke tests that must see what staff and CI see."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from adapters.cli import main

POLICYBOT = str(Path(sys.executable).with_name("policybot"))


@dataclass(frozen=True, slots=True)
class Ran:
    """What a command did, in the shape of a finished process."""

    returncode: int
    stdout: bytes
    stderr: bytes


def run(*args: str | bytes, stdin: bytes = b"", env: Mapping[str, str | None] | None = None) -> Ran:
    """`policybot ARGS` in this process. A bytes argument arrives as the operating system would
    hand it over (undecodable bytes kept by surrogate escapes); `env` sets, or with None unsets,
    environment variables for the run."""
    result = CliRunner().invoke(
        main,
        [os.fsdecode(arg) for arg in args],
        input=stdin,
        env={"NO_COLOR": "1", **(env or {})},
        catch_exceptions=False,
    )
    return Ran(result.exit_code, result.stdout_bytes, result.stderr_bytes)


def run_process(*args: str | bytes, env: Mapping[str, str] | None = None) -> Ran:
    """`policybot ARGS` as a real process: the installed script, its imports, its exit."""
    done = subprocess.run(
        [POLICYBOT, *args],
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )
    return Ran(done.returncode, done.stdout, done.stderr)
