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
import time
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


def write_config(folder: Path, remind_every: str, more: str = "") -> Path:
    """Gloucestershire's comms desk on the fake Slack. The reports come through a "proxy" on
    127.0.0.1, each from its own address, so that the per-address limit counts each once."""
    config = folder / "policybot.yaml"
    config.write_text(
        "default_org: gloucestershire\n"
        "trusted_proxies: [127.0.0.1/32]\n"
        "escalations:\n"
        "  gloucestershire:\n"
        f"    comms: {{slack_channel: {CHANNEL}, remind_every: {remind_every}}}\n" + more,
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
            client = {"X-Forwarded-For": f"10.0.{number // 256}.{number % 256}"}
            async with http.post(
                "/api/escalations", json=report(number), headers=client
            ) as response:
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


async def test_slack_down_for_a_while_then_back_every_alert_arrives_once(
    tmp_path: Path, slack: FakeSlack
) -> None:
    """Security review H2: Slack answering 500 for minutes left every alert in flight dead.
    The schedule is shortened in the settings (3 fast attempts from 0.2 s, then every second)
    so that the slow phase comes well within the outage. (Each attempt also waits for the
    Slack client's own retry of a 500, about half a second.)"""
    retry = "outbox_retry: {first_wait: 0.2, fast_attempts: 3, slow_every: 1}\n"
    config = write_config(tmp_path, remind_every="1d", more=retry)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'outage.sqlite3'}"
    slack_api = str(slack.server.make_url("/api/")) if slack.server else ""
    with server(config, database_url, slack_api) as (base_url, process):
        await wait_until_healthy(base_url, process)
        slack.outage_until = time.monotonic() + OUTAGE_SECONDS
        await post_reports(base_url, range(3))
        await wait_for_posts(slack, 3, timeout=60)
        await asyncio.sleep(2)  # nothing more comes
    assert time.monotonic() > slack.outage_until  # they came after the outage
    assert slack.methods("chat.postMessage:500")  # ... which refused them
    posted = posted_outbox_ids(slack)
    assert len(posted) == 3 and max(posted.values()) == 1
    store = Store.connect(database_url)
    async with store.engine.connect() as connection:
        rows = (await connection.execute(text(COUNT_BY_STATE))).all()
    states = {str(status): int(count) for status, count in rows}
    await store.close()
    assert states == {"sent": 3}  # none given up
    # Each was tried past its fast attempts: in the slow phase, which used to be "dead".
    assert len(slack.methods("conversations.history:500")) >= 3 * 3


COUNT_BY_STATE = "SELECT status, count(*) FROM outbox GROUP BY status"
OUTAGE_SECONDS = 20


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
