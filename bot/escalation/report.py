"""The report: what the form collects on every front end, validated field by field, and what a
report is about when the form did not ask."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.knowledge import IncidentKind


class ReporterDetails(BaseModel):
    """Who is reporting, after West Dunbartonshire's record of concern (Appendix A)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    job_title: str = Field(default="", max_length=200)
    area: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=50)


class IncidentReport(BaseModel):
    """What the form collects, on every front end. Validation errors name the field."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    org: str = Field(min_length=1, max_length=64)
    what: str = Field(min_length=1, max_length=4000)
    where: str = Field(default="", max_length=1000)
    when: str = Field(default="", max_length=200)
    involved: str = Field(default="", max_length=1000)
    evidence: list[str] = Field(default_factory=list, max_length=20)
    reporter: ReporterDetails
    # Strict: a form that sends "yes" or 1 is a bug to refuse, not a line manager to involve
    # (security review L7); every front end sends a JSON true or false.
    manager_involved: bool = Field(default=False, strict=True)
    kind: IncidentKind | None = None

    @field_validator("evidence")
    @classmethod
    def _evidence_is_links(cls, links: list[str]) -> list[str]:
        cleaned = [link.strip() for link in links if link.strip()]
        for link in cleaned:
            if not link.startswith(("https://", "http://")) or len(link) > 2000:
                raise ValueError(f"not a web link: {link[:60]!r}")
        return cleaned


class ReportError(ValueError):
    """A report that cannot be accepted; `field` names the part at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def parse_report(data: Any) -> IncidentReport:
    """An `IncidentReport` from JSON-like data, or `ReportError` naming the first bad field."""
    try:
        return IncidentReport.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "report"
        # Our own validators' messages come prefixed by pydantic; staff see them as they are.
        raise ReportError(where, first["msg"].removeprefix("Value error, ")) from None


# Words that say what a report is about, when the form did not ask. First match wins, in this
# order: a report of bullying that mentions the press is still about bullying.
KIND_CUES: Sequence[tuple[IncidentKind, tuple[str, ...]]] = (
    (
        IncidentKind.BULLYING,
        ("bully", "harass", "troll", "nasty", "abus", "intimidat", "threaten", "about me"),
    ),
    (
        IncidentKind.POSTED_BY_MISTAKE,
        ("mistake", "by accident", "accidental", "in error", "wrong account", "shouldn't have"),
    ),
    (
        IncidentKind.CONFIDENTIAL_LEAK,
        ("confidential", "personal data", "leak", "data breach", "address", "sensitive"),
    ),
    (
        IncidentKind.UNWANTED_CONTACT,
        ("friend request", "service user", "client", "messag", "contact", "follow", "stalk"),
    ),
    (
        IncidentKind.REPUTATION,
        ("reputation", "press", "newspaper", "journalist", "media", "viral", "disrepute"),
    ),
)


def kind_of(text: str) -> IncidentKind:
    lowered = text.casefold()
    for kind, cues in KIND_CUES:
        if any(cue in lowered for cue in cues):
            return kind
    return IncidentKind.OTHER
