"""Settings for `policybot serve`: environment variables over an optional YAML file over defaults.

Read once, by the composition root; nothing here runs at import time. Secrets are `SecretStr`
so that printing the settings never shows them.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Collection, Mapping
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
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.escalation.desks import Destination, Directory, RouteDesk
from bot.escalation.model import Actor
from bot.knowledge import Route


def default_database_url(environ: Mapping[str, str] = os.environ) -> str:
    """The SQLite file in the user's data folder ($XDG_DATA_HOME, or ~/.local/share), so that
    the server and every `policybot` command find the same database from any folder."""
    data = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite+aiosqlite:///{Path(data) / 'policybot' / 'policybot.sqlite3'}"


# Secrets that are examples, not secrets: the example file's, and the usual stand-ins.
PLACEHOLDER_SECRETS = frozenset(
    {"change-me", "change-me-too", "changeme", "change_me", "secret", "password", "admin", "token"}
)
MIN_ADMIN_TOKEN_CHARS = 16
MIN_SESSION_SECRET_CHARS = 32
MAKE_A_SECRET = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which setting and why."""


DURATION = re.compile(r"^\s*(\d+)\s*(s|m|min|h|d|w)\s*$")
DURATION_UNITS = {
    "s": "seconds",
    "m": "minutes",
    "min": "minutes",
    "h": "hours",
    "d": "days",
    "w": "weeks",
}
# Enough to catch a slip (a channel id where an address belongs); the mail server decides the rest.
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_duration(value: Any) -> Any:
    """ "15m", "4h", "30d", "52w" as a timedelta; anything else is left for pydantic (seconds)."""
    if isinstance(value, str) and (found := DURATION.match(value)):
        return timedelta(**{DURATION_UNITS[found[2]]: int(found[1])})
    return value


def _email_address(value: str | None) -> str | None:
    if value is not None and not EMAIL_ADDRESS.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


class DeskSettings(BaseModel):
    """One council's team for one route: where alerts go, who may act, how often to remind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slack_channel: str | None = None
    teams_channel: str | None = None
    # A shared mailbox that gets the alert and every update (needs the `smtp` settings).
    email: str | None = None
    # Who may act on the route's cases: platform user ids, as "slack:U123" or "teams:<id>".
    members: list[str] = Field(default_factory=list)
    # Anyone in this Slack user group may act too (checked with Slack at the click).
    slack_usergroup: str | None = None
    # Anyone in the desk's Slack channel, or in the team that owns its Teams channel, may act.
    channel_members_may_act: bool = False
    remind_every: timedelta | None = None
    reminders_before_backup: int = Field(default=3, ge=1)
    backup_slack_channel: str | None = None
    backup_teams_channel: str | None = None
    backup_email: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _channel_alone(cls, value: Any) -> Any:
        """`hr: C0HRALERTS` is short for a Slack channel and nothing else."""
        return {"slack_channel": value} if isinstance(value, str) else value

    _duration = field_validator("remind_every", mode="before")(parse_duration)
    _addresses = field_validator("email", "backup_email")(_email_address)

    @field_validator("members")
    @classmethod
    def _platform_ids(cls, members: list[str]) -> list[str]:
        for member in members:
            if Actor.parse(member).platform not in ("slack", "teams"):
                raise ValueError(f"{member!r}: write it as slack:<user id> or teams:<user id>")
        return members

    def desk(self, route: Route) -> RouteDesk:
        def where(
            slack: str | None, teams: str | None, email: str | None
        ) -> tuple[Destination, ...]:
            return tuple(
                Destination(platform, address)
                for platform, address in (("slack", slack), ("teams", teams), ("email", email))
                if address
            )

        return RouteDesk(
            destinations=where(self.slack_channel, self.teams_channel, self.email),
            members=frozenset(Actor.parse(member) for member in self.members),
            remind_every=self.remind_every or DEFAULT_REMINDERS[route],
            reminders_before_backup=self.reminders_before_backup,
            backup=where(self.backup_slack_channel, self.backup_teams_channel, self.backup_email),
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


class SmtpSettings(BaseModel):
    """The mail server that email desks are sent through."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    sender: str  # the From address, e.g. policybot@council.gov.uk
    # STARTTLS on a plain connection (port 587), or TLS from the start (port 465).
    starttls: bool = True
    tls: bool = False
    timeout_seconds: float = Field(default=30.0, gt=0)

    _sender = field_validator("sender")(_email_address)


