"""Asking: answer a question, score the answers on an evaluation file, fit the weights that
decide when to answer, list the councils."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import asdict, replace
from pathlib import Path

import click

from adapters.cli.context import BAD_INPUT, Context, fail
from bot.assistant import Answer, Clarify, Question, QuestionError, Reply, reply_json
from bot.evaluation import Case, EvalFileError, Report, evaluate, load_cases
from bot.knowledge import KnowledgeError, load_knowledge
from bot.matcher import Tuning
from bot.scoring import Weights, load_weights
from bot.semantic import ADAPTER_FILE, shipped_model

# A line of standard input longer than this is refused without being read into memory whole.
MAX_LINE_BYTES = 64 * 1024


def render_text(reply: Reply) -> str:
    """A reply as a person reads it in a terminal."""
    policy = f"{reply.policy.council}, {reply.policy.title} ({reply.policy.date})"
    lines = [click.style(policy, dim=True), ""]
    if isinstance(reply, Answer):
        if reply.asks:
            # The question the verdict answers, right above it: "No." is only ever read as the
            # answer to this question, never to one asked the other way round.
            lines.append(_asked(reply.asks))
        lines.append(click.style(reply.text, bold=True))
        lines.append("")
        lines.extend(_quote_block(reply.clause.quote, reply.clause.section))
        if reply.also:
            lines += ["", "Also relevant:"]
        for match in reply.also:
            lines.append("")
            if match.clause.asks:
                lines.append(_asked(match.clause.asks))
            lines.extend(_quote_block(match.clause.quote, match.clause.section))
        if reply.route:
            contact = reply.policy.contacts.for_route(reply.route)
            lines += ["", f"To report this ({reply.route.value.upper()}): {contact}"]
    elif isinstance(reply, Clarify):
        lines.append(click.style(reply.text, bold=True))
        for number, option in enumerate(reply.options, start=1):
            lines.append("")
            lines.append(f"  {number}. {option.clause.label}")
            lines.append(f"     {click.style(option.clause.section, italic=True)}")
    else:
        lines.append(click.style(reply.text, bold=True))
    return "\n".join(lines)


def _asked(asks: str) -> str:
    return click.style(f"Q: {asks}", italic=True)


def _quote_block(quote: str, section: str) -> Iterator[str]:
    """A clause's words as the policy has them, then its section."""
    for paragraph in quote.splitlines():
        for line in textwrap.wrap(paragraph, width=88) or [""]:
            yield f"  \u2502 {line}"
    yield f"    {click.style(section, italic=True)}"


def _read_lines(stream: object) -> Iterator[bytes]:
    reader = getattr(stream, "buffer", stream)
    while True:
        line = reader.readline(MAX_LINE_BYTES + 1)  # type: ignore[attr-defined]
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := reader.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):  # type: ignore[attr-defined]
                pass
            yield b"\x00too long"
            continue
        yield line


@click.command()
@click.option(
    "--org",
    required=True,
    envvar="POLICYBOT_ORG",
    help="The council, e.g. derbyshire (see `policybot orgs`); default $POLICYBOT_ORG.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the reply as one JSON object.")
@click.argument("question", required=False)
@click.pass_obj
def ask(ctx: Context, org: str, as_json: bool, question: str | None) -> None:
    """Answer QUESTION, or each line of standard input as one JSON object per line."""
    assistant = ctx.assistant
    if org not in assistant.knowledge.policies:
        fail(f"unknown council {org!r}; known: {', '.join(assistant.knowledge.orgs)}")
    if question is not None:
        try:
            reply = assistant.ask(Question(org=org, text=question))
        except QuestionError as exc:
            fail(str(exc))
        click.echo(json.dumps(reply_json(reply)) if as_json else render_text(reply))
        return
    if sys.stdin.isatty():
        click.echo("Type one question per line; Ctrl-D to finish.", err=True)
    failed = False
    for raw in _read_lines(sys.stdin):
        if raw == b"\x00too long":
            text, error = "", f"the question is too long (over {MAX_LINE_BYTES} bytes)"
        else:
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            error = ""
        if not error and not text.strip():
            continue
        try:
            if error:
                raise QuestionError(error)
            line = reply_json(assistant.ask(Question(org=org, text=text)))
        except QuestionError as exc:
            failed = True
            line = {"org": org, "question": text[:200], "error": str(exc)}
        click.echo(json.dumps(line))
    if failed:
        sys.exit(BAD_INPUT)


# --- eval --------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _summary(report: Report) -> dict[str, object]:
    return {
        "cases": len(report.results),
        "top1": report.top1,
        "top3": report.top3,
        "answers": len(report.answers),
        "answer_precision": report.answer_precision,
        "not_covered": report.not_covered,
        "abstention": report.abstention,
        "route_accuracy": report.route_accuracy,
        "unasked_routes": dict(zip(("routed", "of"), report.unasked_routes, strict=True)),
        "verdict_accuracy": report.verdict_accuracy,
        "verdicts_given": report.verdicts_given,
        "bare_verdicts": report.bare_verdicts,
        "latency_ms": {"p50": report.latency_ms(50), "p99": report.latency_ms(99)},
    }


