"""Nothing lost, nothing doubled: `policybot serve` processes delivering escalation alerts to a
fake Slack Web API (a local server in this test process, which outlives them).

- Crash: 100 reports queued, the server killed with SIGKILL at random points ten times and
  restarted; afterwards every alert is in the channel, none twice.
- Replicas: two servers on one PostgreSQL database share 200 reports and their reminders; every
  delivery is posted once.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import text

from bot.storage import Store
from tests.bot.conftest import POSTGRES_URL
from tests.fakes.slack_web_api import FakeSlack
from tools.loadtest import free_port, wait_until_healthy

# Each starts `policybot serve` processes again and again: about a minute between them.
pytestmark = pytest.mark.slow

CHANNEL = "C0COMMS"


def report(number: int) -> dict[str, Any]:
    # Gloucestershire: something posted by mistake goes to the Communications Team alone.
    return {
        "org": "gloucestershire",
        "kind": "posted_by_mistake",
        "what": f"Report {number}: posted on the wrong account",
        "reporter": {"name": f"Reporter {number}"},
    }


def write_config(folder: Path, remind_every: str) -> Path:
    config = folder / "policybot.yaml"
    config.write_text(
        "default_org: gloucestershire\n"
        "escalations:\n"
        "  gloucestershire:\n"
        f"    comms: {{slack_channel: {CHANNEL}, remind_every: {remind_every}}}\n",
        encoding="utf-8",
    )
    return config


@contextmanager
def server(
    config: Path, database_url: str, slack_api: str, *, lease_seconds: float = 1.0
) -> Iterator[tuple[str, Any]]:
    """A `policybot serve` process. The crash test's short lease brings a killed server's
    claims back quickly; with replicas that stay up, a lease shorter than a send on a loaded
    machine would hand a row being sent to the other one (production's is two minutes)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "test-secret",
        "SLACK_API_URL": slack_api,
        "POLICYBOT_OUTBOX_LEASE_SECONDS": str(lease_seconds),
    }
    command = [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def posted_outbox_ids(slack: FakeSlack) -> Counter[str]:
    """How many times each outbox row was posted to the channel (its id rides in metadata)."""
    return Counter(
        str(call.args["metadata"]["event_payload"]["outbox_id"])
        for call in slack.methods("chat.postMessage")
        if call.args.get("channel") == CHANNEL and isinstance(call.args.get("metadata"), dict)
    )


async def wait_for_posts(slack: FakeSlack, count: int, timeout: float) -> None:
    for _ in range(int(timeout / 0.1)):
        if len(posted_outbox_ids(slack)) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(posted_outbox_ids(slack))} alerts posted, wanted {count}")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(delay_seconds=0.02)  # slow enough that kills land mid-delivery
    await fake.start()
    yield fake
    await fake.close()


async def post_reports(base_url: str, numbers: range) -> None:
    async with ClientSession(base_url) as http:
        for number in numbers:
            async with http.post("/api/escalations", json=report(number)) as response:
                assert response.status == 201, await response.text()


async def test_killed_at_random_ten_times_every_alert_arrives_once(
    tmp_path: Path, slack: FakeSlack
) -> None:
    config = write_config(tmp_path, remind_every="1d")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'crash.sqlite3'}"
    slack_api = str(slack.server.make_url("/api/")) if slack.server else ""
    chance = random.Random(20261121)
    for run in range(11):
        with server(config, database_url, slack_api) as (base_url, process):
            await wait_until_healthy(base_url, process)
            if run == 0:
                await post_reports(base_url, range(100))
            if run < 10:
                await asyncio.sleep(chance.uniform(0.05, 0.6))
                process.send_signal(signal.SIGKILL)
                process.wait()
            else:
                await wait_for_posts(slack, 100, timeout=60)
    posted = posted_outbox_ids(slack)
    assert len(posted) == 100
    assert max(posted.values()) == 1, [k for k, v in posted.items() if v > 1]
    # The kills left claimed alerts behind, which the restarted server looked for in the
    # channel before sending: the path that keeps a crash from doubling an alert.
    assert slack.methods("conversations.history")


@pytest.mark.postgres
async def test_two_servers_on_one_postgres_deliver_every_alert_and_reminder_once(
    tmp_path: Path, slack: FakeSlack
) -> None:
    database = f"policybot_{uuid.uuid4().hex[:10]}"
    admin = Store.connect(POSTGRES_URL)
    try:
        async with admin.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f"CREATE DATABASE {database}"))
    except Exception as exc:
        await admin.close()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({type(exc).__name__})")
    database_url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{database}"
    config = write_config(tmp_path, remind_every="2")  # seconds: reminders come round fast
    slack_api = str(slack.server.make_url("/api/")) if slack.server else ""
    try:
        with (
            server(config, database_url, slack_api, lease_seconds=30) as (first_url, first),
            server(config, database_url, slack_api, lease_seconds=30) as (second_url, second),
        ):
            await wait_until_healthy(first_url, first)
            await wait_until_healthy(second_url, second)
            await asyncio.gather(
                post_reports(first_url, range(0, 200, 2)),
                post_reports(second_url, range(1, 200, 2)),
            )
            await wait_for_posts(slack, 200, timeout=60)
            await asyncio.sleep(5)  # reminders for every case, twice or so
        store = Store.connect(database_url)
        count_sent = "SELECT purpose, count(*) FROM outbox WHERE status = 'sent' GROUP BY purpose"
        async with store.engine.connect() as connection:
            rows = (await connection.execute(text(count_sent))).all()
        sent = {str(purpose): int(count) for purpose, count in rows}
        await store.close()
        posted = posted_outbox_ids(slack)
        assert sent["alert"] == 200 and sent.get("reminder", 0) >= 200
        assert max(posted.values()) == 1
        assert len(posted) >= sent["alert"] + sent["reminder"]
    finally:
        async with admin.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        await admin.close()
