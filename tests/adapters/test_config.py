"""Settings from file and environment, validated, and printed with secrets masked."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.config import ConfigError, Settings, default_database_url, load_settings
from bot.escalation.desks import Destination
from bot.escalation.model import Actor
from bot.knowledge import Route

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "deploy" / "policybot.example.yaml"
POLICYBOT = str(Path(sys.executable).with_name("policybot"))


def test_defaults_need_no_settings() -> None:
    settings = load_settings(config_file=None, environ={})
    assert settings.database_url == default_database_url()
    assert default_database_url({"XDG_DATA_HOME": "/data"}) == (
        "sqlite+aiosqlite:////data/policybot/policybot.sqlite3"
    )
    assert settings.default_org is None


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    settings = load_settings(
        config_file=EXAMPLE,
        environ={"POLICYBOT_ORG": "wiltshire", "DATABASE_URL": "postgresql://u:pw@db/policybot"},
    )
    assert settings.default_org == "wiltshire"
    assert settings.database_url == "postgresql+asyncpg://u:pw@db/policybot"
    assert settings.slack_teams["T0123ABCD"] == "derbyshire"


def test_masked_settings_hide_secrets() -> None:
    token = "a-long-admin-token-of-its-own"
    settings = load_settings(
        config_file=EXAMPLE,
        environ={"DATABASE_URL": "postgresql://u:hunter2@db/x", "POLICYBOT_ADMIN_TOKEN": token},
    )
    shown = repr(settings.masked()) + repr(settings)
    assert "hunter2" not in shown and token not in shown
    assert settings.masked()["admin_token"] == "***"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"POLICYBOT_ADMIN_TOKEN": "change-me"}, "admin_token: .*placeholder"),
        ({"POLICYBOT_ADMIN_TOKEN": "a"}, "admin_token: .*at least 16 characters"),
        ({"POLICYBOT_ADMIN_TOKEN": "short-but-real"}, "admin_token: .*at least 16"),
        ({"POLICYBOT_ASKER_SALT": "change-me-too"}, "asker_salt: .*placeholder"),
    ],
)
def test_placeholder_or_guessable_secrets_are_refused(
    environ: dict[str, str], message: str
) -> None:
    """Security review M7: the example's `change-me`, and a one-character token, were accepted."""
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=EXAMPLE, environ=environ)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("default_org: [", "cannot read"),
        ("- a list", "mapping"),
        ("colour: blue", "colour"),
        ("escalations: {derbyshire: {finance: C1}}", "escalations.derbyshire.finance"),
        ("escalations: {derbyshire: {hr: {members: [U123]}}}", "slack:<user id>"),
        ("escalations: {derbyshire: {hr: {remind_every: soon}}}", "remind_every"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=path, environ={})


