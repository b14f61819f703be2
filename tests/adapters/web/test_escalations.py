"""`POST /api/escalations`: a report from the web form becomes one case routed by the council's
rules; bad reports get a 400 naming the field, and nothing is stored for them. The admin API
lists, shows and acts on cases for the holder of the admin token, and for nobody else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from adapters.config import Settings
from adapters.logs import JsonFormatter, quiet_chatty_libraries
from adapters.server import build_app
from adapters.web.escalations import PAGE
from adapters.web.http import SERVICES
from bot.escalation.model import Actor, Reporter, Status
from bot.escalation.report import parse_report
from tests.conftest import shipped_assistant
from tests.fakes.smtp import Mailbox


def report(**changes: Any) -> dict[str, Any]:
    return {
        "org": "wiltshire",
        "what": "A post by a colleague could damage the council's reputation",
        "where": "Facebook group for the town",
        "when": "Yesterday evening",
        "involved": "A colleague",
        "evidence": ["https://social.example/post/1"],
        "reporter": {"name": "Sam", "job_title": "Officer", "area": "Housing", "phone": "0123"},
        "manager_involved": False,
        **changes,
    }


ADMIN_TOKEN = "test-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def start_server(
    tmp_path: Path, desks: dict[str, Any], *, admin_token: str | None = None
) -> TestServer:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}",
        admin_token=SecretStr(admin_token) if admin_token is not None else None,
        **desks,
    )
    test_server = TestServer(
        build_app(settings=settings, assistant=shipped_assistant()), host="127.0.0.1"
    )
    await test_server.start_server()
    return test_server


@pytest.fixture
async def server(tmp_path: Path, desks_by_email: dict[str, Any]) -> AsyncIterator[TestServer]:
    test_server = await start_server(tmp_path, desks_by_email, admin_token=ADMIN_TOKEN)
    yield test_server
    await test_server.close()


@pytest.fixture
async def server_without_token(
    tmp_path: Path, desks_by_email: dict[str, Any]
) -> AsyncIterator[TestServer]:
    test_server = await start_server(tmp_path, desks_by_email)
    yield test_server
    await test_server.close()


async def file_report(server: TestServer, **changes: Any) -> str:
    async with (
        ClientSession() as http,
        http.post(server.make_url("/api/escalations"), json=report(**changes)) as response,
    ):
        assert response.status == 201
        reference: str = (await response.json())["reference"]
    return reference


async def json_of(response: ClientResponse, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


async def test_a_web_report_opens_one_case_routed_by_the_council(server: TestServer) -> None:
    async with (
        ClientSession() as http,
        http.post(server.make_url("/api/escalations"), json=report()) as response,
    ):
        assert response.status == 201
        body = await response.json()
    assert body["status"] == "open" and body["route"] == ["hr", "comms"]  # Wiltshire 23
    assert body["reference"].startswith("WIL-")
    assert server.app is not None
    cases = server.app[SERVICES].cases
    (case,) = await cases.find(org="wiltshire")
    assert case.reference == body["reference"] and case.status is Status.OPEN
    assert case.report.reporter.name == "Sam"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (report(what=""), "what"),
        (report(org="atlantis"), "org"),
        (report(evidence=["not a link"]), "evidence"),
        (report(reporter={"job_title": "Officer"}), "reporter.name"),
        (report(manager_involved="perhaps"), "manager_involved"),
        (report(what="x" * 5000), "what"),
    ],
)
async def test_a_bad_report_gets_a_400_naming_the_field(
    server: TestServer, body: dict[str, Any], field: str
) -> None:
    async with (
        ClientSession() as http,
        http.post(server.make_url("/api/escalations"), json=body) as response,
    ):
        assert response.status == 400
        error = await response.json()
    assert error["field"] == field and field in error["error"]
    assert server.app is not None
    assert await server.app[SERVICES].cases.find() == []


async def test_malformed_json_is_refused(server: TestServer) -> None:
    async with (
        ClientSession() as http,
        http.post(
            server.make_url("/api/escalations"),
            data=b"\xff{not json",
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 400


async def test_the_form_gets_its_choices_from_the_core(server: TestServer) -> None:
    async with ClientSession() as http:
        choices = await json_of(await http.get(server.make_url("/api/escalation-choices")))
    kinds = {kind["value"]: kind["label"] for kind in choices["kinds"]}
    assert len(kinds) == 6
    assert kinds["bullying"] == "Someone is being bullied or harassed online"
    assert [outcome["value"] for outcome in choices["outcomes"]] == [
        "advice_given",
        "content_removed",
        "investigation_opened",
        "no_further_action",
    ]


async def test_admin_lists_and_shows_cases_with_their_timeline(server: TestServer) -> None:
    reference = await file_report(server)
    await file_report(server, org="derbyshire", what="Someone is bullying me on Facebook")
    async with ClientSession(headers=ADMIN) as http:
        everything = await json_of(await http.get(server.make_url("/api/escalations")))
        wiltshire = await json_of(
            await http.get(server.make_url("/api/escalations"), params={"org": "wiltshire"})
        )
        by_route = await json_of(
            await http.get(server.make_url("/api/escalations"), params={"route": "comms"})
        )
        shown_response = await http.get(server.make_url(f"/api/escalations/{reference}"))
        shown = await json_of(shown_response)
    assert len(everything["cases"]) == 2
    assert [case["reference"] for case in wiltshire["cases"]] == [reference]
    assert reference in [case["reference"] for case in by_route["cases"]]
    assert shown_response.headers["Cache-Control"] == "no-store"
    case = shown["case"]
    assert case["council"] == "Wiltshire Council" and case["status"] == "open"
    assert case["report"]["reporter"]["name"] == "Sam"
    assert case["report"]["evidence"] == ["https://social.example/post/1"]
    (reported,) = shown["timeline"]
    assert reported["kind"] == "reported" and reported["by"] == "the reporter"
    assert reported["text"] == "Reported; sent to HR and the communications team"


async def test_an_action_changes_the_case_and_shows_in_the_timeline(server: TestServer) -> None:
    reference = await file_report(server)
    actions = server.make_url(f"/api/escalations/{reference}/actions")
    async with ClientSession(headers=ADMIN) as http:
        acknowledged = await json_of(
            await http.post(actions, json={"action": "acknowledge", "by": "Priya"})
        )
        again = await json_of(
            await http.post(actions, json={"action": "acknowledge", "by": "Priya"})
        )
        noted = await json_of(
            await http.post(actions, json={"action": "note", "by": "Priya", "text": "Rang Sam"})
        )
        resolved = await json_of(
            await http.post(
                actions,
                json={"action": "resolve", "by": "Priya", "outcome": "advice_given"},
            )
        )
        listed = await json_of(
            await http.get(server.make_url("/api/escalations"), params={"status": "resolved"})
        )
    assert acknowledged["changed"] and acknowledged["case"]["status"] == "acknowledged"
    assert not again["changed"] and "already acknowledged" in again["message"]
    assert noted["timeline"][-1]["text"] == "Note: Rang Sam"
    assert resolved["case"]["status"] == "resolved"
    assert resolved["case"]["outcome_label"] == "Advice given"
    timeline = resolved["timeline"]
    assert [event["kind"] for event in timeline] == ["reported", "acknowledged", "note", "resolved"]
    assert {event["actor"] for event in timeline[1:]} == {"admin:Priya"}
    assert [case["reference"] for case in listed["cases"]] == [reference]
    assert server.app is not None
    case = await server.app[SERVICES].cases.get(reference)
    assert case.status is Status.RESOLVED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "delete", "by": "Priya"}, "action"),
        ({"action": "acknowledge"}, "by"),
        ({"action": "acknowledge", "by": "   "}, "by"),
        ({"action": "note", "by": "Priya", "text": ""}, "text"),
        ({"action": "resolve", "by": "Priya"}, "outcome"),
        ({"action": "resolve", "by": "Priya", "outcome": "sacked"}, "outcome"),
        ({"action": "note", "by": "Priya", "text": 42}, "text"),
    ],
)
async def test_a_bad_action_gets_a_400_naming_the_field(
    server: TestServer, body: dict[str, Any], field: str
) -> None:
    reference = await file_report(server)
    async with ClientSession(headers=ADMIN) as http:
        response = await http.post(
            server.make_url(f"/api/escalations/{reference}/actions"), json=body
        )
        error = await json_of(response, 400)
    assert error["field"] == field
    assert server.app is not None
    timeline = await server.app[SERVICES].cases.timeline(reference)
    assert [event.kind for event in timeline] == ["reported"]


async def test_unknown_references_and_filters_are_refused(server: TestServer) -> None:
    async with ClientSession(headers=ADMIN) as http:
        missing = await http.get(server.make_url("/api/escalations/WIL-NOTHERE"))
        await json_of(missing, 404)
        acting = await http.post(
            server.make_url("/api/escalations/WIL-NOTHERE/actions"),
            json={"action": "acknowledge", "by": "Priya"},
        )
        await json_of(acting, 404)
        for name, value in (("status", "closed"), ("route", "police"), ("org", "atlantis")):
            response = await http.get(server.make_url("/api/escalations"), params={name: value})
            assert (await json_of(response, 400))["field"] == name


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {ADMIN_TOKEN}", ADMIN_TOKEN, "Bearer "],
)
async def test_the_admin_api_wants_the_admin_token(
    server: TestServer, authorization: str | None
) -> None:
    reference = await file_report(server)
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with ClientSession(headers=headers) as http:
        requests = [
            http.get(server.make_url("/api/escalations")),
            http.get(server.make_url(f"/api/escalations/{reference}")),
            http.post(
                server.make_url(f"/api/escalations/{reference}/actions"),
                json={"action": "acknowledge", "by": "Mallory"},
            ),
        ]
        for request in requests:
            response = await request
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            body = await response.json()
            assert "token" in body["error"] and ADMIN_TOKEN not in body["error"]
    assert server.app is not None
    case = await server.app[SERVICES].cases.get(reference)
    assert case.status is Status.OPEN


async def test_without_a_configured_token_the_admin_api_is_off(
    server_without_token: TestServer,
) -> None:
    reference = await file_report(server_without_token)
    async with ClientSession(headers={"Authorization": "Bearer anything"}) as http:
        for response in (
            await http.get(server_without_token.make_url("/api/escalations")),
            await http.get(server_without_token.make_url(f"/api/escalations/{reference}")),
            await http.post(
                server_without_token.make_url(f"/api/escalations/{reference}/actions"),
                json={"action": "acknowledge", "by": "Mallory"},
            ),
        ):
            body = await json_of(response, 404)
            assert "POLICYBOT_ADMIN_TOKEN" in body["error"]
        # The page itself loads: it is what tells the person the API is off.
        page = await http.get(server_without_token.make_url("/escalations"))
        assert page.status == 200 and "Admin token" in await page.text()
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


async def test_a_legal_hold_is_set_and_lifted_through_the_admin_api(server: TestServer) -> None:
    reference = await file_report(server)
    actions = server.make_url(f"/api/escalations/{reference}/actions")
    async with ClientSession(headers=ADMIN) as http:
        held = await json_of(
            await http.post(actions, json={"action": "hold", "by": "DPO", "text": "Tribunal"})
        )
        released = await json_of(await http.post(actions, json={"action": "release", "by": "DPO"}))
    assert held["changed"] and held["case"]["legal_hold"] is True
    assert held["timeline"][-1]["text"] == "Put under legal hold: Tribunal"
    assert released["case"]["legal_hold"] is False
    assert released["timeline"][-1]["text"] == "Released from legal hold"


async def test_personal_data_never_reaches_the_logs(
    server: TestServer, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = {
        "name": "Zebedee Quartermaine",
        "phone": "07700 900461",
        "what": "Wobblefritz posted my home address",
        "note": "Spoke to Ottoline Brabazon",
    }
    caplog.set_level(logging.DEBUG)  # the most a server logs, with `configure`'s quieting
    quiet_chatty_libraries()
    reporter = {"name": secrets["name"], "phone": secrets["phone"]}
    reference = await file_report(server, what=secrets["what"], reporter=reporter)
    actions = server.make_url(f"/api/escalations/{reference}/actions")
    async with ClientSession(headers=ADMIN) as http:
        await json_of(
            await http.post(
                actions, json={"action": "note", "by": "Priya", "text": secrets["note"]}
            )
        )
        refused = await http.post(
            server.make_url("/api/escalations"),
            json=report(reporter={"name": secrets["name"], "phone": "x" * 60}),
        )
        assert refused.status == 400
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "incident reported" in logged  # the facts that are logged, are
    for value in secrets.values():
        assert value not in logged


async def test_a_web_reporter_follows_their_report_by_its_token(server: TestServer) -> None:
    async with ClientSession() as http:
        receipt = await json_of(
            await http.post(server.make_url("/api/escalations"), json=report()), 201
        )
        token, reference = receipt["follow"], receipt["reference"]
        actions = server.make_url(f"/api/escalations/{reference}/actions")
        for action in (
            {"action": "acknowledge", "by": "Priya"},
            {"action": "note", "by": "Priya", "text": "Internal: checked the account"},
        ):
            await json_of(await http.post(actions, json=action, headers=ADMIN))
        follow = server.make_url("/api/escalations/follow")
        followed = await json_of(await http.post(follow, json={"tokens": [token, "0" * 32]}))
        for bad in (
            {"tokens": "abc"},
            {"tokens": ["not-a-token"]},
            {"tokens": [token] * 51},
            {"tokens": [f"{token}\n"]},  # a line break after a good token is not one
        ):
            refused = await json_of(await http.post(follow, json=bad), 400)
            assert refused["field"] == "tokens"
    ((mine),) = followed["reports"]  # the unknown token finds nothing
    assert mine["reference"] == reference and mine["status"] == "acknowledged"
    texts = [update["text"] for update in mine["updates"]]
    assert texts == ["Sent to HR and the communications team", "Picked up by the team"]
    assert server.app is not None
    case = await server.app[SERVICES].cases.get(reference)
    assert token not in str(case.reporter.actor)  # only its hash is stored


async def test_a_report_that_would_reach_nobody_is_refused_naming_whom_to_tell(
    tmp_path: Path, desks_by_email: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Security review H3: a council or route without a desk answered 201 "gone to HR"."""
    desks = {**desks_by_email, "escalations": {"gloucestershire": {"comms": {"email": "c@x.uk"}}}}
    with caplog.at_level(logging.ERROR, logger="policybot.server"):
        server = await start_server(tmp_path, desks, admin_token=ADMIN_TOKEN)
    try:
        # Loud at start, once per route that would reach nobody.
        assert [r.getMessage() for r in caplog.records if r.name == "policybot.server"] == [
            "reports would reach nobody, so they are refused: escalations.gloucestershire.hr: "
            "Gloucestershire County Council's reports for HR would reach nobody "
            "(no channel or mailbox)"
        ]
        async with ClientSession() as http:
            for org, kind in (("chelmsford", "reputation"), ("gloucestershire", "bullying")):
                async with http.post(
                    server.make_url("/api/escalations"), json=report(org=org, kind=kind)
                ) as refused:
                    assert refused.status == 503
                    body = await refused.json()
                assert body["field"] == "org" and "cannot be taken here" in body["error"]
                assert body["contacts"] and all(c in body["error"] for c in body["contacts"])
            listed = await json_of(
                await http.get(server.make_url("/api/escalations"), headers=ADMIN)
            )
            assert listed["cases"] == []
            orgs = await json_of(await http.get(server.make_url("/api/orgs")))
            takes = {org["org"]: org["takes_reports"] for org in orgs["orgs"]}
            assert not any(takes.values())
            chelmsford = next(org for org in orgs["orgs"] if org["org"] == "chelmsford")
            assert "Corporate Communications" in chelmsford["report_elsewhere"]
            ready = await json_of(await http.get(server.make_url("/readyz")))
            assert ready["status"] == "ready"  # every council's questions are still answered
            assert ready["reports_reach_nobody"] == [
                "escalations.gloucestershire.hr: Gloucestershire County Council's reports for "
                "HR would reach nobody (no channel or mailbox)"
            ]
            async with http.get(server.make_url("/metrics")) as metrics:
                exposed = await metrics.text()
            assert 'policybot_unreachable_desks{org="gloucestershire",route="hr"} 1.0' in exposed
    finally:
        await server.close()


