"""Where alerts go: each council's desk for each route (its channels, members, reminders and
backup), from the deployment's settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.escalation.model import Actor
from bot.knowledge import Route


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
class Directory:
    """Every council's desks, from the deployment's settings."""

    desks: Mapping[tuple[str, Route], RouteDesk] = field(default_factory=dict)

    def desk(self, org: str, route: Route) -> RouteDesk:
        return self.desks.get((org, route), RouteDesk())


ROUTE_NAMES = {
    Route.COMMS: "the communications team",
    Route.HR: "HR",
    Route.SENIOR: "a senior manager",
}


def route_name(route: Route) -> str:
    return ROUTE_NAMES[route]
