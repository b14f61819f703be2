"""The knowledge base's editors: check every file, find the example questions that lead to
another clause, and turn what staff asked unanswered into suggested questions."""

from __future__ import annotations

from pathlib import Path

import click

from adapters.cli.context import Context, config_option, fail, orgs_option, since_option
from adapters.cli.drafting import kb_draft
from bot.audit import (
    check_knowledge,
    coverage,
    escalation_problems,
    needs_a_person,
    polarity_warnings,
)
from bot.evaluation import cross_validate
from bot.knowledge import KnowledgeError, load_knowledge


@click.group()
def kb() -> None:
    """Check the knowledge base, and suggest what to add to it."""


@kb.command("check")
@click.option("--org", "only", multiple=True, help="Check only this council (repeatable).")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Also check the councils these settings take reports for have escalation routes.",
)
@click.pass_obj
def kb_check(ctx: Context, only: tuple[str, ...], config_file: Path | None) -> None:
    """Validate every knowledge file and report each policy's coverage; exit 1 on a problem.

    Also counts what still needs a person (clauses without a written answer or `asks`,
    incident routes no clause backs, borrowed questions), and with --config refuses a council
    the settings take reports for that has no escalations.yaml."""
    try:
        knowledge = load_knowledge(ctx.root, orgs=only or None, councils=ctx.councils)
    except KnowledgeError as exc:
        fail(str(exc), status=1)
    problems = check_knowledge(knowledge)
    if config_file is not None:
        from adapters.config import ConfigError, settings_from_environment

        try:
            settings = settings_from_environment(config_file)
        except ConfigError as exc:
            fail(str(exc))
        problems += escalation_problems(knowledge, settings.escalations)
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
        needs = needs_a_person(policy)
        if needs.count:
            click.echo(
                f"{'':<20} needs a person: "
                f"{_counted(needs.without_answer, 'clause without a written answer')}; "
                f"{_counted(needs.without_asks, 'clause without asks')}; "
                f"{_counted(needs.routes_without_clause, 'incident route no clause backs')}; "
                f"{needs.borrowed} borrowed question(s) to review"
            )
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        fail(f"{len(problems)} problem(s)", status=1)
    click.echo(f"ok ({len(warnings)} warning(s))" if warnings else "ok")


def _counted(ids: tuple[str, ...], what: str, shown: int = 5) -> str:
    """'2 clause without asks: a, b': how many, and the first few by id."""
    more = " ..." if len(ids) > shown else ""
    return f"{len(ids)} {what}" + (f": {', '.join(ids[:shown])}{more}" if ids else "")


kb.add_command(kb_draft)


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
