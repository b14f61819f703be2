"""`policybot bench --http`: a load generator on loopback against a real `policybot serve`.

The server runs in its own process (as in production, and so that the generator does not steal
its event loop); the generator keeps a fixed number of requests in flight for a bounded time
and reports requests per second and latency percentiles of `POST /api/ask`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector

from bot.bench import Timing


@dataclass(frozen=True, slots=True)
class LoadReport:
    requests: int
    errors: int
    seconds: float
    concurrency: int
    p50_ms: float
    p99_ms: float

    @classmethod
    def of(
        cls, latencies: list[float], *, errors: int, seconds: float, concurrency: int
    ) -> LoadReport:
        timing = Timing.of("load", latencies or [0.0])
        return cls(
            requests=len(latencies),
            errors=errors,
            seconds=seconds,
            concurrency=concurrency,
            p50_ms=timing.p50_ms,
            p99_ms=timing.p99_ms,
        )

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def timed_ask(session: ClientSession, org: str, question: str) -> float | None:
    """Seconds to answer one question over HTTP, or None when it was not answered."""
    started = time.perf_counter()
    try:
        async with session.post(
            "/api/ask", json={"org": org, "question": question, "asker": "bench"}
        ) as response:
            await response.read()
            if response.status != 200:
                return None
    except (ClientError, TimeoutError):
        return None
    return time.perf_counter() - started


async def generate_load(
    base_url: str,
    questions: Sequence[tuple[str, str]],
    *,
    seconds: float,
    concurrency: int,
    seed: int = 3,
) -> LoadReport:
    """Keep `concurrency` requests in flight for `seconds`; count only successful answers."""
    rng = random.Random(seed)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(session: ClientSession) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            took = await timed_ask(session, *rng.choice(questions))
            if took is not None:
                latencies.append(took)
            else:
                errors += 1

    connector = TCPConnector(limit=concurrency)
    async with ClientSession(
        base_url, connector=connector, timeout=ClientTimeout(total=10)
    ) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadReport.of(latencies, errors=errors, seconds=elapsed, concurrency=concurrency)


async def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    async with ClientSession(base_url, timeout=ClientTimeout(total=1)) as session:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError("the server stopped while starting")
            try:
                async with session.get("/healthz") as response:
                    if response.status == 200:
                        return
            except (ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become healthy within 30 s")


@contextlib.contextmanager
def serving(
    knowledge_root: Path, port: int, env: Mapping[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """`policybot serve` in a process of its own on 127.0.0.1:`port`, stopped on leaving."""
    command = [
        sys.executable,
        "-m",
        "adapters.cli",
        "--knowledge",
        str(knowledge_root),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-format",
        "json",
    ]
    process = subprocess.Popen(
        command, env={**env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def run_against_server(
    *,
    knowledge_root: Path,
    questions: Sequence[tuple[str, str]],
    seconds: float,
    concurrency: int,
) -> LoadReport:
    """Start `policybot serve` on a free loopback port with a fresh database, load it, stop it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{Path(scratch) / 'bench.sqlite3'}",
        }
        with serving(knowledge_root, port, env) as process:
            asyncio.run(wait_until_healthy(base_url, process))
            asyncio.run(generate_load(base_url, questions, seconds=1.0, concurrency=concurrency))
            return asyncio.run(
                generate_load(base_url, questions, seconds=seconds, concurrency=concurrency)
            )


