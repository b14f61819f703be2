"""The knowledge base's editors: check every file, find the example questions that lead to
another clause, and turn what staff asked unanswered into suggested questions."""

from __future__ import annotations

from pathlib import Path

import click

from adapters.cli.context import Context, config_option, fail, orgs_option, since_option
from bot.audit import check_knowledge, coverage, polarity_warnings
from bot.evaluation import cross_validate
from bot.knowledge import KnowledgeError, load_knowledge


@click.group()
def kb() -> None:
    """Check the knowledge base, and suggest what to add to it."""


@kb.command("check")
@click.option("--org", "only", multiple=True, help="Check only this council (repeatable).")
@click.pass_obj
def kb_check(ctx: Context, only: tuple[str, ...]) -> None:
    """Validate every knowledge file and report each policy's coverage; exit 1 on a problem."""
    try:
        knowledge = load_knowledge(ctx.root, orgs=only or None, councils=ctx.councils)
    except KnowledgeError as exc:
        fail(str(exc), status=1)
    problems = check_knowledge(knowledge)
    warnings = [w for org in knowledge.orgs for w in polarity_warnings(knowledge.policies[org])]
    for org in knowledge.orgs:
        policy = knowledge.policies[org]
        cov = coverage(policy)
        click.echo(
            f"{org:<20} {len(policy.clauses):>3} clauses "
            f"{sum(len(c.questions) for c in policy.clauses):>4} questions  "
            f"coverage {cov.fraction:6.1%} ({cov.count('quoted')} lines quoted, "
            f"{cov.count('exempt')} headings, {cov.count('not-a-rule')} not rules, "
            f"{len(cov.uncovered)} uncovered)"
        )
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        fail(f"{len(problems)} problem(s)", status=1)
    click.echo(f"ok ({len(warnings)} warning(s))" if warnings else "ok")


@kb.command("suggest")
@orgs_option
@since_option
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the patch to this file (default: standard output).",
)
@config_option
@click.pass_obj
def kb_suggest(
    ctx: Context, orgs: tuple[str, ...], days: int, output: Path | None, config_file: Path | None
) -> None:
    """Turn unanswered themes into a reviewable YAML patch: example questions for the nearest
    clause, or a note that no clause covers them. Changes nothing by itself."""
    from adapters.cli.insights import gather_all, suggestions_yaml

    patch = suggestions_yaml(gather_all(ctx, config_file, orgs, days), ctx)
    if output is None:
        click.echo(patch, nl=False)
    else:
        output.write_text(patch, encoding="utf-8")
        click.echo(f"wrote {output}")


@kb.command("confusions")
@click.option("--org", "only", multiple=True, help="Only this council (repeatable).")
@click.option("--folds", default=5, show_default=True)
@click.pass_obj
def kb_confusions(ctx: Context, only: tuple[str, ...], folds: int) -> None:
    """Hold out each example question in turn and list those that find another clause first."""
    for org in only or ctx.knowledge.orgs:
        if org not in ctx.knowledge.policies:
            fail(f"unknown council {org!r}; known: {', '.join(ctx.knowledge.orgs)}")
        accuracy, confusions = cross_validate(ctx.assistant, org, folds=folds)
        click.echo(f"{org}: {accuracy:.1%} of held-out example questions find their own clause")
        for c in sorted(confusions, key=lambda c: (c.clause, c.found)):
            where = f"#{c.rank}" if c.rank else "not in top 5"
            click.echo(f"  {c.clause} -> {c.found} ({where}): {c.question}")
