from __future__ import annotations

import pytest

from tests.bot.escalation.case_fixtures import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()
