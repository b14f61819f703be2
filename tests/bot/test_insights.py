"""What staff asked, as a policy owner sees it: counts from every stored question, themes from
the redacted text of the unanswered ones, against a real database and the shipped model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.answering import Answering
from bot.assistant import Assistant, Question
from bot.insights import gather, group_into_themes
from bot.semantic import shipped_model
from bot.storage import Asked, KeptQuestion, Store
from tests.conftest import shipped_assistant

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
# Four subjects no policy covers, five wordings each, as different staff would type them.
SUBJECTS = {
    "live": [
        "can I live stream the council meeting on facebook?",
        "is livestreaming allowed from the office",
        "am I allowed to broadcast live on instagram during my shift",
        "can we go live on tiktok from the depot",
        "streaming a video live from a council event, ok?",
    ],
    "parking": [
        "how do I get a staff parking permit",
        "where can I park my car at county hall",
        "is there free parking for employees",
        "parking space at work, who do I ask",
        "can I park in the visitor car park",
    ],
    "christmas": [
        "when is the christmas party this year",
        "is the office xmas do paid for",
        "can partners come to the staff christmas party",
        "who organises the festive party",
        "is there a christmas lunch for the team",
    ],
    "mileage": [
        "how do I claim mileage",
        "what is the mileage rate for my own car",
        "can I claim travel expenses for home visits",
        "mileage claim form where",
        "how much per mile do we get paid for driving",
    ],
}


def kept(text: str, asker: str) -> KeptQuestion:
    return KeptQuestion(
        text=text, asker=asker, kind="fallback", clause=None, at=NOW, not_helpful=False
    )


def test_twenty_questions_on_four_subjects_make_four_themes() -> None:
    questions = [
        kept(text, f"{subject}{n}")
        for subject, texts in SUBJECTS.items()
        for n, text in enumerate(texts)
    ]
    stopwords = shipped_assistant().knowledge.vocabulary.stopwords
    themes = group_into_themes(questions, shipped_model(), stopwords=stopwords)
    assert sorted(sorted(theme.questions) for theme in themes) == sorted(
        sorted(texts) for texts in SUBJECTS.values()
    )
    assert all(theme.people == 5 and theme.asked == 5 for theme in themes)
    labels = {theme.label for theme in themes}
    assert {"live", "parking"} <= labels and any("mileage" in label for label in labels)


def test_one_person_asking_twice_counts_once() -> None:
    questions = [kept(text, "same person") for text in SUBJECTS["parking"][:3]]
    (theme,) = group_into_themes(questions, shipped_model())
    assert (theme.people, theme.asked) == (1, 3)
    assert theme.example in SUBJECTS["parking"]


async def test_a_councils_insights_count_every_question_and_theme_the_unanswered(
    assistant: Assistant, store: Store
) -> None:
    service = Answering(assistant, store, salt="s", channel="web")
    for n, text in enumerate(SUBJECTS["parking"]):
        await service.answer(Question(org="wiltshire", text=text, asker=f"p{n}"))
    friend = "Can I accept a friend request from a service user?"
    liked = await service.answer(Question(org="wiltshire", text=friend, asker="a"))
    disliked = await service.answer(Question(org="wiltshire", text=friend, asker="b"))
    await service.answer(Question(org="derbyshire", text="where do I park?", asker="d"))
    await store.flush()
    await service.feedback(liked.id, helpful=True)
    await service.feedback(disliked.id, helpful=False)
    week_ago = Asked(
        org="wiltshire",
        kind="answer",
        clause=liked.reply.matches[0].clause.id,
        score=0.9,
        asker="old",
        channel="slack",
    )
    await store.record_asked(week_ago, at=datetime.now(UTC) - timedelta(days=6))
    await store.flush()

    found = await gather(
        store,
        assistant.knowledge.policy("wiltshire"),
        shipped_model(),
        days=7,
        now=datetime.now(UTC),
    )
    assert (found.asked, found.answered, found.not_covered) == (8, 3, 5)
    assert len(found.days) == 7 and found.days[-1].day == datetime.now(UTC).date().isoformat()
    assert found.days[-1].platforms == {"web": 7} and found.days[0].platforms == {"slack": 1}
    assert found.answer_rate == 3 / 8
    (top,) = found.top_clauses
    assert (top.clause, top.answered, top.not_helpful) == (week_ago.clause, 3, 1)
    assert found.unhelpful_clauses == (top,)
    parking, marked = found.themes
    assert (parking.people, parking.label) == (5, "parking")
    assert marked.questions == (friend,) and marked.not_helpful == 1
