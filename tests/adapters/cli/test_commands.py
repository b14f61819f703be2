"""The command group: each command loads only what it needs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("args", "unloaded"),
    [
        (["--help"], {"slack_bolt", "slack_sdk", "botbuilder"}),
        (
            ["ask", "--org", "derbyshire", "can I post at lunch?"],
            {"slack_bolt", "slack_sdk", "botbuilder", "aiohttp", "sqlalchemy"},
        ),
    ],
)
def test_a_command_loads_only_what_it_needs(args: list[str], unloaded: set[str]) -> None:
    # A fresh interpreter: this one has imported everything the other tests use.
    probe = (
        "import sys\n"
        "from adapters.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(sorted({name.partition('.')[0] for name in sys.modules}), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, timeout=120, check=True
    )
    loaded = set(json.loads(result.stderr.decode().splitlines()[-1].replace("'", '"')))
    assert "click" in loaded
    assert not loaded & unloaded
