"""The knowledge base: each council's policy text and the clauses that quote it.

Layout, one folder per council under the knowledge root:

    knowledge/vocabulary.yaml          shared synonyms, spellings and stop words
    knowledge/<org>/policy.txt         the policy, verbatim
    knowledge/<org>/policy.yaml        council name, title, date, contacts, lines that state no rule
    knowledge/<org>/clauses.yaml       the clauses
    knowledge/<org>/escalations.yaml   where each kind of incident report goes, and why

Loading validates the schema (pydantic) and raises `KnowledgeError` naming the file and the
clause; `check_policy` then finds what a schema cannot: quotes that are not verbatim, duplicate
ids, related ids that do not exist.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ORG_SLUG = re.compile(r"^[a-z][a-z0-9-]*$")
CLAUSE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MIN_QUESTIONS = 5
# What a drafted clause answers before a person writes its answer: the quote, which every front
# end shows under the answer, and nothing the policy does not say.
QUOTE_ANSWER = "Your policy says:"
LABEL_QUOTE_CHARS = 60


class KnowledgeError(Exception):
    """A knowledge file is missing, unreadable or invalid; the message names the file."""


class Route(enum.StrEnum):
    """Who an incident or report about a clause goes to. SENIOR is the route above the line
    manager, for reports where the manager is involved."""

    COMMS = "comms"
    HR = "hr"
    SENIOR = "senior"


class IncidentKind(enum.StrEnum):
    """What a report is about; the same list for every council, routed by each one's policy."""

    BULLYING = "bullying"
    POSTED_BY_MISTAKE = "posted_by_mistake"
    CONFIDENTIAL_LEAK = "confidential_leak"
    UNWANTED_CONTACT = "unwanted_contact"
    REPUTATION = "reputation"
    OTHER = "other"

    @property
    def label(self) -> str:
        return INCIDENT_LABELS[self]


INCIDENT_LABELS = {
    IncidentKind.BULLYING: "Someone is being bullied or harassed online",
    IncidentKind.POSTED_BY_MISTAKE: "Something was posted by mistake",
    IncidentKind.CONFIDENTIAL_LEAK: "Confidential information was shared",
    IncidentKind.UNWANTED_CONTACT: "A service user or member of the public is making contact",
    IncidentKind.REPUTATION: "Content could damage the council's reputation",
    IncidentKind.OTHER: "Something else",
}


@dataclass(frozen=True, slots=True)
class IncidentRoute:
    """Who receives one kind of report, the clause that says so, and what else the policy asks
    of the reporter."""

    routes: tuple[Route, ...]
    clause: str | None
    advice: str | None = None


@dataclass(frozen=True, slots=True)
class EscalationRules:
    kinds: Mapping[IncidentKind, IncidentRoute]
    manager_involved: IncidentRoute

    def route_for(self, kind: IncidentKind, *, manager_involved: bool) -> IncidentRoute:
        return self.manager_involved if manager_involved else self.kinds[kind]

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every route a report can take under these rules, in the order of `Route`."""
        taken = {r for each in (*self.kinds.values(), self.manager_involved) for r in each.routes}
        return tuple(route for route in Route if route in taken)


@dataclass(frozen=True, slots=True)
class Clause:
    id: str
    section: str
    quote: str
    answer: str
    questions: tuple[str, ...]
    route: Route | None = None
    related: tuple[str, ...] = ()
    # The one question, in staff's words, that the answer's verdict ("Yes.", "No.", "It
    # depends.") answers. Shown with the answer everywhere, so that a verdict can never be read
    # as the answer to a question of the other polarity ("should I decline ...?").
    asks: str | None = None
    # Shared topics (knowledge/topics.yaml) this clause addresses: how councils are compared.
    topics: tuple[str, ...] = ()
    # Example questions borrowed from other councils' clauses on the same topics (`kb draft`),
    # not yet reviewed by a person; `questions` holds them too, for the matcher.
    borrowed: tuple[str, ...] = ()
    # Drafted, and no person has written its answer yet: the bot answers with the quote.
    drafted: bool = False

    @property
    def label(self) -> str:
        """How the clause is offered as a "did you mean" option (beside its section): the
        question it answers, or, for a clause nobody has written `asks` for yet, the start of
        its quote."""
        if self.asks:
            return self.asks
        start = " ".join(self.quote.split())
        if len(start) > LABEL_QUOTE_CHARS:
            start = start[:LABEL_QUOTE_CHARS].rsplit(" ", 1)[0] + "\u2026"
        return start


@dataclass(frozen=True, slots=True)
class Contacts:
    """Who to ask, in the policy's own terms, when the policy is silent or something goes wrong."""

    hr: str
    comms: str

    def for_route(self, route: Route | None) -> str:
        return self.comms if route is Route.COMMS else self.hr