class SignInSettings(BaseModel):
    """Sign-in through the council's identity provider (OpenID Connect): required for the web
    report form and the escalations page on a server reachable beyond this machine. For
    Microsoft Entra ID the issuer is https://login.microsoftonline.com/<tenant id>/v2.0; the
    app registration's redirect URI is <public_url>/auth/callback."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str
    client_id: str
    client_secret: SecretStr
    # Who may use the escalations page: people's usernames (email addresses) as the provider
    # gives them. Anyone else who signs in may report, not read cases.
    admins: list[str] = Field(default_factory=list)
    # Who owns each council's policy (council -> usernames): they read that council's insights
    # (what staff asked, what went unanswered); administrators read every council's.
    policy_owners: dict[str, list[str]] = Field(default_factory=dict)
    # Signs the session cookie: 32 characters or more of your own.
    session_secret: SecretStr
    session: timedelta = timedelta(hours=8)

    _session = field_validator("session", mode="before")(parse_duration)

    @field_validator("issuer")
    @classmethod
    def _https(cls, issuer: str) -> str:
        if not issuer.startswith("https://") and not issuer.startswith("http://127.0.0.1"):
            raise ValueError("the issuer is an https:// address")
        return issuer.rstrip("/")

    @field_validator("session_secret")
    @classmethod
    def _long(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < MIN_SESSION_SECRET_CHARS:
            raise ValueError(f"at least {MIN_SESSION_SECRET_CHARS} characters; {MAKE_A_SECRET}")
        return secret

    @field_validator("admins")
    @classmethod
    def _folded(cls, admins: list[str]) -> list[str]:
        return [admin.strip().casefold() for admin in admins]


class OutboxRetrySettings(BaseModel):
    """How a failed alert or notice is tried again: `fast_attempts` from `first_wait`
    doubling, then every `slow_every` for as long as its case is open."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_wait: timedelta = timedelta(seconds=2)
    fast_attempts: int = Field(default=8, ge=1)
    slow_every: timedelta = timedelta(minutes=5)

    _durations = field_validator("first_wait", "slow_every", mode="before")(parse_duration)