@click.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--min-top1", type=float, default=None, help="Exit 1 when top-1 is below this.")
@click.pass_obj
def eval_command(ctx: Context, file: Path, as_json: bool, min_top1: float | None) -> None:
    """Score the assistant on an evaluation FILE (format of shared/eval/dev.yaml)."""
    from bot.calibration import reliability

    try:
        report = evaluate(ctx.assistant, file)
        confidence = reliability(ctx.assistant, load_cases(file))
    except (EvalFileError, KnowledgeError, QuestionError) as exc:
        fail(str(exc))
    if as_json:
        body: dict[str, object] = _summary(report)
        body["reliability"] = {
            "error": confidence.error,
            "bins": [asdict(b) for b in confidence.bins],
        }
        body["by_label"] = {label: _summary(report.subset(label)) for label in report.labels}
        body["failures"] = [
            {
                "id": r.id,
                "org": r.org,
                "question": r.question,
                "expect": list(r.expect),
                "expected_route": r.expected_route,
                "kind": r.kind.value,
                "route": r.route,
                "clauses": list(r.clauses[:3]),
                "quote": r.quotes[0] if r.quotes else None,
                "expected_verdict": r.expected_verdict,
                "asks": r.asks,
                "verdict": r.verdict,
                "read_as": r.read_as,
            }
            for r in report.failures
        ]
        click.echo(json.dumps(body, indent=2))
    else:
        for r in report.failures:
            click.echo(f"FAIL {r.id} [{r.org}] {r.question}")
            expected = " | ".join(r.expect) if r.expect else "(fallback: outside the policy)"
            click.echo(
                f"  expected: {expected}"
                + (f"  route={r.expected_route}" if r.expected_route else "")
            )
            got = r.quotes[0][:120].replace("\n", " ") if r.quotes else "-"
            click.echo(
                f"  got:      {r.kind.value} {', '.join(r.clauses[:3]) or '-'}  route={r.route}"
            )
            click.echo(f"            {got}")
            if r.verdict_ok is False:
                click.echo(
                    f"  verdict:  expected {r.expected_verdict}, reply says {r.verdict} to "
                    f"{r.asks or '(no asks)'}, read as {r.read_as}"
                )
        _print_table({**{label: report.subset(label) for label in report.labels}, "all": report})
        if report.verdict_accuracy is not None:
            click.echo(
                f"verdict accuracy {_pct(report.verdict_accuracy)} "
                f"({report.verdicts_given} replies gave a verdict)"
            )
        click.echo(f"bare verdicts   {report.bare_verdicts} (a Yes/No/It depends without asks)")
        routed, quiet = report.unasked_routes
        click.echo(f"unasked routes  {routed} of {quiet} (a report's route where none is expected)")
        click.echo(
            "confidence   cases  mean  right  (is the best clause right as often as it says?)"
        )
        for b in confidence.bins:
            click.echo(
                f" {b.lower:.1f} to {b.upper:.1f} {b.count:6d} {b.confidence:5.2f} {b.right:6.2f}"
            )
        click.echo(
            f"calibration error {confidence.error:.3f} (meaningful on files the weights were "
            "not fitted on: bot/weights.json says which)"
        )
        click.echo(f"latency p50/p99 {report.latency_ms(50):.3f} / {report.latency_ms(99):.3f} ms")
    if min_top1 is not None and (report.top1 or 0.0) < min_top1:
        sys.exit(1)


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="How cases are dealt out.")
@click.option(
    "--answer-threshold",
    type=click.FloatRange(0, 1),
    default=None,
    help="Try another confidence above which to answer (default: the shipped one).",
)
@click.option(
    "--semantic-min-words",
    type=click.IntRange(-1),
    default=None,
    help="Compare by meaning messages of more words than this (-1: never; default: shipped).",
)
@click.option(
    "--drafts",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Shipped councils drafted each without itself (tools/leave_one_out.sh --keep DIR): "
    "also fit the weights for councils still a draft, leaving one council out.",
)
@click.option(
    "--write",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Fit on every case and write the weights here (bot/weights.json to ship them).",
)
@click.pass_obj
def calibrate(
    ctx: Context,
    files: tuple[Path, ...],
    folds: int,
    seed: int,
    answer_threshold: float | None,
    semantic_min_words: int | None,
    drafts: Path | None,
    out: Path | None,
) -> None:
    """Fit the scoring weights on development FILES and print cross-validated figures.

    Every figure comes from cases answered by weights fitted on the other folds. Give only
    development material (never a held-out evaluation set, whose figures it would make untrue).
    """
    from bot import calibration

    if out is not None and semantic_min_words is not None:
        fail("--write fits the weights for the shipped settings: leave out --semantic-min-words")
    try:
        sources = {file.name: load_cases(file) for file in files}
        tuning = Tuning()
        if answer_threshold is not None:
            tuning = replace(tuning, answer_threshold=answer_threshold)
        if semantic_min_words is not None:
            tuning = replace(
                tuning, semantic_min_words=None if semantic_min_words < 0 else semantic_min_words
            )
        reports = calibration.cross_validate(
            ctx.knowledge, sources, folds=folds, seed=seed, tuning=tuning
        )
    except (EvalFileError, KnowledgeError, QuestionError) as exc:
        fail(str(exc))
    click.echo(
        f"cross-validated over {folds} folds (seed {seed}), "
        f"answering from confidence {tuning.answer_threshold:g}:"
    )
    _print_reports(reports)
    weights = None
    if out is not None:
        measured = calibration.samples(calibration.unweighted(ctx.knowledge, tuning), sources)
        weights = calibration.fit(measured, folds=folds, seed=seed)
    if drafts is not None:
        weights = _calibrate_drafts(ctx, drafts, sources, weights, seed, tuning)
    if out is not None and weights is not None:
        fitted_on = [file.name for file in files]
        about: dict[str, object] = {"fitted_on": fitted_on}
        if drafts is not None:
            # the councils' drafts, asked the files' questions and their own example questions
            about["drafted_fitted_on"] = [*fitted_on, "own questions"]
        out.write_text(weights.to_json(**about, command="policybot calibrate"), encoding="utf-8")
        click.echo(f"wrote {out}")
        if drafts is not None:
            # what the drafted weights were fitted through, learnt from every reviewed council
            adapter = out.with_name(ADAPTER_FILE)
            calibration.fit_adapter(ctx.knowledge, shipped_model()).save(adapter)
            click.echo(f"wrote {adapter}")
        if drafts is None:
            click.echo("without --drafts: drafted councils will be scored by these weights too")


