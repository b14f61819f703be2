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
    schema_file = Path(__file__).resolve().parents[3] / "deploy" / "teams"
    schema = json.loads((schema_file / "MicrosoftTeams.schema.json").read_text(encoding="utf-8"))
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    jsonschema.Draft7Validator(schema).validate(manifest)
    assert (manifest["id"], manifest["bots"][0]["botId"]) == (app_id, bot_id)

    refused = run("teams-package", "--app-id", "not-a-guid", "--bot-id", bot_id, "--out", str(out))
    assert refused.returncode == 2 and b"not valid" in refused.stderr