async def _slack_ack_times(
    *, knowledge_root: Path, events: int, concurrency: int, web_api_delay: float
) -> LoadReport:
    # Imported here: the HTTP bench above must not need the Slack stack.
    import json
    import uuid

    from aiohttp import web

    from adapters.config import Settings
    from adapters.server import build_app
    from adapters.slack.mount import SlackSettings
    from bot.assistant import Assistant
    from bot.knowledge import load_knowledge
    from tests.fakes.slack_web_api import FakeSlack, signed_headers

    fake = FakeSlack(delay_seconds=web_api_delay)
    await fake.start()
    assert fake.server is not None
    secret = uuid.uuid4().hex
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(
            default_org="derbyshire",
            database_url=f"sqlite+aiosqlite:///{Path(scratch) / 'slack-bench.sqlite3'}",
        )
        slack = SlackSettings(
            signing_secret=secret,
            bot_token="xoxb-bench",
            api_url=str(fake.server.make_url("/api/")),
        )
        runner = web.AppRunner(
            build_app(
                settings=settings,
                assistant=Assistant(load_knowledge(knowledge_root)),
                slack=slack,
            )
        )
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        latencies: list[float] = []
        errors = 0
        counter = iter(range(events))

        async def worker(session: ClientSession) -> None:
            nonlocal errors
            for number in counter:
                body = json.dumps(
                    {
                        "type": "event_callback",
                        "team_id": "T1",
                        "event_id": f"EvBench{number}",
                        "event": {
                            "type": "message",
                            "channel_type": "im",
                            "channel": "D1",
                            "user": "U1",
                            "text": "can I friend a service user?",
                            "ts": f"{number}.0001",
                        },
                    }
                ).encode()
                headers = {"Content-Type": "application/json", **signed_headers(secret, body)}
                started = time.perf_counter()
                async with session.post("/slack/events", data=body, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors += 1

        started = time.perf_counter()
        async with ClientSession(f"http://127.0.0.1:{port}") as session:
            await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        await runner.cleanup()
    await fake.close()
    return LoadReport.of(latencies, errors=errors, seconds=elapsed, concurrency=concurrency)


def slack_ack_times(
    *, knowledge_root: Path, events: int = 300, concurrency: int = 4, web_api_delay: float = 2.0
) -> LoadReport:
    """Signed events into the real server while the fake Web API takes `web_api_delay` seconds
    to answer: the time to each event's 200 (the acknowledgement Slack waits 3 s for)."""
    return asyncio.run(
        _slack_ack_times(
            knowledge_root=knowledge_root,
            events=events,
            concurrency=concurrency,
            web_api_delay=web_api_delay,
        )
    )


@dataclass(frozen=True, slots=True)
class MixedLoad:
    """Slack report submissions timed to their acknowledgement while the rest of the
    connections ask questions and file web reports."""

    slack_reports: LoadReport
    slowest_ack_ms: float
    asks: LoadReport
    web_reports: int  # answered, whatever the answer (201, or 429 once the address's limit)


# How often each Slack worker submits a report form: reports are rare beside questions, and a
# flood of them is refused per person anyway.
SLACK_REPORT_EVERY = 0.5


async def _mixed_load(
    base_url: str,
    secret: str,
    questions: Sequence[tuple[str, str]],
    *,
    seconds: float,
    concurrency: int,
    slack_workers: int,
) -> MixedLoad:
    import json
    from urllib.parse import urlencode

    from tests.adapters.slack.chat import report_submission
    from tests.fakes.slack_web_api import signed_headers

    rng = random.Random(5)
    deadline = time.perf_counter() + seconds
    acks: list[float] = []
    asks: list[float] = []
    counts = {"ack_errors": 0, "ask_errors": 0, "web_reports": 0}
    submitted = iter(range(1_000_000))

    async def slack_worker(session: ClientSession) -> None:
        while time.perf_counter() < deadline:
            number = next(submitted)
            # A different person each time: one person may make only 5 reports an hour.
            payload = report_submission(user=f"ULOAD{number}", view_id=f"VLOAD{number}")
            body = urlencode({"payload": json.dumps(payload)}).encode()
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                **signed_headers(secret, body),
            }
            started = time.perf_counter()
            try:
                async with session.post("/slack/events", data=body, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
            except (ClientError, TimeoutError):
                ok = False
            if ok:
                acks.append(time.perf_counter() - started)
            else:
                counts["ack_errors"] += 1
            await asyncio.sleep(SLACK_REPORT_EVERY)

    async def web_worker(session: ClientSession) -> None:
        while time.perf_counter() < deadline:
            if rng.random() < 0.2:
                report = {"org": "wiltshire", "what": "Load", "reporter": {"name": "L"}}
                with contextlib.suppress(ClientError, TimeoutError):
                    async with session.post("/api/escalations", json=report) as response:
                        await response.read()
                        counts["web_reports"] += 1
                continue
            took = await timed_ask(session, *rng.choice(questions))
            if took is not None:
                asks.append(took)
            else:
                counts["ask_errors"] += 1

    connector = TCPConnector(limit=concurrency)
    async with ClientSession(
        base_url, connector=connector, timeout=ClientTimeout(total=30)
    ) as session:
        started = time.perf_counter()
        await asyncio.gather(
            *(slack_worker(session) for _ in range(slack_workers)),
            *(web_worker(session) for _ in range(concurrency - slack_workers)),
        )
        elapsed = time.perf_counter() - started
    return MixedLoad(
        slack_reports=LoadReport.of(
            acks, errors=counts["ack_errors"], seconds=elapsed, concurrency=slack_workers
        ),
        slowest_ack_ms=max(acks, default=0.0) * 1000,
        asks=LoadReport.of(
            asks,
            errors=counts["ask_errors"],
            seconds=elapsed,
            concurrency=concurrency - slack_workers,
        ),
        web_reports=counts["web_reports"],
    )


def mixed_load(
    *,
    knowledge_root: Path,
    questions: Sequence[tuple[str, str]],
    seconds: float,
    concurrency: int,
    slack_workers: int = 4,
) -> MixedLoad:
    """`policybot serve` with Slack (its Web API a local fake) and Wiltshire's desks on Slack,
    under `concurrency` connections: `slack_workers` submit Slack report forms, the rest ask
    questions and file web reports (security review M1: under such load Slack's 3 s for a
    report form's acknowledgement was missed)."""
    import uuid

    from tests.fakes.slack_web_api import FakeSlack

    async def run() -> MixedLoad:
        fake = FakeSlack()
        await fake.start()
        assert fake.server is not None
        secret = uuid.uuid4().hex
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as scratch:
            config = Path(scratch) / "policybot.yaml"
            config.write_text(
                "default_org: wiltshire\n"
                "escalations:\n"
                "  wiltshire: {comms: C0COMMS, hr: C0HR, senior: C0SENIOR}\n",
                encoding="utf-8",
            )
            env = {
                **os.environ,
                "DATABASE_URL": f"sqlite+aiosqlite:///{Path(scratch) / 'mixed.sqlite3'}",
                "POLICYBOT_CONFIG": str(config),
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": secret,
                "SLACK_API_URL": str(fake.server.make_url("/api/")),
            }
            env.pop("SLACK_APP_TOKEN", None)
            try:
                with serving(knowledge_root, port, env) as process:
                    await wait_until_healthy(base_url, process)
                    return await _mixed_load(
                        base_url,
                        secret,
                        questions,
                        seconds=seconds,
                        concurrency=concurrency,
                        slack_workers=slack_workers,
                    )
            finally:
                await fake.close()

    return asyncio.run(run())
