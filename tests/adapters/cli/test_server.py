"""`policybot teams-package`, run as a real process."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import jsonschema

from tests.adapters.cli.invoke import run


def test_teams_package_writes_a_zip_whose_manifest_validates(tmp_path: Path) -> None:
    out = tmp_path / "teams.zip"
    app_id, bot_id = "11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000"
    result = run("teams-package", "--app-id", app_id, "--bot-id", bot_id, "--out", str(out))
    assert result.returncode == 0, result.stderr
    schema_file = Path(__file__).resolve().parents[3] / "adapters" / "teams" / "app"
    schema = json.loads((schema_file / "MicrosoftTeams.schema.json").read_text(encoding="utf-8"))
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    jsonschema.Draft7Validator(schema).validate(manifest)
    assert (manifest["id"], manifest["bots"][0]["botId"]) == (app_id, bot_id)

    refused = run("teams-package", "--app-id", "not-a-guid", "--bot-id", bot_id, "--out", str(out))
    assert refused.returncode == 2 and b"not valid" in refused.stderr


NO_CHAT = dict.fromkeys(
    (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "MicrosoftAppId",
        "TEAMS_DEV_ANONYMOUS",
    )
)


def test_config_check_fails_where_reports_would_reach_nobody(tmp_path: Path) -> None:
    config = tmp_path / "policybot.yaml"
    # Gloucestershire sends reports to comms and HR; only comms has a desk.
    config.write_text("escalations: {gloucestershire: {comms: C0GLOSCOMMS}}\n", encoding="utf-8")
    env = {**NO_CHAT, "POLICYBOT_CONFIG": None}
    refused = run("config", "check", "--config", str(config), env=env)
    assert refused.returncode == 1
    assert (
        "error: escalations.gloucestershire.comms: Gloucestershire County Council's reports for "
        "the communications team would reach nobody (nothing here posts to slack)"
    ) in refused.stderr.decode()
    assert "escalations.gloucestershire.hr:" in refused.stderr.decode()
    assert "2 route(s) would take reports that reach nobody" in refused.stderr.decode()

    # With Slack connected the comms desk reaches people; HR still has none.
    slack = {**env, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "signing-secret"}
    still = run("config", "check", "--config", str(config), env=slack)
    assert still.returncode == 1 and "gloucestershire.comms" not in still.stderr.decode()
    config.write_text(
        "escalations: {gloucestershire: {comms: C0GLOSCOMMS, hr: C0GLOSHR}}\n", encoding="utf-8"
    )
    ok = run("config", "check", "--config", str(config), env=slack)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.decode().rstrip().endswith("ok")