def test_config_check_prints_effective_settings_and_refuses_unknown_councils(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "POLICYBOT_ADMIN_TOKEN": "s3cret-token-for-the-test"}
    env.pop("POLICYBOT_ORG", None)
    ok = subprocess.run(
        [POLICYBOT, "config", "check", "--config", str(EXAMPLE)],
        capture_output=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    assert b"default_org: derbyshire" in ok.stdout
    assert b"s3cret-token-for-the-test" not in ok.stdout and b"admin_token: '***'" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("slack_teams: {T1: atlantis}\n", encoding="utf-8")
    refused = subprocess.run(
        [POLICYBOT, "config", "check", "--config", str(bad)],
        capture_output=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert refused.returncode == 2
    assert b"slack_teams.T1: unknown council 'atlantis'" in refused.stderr


def test_escalation_desks_become_the_directory_the_core_routes_by() -> None:
    settings = load_settings(config_file=EXAMPLE, environ={})
    directory = settings.directory()
    comms = directory.desk("derbyshire", Route.COMMS)
    assert comms.destinations == (
        Destination("slack", "C0COMMSALERTS"),
        Destination("teams", "19:abc123@thread.tacv2"),
    )
    assert (
        comms.remind_every == timedelta(minutes=15) and Actor("slack", "U0AAAAAAA") in comms.members
    )
    assert comms.backup == (Destination("slack", "C0COMMSDUTY"),)
    assert directory.desk("derbyshire", Route.SENIOR).remind_every == timedelta(hours=4)
    assert directory.desk("wiltshire", Route.HR).destinations == ()  # not configured
    short = Settings.model_validate({"escalations": {"wiltshire": {"hr": "C0HR"}}})
    assert short.directory().desk("wiltshire", Route.HR).destinations == (
        Destination("slack", "C0HR"),
    )


def test_a_desk_may_let_its_channels_members_act(tmp_path: Path) -> None:
    path = tmp_path / "desks.yaml"
    path.write_text(
        "escalations:\n"
        "  wiltshire:\n"
        "    comms: {slack_channel: C0COMMS, channel_members_may_act: true}\n"
        "    hr: C0HR\n",
        encoding="utf-8",
    )
    desks = load_settings(config_file=path, environ={}).escalations["wiltshire"]
    assert desks.comms is not None and desks.comms.channel_members_may_act is True
    assert desks.hr is not None and desks.hr.channel_members_may_act is False  # off unless said
    path.write_text(
        "escalations: {wiltshire: {comms: {channel_members_may_act: maybe}}}", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"wiltshire\.comms\.channel_members_may_act"):
        load_settings(config_file=path, environ={})


def test_an_email_desk_and_its_mail_server(tmp_path: Path) -> None:
    settings = load_settings(
        config_file=EXAMPLE,
        environ={
            "POLICYBOT_SMTP_PASSWORD": "mail-s3cret",
            "POLICYBOT_PUBLIC_URL": "https://policybot.example.gov.uk",
        },
    )
    hr = settings.directory().desk("derbyshire", Route.HR)
    assert Destination("email", "hr-cases@derbyshire.example.gov.uk") in hr.destinations
    assert Destination("email", "hr-duty@derbyshire.example.gov.uk") in hr.backup
    assert settings.smtp is not None and settings.smtp.port == 587 and settings.smtp.starttls
    assert settings.smtp.sender == "policybot@derbyshire.example.gov.uk"
    assert settings.smtp.password is not None
    assert settings.smtp.password.get_secret_value() == "mail-s3cret"
    assert settings.public_url == "https://policybot.example.gov.uk"
    shown = repr(settings.masked()) + repr(settings)
    assert "mail-s3cret" not in shown and settings.masked()["smtp"]["password"] == "***"

    # The password alone configures no mail server.
    bare = load_settings(config_file=None, environ={"POLICYBOT_SMTP_PASSWORD": "mail-s3cret"})
    assert bare.smtp is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "escalations: {derbyshire: {hr: {email: C0HRALERTS}}}",
            "escalations.derbyshire.hr.email: 'C0HRALERTS' is not an email address",
        ),
        ("escalations: {derbyshire: {hr: {backup_email: 'a b@x.uk'}}}", "backup_email"),
        ("smtp: {host: mail.example, sender: policybot}", "smtp.sender"),
        ("smtp: {sender: policybot@example.gov.uk}", "smtp.host: Field required"),
    ],
)
def test_bad_email_settings_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=path, environ={})


def test_retention_is_a_councils_own_over_the_default(tmp_path: Path) -> None:
    config = tmp_path / "policybot.yaml"
    config.write_text(
        "retention:\n  default: {cases: 52w, questions: 180d}\n  wiltshire: {questions: 30d}\n",
        encoding="utf-8",
    )
    settings = load_settings(config_file=config, environ={})
    assert settings.retention_for("wiltshire").cases == timedelta(weeks=52)
    assert settings.retention_for("wiltshire").questions == timedelta(days=30)
    assert settings.retention_for("derbyshire").questions == timedelta(days=180)
    assert Settings().retention_for("derbyshire").cases == timedelta(days=730)
    assert Settings.model_validate({"retention": {"atlantis": {"cases": "1d"}}}).check_orgs(
        {"wiltshire"}
    ) == ["retention.atlantis: unknown council 'atlantis'"]
    config.write_text("retention:\n  default: {cases: soon}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"retention\.default\.cases"):
        load_settings(config_file=config, environ={})
