"""Settings for `policybot serve`: environment variables over an optional YAML file over defaults.

Read once, by the composition root; nothing here runs at import time. Secrets are `SecretStr`
so that printing the settings never shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from bot.knowledge import Route

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///policybot.sqlite3"


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which setting and why."""


class EscalationChannels(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hr: str | None = None
    comms: str | None = None

    def for_route(self, route: Route) -> str | None:
        return self.hr if route is Route.HR else self.comms


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_org: str | None = None
    database_url: str = Field(default=DEFAULT_DATABASE_URL, repr=False)  # may hold a password
    # Multi-council deployments: which council a Slack workspace or a Teams tenant belongs to.
    slack_teams: dict[str, str] = Field(default_factory=dict)
    teams_tenants: dict[str, str] = Field(default_factory=dict)
    # Per council: the channel each route's alerts go to.
    escalations: dict[str, EscalationChannels] = Field(default_factory=dict)
    admin_token: SecretStr | None = None
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