class RetentionSettings(BaseModel):
    """How long records are kept before `policybot escalations purge` deletes them. Cases
    count from their resolution (open cases are never purged, nor any under legal hold);
    question records from when they were asked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cases: timedelta = timedelta(days=730)
    questions: timedelta = timedelta(days=365)
    # The redacted text of questions the bot did not answer, or that staff marked not
    # helpful, kept for the policy owner's insights; `keep_question_text: false` keeps none.
    question_text: timedelta = timedelta(days=90)
    keep_question_text: bool = True

    _durations = field_validator("cases", "questions", "question_text", mode="before")(
        parse_duration
    )


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_org: str | None = None
    database_url: str = Field(
        default_factory=default_database_url, repr=False
    )  # may hold a password
    # Multi-council deployments: which council a Slack workspace or a Teams tenant belongs to.
    slack_teams: dict[str, str] = Field(default_factory=dict)
    teams_tenants: dict[str, str] = Field(default_factory=dict)
    # Per council and route: where escalation alerts go and who may act on them.
    escalations: dict[str, CouncilDesks] = Field(default_factory=dict)
    admin_token: SecretStr | None = None
    # Where people reach this server, for links in emails (https://policybot.council.gov.uk).
    public_url: str | None = None
    smtp: SmtpSettings | None = None
    sign_in: SignInSettings | None = None
    # Per council ("default" for the rest): how long cases and question records are kept.
    retention: dict[str, RetentionSettings] = Field(default_factory=dict)
    # How long a worker may hold an alert it is sending before another may retry it.
    outbox_lease_seconds: float = Field(default=120.0, gt=0)
    outbox_retry: OutboxRetrySettings = Field(default_factory=OutboxRetrySettings)
    # Reverse proxies in front of the server (addresses or networks): behind them a client's
    # address is read from X-Forwarded-For, for the per-address limit on web reports.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Salt for the opaque ids under which askers are stored. Without one, the deployment
    # makes its own and keeps it in the database (the same for every replica).
    asker_salt: SecretStr | None = None

    @field_validator("admin_token", "asker_salt")
    @classmethod
    def _no_placeholder(cls, secret: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """Security review M7: the example file's placeholders, or a token short enough to
        guess, were accepted and the admin pages served with them."""
        if secret is None:
            return None
        value = secret.get_secret_value()
        if value.strip().casefold() in PLACEHOLDER_SECRETS or value.startswith("<"):
            raise ValueError(f"set a secret of your own, not the placeholder; {MAKE_A_SECRET}")
        if info.field_name == "admin_token" and len(value) < MIN_ADMIN_TOKEN_CHARS:
            raise ValueError(
                f"at least {MIN_ADMIN_TOKEN_CHARS} characters, to be hard to guess; {MAKE_A_SECRET}"
            )
        return secret

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network") from None
        return proxies

    @property
    def configured_asker_salt(self) -> str | None:
        return self.asker_salt.get_secret_value() if self.asker_salt is not None else None

    def check_orgs(self, known: set[str]) -> list[str]:
        """Every council the settings name that the knowledge base does not have."""
        named = {
            ("default_org", self.default_org),
            *((f"slack_teams.{team}", org) for team, org in self.slack_teams.items()),
            *((f"teams_tenants.{tenant}", org) for tenant, org in self.teams_tenants.items()),
            *((f"escalations.{org}", org) for org in self.escalations),
            *((f"retention.{org}", org) for org in self.retention if org != "default"),
            *(
                (f"sign_in.policy_owners.{org}", org)
                for org in (self.sign_in.policy_owners if self.sign_in else {})
            ),
        }
        return sorted(
            f"{where}: unknown council {org!r}"
            for where, org in named
            if org is not None and org not in known
        )

    def directory(self, platforms: Collection[str] | None = None) -> Directory:
        """The councils' desks. `platforms` are those this deployment posts to ("slack",
        "teams", "email"); a desk is reachable only through them. None trusts every desk, for
        callers that never open a case or that deliver alerts themselves."""
        return Directory(
            {
                (org, route): desk.desk(route)
                for org, desks in self.escalations.items()
                for route in Route
                if (desk := getattr(desks, route.value)) is not None
            },
            platforms=None if platforms is None else frozenset(platforms),
        )

    def alert_platforms(self, *, slack: bool, teams: bool) -> frozenset[str]:
        """What a server with these chat platforms connected can post alerts to: email needs
        the `smtp` settings."""
        connected = {"slack": slack, "teams": teams, "email": self.smtp is not None}
        return frozenset(name for name, on in connected.items() if on)

    def retention_for(self, org: str) -> RetentionSettings:
        """A council's own retention, where it sets one, over the "default" entry."""
        fallback = self.retention.get("default") or RetentionSettings()
        own = self.retention.get(org)
        if own is None:
            return fallback
        return fallback.model_copy(
            update={name: getattr(own, name) for name in own.model_fields_set}
        )

    def keeps_question_text(self, org: str) -> bool:
        return self.retention_for(org).keep_question_text

    def masked(self) -> dict[str, Any]:
        """The effective settings, fit to print: secrets shown as set or not, never their value."""
        shown = self.model_dump(mode="json")
        for name in ("admin_token", "asker_salt"):
            shown[name] = "***" if getattr(self, name) is not None else None
        if self.smtp is not None and self.smtp.password is not None:
            shown["smtp"]["password"] = "***"
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
    "POLICYBOT_PUBLIC_URL": "public_url",
}


SIGN_IN_SECRETS = {
    "POLICYBOT_SIGN_IN_CLIENT_SECRET": "client_secret",
    "POLICYBOT_SESSION_SECRET": "session_secret",
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
    # The mail server's password belongs in the environment; the rest of `smtp` in the file.
    smtp = values.get("smtp")
    if environ.get("POLICYBOT_SMTP_PASSWORD") and isinstance(smtp, dict):
        values["smtp"] = {**smtp, "password": environ["POLICYBOT_SMTP_PASSWORD"]}
    # So do the sign-in's secrets.
    sign_in = values.get("sign_in")
    if isinstance(sign_in, dict):
        for variable, name in SIGN_IN_SECRETS.items():
            if environ.get(variable):
                sign_in = {**sign_in, name: environ[variable]}
        values["sign_in"] = sign_in
    database = values.get("database_url")
    if isinstance(database, str):
        values["database_url"] = async_database_url(database)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        # Our own validators' messages come prefixed by pydantic; they read better without it.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
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
