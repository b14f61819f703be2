"""Reading verdicts from answers and which way round a question is asked."""

from __future__ import annotations

import pytest

from bot.verdict import Verdict, is_question, polarity, same_polarity, verdict_of


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("Yes. The policy applies to agency staff.", Verdict.YES),
        ("Yes, if your manager agrees.", Verdict.YES),
        ("yes you can", Verdict.YES),
        ("No. Never accept a friend request ...", Verdict.NO),
        ("No, not unless you are authorised.", Verdict.NO),
        ("No - never.", Verdict.NO),
        ("Usually no.", Verdict.NO),
        ("It depends. If your post is politically restricted ...", Verdict.DEPENDS),
        ("Depends on your role.", Verdict.DEPENDS),
        # A rule stated plainly carries no verdict, and neither do "No one" or "No personal".
        ("Never accept a friend request from a service user.", None),
        ("No one may speak for the council unless authorised.", None),
        ("No personal use of social media is allowed in working time.", None),
        ("Nobody is exempt.", None),
        ("Only with permission: using someone else's images ...", None),
        ("The policy still applies even if you don't name the council.", None),
    ],
)
def test_the_verdict_an_answer_opens_with(answer: str, verdict: Verdict | None) -> None:
    assert verdict_of(answer) is verdict


def test_a_verdict_turned_round() -> None:
    assert Verdict.YES.flipped() is Verdict.NO
    assert Verdict.NO.flipped() is Verdict.YES
    assert Verdict.DEPENDS.flipped() is Verdict.DEPENDS


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("Can I accept a friend request from a service user?", True),
        ("Does the policy apply to agency staff?", True),
        ("Friend requests.", False),
        ("Friend requests?", False),
        ("?", False),
    ],
)
def test_an_asks_must_be_a_question(text: str, question: bool) -> None:
    assert is_question(text) is question


ACCEPT = "Can I accept a friend request from a service user?"


@pytest.mark.parametrize(
    ("question", "asks", "same"),
    [
        # The pairs the reviews found inverted by one fixed opener.
        ("Should I decline a friend request from a service user?", ACCEPT, False),
        ("servise user sent me a frend request, is it ok to add them", ACCEPT, True),
        ("can I friend a client?", ACCEPT, True),
        ("is it a breach to post a meme making fun of disabled people", "Can I post that?", False),
        ("would I be in trouble for homophobic comments on twitter", "Can I post that?", False),
        ("whatsapp during working hours, is that banned", "Can I use WhatsApp at work?", False),
        ("Is it OK to like or share an offensive post?", "Can I share offensive posts?", True),
        (
            "does confidentiality still apply after I leave the council",
            "Can I publish confidential information?",
            False,
        ),
        (
            "Do I need permission to post a friend's photos?",
            "Can I use other people's photos without permission?",
            False,
        ),
        (
            "Am I safe posting anonymously if I don't name the council?",
            "Does the policy still apply if I don't name the council?",
            False,
        ),
        (
            "my messages are private not public posts, so the rules don't apply right?",
            "Does the policy cover private messages?",
            False,
        ),
        (
            "I posted a rumour about the council but it wasn't true, am I in trouble?",
            "Can I post false statements about the council?",
            False,
        ),
        (
            "is posting something that bullies someone covered by the policy",
            "Can I post bullying content?",
            False,
        ),
        ("Isn't that allowed?", "Can I do that?", True),
        ("could I be disciplined for a post?", "Can a post lead to disciplinary action?", True),
        # Questions that cannot be answered yes or no have no polarity.
        ("what should I do if a friend comments about work?", ACCEPT, None),
        ("a client's daughter sent me a friend request, what do I do?", ACCEPT, None),
        ("fb at lunch?", "Can I use Facebook at lunch?", None),
    ],
)
def test_which_way_round_a_question_is_asked(question: str, asks: str, same: bool | None) -> None:
    assert same_polarity(question, asks) is same


def test_the_last_question_of_a_story_decides() -> None:
    story = (
        "My manager said I can post about the open day. I did, and a councillor complained. "
        "Is that a breach?"
    )
    assert polarity(story) == -1
    assert polarity("Is that a breach? Can I keep the post up?") == 1
