"""The command group: each command loads only what it needs, and help loads no command."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from adapters.cli import COMMANDS, main

CHAT_SDKS = {"slack_bolt", "slack_sdk", "botbuilder"}
COMMAND_MODULES = {f"adapters.cli.{where.partition(':')[0]}" for where, _ in COMMANDS.values()}


def loaded_by(args: list[str]) -> set[str]:
    """The modules a fresh interpreter has loaded after running `policybot ARGS` (this one has
    imported everything the other tests use)."""
    probe = (
        "import json, sys\n"
        "from adapters.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, timeout=120, check=True
    )
    names: list[str] = json.loads(result.stderr.decode().splitlines()[-1])
    return {*names, *(name.partition(".")[0] for name in names)}


def test_help_loads_no_command() -> None:
    loaded = loaded_by(["--help"])
    assert "click" in loaded
    assert not loaded & (CHAT_SDKS | COMMAND_MODULES | {"aiohttp", "sqlalchemy", "numpy"})


def test_ask_loads_no_chat_sdk_database_or_web_server() -> None:
    loaded = loaded_by(["ask", "--org", "derbyshire", "can I post at lunch?"])
    assert "adapters.cli.asking" in loaded
    assert not loaded & (CHAT_SDKS | {"aiohttp", "sqlalchemy", "adapters.cli.escalations"})


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_lists_each_command_with_its_own_first_sentence(name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert command is not None
    assert command.get_short_help_str(limit=1000) == COMMANDS[name][1]
