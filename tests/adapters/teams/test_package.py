"""`policybot teams-package`: a zip whose manifest validates against Microsoft's schema."""

from __future__ import annotations

import importlib.resources
import json
import shutil
import zipfile
from pathlib import Path

import jsonschema
import pytest

from adapters.teams.package import (
    SCHEMA_FILE,
    TEMPLATE,
    PackageError,
    build_package,
    check_manifest,
    png_size,
)

APP_ID = "11111111-2222-3333-4444-555555555555"
BOT_ID = "66666666-7777-8888-9999-000000000000"
SCHEMA = json.loads((TEMPLATE / SCHEMA_FILE).read_text(encoding="utf-8"))


def test_the_package_holds_the_manifest_with_our_ids_and_both_icons(tmp_path: Path) -> None:
    out = build_package(template_dir=TEMPLATE, app_id=APP_ID, bot_id=BOT_ID, out=tmp_path / "p.zip")
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        icons = {name: package.read(name) for name in ("color.png", "outline.png")}
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == BOT_ID
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert check_manifest(manifest, icons, SCHEMA) == []
    jsonschema.Draft7Validator(SCHEMA).validate(manifest)
    assert manifest["manifestVersion"] == SCHEMA["properties"]["manifestVersion"]["const"]
    assert png_size(icons["color.png"])[:2] == (192, 192)
    assert png_size(icons["outline.png"]) == (32, 32, 6)


def test_bad_ids_and_icons_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=r"^id: 'nope' does not match"):
        build_package(template_dir=TEMPLATE, app_id="nope", bot_id=BOT_ID, out=tmp_path / "p.zip")
    template = tmp_path / "teams"
    shutil.copytree(TEMPLATE, template)
    shutil.copy(template / "outline.png", template / "color.png")
    with pytest.raises(PackageError, match=r"icons.color is 32x32, not 192x192"):
        build_package(template_dir=template, app_id=APP_ID, bot_id=BOT_ID, out=tmp_path / "p.zip")


def test_what_the_schema_forbids_is_refused_with_its_path(tmp_path: Path) -> None:
    template = tmp_path / "teams"
    shutil.copytree(TEMPLATE, template)
    manifest = json.loads((template / "manifest.json").read_text(encoding="utf-8"))
    manifest["manifestVersion"] = "1.5"
    manifest["name"]["short"] = "p" * 31
    manifest["bots"][0]["scopes"] = ["everywhere"]
    manifest["colour"] = "#fff"
    (template / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(PackageError) as refused:
        build_package(template_dir=template, app_id=APP_ID, bot_id=BOT_ID, out=tmp_path / "p.zip")
    message = str(refused.value)
    for problem in (
        "manifestVersion: '1.29' was expected",
        "name/short: 'ppppppppppppppppppppppppppppppp' is too long",
        "bots/0/scopes/0: 'everywhere' is not one of",
        "'colour' was unexpected",
    ):
        assert problem in message
    assert not (tmp_path / "p.zip").exists()


def test_the_template_ships_inside_the_package() -> None:
    """Issue 15: a wheel built from the project could not run teams-package: the template
    was in deploy/, outside every installed package. It is package data now."""
    shipped = importlib.resources.files("adapters.teams") / "app"
    for name in ("manifest.json", "color.png", "outline.png", "MicrosoftTeams.schema.json"):
        assert (shipped / name).is_file(), name
    assert Path(str(shipped)) == TEMPLATE
