"""The fake Slack Web API every Slack test talks to: a local server on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.slack_web_api import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.close()