@dataclass(frozen=True, slots=True)
class NotRule:
    """A policy line that states no rule (a footer, a version table row): exempt from coverage."""

    text: str
    why: str


@dataclass(frozen=True, slots=True)
class Policy:
    org: str
    council: str
    title: str
    date: str
    contacts: Contacts
    text: str
    clauses: tuple[Clause, ...]
    not_rules: tuple[NotRule, ...] = ()
    source: Path | None = field(default=None, compare=False)
    escalations: EscalationRules | None = None

    def clause(self, clause_id: str) -> Clause:
        for clause in self.clauses:
            if clause.id == clause_id:
                return clause
        raise KeyError(clause_id)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Shared across councils: every group's first term is the one the others are rewritten to."""

    synonyms: tuple[tuple[str, ...], ...]
    broader: Mapping[str, str]
    spellings: Mapping[str, str]
    stopwords: frozenset[str]
    # What the policies are about ("social media"): a message that names it is near them.
    subject: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Topic:
    """Something several councils' policies rule on ("friend requests from service users"),
    named once for all of them so their clauses can be set side by side."""

    id: str
    title: str
    asks: str  # the question, in staff's words, that each council's clause answers


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    policies: Mapping[str, Policy]
    vocabulary: Vocabulary
    # Questions staff ask that no social media policy answers (pay, leave, IT...): the
    # matcher's "none of the above", shared by every council.
    outside: tuple[str, ...] = ()
    root: Path | None = None
    topics: Mapping[str, Topic] = field(default_factory=dict)

    def addressing(self, topic_id: str) -> list[tuple[Policy, tuple[Clause, ...]]]:
        """Each council's clauses on a topic, councils in name order; a council that is silent
        on the topic is left out."""
        found = []
        for org in self.orgs:
            policy = self.policies[org]
            clauses = tuple(c for c in policy.clauses if topic_id in c.topics)
            if clauses:
                found.append((policy, clauses))
        return found

    @property
    def orgs(self) -> tuple[str, ...]:
        return tuple(sorted(self.policies))

    def policy(self, org: str) -> Policy:
        try:
            return self.policies[org]
        except KeyError:
            raise UnknownOrgError(org, self.orgs) from None


class UnknownOrgError(KnowledgeError):
    def __init__(self, org: str, known: Iterable[str]) -> None:
        self.org = org
        super().__init__(f"unknown council {org!r}; known: {', '.join(known)}")


# --- file schema -------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _ClauseFile(_Strict):
    id: str = Field(pattern=CLAUSE_ID.pattern)
    section: str = Field(min_length=1)
    quote: str = Field(min_length=1)
    # None until a person writes it (a drafted clause): the bot answers with the quote.
    answer: str | None = Field(default=None, min_length=1)
    asks: str | None = Field(default=None, min_length=1)
    # At least MIN_QUESTIONS once the answer is written (kb check); a draft may have none.
    questions: list[str] = Field(default_factory=list)
    borrowed: list[str] = Field(default_factory=list)
    route: Route | None = None
    related: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)

    @field_validator("questions", "borrowed")
    @classmethod
    def _questions_are_distinct_and_filled(cls, questions: list[str]) -> list[str]:
        cleaned = [q.strip() for q in questions]
        if any(not q for q in cleaned):
            raise ValueError("an example question is empty")
        seen: set[str] = set()
        for question in cleaned:
            key = question.casefold()
            if key in seen:
                raise ValueError(f"example question repeated: {question!r}")
            seen.add(key)
        return cleaned


class _ClausesFile(_Strict):
    clauses: list[_ClauseFile] = Field(min_length=1)


class _ContactsFile(_Strict):
    hr: str = Field(min_length=1)
    comms: str = Field(min_length=1)


