"""Policy owners learning from what staff asked: `policybot insights`."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import yaml

from adapters.cli.context import (
    Context,
    config_option,
    fail,
    load_settings,
    orgs_option,
    since_option,
)
from bot.insights import Insights, as_json, gather
from bot.semantic import shipped_model
from bot.storage import Store

TABLES = ("themes", "days", "clauses")


def gather_all(
    ctx: Context, config_file: Path | None, orgs: tuple[str, ...], days: int
) -> list[Insights]:
    """Each council's insights from the configured database (migrated first, as the server
    does)."""
    for org in orgs:
        if org not in ctx.knowledge.policies:
            fail(f"unknown council {org!r}; known: {', '.join(ctx.knowledge.orgs)}")
    settings = load_settings(ctx, config_file)
    policies = [ctx.knowledge.policies[org] for org in orgs or ctx.knowledge.orgs]

    async def run() -> list[Insights]:
        store = Store.connect(settings.database_url)
        try:
            await store.create_tables()
            now = datetime.now(UTC)
            stopwords = ctx.knowledge.vocabulary.stopwords
            return [
                await gather(
                    store, policy, shipped_model(), days=days, now=now, stopwords=stopwords
                )
                for policy in policies
            ]
        finally:
            await store.close()

    return asyncio.run(run())


@click.command()
@orgs_option
@since_option
@click.option("--json", "as_json_lines", is_flag=True, help="One JSON object per council.")
@click.option(
    "--csv",
    "table",
    type=click.Choice(TABLES),
    default=None,
    help="One table as CSV: unanswered themes, questions per day, or clauses.",
)
@config_option
@click.pass_obj
def insights(
    ctx: Context,
    orgs: tuple[str, ...],
    days: int,
    as_json_lines: bool,
    table: str | None,
    config_file: Path | None,
) -> None:
    """What staff asked, and the questions that went unanswered grouped into themes.

    Questions per day by outcome and platform, the answer rate, the clauses asked most and
    marked not helpful most, and themes of the questions not answered or marked not helpful
    (their text is kept redacted; see settings: retention)."""
    found = gather_all(ctx, config_file, orgs, days)
    if as_json_lines:
        for each in found:
            click.echo(json.dumps(as_json(each)))
    elif table is not None:
        write_csv(found, table)
    else:
        for each in found:
            click.echo(readable(each))


def readable(found: Insights) -> str:
    lines = [
        f"{found.council} ({found.org}), {found.since} to {found.until}",
        f"  {found.asked} questions: {found.answered} answered ({found.answer_rate:.0%}), "
        f"{found.clarified} offered options, {found.not_covered} not covered",
    ]
    if found.top_clauses:
        lines.append("  asked most:")
        lines += [f"    {u.answered:>5}  {u.section}: {u.label}" for u in found.top_clauses]
    if found.unhelpful_clauses:
        lines.append("  marked not helpful most:")
        lines += [
            f"    {u.not_helpful:>5}  {u.section}: {u.label} (of {u.answered} answers)"
            for u in found.unhelpful_clauses
        ]
    if found.themes:
        lines.append("  unanswered, by theme:")
        for theme in found.themes:
            people = "person" if theme.people == 1 else "people"
            lines.append(f"    {theme.people:>5} {people} asked about {theme.label}")
            lines.append(f"           e.g. {theme.example!r}")
    return "\n".join(lines)


def write_csv(found: list[Insights], table: str) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    if table == "themes":
        out.writerow(["org", "theme", "people", "asked", "not_helpful", "example", "questions"])
        for each in found:
            for theme in each.themes:
                out.writerow(
                    [
                        each.org,
                        theme.label,
                        theme.people,
                        theme.asked,
                        theme.not_helpful,
                        theme.example,
                        " | ".join(theme.questions),
                    ]
                )
    elif table == "days":
        kinds = ("answer", "clarify", "fallback")
        platforms = sorted({p for each in found for day in each.days for p in day.platforms})
        out.writerow(["org", "day", "asked", *kinds, *platforms])
        for each in found:
            for day in each.days:
                out.writerow(
                    [
                        each.org,
                        day.day,
                        sum(day.kinds.values()),
                        *(day.kinds.get(kind, 0) for kind in kinds),
                        *(day.platforms.get(platform, 0) for platform in platforms),
                    ]
                )
    else:
        out.writerow(["org", "clause", "section", "answered", "not_helpful"])
        for each in found:
            uses = {use.clause: use for use in (*each.top_clauses, *each.unhelpful_clauses)}
            for use in uses.values():
                out.writerow([each.org, use.clause, use.section, use.answered, use.not_helpful])


def suggestions_yaml(found: list[Insights], ctx: Context) -> str:
    """The reviewable patch `kb suggest` writes: per council, questions to add to a clause, and
    themes no clause is near."""
    from bot.insights import suggest

    patch: dict[str, object] = {}
    for each in found:
        add, uncovered = [], []
        for suggestion in suggest(each.themes, ctx.assistant.matcher(each.org)):
            theme = suggestion.theme
            if suggestion.clause is None:
                uncovered.append(
                    {
                        "theme": theme.label,
                        "people": theme.people,
                        "questions": list(theme.questions),
                    }
                )
            elif suggestion.new_questions:
                add.append(
                    {
                        "clause": suggestion.clause.id,
                        "section": suggestion.clause.section,
                        "asks": suggestion.clause.label,
                        "people": theme.people,
                        "how_sure": round(suggestion.score, 2),
                        "questions": list(suggestion.new_questions),
                    }
                )
        if add or uncovered:
            patch[each.org] = {"add_questions": add, "not_covered": uncovered}
    header = (
        "# Suggested by `policybot kb suggest` from what staff asked and the bot did not answer\n"
        "# (or answered unhelpfully). Nothing here is in the knowledge base yet. For each entry:\n"
        "#   add_questions: copy the questions you agree belong to that clause into its\n"
        "#     `questions:` in knowledge/<council>/clauses.yaml (they are already redacted);\n"
        "#   not_covered: no clause is near; if the policy should answer these, its owner\n"
        "#     changes the policy first. Then run `policybot kb check` and `policybot eval`.\n"
    )
    if not patch:
        return header + "# Nothing to suggest: no unanswered themes in the period.\n"
    return header + yaml.safe_dump(patch, sort_keys=False, allow_unicode=True, width=100)
