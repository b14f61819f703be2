"""Question -> answer as every platform runs it, against a real database."""

from __future__ import annotations

import logging

import pytest

from bot.answering import Answering
from bot.assistant import Assistant, Clarify, Question, QuestionError
from bot.storage import Store, UnknownQuestionError, opaque_asker

SALT = "pepper"


def answering(assistant: Assistant, store: Store) -> Answering:
    return Answering(assistant, store, salt=SALT, channel="slack", timer=iter(range(100)).__next__)


async def test_an_answer_is_stored_without_its_text_under_the_askers_hash(
    assistant: Assistant, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="policybot.answering")
    question = Question(org="derbyshire", text="Can I friend a service user?", asker="U123")
    answered = await answering(assistant, store).answer(question)
    await store.flush()

    (record,) = await store.asked_by(opaque_asker("U123", salt=SALT))
    assert record.id == answered.id and answered.seconds == 1
    assert (record.org, record.kind, record.channel) == ("derbyshire", "answer", "slack")
    assert record.clause == answered.reply.matches[0].clause.id
    assert await store.asked_by("U123") == []  # never under the platform's own id
    logged = " ".join(str(vars(r)) for r in caplog.records)
    assert "answered" in logged and "service user" not in logged and "U123" not in logged


async def test_feedback_is_kept_with_the_answer_it_names(
    assistant: Assistant, store: Store
) -> None:
    service = answering(assistant, store)
    answered = await service.answer(Question(org="wiltshire", text="can I tweet?", asker="U1"))
    await store.flush()
    await service.feedback(answered.id, helpful=False)
    await store.flush()
    (record,) = await store.asked_by(opaque_asker("U1", salt=SALT))
    assert record.helpful == [False]
    with pytest.raises(UnknownQuestionError):
        await service.feedback("never-given-out", helpful=True)


async def test_a_chosen_option_is_stored_as_the_clause_chosen(
    assistant: Assistant, store: Store
) -> None:
    service = answering(assistant, store)
    offered = await service.answer(Question(org="derbyshire", text="can I tweet?", asker="U1"))
    assert isinstance(offered.reply, Clarify)
    chosen = offered.reply.options[0].clause.id
    explained = await service.explain(Question(org="derbyshire", text=chosen, asker="U1"), chosen)
    await store.flush()
    records = await store.asked_by(opaque_asker("U1", salt=SALT))
    assert [(r.kind, r.clause) for r in records] == [
        ("clarify", chosen),
        ("answer", chosen),
    ]
    assert explained.id == records[1].id


async def test_a_question_that_cannot_be_answered_stores_nothing(
    assistant: Assistant, store: Store
) -> None:
    with pytest.raises(QuestionError):
        await answering(assistant, store).answer(Question(org="derbyshire", text="  ", asker="U1"))
    await store.flush()
    assert await store.asked_by(opaque_asker("U1", salt=SALT)) == []


async def test_an_unanswered_question_keeps_its_text_with_personal_details_removed(
    assistant: Assistant, store: Store
) -> None:
    service = answering(assistant, store)
    text = "Can I claim mileage? Email jo.smith@council.gov.uk or ring 07700 900123"
    answered = await service.answer(Question(org="derbyshire", text=text, asker="U1"))
    assert answered.reply.kind.value == "fallback"
    await store.flush()
    (record,) = await store.asked_by(opaque_asker("U1", salt=SALT))
    assert record.text == "Can I claim mileage? Email [email] or ring [phone]"


async def test_an_answer_keeps_its_text_only_once_marked_not_helpful(
    assistant: Assistant, store: Store
) -> None:
    service = answering(assistant, store)
    question = "Can I accept a friend request from a service user?"
    liked = await service.answer(Question(org="derbyshire", text=question, asker="U1"))
    disliked = await service.answer(Question(org="derbyshire", text=question, asker="U2"))
    assert liked.reply.kind.value == "answer"
    await store.flush()
    await service.feedback(liked.id, helpful=True)
    await service.feedback(disliked.id, helpful=False)
    await store.flush()
    (kept_liked,) = await store.asked_by(opaque_asker("U1", salt=SALT))
    (kept_disliked,) = await store.asked_by(opaque_asker("U2", salt=SALT))
    assert kept_liked.text is None
    assert kept_disliked.text == question and kept_disliked.helpful == [False]


async def test_a_council_that_keeps_no_text_keeps_none(assistant: Assistant, store: Store) -> None:
    service = Answering(
        assistant, store, salt=SALT, channel="web", keeps_text=lambda org: org != "derbyshire"
    )
    unanswered = "Can I claim mileage for my car?"
    await service.answer(Question(org="derbyshire", text=unanswered, asker="U1"))
    answered = await service.answer(Question(org="derbyshire", text="can I tweet?", asker="U1"))
    await store.flush()
    await service.feedback(answered.id, helpful=False)
    await service.answer(Question(org="wiltshire", text=unanswered, asker="U1"))
    await store.flush()
    texts = {r.org: r.text for r in await store.asked_by(opaque_asker("U1", salt=SALT))}
    assert texts == {"derbyshire": None, "wiltshire": unanswered}