class _NotRuleFile(_Strict):
    text: str = Field(min_length=1)
    why: str = Field(min_length=1)


class _PolicyFile(_Strict):
    council: str = Field(min_length=1)
    title: str = Field(min_length=1)
    date: str = Field(min_length=1)
    contacts: _ContactsFile
    not_rules: list[_NotRuleFile] = Field(default_factory=list)


class _IncidentRouteFile(_Strict):
    routes: list[Route] = Field(min_length=1)
    clause: str | None
    advice: str | None = None

    def parsed(self) -> IncidentRoute:
        return IncidentRoute(routes=tuple(self.routes), clause=self.clause, advice=self.advice)


class _EscalationsFile(_Strict):
    kinds: dict[IncidentKind, _IncidentRouteFile]
    manager_involved: _IncidentRouteFile

    @field_validator("kinds")
    @classmethod
    def _every_kind_is_routed(
        cls, kinds: dict[IncidentKind, _IncidentRouteFile]
    ) -> dict[IncidentKind, _IncidentRouteFile]:
        missing = [kind.value for kind in IncidentKind if kind not in kinds]
        if missing:
            raise ValueError(f"no route for {', '.join(missing)}")
        return kinds


class _OutsideFile(_Strict):
    questions: list[str] = Field(default_factory=list)


class _TopicFile(_Strict):
    id: str = Field(pattern=CLAUSE_ID.pattern)
    title: str = Field(min_length=1)
    asks: str = Field(min_length=1, pattern=r"\?$")


class _TopicsFile(_Strict):
    topics: list[_TopicFile] = Field(min_length=1)


class _VocabularyFile(_Strict):
    synonyms: list[list[str]] = Field(default_factory=list)
    broader: dict[str, str] = Field(default_factory=dict)
    spellings: dict[str, str] = Field(default_factory=dict)
    stopwords: list[str] = Field(default_factory=list)
    subject: list[str] = Field(default_factory=list)


# --- loading -----------------------------------------------------------------------------------


def _read_yaml(path: Path) -> Any:
    try:
        # libyaml's loader when PyYAML was built with it: several times faster to start up.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except FileNotFoundError:
        raise KnowledgeError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path}: cannot read: {exc}") from None


def _describe(path: Path, data: Any, error: ValidationError) -> str:
    """One line per schema problem, naming the clause id where the problem sits in a clause."""
    lines = []
    for problem in error.errors():
        location = list(problem["loc"])
        where = ".".join(str(part) for part in location)
        if location[:1] == ["clauses"] and len(location) > 1 and isinstance(location[1], int):
            try:
                clause_id = data["clauses"][location[1]].get("id", "?")
            except (KeyError, IndexError, TypeError, AttributeError):
                clause_id = "?"
            where = f"clause {clause_id!r} " + ".".join(str(part) for part in location[2:])
        lines.append(f"{path}: {where.strip()}: {problem['msg']}")
    return "\n".join(lines)


_Model = TypeVar("_Model", bound=BaseModel)


def _validate(model: type[_Model], path: Path) -> _Model:
    data = _read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise KnowledgeError(_describe(path, data, exc)) from None


def load_vocabulary(path: Path) -> Vocabulary:
    parsed = _validate(_VocabularyFile, path)
    # A term in two synonym groups would silently belong to whichever comes last.
    seen: dict[str, int] = {}
    for number, group in enumerate(parsed.synonyms, start=1):
        for term in group:
            key = term.strip().lower()
            if key in seen and seen[key] != number:
                raise KnowledgeError(
                    f"{path}: synonyms: {term!r} is in group {seen[key]} and group {number}"
                )
            seen[key] = number
    return Vocabulary(
        synonyms=tuple(tuple(term.strip().lower() for term in group) for group in parsed.synonyms),
        broader={k.lower(): v.lower() for k, v in parsed.broader.items()},
        spellings={k.lower(): v.lower() for k, v in parsed.spellings.items()},
        stopwords=frozenset(word.lower() for word in parsed.stopwords),
        subject=tuple(term.strip().lower() for term in parsed.subject),
    )


