"""What every command shares: how it fails, the council knowledge it works on, the settings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from bot.knowledge import KnowledgeBase, KnowledgeError, load_knowledge

if TYPE_CHECKING:
    from adapters.config import Settings
    from bot.assistant import Assistant

BAD_INPUT = 2


def fail(message: str, status: int = BAD_INPUT) -> NoReturn:
    """Library code raises; commands turn what a person can fix into one line and an exit
    status: 1 for a failed check, 2 for bad input."""
    click.echo(f"policybot: {message}", err=True)
    sys.exit(status)


class Context:
    """What every command needs, built on first use so that `--help` costs nothing."""

    def __init__(self, root: Path, *, councils: tuple[Path, ...] = ()) -> None:
        self.root = root
        self.councils = councils  # council folders kept outside `root` (--knowledge)
        self._knowledge: KnowledgeBase | None = None
        self._assistant: Assistant | None = None

    @property
    def knowledge(self) -> KnowledgeBase:
        if self._knowledge is None:
            try:
                self._knowledge = load_knowledge(self.root, councils=self.councils)
            except KnowledgeError as exc:
                fail(str(exc), status=1)
        return self._knowledge

    @property
    def assistant(self) -> Assistant:
        if self._assistant is None:
            from bot.assistant import Assistant

            self._assistant = Assistant(self.knowledge)
        return self._assistant


config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="POLICYBOT_CONFIG",
    default=None,
    help="YAML settings file (see deploy/policybot.example.yaml).",
)


# What `insights` and `kb suggest` read: which councils, over which period.
orgs_option = click.option(
    "--org", "orgs", multiple=True, help="Only this council (repeatable; default all)."
)
since_option = click.option(
    "--since",
    "days",
    type=click.IntRange(1, 3650),
    default=30,
    show_default=True,
    help="The last DAYS days.",
    metavar="DAYS",
)


def load_settings(ctx: Context, config_file: Path | None) -> Settings:
    """The server's settings, checked against the councils there is knowledge for."""
    from adapters.config import ConfigError, settings_from_environment

    try:
        settings = settings_from_environment(config_file)
    except ConfigError as exc:
        fail(str(exc))
    problems = settings.check_orgs(set(ctx.knowledge.orgs))
    if problems:
        fail("; ".join(problems))
    return settings
