"""deploy/compose.yaml is a valid Compose file (against the Compose Specification's own schema,
vendored in tests/fixtures/compose) with what issue 15 asks of it: PostgreSQL, a one-shot
migration the servers wait for, two replicas, a TLS reverse proxy, secrets only from .env."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "compose" / "compose-spec.schema.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def test_the_compose_file_is_valid(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(compose)
    broken = {**compose, "services": {**compose["services"], "proxy": {"imag": "caddy:2"}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_it_migrates_once_then_runs_two_servers_behind_tls(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "policybot", "proxy"}
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    server = services["policybot"]
    assert "--no-migrate" in server["command"] and server["deploy"]["replicas"] == 2
    assert server["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "443:443" in services["proxy"]["ports"]
    caddyfile = (DEPLOY / "compose" / "Caddyfile").read_text(encoding="utf-8")
    assert "reverse_proxy policybot:8080" in caddyfile
    for mounted in (DEPLOY / "compose" / "policybot.yaml", DEPLOY / "compose" / "Caddyfile"):
        assert mounted.is_file()


def test_no_secret_is_written_in_it(compose: dict[str, Any]) -> None:
    password = compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?")
    example = (DEPLOY / "compose" / ".env.example").read_text(encoding="utf-8")
    assert "POSTGRES_PASSWORD=\n" in example and "POLICYBOT_ADMIN_TOKEN=\n" in example