def _calibrate_drafts(
    ctx: Context,
    folder: Path,
    sources: Mapping[str, list[Case]],
    reviewed: Weights | None,
    seed: int,
    tuning: Tuning,
) -> Weights:
    """Print the drafts' figures, leaving one council out; the weights with drafted ones."""
    from bot import calibration

    councils = tuple(sorted(p for p in folder.iterdir() if (p / "clauses.yaml").is_file()))
    if len(councils) < 2:
        fail(
            f"--drafts {folder}: needs two drafted council folders or more, one left out at a time"
        )
    try:
        drafted = load_knowledge(ctx.root, councils=councils)
        orgs = {p.name for p in councils}
        drafted_sources = {
            name: [case for case in cases if case.org in orgs] for name, cases in sources.items()
        }
        drafted_sources["own questions"] = calibration.own_questions(
            ctx.knowledge, drafted, seed=seed
        )
        click.echo(f"fitting the quote adapter without each of {len(orgs)} councils ...")
        adapters = {
            org: calibration.fit_adapter(ctx.knowledge, shipped_model(), leave_out={org})
            for org in sorted(orgs)
        }
        reports, weights = calibration.cross_validate_drafts(
            drafted, drafted_sources, reviewed or load_weights(), adapters, seed=seed, tuning=tuning
        )
    except (KnowledgeError, QuestionError) as exc:
        fail(str(exc))
    click.echo(
        f"drafts of {', '.join(sorted(orgs))}, each answered by drafted weights fitted on the "
        f"others, answering from confidence {tuning.draft_answer_threshold:g}:"
    )
    _print_reports(reports)
    return weights


def _print_reports(reports: Mapping[str, Report]) -> None:
    for name, report in reports.items():
        click.echo(name)
        _print_table({**{label: report.subset(label) for label in report.labels}, "all": report})


def _print_table(reports: Mapping[str, Report]) -> None:
    """One row per subset: what matters for trusting the answers (bot/evaluation.py)."""
    click.echo(
        f"{'':>12} {'cases':>5} {'top-1':>6} {'top-3':>6} {'answers':>7} {'precision':>9} "
        f"{'not cov.':>8} {'abstain':>7} {'route':>6}"
    )
    for label, r in reports.items():
        click.echo(
            f"{label:>12} {len(r.results):>5} {_pct(r.top1):>6} {_pct(r.top3):>6} "
            f"{len(r.answers):>7} {_pct(r.answer_precision):>9} {_pct(r.not_covered):>8} "
            f"{_pct(r.abstention):>7} {_pct(r.route_accuracy):>6}"
        )


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def orgs(ctx: Context, as_json: bool) -> None:
    """The councils available, with their policy's title and date."""
    policies = [ctx.knowledge.policies[org] for org in ctx.knowledge.orgs]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"org": p.org, "council": p.council, "title": p.title, "date": p.date}
                    for p in policies
                ]
            )
        )
        return
    width = max(len(p.org) for p in policies)
    for p in policies:
        click.echo(f"{p.org:<{width}}  {p.council}: {p.title} ({p.date})")
