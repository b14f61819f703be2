import pytest

from bot.redaction import MAX_KEPT_CHARS, redact


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("email jo.smith+hr@derbyshire.gov.uk about it", "email [email] about it", "jo.smith"),
        ("ring me on 07700 900123 please", "ring me on [phone] please", "900123"),
        ("call +44 (0)1332 123456", "call [phone]", "123456"),
        ("my number is 01452-425000.", "my number is [phone].", "425000"),
        ("see https://facebook.com/jo.smith/posts/1", "see [link]", "jo.smith"),
        ("see www.example.org/x?id=5 now", "see [link] now", "example"),
        ("<@U024BE7LH> is posting about me", "[person] is posting about me", "U024BE7LH"),
        ("ask <@U024BE7LH|jo> in <#C1234|general>", "ask [person] in [person]", "general"),
        ("<at>Jo Smith</at> keeps messaging me", "[person] keeps messaging me", "Jo"),
        ("she tagged @jo_smith99 on insta", "she tagged [person] on insta", "jo_smith"),
        ("my staff number is 4481920", "my staff number is [number]", "4481920"),
        ("NI number QQ 12 34 56 C", "NI number [number]", "QQ"),
        ("I live at DE1 3AB", "I live at [postcode]", "DE1"),
    ],
)
def test_personal_details_are_replaced_by_labels(text: str, kept: str, gone: str) -> None:
    redacted = redact(text)
    assert redacted == kept
    assert gone not in redacted


def test_the_question_itself_is_left_alone() -> None:
    question = "Can I post a photo of my team at the 2024 awards @ the town hall at 5pm?"
    assert redact(question) == question


def test_a_long_question_is_cut_at_a_word() -> None:
    redacted = redact("word " * 400)
    assert len(redacted) <= MAX_KEPT_CHARS + 1
    assert redacted.endswith("word\u2026")
