"""The `policybot` command: a composition root that wires the core to the terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.audit import check_knowledge, coverage
from bot.knowledge import KnowledgeError, default_root, load_knowledge


@click.group()
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
    ctx.obj = knowledge_root or default_root()


@main.group()
def kb() -> None:
    """Check the knowledge base."""


@kb.command("check")
@click.option("--org", "orgs", multiple=True, help="Check only this council (repeatable).")
@click.pass_obj
def kb_check(root: Path, orgs: tuple[str, ...]) -> None:
    try:
        knowledge = load_knowledge(root, orgs=orgs or None)
    except KnowledgeError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    for org in knowledge.orgs:
        cov = coverage(knowledge.policies[org])
        click.echo(f"{org}: {len(knowledge.policies[org].clauses)} clauses, coverage {cov.fraction:.0%}")
    problems = check_knowledge(knowledge)
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(1 if problems else 0)