async def test_a_council_whose_desks_are_set_takes_reports(server: TestServer) -> None:
    async with ClientSession() as http:
        orgs = await json_of(await http.get(server.make_url("/api/orgs")))
        assert all(org["takes_reports"] for org in orgs["orgs"])
        ready = await json_of(await http.get(server.make_url("/readyz")))
        assert ready["reports_reach_nobody"] == []


async def test_a_team_whose_channel_cannot_be_reached_shows_to_the_admin_and_the_reporter(
    server: TestServer, mailbox: Mailbox
) -> None:
    mailbox.refuse = {"hr@wiltshire.example"}
    async with ClientSession() as http:
        receipt = await json_of(
            await http.post(
                server.make_url("/api/escalations"), json=report(kind="bullying")
            ),  # HR only
            201,
        )
        shown = server.make_url(f"/api/escalations/{receipt['reference']}")
        for _ in range(100):
            case = (await json_of(await http.get(shown, headers=ADMIN)))["case"]
            if case["not_yet_delivered"]:
                break
            await asyncio.sleep(0.05)
        assert case["not_yet_delivered"] == ["HR"]
        (alert,) = case["alerts"]
        assert (alert["route"], alert["platform"], alert["state"]) == ("hr", "email", "pending")
        assert alert["error"] and alert["attempts"] >= 1
        listed = await json_of(await http.get(server.make_url("/api/escalations"), headers=ADMIN))
        assert listed["cases"][0]["not_yet_delivered"] == ["HR"]
        follow = server.make_url("/api/escalations/follow")
        followed = await json_of(await http.post(follow, json={"tokens": [receipt["follow"]]}))
        assert followed["reports"][0]["not_yet_delivered"] == ["HR"]


async def test_the_admin_list_pages_through_every_case(server: TestServer) -> None:
    """Security review H5: only the newest 200 were listed, so a flood hid real cases."""
    assert server.app is not None
    cases = server.app[SERVICES].cases
    for number in range(PAGE + 5):
        reporter = Reporter(Actor("web", f"r{number}"))
        await cases.open(parse_report(report(what=f"Case {number}")), reporter)
    listed = server.make_url("/api/escalations")
    async with ClientSession(headers=ADMIN) as http:
        first = await json_of(await http.get(listed))
        assert len(first["cases"]) == PAGE and first["next"] == first["cases"][-1]["reference"]
        second = await json_of(await http.get(listed, params={"before": first["next"]}))
        assert len(second["cases"]) == 5 and second["next"] is None
        seen = {case["reference"] for case in first["cases"] + second["cases"]}
        assert len(seen) == PAGE + 5
        refused = await json_of(await http.get(listed, params={"before": "nope"}), 400)
        assert refused["field"] == "before"
