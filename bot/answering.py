"""Question -> answer, as every platform runs it: the assistant's reply, what is stored of it,
and the feedback on it.

Slack, Teams and the web chat each translate their event into a `Question`, call `answer` (or
`explain`, for a "did you mean" option the asker picked), and render the `Answered` they get
back; a thumbs up or down comes back through `feedback` with the id it carries. What is stored
is the reply's council, kind, clause and score under the asker's salted hash, never its text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.assistant import Assistant, Question, Reply
from bot.storage import Asked, Store, opaque_asker

log = logging.getLogger("policybot.answering")


@dataclass(frozen=True, slots=True)
class Answered:
    reply: Reply
    id: str  # the stored record's id: feedback on this reply names it
    seconds: float  # answering and storing it took this long


class Answering:
    """Answers questions from one platform (`channel`: "slack", "teams", "web"), telling
    `on_answered` of each (the server counts them). `salt`: the settings' asker salt, if they
    give one (else the deployment's own, `Store.asker_salt`)."""

    def __init__(
        self,
        assistant: Assistant,
        store: Store,
        *,
        salt: str | None,
        channel: str,
        timer: Callable[[], float] = time.perf_counter,
        on_answered: Callable[[Answered], None] | None = None,
    ) -> None:
        self.assistant = assistant
        self._store = store
        self._salt = salt
        self._channel = channel
        self._timer = timer
        self._on_answered = on_answered or (lambda answered: None)

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
        await self._store.record_feedback(asked_id, helpful=helpful)
        log.info("feedback", extra={"channel": self._channel, "helpful": helpful})

    async def _stored(self, reply: Reply, started: float) -> Answered:
        salt = await self._store.asker_salt(self._salt)
        asker = opaque_asker(reply.question.asker[:200], salt=salt)
        asked_id = await self._store.record_asked(
            Asked.of(reply, asker=asker, channel=self._channel)
        )
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
