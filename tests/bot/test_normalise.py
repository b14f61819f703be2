"""Normalisation: the same terms for the same meaning, however it is typed."""

from __future__ import annotations

import pytest

from bot.knowledge import KnowledgeBase
from bot.normalise import Normaliser, stem, words


@pytest.fixture(scope="module")
def normaliser(knowledge: KnowledgeBase) -> Normaliser:
    clauses = [c for p in knowledge.policies.values() for c in p.clauses]
    return Normaliser(
        knowledge.vocabulary,
        known_text=[c.quote for c in clauses],
        typed_text=[q for c in clauses for q in c.questions],
    )


@pytest.mark.parametrize(
    ("forms", "stemmed"),
    [
        (("post", "posts", "posted", "posting"), "post"),
        (("share", "shared", "sharing", "shares"), "shar"),
        (("policy", "policies"), "policy"),
        (("bully", "bullied", "bullying", "bullies"), "bully"),
        (("criticise", "criticised", "criticising"), "criticis"),
        (("use", "used", "using"), "use"),
    ],
)
def test_stem_brings_forms_together(forms: tuple[str, ...], stemmed: str) -> None:
    assert {stem(form) for form in forms} == {stemmed}


def test_words_expand_contractions_and_straighten_quotes() -> None:
    assert words("I can\u2019t, won't and shouldn't; it's Jo's") == [
        "i",
        "can",
        "not",
        "will",
        "not",
        "and",
        "should",
        "not",
        "it",
        "jo",
    ]


def test_synonyms_meet_at_one_term(normaliser: Normaliser) -> None:
    assert normaliser.terms("can I friend a service user") == normaliser.terms("can I add a client")
    assert normaliser.terms("my boss") == normaliser.terms("my line manager")
    assert normaliser.terms("will I get sacked") == normaliser.terms("will I be dismissed")


def test_platforms_keep_their_name_and_count_as_social_media(normaliser: Normaliser) -> None:
    terms = normaliser.terms("on Insta")
    assert "social_media" in terms
    assert "instagram" in terms


def test_misspellings_are_corrected_to_known_words(normaliser: Normaliser) -> None:
    assert normaliser.terms("can I frend a servise user on facebok") == normaliser.terms(
        "can I friend a service user on facebook"
    )
    assert normaliser.terms("my collegue is harrasing me") == normaliser.terms(
        "my colleague is harassing me"
    )


def test_it_in_capitals_is_the_it_department() -> None:
    assert "ict" in words("Can IT see what I browse?")
    assert "ict" not in words("CAN I POST IT?")
    assert "ict" not in words("is it ok")


def test_american_spelling_and_stopwords(normaliser: Normaliser) -> None:
    assert normaliser.terms("Can I criticize the organization?") == normaliser.terms(
        "criticise organisation"
    )
    assert normaliser.terms("is it ok if I do it?") == ()


def test_indexing_skips_correction(normaliser: Normaliser) -> None:
    assert normaliser.terms("zxqvbn", correct=False) == ("zxqvbn",)
