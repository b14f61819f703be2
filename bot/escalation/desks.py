"""Where alerts go: each council's desk for each route (its channels, members, reminders and
backup), from the deployment's settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.escalation.model import Actor
from bot.escalation.report import ReportError
from bot.knowledge import Policy, Route


@dataclass(frozen=True, slots=True)
class Destination:
    """A place a platform can post to: a Slack channel id, a Teams conversation id, an email
    address."""

    platform: str
    address: str


@dataclass(frozen=True, slots=True)
class RouteDesk:
    """One council's team for a route: where its alerts go, who may act on them, and how
    often an unacknowledged case is raised again before it goes to the backup too."""

    destinations: tuple[Destination, ...] = ()
    members: frozenset[Actor] = frozenset()
    remind_every: timedelta = timedelta(hours=1)
    reminders_before_backup: int = 3
    backup: tuple[Destination, ...] = ()


@dataclass(frozen=True, slots=True)
class DeskProblem:
    """A council's route whose reports would reach nobody; `route` None: the council has no
    routes at all."""

    org: str
    route: Route | None
    why: str

    def __str__(self) -> str:
        where = f"escalations.{self.org}" + (f".{self.route.value}" if self.route else "")
        return f"{where}: {self.why}"


@dataclass(frozen=True, slots=True)
class Directory:
    """Every council's desks, from the deployment's settings, and the platforms this
    deployment can post to (None: whatever the desks name, for callers that deliver alerts
    themselves)."""

    desks: Mapping[tuple[str, Route], RouteDesk] = field(default_factory=dict)
    platforms: frozenset[str] | None = None

    def desk(self, org: str, route: Route) -> RouteDesk:
        return self.desks.get((org, route), RouteDesk())

    def reaches(self, org: str, route: Route) -> bool:
        """Whether an alert on this route would reach a person: the desk has a destination on
        a platform this deployment posts to."""
        return any(self.postable(where) for where in self.desk(org, route).destinations)

    def takes_reports(self, org: str, policy: Policy) -> bool:
        """Whether every route the council's policy can send a report on reaches a person: a
        report form is offered only then, so no report is ever accepted to reach nobody."""
        return policy.escalations is not None and all(
            self.reaches(org, route) for route in policy.escalations.routes
        )

    def problems(self, policies: Mapping[str, Policy]) -> list[DeskProblem]:
        """What stops a council named in the settings from taking reports: routes its policy
        uses with no desk, or a desk whose only destinations this deployment cannot post to.
        Councils the settings do not name take no reports, by choice, and are not listed."""
        found = []
        for org in sorted({org for org, _ in self.desks}):
            policy = policies.get(org)
            if policy is None:
                continue  # an unknown council is the settings' own error (`check_orgs`)
            if policy.escalations is None:
                found.append(DeskProblem(org, None, f"{policy.council} has no escalation routes"))
                continue
            for route in policy.escalations.routes:
                if self.reaches(org, route):
                    continue
                where = self.desk(org, route).destinations
                why = (
                    f"nothing here posts to {', '.join(sorted({d.platform for d in where}))}"
                    if where
                    else "no channel or mailbox"
                )
                found.append(
                    DeskProblem(
                        org,
                        route,
                        f"{policy.council}'s reports for {route_name(route)} would reach "
                        f"nobody ({why})",
                    )
                )
        return found

    def postable(self, where: Destination) -> bool:
        """Whether this deployment posts to `where`'s platform."""
        return self.platforms is None or where.platform in self.platforms


ROUTE_NAMES = {
    Route.COMMS: "the communications team",
    Route.HR: "HR",
    Route.SENIOR: "a senior manager",
}


def route_name(route: Route) -> str:
    return ROUTE_NAMES[route]


def report_elsewhere(policy: Policy) -> NoDeskError:
    """Why this council's reports are not taken here, naming who its policy says to tell."""
    routes = policy.escalations.routes if policy.escalations else (Route.HR, Route.COMMS)
    return NoDeskError(policy.council, contacts_for(policy, routes))


def contacts_for(policy: Policy, routes: tuple[Route, ...]) -> tuple[str, ...]:
    """Who the policy says to tell, for each route, when no desk here can take the report."""
    named = {
        Route.COMMS: f"Communications: {policy.contacts.comms}",
        Route.HR: f"HR: {policy.contacts.hr}",
        Route.SENIOR: "If your line manager is involved: a senior manager",
    }
    return tuple(named[route] for route in routes)


class NoDeskError(ReportError):
    """A report that no desk here would see: it is refused, naming who to tell instead."""

    def __init__(self, council: str, contacts: tuple[str, ...]) -> None:
        super().__init__(
            "org",
            f"Reports for {council} cannot be taken here yet, so nobody would see them. "
            f"Please report it directly to the people your policy names. {'. '.join(contacts)}.",
        )
        self.contacts = contacts
