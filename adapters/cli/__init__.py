"""The `policybot` command: a composition root that wires the core to the terminal.

Its commands are split by who runs them: staff and policy owners asking (`asking`), the
knowledge base's editors (`knowledge`), IT running the server (`server`), comms and HR working
on cases (`escalations`) and whoever measures speed (`bench`). A command's module is imported
only when that command runs (help lists them from COMMANDS), so `policybot --help` imports no
command and `policybot ask` loads no chat SDK, database or web server.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from adapters.cli.context import Context
from bot.knowledge import default_root

# Command name -> where it is ("module:attribute" under adapters.cli), and the first sentence of
# its help, so that `policybot --help` imports no command (a test keeps these the commands' own).
COMMANDS = {
    "ask": (
        "asking:ask",
        "Answer QUESTION, or each line of standard input as one JSON object per line.",
    ),
    "bench": (
        "bench:bench",
        "Measure knowledge load time and per-question latency (or, with --http, the server's "
        "throughput and latency) against the targets.",
    ),
    "calibrate": (
        "asking:calibrate",
        "Fit the scoring weights on development FILES and print cross-validated figures.",
    ),
    "compare": (
        "compare:compare_command",
        "Each council's clause on TOPIC side by side, with its verdict and section, and the "
        "councils silent on it; without TOPIC, the topics.",
    ),
    "config": ("server:config", "Check the server's settings."),
    "db": ("db:db", "Migrate the database, see where it stands, roll it back, back it up."),
    "escalations": (
        "escalations:escalations",
        "Read and act on incident cases in the configured database (DATABASE_URL).",
    ),
    "eval": (
        "asking:eval_command",
        "Score the assistant on an evaluation FILE (format of shared/eval/dev.yaml).",
    ),
    "insights": (
        "insights:insights",
        "What staff asked, and the questions that went unanswered grouped into themes.",
    ),
    "kb": ("knowledge:kb", "Check the knowledge base, and suggest what to add to it."),
    "orgs": ("asking:orgs", "The councils available, with their policy's title and date."),
    "serve": (
        "server:serve",
        "Run the server: the web chat at /, its JSON API, health checks and metrics.",
    ),
    "slack-install": (
        "server:slack_install",
        "Print a one-time link that installs the Slack app in a council's workspace.",
    ),
    "teams-package": (
        "server:teams_package",
        "Write the Teams app package (manifest and icons) to upload to Teams.",
    ),
}


class Commands(click.Group):
    """A group whose commands are imported when they are first needed (click's documented
    pattern for lazily loaded subcommands), and whose help lists them without importing any."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(f"adapters.cli.{module}"), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # As click.Group does, cutting each line to what fits beside the longest name.
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=line).get_short_help_str(limit))
            for name, (_, line) in sorted(COMMANDS.items())
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--knowledge",
    "knowledge",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="POLICYBOT_KNOWLEDGE",
    multiple=True,
    help="A council's knowledge folder, or a folder of them, beside the shipped councils "
    "(repeatable; POLICYBOT_KNOWLEDGE: folders separated by ':'). A folder with its own "
    "vocabulary.yaml replaces the shipped knowledge.",
)
@click.pass_context
def main(ctx: click.Context, knowledge: tuple[Path, ...]) -> None:
    """policybot: answers staff questions from their council's social media policy."""
    roots = [folder for folder in knowledge if (folder / "vocabulary.yaml").exists()]
    if len(roots) > 1:
        raise click.UsageError("--knowledge: only one folder may hold a vocabulary.yaml")
    root = roots[0] if roots else default_root()
    ctx.obj = Context(root, councils=tuple(f for f in knowledge if f not in roots))
