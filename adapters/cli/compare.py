"""`policybot compare`: councils' rules on one topic, side by side."""

from __future__ import annotations

import json
import textwrap

import click

from adapters.cli.context import Context, fail
from bot.comparison import (
    UnknownTopicError,
    compare,
    comparison_json,
    find_topic,
    topics_json,
    verdict_word,
)

WIDTH = 96


@click.command("compare")
@click.argument("topic", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def compare_command(ctx: Context, topic: str | None, as_json: bool) -> None:
    """Each council's clause on TOPIC side by side, with its verdict and section, and the
    councils silent on it; without TOPIC, the topics."""
    knowledge = ctx.knowledge
    if topic is None:
        listed = topics_json(knowledge)
        if as_json:
            click.echo(json.dumps(listed))
            return
        for each in listed:
            councils = each["councils"]
            assert isinstance(councils, list)
            click.echo(f"{each['topic']:<44} {len(councils)} councils  {each['title']}")
        return
    try:
        found = compare(knowledge, find_topic(knowledge, topic))
    except UnknownTopicError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(comparison_json(found)))
        return
    click.echo(f"{found.topic.title}: {found.topic.asks}\n")
    for rule in found.rules:
        click.echo(f"{rule.council} ({rule.title})")
        for clause in rule.clauses:
            verdict = verdict_word(clause)
            click.echo(f"  {clause.section}{f'  [{verdict}]' if verdict else ''}")
            for line in textwrap.wrap(" ".join(clause.quote.split()), WIDTH - 4):
                click.echo(f"  \u2502 {line}")
        click.echo("")
    if found.silent:
        click.echo(f"Silent on this: {', '.join(found.silent)}")
