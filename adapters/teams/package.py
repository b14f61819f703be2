"""`policybot teams-package`: the zip to upload to Teams (manifest.json, color.png, outline.png).

The manifest template in deploy/teams/ gets the Teams app id and the bot's Microsoft app id, and
is checked before it is written: the fields Teams requires, GUID formats, and the icons' sizes
(192x192 colour, 32x32 outline with transparency).
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
REQUIRED = (
    "manifestVersion",
    "version",
    "id",
    "developer",
    "name",
    "description",
    "icons",
    "accentColor",
)
SCOPES = {"personal", "team", "groupChat"}


class PackageError(ValueError):
    pass


def png_size(data: bytes) -> tuple[int, int, int]:
    """Width, height and colour type of a PNG (6 = with alpha)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise PackageError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height, data[25]


def check_manifest(manifest: dict[str, Any], icons: dict[str, bytes]) -> list[str]:
    problems = [f"missing {key}" for key in REQUIRED if key not in manifest]
    if not GUID.match(str(manifest.get("id", ""))):
        problems.append("id is not a GUID")
    if not re.match(r"^\d+\.\d+\.\d+$", str(manifest.get("version", ""))):
        problems.append("version is not major.minor.patch")
    if len(manifest.get("name", {}).get("short", "")) > 30:
        problems.append("name.short is over 30 characters")
    if len(manifest.get("description", {}).get("short", "")) > 80:
        problems.append("description.short is over 80 characters")
    for bot in manifest.get("bots", []):
        if not GUID.match(str(bot.get("botId", ""))):
            problems.append("bots[].botId is not a GUID")
        if not set(bot.get("scopes", [])) <= SCOPES:
            problems.append("bots[].scopes has an unknown scope")
        for commands in bot.get("commandLists", []):
            if len(commands.get("commands", [])) > 10:
                problems.append("a command list has more than 10 commands")
    for name, (width, height) in {"color": (192, 192), "outline": (32, 32)}.items():
        file = manifest.get("icons", {}).get(name)
        if file not in icons:
            problems.append(f"icons.{name} file missing")
            continue
        got_width, got_height, colour_type = png_size(icons[file])
        if (got_width, got_height) != (width, height):
            problems.append(f"icons.{name} is {got_width}x{got_height}, not {width}x{height}")
        if name == "outline" and colour_type != 6:
            problems.append("icons.outline needs a transparent background")
    return problems


def build_package(*, template_dir: Path, app_id: str, bot_id: str, out: Path) -> Path:
    """Write the zip; raises `PackageError` naming every problem with the manifest."""
    manifest = json.loads((template_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["id"] = app_id
    for bot in manifest.get("bots", []):
        bot["botId"] = bot_id
    icons = {
        manifest["icons"][key]: (template_dir / manifest["icons"][key]).read_bytes()
        for key in ("color", "outline")
        if (template_dir / manifest["icons"].get(key, "")).is_file()
    }
    problems = check_manifest(manifest, icons)
    if problems:
        raise PackageError("; ".join(problems))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        for name, data in icons.items():
            package.writestr(name, data)
    return out
