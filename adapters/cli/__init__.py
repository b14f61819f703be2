"""The `policybot` command: a composition root that wires the core to the terminal.

Its commands are split by who runs them: staff and policy owners asking (`asking`), the
knowledge base's editors (`knowledge`), IT running the server (`server`), comms and HR working
on cases (`escalations`) and whoever measures speed (`bench`). A command's module is imported
only when that command runs or help lists it, so `policybot ask` loads no chat SDK, database
or web server.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from adapters.cli.context import Context
from bot.knowledge import default_root

# Command name -> "module:attribute" under adapters.cli.
COMMANDS = {
    "ask": "asking:ask",
    "eval": "asking:eval_command",
    "calibrate": "asking:calibrate",
    "orgs": "asking:orgs",
    "kb": "knowledge:kb",
    "serve": "server:serve",
    "config": "server:config",
    "teams-package": "server:teams_package",
    "escalations": "escalations:escalations",
    "bench": "bench:bench",
}


class Commands(click.Group):
    """A group whose commands are imported when they are first needed (click's documented
    pattern for lazily loaded subcommands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, _, attribute = where.partition(":")
        command = getattr(importlib.import_module(f"adapters.cli.{module}"), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--knowledge",
    "knowledge_root",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="POLICYBOT_KNOWLEDGE",
    default=None,
    help="Knowledge folder (default: the one shipped with policybot).",
)
@click.pass_context
def main(ctx: click.Context, knowledge_root: Path | None) -> None:
    """policybot: answers staff questions from their council's social media policy."""
    ctx.obj = Context(knowledge_root or default_root())
