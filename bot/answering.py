"""Question -> answer, as every platform runs it: the assistant's reply, what is stored of it,
and the feedback on it.

Slack, Teams and the web chat each translate their event into a `Question`, call `answer` (or
`explain`, for a "did you mean" option the asker picked), and render the `Answered` they get
back; a thumbs up or down comes back through `feedback` with the id it carries. What is stored
is the reply's council, kind, clause and score under the asker's salted hash. The question's
text is kept, redacted, only where the policy owner can learn from it: when the bot did not
answer, or when the asker marked the answer not helpful.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.assistant import Assistant, Question, Reply
from bot.matcher import Kind
from bot.redaction import redact
from bot.storage import Asked, Store, opaque_asker

log = logging.getLogger("policybot.answering")
# Answers whose redacted text is held in memory, never stored, in case the asker marks one not
# helpful: a thumbs down comes within minutes. Newest kept; on another replica it is unknown.
RECENT_ANSWERS = 10_000


@dataclass(frozen=True, slots=True)
class Answered:
    reply: Reply
    id: str  # the stored record's id: feedback on this reply names it
    seconds: float  # answering and storing it took this long


class Answering:
    """Answers questions from one platform (`channel`: "slack", "teams", "web"), telling
    `on_answered` of each (the server counts them). `salt`: the settings' asker salt, if they
    give one (else the deployment's own, `Store.asker_salt`). `keeps_text`: whether a council
    keeps the redacted text of questions it could learn from (settings: retention)."""

    def __init__(
        self,
        assistant: Assistant,
        store: Store,
        *,
        salt: str | None,
        channel: str,
        timer: Callable[[], float] = time.perf_counter,
        on_answered: Callable[[Answered], None] | None = None,
        keeps_text: Callable[[str], bool] = lambda org: True,
    ) -> None:
        self.assistant = assistant
        self._store = store
        self._salt = salt
        self._channel = channel
        self._timer = timer
        self._on_answered = on_answered or (lambda answered: None)
        self._keeps_text = keeps_text
        self._recent: OrderedDict[str, str] = OrderedDict()

    async def answer(self, question: Question) -> Answered:
        """Raises `UnknownOrgError` or `QuestionError` (bot.assistant) for a question that
        cannot be answered as sent; nothing is stored for it."""
        started = self._timer()
        reply = await self.assistant.ask_async(question)
        return await self._stored(reply, started)

    async def explain(self, question: Question, clause_id: str) -> Answered:
        """The answer from the clause the asker chose. Raises `UnknownOrgError` or `KeyError`."""
        started = self._timer()
        return await self._stored(self.assistant.explain(question, clause_id), started)

    async def feedback(self, asked_id: str, *, helpful: bool) -> None:
        """Raises `UnknownQuestionError` (bot.storage) for an id never given out, or purged."""
        text = self._recent.pop(asked_id, None) if not helpful else None
        await self._store.record_feedback(asked_id, helpful=helpful, text=text)
        log.info("feedback", extra={"channel": self._channel, "helpful": helpful})

    async def _stored(self, reply: Reply, started: float) -> Answered:
        salt = await self._store.asker_salt(self._salt)
        asker = opaque_asker(reply.question.asker[:200], salt=salt)
        keeps = self._keeps_text(reply.question.org)
        text = redact(reply.question.text) if keeps else None
        unanswered = reply.kind is not Kind.ANSWER
        asked_id = await self._store.record_asked(
            Asked.of(reply, asker=asker, channel=self._channel, text=text if unanswered else None)
        )
        if text is not None and not unanswered:
            self._recent[asked_id] = text
            while len(self._recent) > RECENT_ANSWERS:
                self._recent.popitem(last=False)
        seconds = self._timer() - started
        best = reply.matches[0] if reply.matches else None
        log.info(
            "answered",
            extra={
                "channel": self._channel,
                "org": reply.question.org,
                "kind": reply.kind.value,
                "clause": best.clause.id if best else None,
                "ms": round(seconds * 1000, 2),
            },
        )
        answered = Answered(reply, asked_id, seconds)
        self._on_answered(answered)
        return answered
