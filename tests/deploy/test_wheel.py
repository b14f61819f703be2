"""A wheel that works on its own (issue 15): built from the project, installed with the locked
dependencies in a fresh virtual environment, run from another directory, it answers a
question, checks the knowledge base, writes the Teams package and serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]

# Builds a wheel and installs every locked dependency into a new environment: about 2 minutes.
pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_an_installed_wheel_asks_checks_packages_and_serves(tmp_path: Path) -> None:
    wheels, elsewhere = tmp_path / "wheels", tmp_path / "elsewhere"
    elsewhere.mkdir()
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, REPO, cwd=tmp_path)
    (wheel,) = wheels.glob("policybot-*.whl")
    with zipfile.ZipFile(wheel) as packed:  # what a drafted council is scored with
        assert {"bot/weights.json", "bot/quote-adapter.npy"} <= set(packed.namelist())
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    pip: list[str | Path] = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run(*pip, "--require-hashes", "-r", REPO / "requirements.lock", cwd=tmp_path)
    run(*pip, "--no-deps", wheel, cwd=tmp_path)
    policybot = tmp_path / "venv" / "bin" / "policybot"
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "POLICYBOT_CONFIG": ""}
    answer = run(
        policybot,
        "ask",
        "--org",
        "derbyshire",
        "--json",
        "can I friend a service user?",
        cwd=elsewhere,
        env=env,
    )
    assert json.loads(answer)["kind"] == "answer"
    assert run(policybot, "kb", "check", cwd=elsewhere, env=env).rstrip().endswith("ok")
    ids = ("11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000")
    run(policybot, "teams-package", "--app-id", ids[0], "--bot-id", ids[1], cwd=elsewhere, env=env)
    assert (elsewhere / "policybot-teams.zip").is_file()
    port = free_port()
    server = subprocess.Popen(
        [policybot, "serve", "--port", str(port)],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as ready:
                    assert json.load(ready)["status"] == "ready"
                    break
            except OSError:
                assert server.poll() is None, "the server stopped while starting"
                time.sleep(0.5)
        else:
            raise AssertionError("not ready within 60 s")
    finally:
        server.terminate()
        server.wait(timeout=20)
