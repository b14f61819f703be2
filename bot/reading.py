"""Reads a message the way an HR adviser does: what is being asked, and the story around it.

Staff rarely send one clean question. They write "I got pulled into the HR manager's office
Friday, handed screenshots of my posts ... can they do that?": a story, then the ask. The ask
says which rule is in question; the story says what happened. A `Reading` keeps both, so the
matcher can weigh the ask above the background while still using the story's details ("a
patient", "Facebook", "suspended").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Sentence ends: . ! ? (with any run of them), an ellipsis that stands for left-out text, or a
# line break. Abbreviations split wrongly cost little: a fragment with no ask is story.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\s*(?:\.{3,}|…)\s*|\s*\n+\s*")
# A sentence that asks, though it may not end with "?": staff often drop it.
_ASKING_START = re.compile(
    r"^(?:so |but |and |also |then |now |please |just )*"
    r"(?:can|could|may|might|am|is|are|was|were|do|does|did|should|shall|would|will|have|has|"
    r"must|what|how|why|when|where|who|whom|which|whose|any)\b",
    re.IGNORECASE,
)
_ASKING_PHRASE = re.compile(
    r"\b(?:i (?:want|need|would like|'d like) to know|i(?: am|'m) wondering|i wonder|"
    r"wondering (?:if|whether)|please (?:advise|help|tell)|any (?:advice|help|ideas|thoughts)|"
    r"advice (?:on|please|needed)|can (?:they|he|she|my \w+|the \w+) (?:do|ask|make|stop|force)|"
    r"what (?:happens|should|can|do)|am i allowed|is it (?:ok|okay|allowed|legal|right|fair)|"
    r"(?:let me|tell me) know)\b",
    re.IGNORECASE,
)
_LIST_MARKS = " \t*-\N{BULLET}\N{EN DASH}\N{EM DASH}"
# A story of what followed a post (a meeting, a suspension...): the reply then also says what the
# policy says happens next.
_CONSEQUENCES = re.compile(
    r"\b(?:disciplin\w*|suspen(?:d|ded|sion)|sack(?:ed|ing)?|fired|dismiss\w*|investigat\w*|"
    r"misconduct|hearing|written warning|final warning)\b",
    re.IGNORECASE,
)
# A report about someone else: a manager about their staff, a colleague about a colleague, the
# target of someone's posts. Such a message is an incident to pass on, whatever rule it names.
_ABOUT_SOMEONE = re.compile(
    r"\b(?:one of my (?:staff|team|workers|employees)|members? of (?:my )?(?:staff|team)|"
    r"(?:a|my|another|one) (?:colleague|co-?worker|team ?mate|lad|woman|man|guy|girl)\b|"
    r"someone|somebody|(?:he|she|they) (?:has|have|had|is|are|was|were|keeps?) "
    r"(?:been )?(?:post|shar|comment|mak|send|tag|upload)\w*|(?:about|of|at) me\b)",
    re.IGNORECASE,
)
# A message this short is one ask, however it is punctuated.
_SHORT_WORDS = 12


@dataclass(frozen=True, slots=True)
class Reading:
    text: str  # the whole message
    ask: str  # the sentences that ask something; the whole message when none stands out
    sentences: tuple[str, ...]

    @property
    def after_a_post(self) -> bool:
        """The message tells of disciplinary steps taken or feared: what happens next matters."""
        return bool(_CONSEQUENCES.search(self.text))

    @property
    def what_was_posted(self) -> str:
        """The sentences that tell what was done, not what followed or what is asked: where the
        rule that was broken shows ("I put a post on Facebook slagging off my manager"). Empty
        when no sentence does that alone."""
        if not self.has_story:
            return ""
        return " ".join(
            part for part in self.sentences if not is_ask(part) and not _CONSEQUENCES.search(part)
        )

    @property
    def about_someone(self) -> bool:
        """The message reports what someone else did: an incident for HR or communications."""
        return bool(_ABOUT_SOMEONE.search(self.text))

    @property
    def has_story(self) -> bool:
        """The message says more than its ask: background, what happened, who did what."""
        return self.ask != self.text


def sentences(text: str) -> tuple[str, ...]:
    parts = (part.strip(_LIST_MARKS) for part in _SENTENCE_END.split(text))
    return tuple(part for part in parts if part)


def is_ask(sentence: str) -> bool:
    return (
        sentence.rstrip("\"') ").endswith("?")
        or bool(_ASKING_START.match(sentence))
        or bool(_ASKING_PHRASE.search(sentence))
    )


def read(text: str) -> Reading:
    """The message split into its ask and its story."""
    text = text.strip()
    parts = sentences(text)
    if len(parts) <= 1 or len(text.split()) <= _SHORT_WORDS:
        return Reading(text, text, parts or (text,))
    asks = [part for part in parts if is_ask(part)]
    ask = " ".join(asks) if asks else text
    return Reading(text, ask, parts)
