"""The values that cross the escalation flow's boundary."""

from __future__ import annotations

import pytest

from bot.escalation.model import POLICYBOT, Actor


@pytest.mark.parametrize(
    ("written", "actor", "shown"),
    [
        ("slack:U123", Actor("slack", "U123"), "U123"),
        ("teams:29:1abc", Actor("teams", "29:1abc"), "29:1abc"),  # ids may hold colons
        ("admin:Priya Shah", Actor("admin", "Priya Shah"), "Priya Shah"),
        ("policybot", POLICYBOT, "policybot"),
    ],
)
def test_an_actor_reads_back_as_it_is_written(written: str, actor: Actor, shown: str) -> None:
    assert Actor.parse(written) == actor
    assert str(actor) == written
    assert actor.shown == shown


def test_a_platform_without_an_id_is_no_platform() -> None:
    assert Actor.parse("slack:") == Actor("", "slack:")
    assert not Actor.parse("slack:").platform
