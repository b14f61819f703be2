"""Settings for `policybot serve`: environment variables over an optional YAML file over defaults.

Read once, by the composition root; nothing here runs at import time. Secrets are `SecretStr`
so that printing the settings never shows them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.cases import Destination, Directory, RouteDesk
from bot.knowledge import Route

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///policybot.sqlite3"


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which setting and why."""


DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d)\s*$")
DURATION_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days"}


class DeskSettings(BaseModel):
    """One council's team for one route: where alerts go, who may act, how often to remind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slack_channel: str | None = None
    teams_channel: str | None = None
    # Who may act on the route's cases: platform user ids, as "slack:U123" or "teams:<id>".
    members: list[str] = Field(default_factory=list)
    # Anyone in this Slack user group may act too (checked with Slack at the click).
    slack_usergroup: str | None = None
    remind_every: timedelta | None = None
    reminders_before_backup: int = Field(default=3, ge=1)
    backup_slack_channel: str | None = None
    backup_teams_channel: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _channel_alone(cls, value: Any) -> Any:
        """`hr: C0HRALERTS` is short for a Slack channel and nothing else."""
        return {"slack_channel": value} if isinstance(value, str) else value

    @field_validator("remind_every", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        """ "15m", "4h", "1d" as well as seconds."""
        if isinstance(value, str) and (found := DURATION.match(value)):
            return timedelta(**{DURATION_UNITS[found[2]]: int(found[1])})
        return value

    @field_validator("members")
    @classmethod
    def _platform_ids(cls, members: list[str]) -> list[str]:
        for member in members:
            if member.partition(":")[0] not in ("slack", "teams"):
                raise ValueError(f"{member!r}: write it as slack:<user id> or teams:<user id>")
        return members

    def desk(self, route: Route) -> RouteDesk:
        def where(slack: str | None, teams: str | None) -> tuple[Destination, ...]:
            return tuple(
                Destination(platform, address)
                for platform, address in (("slack", slack), ("teams", teams))
                if address
            )

        return RouteDesk(
            destinations=where(self.slack_channel, self.teams_channel),
            members=frozenset(self.members),
            remind_every=self.remind_every or DEFAULT_REMINDERS[route],
            reminders_before_backup=self.reminders_before_backup,
            backup=where(self.backup_slack_channel, self.backup_teams_channel),
        )


# Comms handle what is public and moving fast; HR what takes a conversation.
DEFAULT_REMINDERS = {
    Route.COMMS: timedelta(minutes=15),
    Route.HR: timedelta(hours=4),
    Route.SENIOR: timedelta(hours=4),
}


class CouncilDesks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    comms: DeskSettings | None = None
    hr: DeskSettings | None = None
    senior: DeskSettings | None = None


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_org: str | None = None
    database_url: str = Field(default=DEFAULT_DATABASE_URL, repr=False)  # may hold a password
    # Multi-council deployments: which council a Slack workspace or a Teams tenant belongs to.
    slack_teams: dict[str, str] = Field(default_factory=dict)
    teams_tenants: dict[str, str] = Field(default_factory=dict)
    # Per council and route: where escalation alerts go and who may act on them.
    escalations: dict[str, CouncilDesks] = Field(default_factory=dict)
    admin_token: SecretStr | None = None
    # How long a worker may hold an alert it is sending before another may retry it.
    outbox_lease_seconds: float = Field(default=120.0, gt=0)
    # Salt for the opaque ids under which askers are stored.
    asker_salt: SecretStr = SecretStr("policybot")

    def check_orgs(self, known: set[str]) -> list[str]:
        """Every council the settings name that the knowledge base does not have."""
        named = {
            ("default_org", self.default_org),
            *((f"slack_teams.{team}", org) for team, org in self.slack_teams.items()),
            *((f"teams_tenants.{tenant}", org) for tenant, org in self.teams_tenants.items()),
            *((f"escalations.{org}", org) for org in self.escalations),
        }
        return sorted(
            f"{where}: unknown council {org!r}"
            for where, org in named
            if org is not None and org not in known
        )

    def directory(self) -> Directory:
        return Directory(
            {
                (org, route): desk.desk(route)
                for org, desks in self.escalations.items()
                for route in Route
                if (desk := getattr(desks, route.value)) is not None
            }
        )

    def masked(self) -> dict[str, Any]:
        """The effective settings, fit to print: secrets shown as set or not, never their value."""
        shown = self.model_dump(mode="json")
        for name in ("admin_token", "asker_salt"):
            shown[name] = "***" if getattr(self, name) is not None else None
        if "@" in self.database_url and "://" in self.database_url:
            scheme, rest = self.database_url.split("://", 1)
            credentials, host = rest.rsplit("@", 1)
            user = credentials.split(":", 1)[0]
            shown["database_url"] = f"{scheme}://{user}:***@{host}"
        return shown


ENVIRONMENT = {
    "POLICYBOT_ORG": "default_org",
    "DATABASE_URL": "database_url",
    "POLICYBOT_ADMIN_TOKEN": "admin_token",
    "POLICYBOT_ASKER_SALT": "asker_salt",
    "POLICYBOT_OUTBOX_LEASE_SECONDS": "outbox_lease_seconds",
}


def load_settings(*, config_file: Path | None, environ: Mapping[str, str]) -> Settings:
    """Defaults, then the YAML file, then the environment. Raises `ConfigError`."""
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"{config_file}: cannot read: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{config_file}: expected a mapping of settings")
        values.update(loaded or {})
    for variable, name in ENVIRONMENT.items():
        if environ.get(variable):
            values[name] = environ[variable]
    database = values.get("database_url")
    if isinstance(database, str):
        values["database_url"] = async_database_url(database)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        where = f"{config_file}: " if config_file else ""
        raise ConfigError(f"{where}{problems}") from None


def async_database_url(url: str) -> str:
    """Plain `sqlite:///` and `postgresql://` URLs (as platforms hand them out) with the async
    driver SQLAlchemy needs."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def settings_from_environment(config_file: Path | None) -> Settings:
    return load_settings(config_file=config_file, environ=os.environ)
