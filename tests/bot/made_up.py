"""A made-up council's policy, for tests of the rules that need no real council."""

from __future__ import annotations

from bot.knowledge import Clause, Contacts, NotRule, Policy


def made_up_policy(*clauses: Clause, text: str = "", not_rules: tuple[NotRule, ...] = ()) -> Policy:
    return Policy(
        org="testshire",
        council="Testshire Council",
        title="Social Media Policy",
        date="2024",
        contacts=Contacts(hr="HR", comms="Comms"),
        text=text,
        clauses=clauses,
        not_rules=not_rules,
    )
