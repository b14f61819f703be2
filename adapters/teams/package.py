"""`policybot teams-package`: the zip to upload to Teams (manifest.json, color.png, outline.png).

The manifest template in adapters/teams/app/ (inside the package, so that an installed
wheel can build it too) gets the Teams app id and the bot's Microsoft app id, and
is checked before it is written: against Microsoft's manifest schema (kept beside it, from
github.com/OfficeDev/microsoft-teams-app-schema, MIT), and the icons' sizes (192x192 colour,
32x32 outline with transparency).
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_FILE = "MicrosoftTeams.schema.json"


class PackageError(ValueError):
    pass


def png_size(data: bytes) -> tuple[int, int, int]:
    """Width, height and colour type of a PNG (6 = with alpha)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise PackageError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height, data[25]


def check_manifest(
    manifest: dict[str, Any], icons: dict[str, bytes], schema: dict[str, Any]
) -> list[str]:
    """Everything Teams would refuse: the manifest against Microsoft's schema, then the icons,
    whose sizes the schema cannot see."""
    # The schema says draft-04 but uses `const` and `if`/`then` (draft 6 and 7), as the
    # validators Microsoft ships do; draft 7 reads it as meant.
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or 'manifest'}: {error.message}"
        for error in sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    ]
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


# The manifest template, its icons and Microsoft's manifest schema, installed with the code.
TEMPLATE = Path(__file__).with_name("app")


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
    schema = json.loads((template_dir / SCHEMA_FILE).read_text(encoding="utf-8"))
    problems = check_manifest(manifest, icons, schema)
    if problems:
        raise PackageError("; ".join(problems))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        for name, data in icons.items():
            package.writestr(name, data)
    return out
