"""`policybot teams-package`: a zip with a manifest that passes the checks Teams applies."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from adapters.teams.package import PackageError, build_package, check_manifest, png_size

TEMPLATE = Path(__file__).resolve().parents[3] / "deploy" / "teams"
APP_ID = "11111111-2222-3333-4444-555555555555"
BOT_ID = "66666666-7777-8888-9999-000000000000"


def test_the_package_holds_the_manifest_with_our_ids_and_both_icons(tmp_path: Path) -> None:
    out = build_package(template_dir=TEMPLATE, app_id=APP_ID, bot_id=BOT_ID, out=tmp_path / "p.zip")
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        icons = {name: package.read(name) for name in ("color.png", "outline.png")}
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == BOT_ID
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert check_manifest(manifest, icons) == []
    assert png_size(icons["color.png"])[:2] == (192, 192)
    assert png_size(icons["outline.png"]) == (32, 32, 6)


def test_bad_ids_and_icons_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="id is not a GUID"):
        build_package(template_dir=TEMPLATE, app_id="nope", bot_id=BOT_ID, out=tmp_path / "p.zip")
    template = tmp_path / "teams"
    shutil.copytree(TEMPLATE, template)
    shutil.copy(template / "outline.png", template / "color.png")
    with pytest.raises(PackageError, match=r"icons.color is 32x32, not 192x192"):
        build_package(template_dir=template, app_id=APP_ID, bot_id=BOT_ID, out=tmp_path / "p.zip")
