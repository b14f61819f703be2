"""Which councils take reports: a report form is offered, and a report accepted, only where
every route the council's policy can send it on reaches a person (security review H3)."""

from __future__ import annotations

from dataclasses import replace

from bot.escalation.desks import Destination, Directory, RouteDesk, report_elsewhere
from bot.knowledge import KnowledgeBase, Route
from tests.bot.escalation.case_fixtures import directory

SLACK_DESK = RouteDesk(destinations=(Destination("slack", "C0DESK"),))


def test_a_council_takes_reports_only_when_every_route_reaches_a_desk(
    knowledge: KnowledgeBase,
) -> None:
    policies = knowledge.policies
    partial = Directory({("gloucestershire", Route.COMMS): SLACK_DESK})
    assert not partial.takes_reports("gloucestershire", policies["gloucestershire"])
    assert partial.reaches("gloucestershire", Route.COMMS)
    assert not partial.reaches("gloucestershire", Route.HR)
    # A council the settings do not name takes no reports, and that is not a problem.
    assert not partial.takes_reports("chelmsford", policies["chelmsford"])
    assert directory().takes_reports("wiltshire", policies["wiltshire"])
    (problem,) = partial.problems(policies)
    assert (problem.org, problem.route) == ("gloucestershire", Route.HR)
    assert str(problem) == (
        "escalations.gloucestershire.hr: Gloucestershire County Council's reports for HR "
        "would reach nobody (no channel or mailbox)"
    )


def test_a_desk_this_server_cannot_post_to_reaches_nobody(knowledge: KnowledgeBase) -> None:
    by_email_only = replace(directory(), platforms=frozenset({"email"}))
    assert not by_email_only.takes_reports("wiltshire", knowledge.policies["wiltshire"])
    problems = [str(p) for p in by_email_only.problems(knowledge.policies)]
    assert "escalations.wiltshire.comms: Wiltshire Council's reports for the communications" in (
        "\n".join(problems)
    )
    assert all(p.endswith("(nothing here posts to slack)") for p in problems)
    connected = replace(directory(), platforms=frozenset({"slack"}))
    assert connected.problems(knowledge.policies) == []


def test_a_council_without_routes_is_a_problem_when_the_settings_give_it_desks(
    knowledge: KnowledgeBase,
) -> None:
    policies = {"wiltshire": replace(knowledge.policies["wiltshire"], escalations=None)}
    (problem,) = Directory({("wiltshire", Route.HR): SLACK_DESK}).problems(policies)
    assert problem.route is None
    assert str(problem) == "escalations.wiltshire: Wiltshire Council has no escalation routes"


def test_a_refused_report_names_whom_the_policy_says_to_tell(knowledge: KnowledgeBase) -> None:
    refused = report_elsewhere(knowledge.policies["chelmsford"])
    assert refused.field == "org"
    assert refused.contacts == (
        "Communications: Corporate Communications",
        "HR: your manager, or Human Resources",
    )
    assert refused.message.startswith(
        "Reports for Chelmsford City Council cannot be taken here yet"
    )
    assert refused.message.endswith("HR: your manager, or Human Resources.")
