"""deploy/Dockerfile passes hadolint and keeps to what issue 15 asks of the image. The image
itself is built and checked by deploy/check-image (podman), outside the test suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
HADOLINT = Path(sys.executable).with_name("hadolint")


def test_the_dockerfile_passes_hadolint() -> None:
    linted = subprocess.run(
        [str(HADOLINT), str(DEPLOY / "Dockerfile")], capture_output=True, timeout=60, check=False
    )
    assert linted.returncode == 0, linted.stdout.decode() + linted.stderr.decode()


def test_the_image_installs_only_the_lock_and_runs_unprivileged_with_a_healthcheck() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG BASE=python:3.11-slim" in dockerfile
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "USER 10001:10001" in dockerfile and "HEALTHCHECK" in dockerfile
    assert 'VOLUME ["/var/lib/policybot"]' in dockerfile
    assert 'CMD ["serve", "--host", "0.0.0.0"' in dockerfile