def load_policy(folder: Path) -> Policy:
    org = folder.name
    if not ORG_SLUG.match(org):
        raise KnowledgeError(f"{folder}: folder name is not a council slug (a-z, 0-9, -)")
    try:
        text = (folder / "policy.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{folder / 'policy.txt'}: cannot read: {exc}") from None
    meta = _validate(_PolicyFile, folder / "policy.yaml")
    clauses = _validate(_ClausesFile, folder / "clauses.yaml")
    escalations = None
    if (folder / "escalations.yaml").exists():
        rules = _validate(_EscalationsFile, folder / "escalations.yaml")
        escalations = EscalationRules(
            kinds={kind: route.parsed() for kind, route in rules.kinds.items()},
            manager_involved=rules.manager_involved.parsed(),
        )
    return Policy(
        org=org,
        council=meta.council,
        title=meta.title,
        date=meta.date,
        contacts=Contacts(hr=meta.contacts.hr, comms=meta.contacts.comms),
        text=text,
        clauses=tuple(
            Clause(
                id=c.id,
                section=c.section,
                quote=c.quote,
                answer=c.answer or QUOTE_ANSWER,
                questions=tuple(dict.fromkeys((*c.questions, *c.borrowed))),
                route=c.route,
                related=tuple(c.related),
                asks=c.asks,
                topics=tuple(c.topics),
                borrowed=tuple(c.borrowed),
                drafted=c.answer is None,
            )
            for c in clauses.clauses
        ),
        not_rules=tuple(NotRule(text=n.text, why=n.why) for n in meta.not_rules),
        source=folder,
        escalations=escalations,
    )


def council_folders(folder: Path) -> list[Path]:
    """`folder` itself when it is a council's (it holds a policy.txt), else the council folders
    in it."""
    if not folder.is_dir():
        raise KnowledgeError(f"{folder}: knowledge folder not found")
    if (folder / "policy.txt").exists():
        return [folder]
    return sorted(sub for sub in folder.iterdir() if sub.is_dir() and (sub / "policy.txt").exists())


def load_knowledge(
    root: Path, *, orgs: Iterable[str] | None = None, councils: Iterable[Path] = ()
) -> KnowledgeBase:
    """Load the council folders under `root` (all, or just `orgs`), with the vocabulary, topics
    and "outside" questions there.

    `councils`: more council folders, or folders of them, kept outside `root` (a council's own
    knowledge need not live in this repository); one named like a council under `root`
    replaces it. Raises `KnowledgeError` on the first bad file and `UnknownOrgError` for a
    council not there.
    """
    if not root.is_dir():
        raise KnowledgeError(f"{root}: knowledge folder not found")
    vocabulary = load_vocabulary(root / "vocabulary.yaml")
    folders = {folder.name: folder for folder in council_folders(root)}
    for extra in councils:
        found = council_folders(extra)
        if not found:
            raise KnowledgeError(f"{extra}: no council folders (each needs a policy.txt)")
        folders.update((folder.name, folder) for folder in found)
    available = sorted(folders)
    if not available:
        raise KnowledgeError(f"{root}: no council folders (each needs a policy.txt)")
    wanted = available if orgs is None else list(orgs)
    for org in wanted:
        if org not in available:
            raise UnknownOrgError(org, available)
    policies = {org: load_policy(folders[org]) for org in wanted}
    outside_file = root / "outside.yaml"
    outside = _validate(_OutsideFile, outside_file).questions if outside_file.exists() else []
    return KnowledgeBase(
        policies=policies,
        vocabulary=vocabulary,
        outside=tuple(outside),
        root=root,
        topics=load_topics(root / "topics.yaml"),
    )


def load_topics(path: Path) -> dict[str, Topic]:
    """The shared topics, in the file's order; none when the knowledge has no topics file."""
    if not path.exists():
        return {}
    topics: dict[str, Topic] = {}
    for entry in _validate(_TopicsFile, path).topics:
        if entry.id in topics:
            raise KnowledgeError(f"{path}: topic {entry.id!r} is listed twice")
        topics[entry.id] = Topic(id=entry.id, title=entry.title, asks=entry.asks)
    return topics


def default_root() -> Path:
    """The knowledge folder shipped beside the `bot` package (in a checkout and in a wheel)."""
    return Path(__file__).resolve().parent.parent / "knowledge"
