"""Reading a message: its ask apart from its story."""

from __future__ import annotations

import pytest

from bot.reading import is_ask, read, sentences


def test_a_short_question_is_all_ask() -> None:
    reading = read("  can I friend a service user?  ")
    assert reading.ask == reading.text == "can I friend a service user?"
    assert not reading.has_story


def test_the_ask_is_found_after_a_story() -> None:
    reading = read(
        "I got pulled into the HR manager's office Friday, handed screenshots of my last three "
        "Facebook posts and was told to take them down. I was only moaning about the rota. "
        "Can they do that?"
    )
    assert reading.ask == "Can they do that?"
    assert reading.has_story
    assert len(reading.sentences) == 3


@pytest.mark.parametrize(
    "sentence",
    [
        "Should I be worried",  # no question mark
        "please advise on what I should do next",
        "I want to know where I stand",
        "so what happens now",
        'Is it "allowed"?',
    ],
)
def test_asks_without_a_question_mark_or_with_quotes(sentence: str) -> None:
    assert is_ask(sentence)


def test_story_sentences_are_not_asks() -> None:
    assert not is_ask("I posted a photo of the office party on Facebook.")
    assert not is_ask("My manager saw it on Monday")


def test_ellipses_and_line_breaks_end_sentences() -> None:
    assert sentences("I posted it ... then deleted it\nwhat now?") == (
        "I posted it",
        "then deleted it",
        "what now?",
    )


def test_a_long_message_with_no_ask_is_read_whole() -> None:
    text = (
        "A colleague has been posting photos of me from the Christmas party. I did not agree "
        "to it. I have told her twice."
    )
    reading = read(text)
    assert reading.ask == text and not reading.has_story


@pytest.mark.parametrize(
    ("text", "about_someone"),
    [
        ("One of my staff posted a video filmed on a job", True),
        ("a colleague keeps leaving snide comments under my posts", True),
        ("he has been posting my photo in a local group", True),
        ("people are saying nasty things about me online", True),
        ("can I friend a service user?", False),
        ("I posted something by mistake on the council page", False),
        ("my boss saw my post", False),
    ],
)
def test_a_report_about_someone_else_is_told_apart(text: str, about_someone: bool) -> None:
    assert read(text).about_someone is about_someone


def test_a_story_of_disciplinary_steps_is_told_apart() -> None:
    assert read("I've been suspended over a facebook post, is that fair?").after_a_post
    assert read("now there's an investigation and a hearing next week").after_a_post
    assert not read("can I post photos of the office party?").after_a_post


def test_what_was_posted_leaves_out_what_followed_and_the_ask() -> None:
    reading = read(
        "I put a post on facebook slagging off my manager and the way the office is run. "
        "Now I've been suspended pending a disciplinary. Can they do this?"
    )
    assert reading.what_was_posted == (
        "I put a post on facebook slagging off my manager and the way the office is run."
    )
    assert read("I've been suspended over a facebook post, is that fair?").what_was_posted == ""
