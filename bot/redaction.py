"""Personal details out of a question before its text is kept.

The text of a question the bot could not answer is kept so that a policy owner can learn what
the policy is missing (bot/insights.py). Staff write names, numbers and links into their
questions ("my manager Jo on 07700 900123 said..."); what can be recognised by its shape is
replaced by a label before the text is written anywhere. Names in prose cannot be recognised
by shape: the text stays under the asker's salted hash, for a council's retention period.
"""

from __future__ import annotations

import re

# Longest first: a link can hold an email address, an email address digits.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Slack mentions (<@U123>, <@U123|jo>, <#C123|general>, <!here>) and Teams' <at>Jo</at>.
    (re.compile(r"<[@#!][^>\s]{1,80}>"), "[person]"),
    (re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL), "[person]"),
    (re.compile(r"<(?:https?|mailto):[^>\s]+>"), "[link]"),
    (re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE), "[link]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # A handle on a platform: @jo_smith (not "@ work", which has a space).
    (re.compile(r"(?<![\w@])@[A-Za-z0-9_.]{2,}"), "[person]"),
    # National Insurance numbers: two letters, six digits, a letter A-D.
    (re.compile(r"\b[A-Za-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-Da-d]\b"), "[number]"),
    # Phone numbers: +44 or 0 then 9 or 10 more digits, spaced, dashed or bracketed as written.
    (re.compile(r"(?:\+\s?44\s?(?:\(0\)\s?)?|\b0)(?:[\s()-]*\d){9,10}\b"), "[phone]"),
    # UK postcodes (SW1A 1AA): where someone lives.
    (re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b"), "[postcode]"),
    # Any other run of five or more digits: staff numbers, case numbers, account numbers.
    (re.compile(r"\d(?:[\s-]?\d){4,}"), "[number]"),
)
# What is kept of one question: enough to see what was asked.
MAX_KEPT_CHARS = 500


def redact(text: str) -> str:
    """`text` with email addresses, phone numbers, links, platform user references, postcodes
    and long digit runs replaced by labels ("[email]"), cut to `MAX_KEPT_CHARS`."""
    for pattern, label in _PATTERNS:
        text = pattern.sub(label, text)
    text = " ".join(text.split())
    if len(text) > MAX_KEPT_CHARS:
        text = text[:MAX_KEPT_CHARS].rsplit(" ", 1)[0] + "\u2026"
    return text
