"""Verdicts and which way round a question is asked.

A clause's answer may open with a verdict ("Yes.", "No.", "It depends."). A verdict is only true
of one question: "No." answers "Can I accept a friend request from a service user?" and turns the
policy upside down as the answer to "Should I decline a friend request from a service user?". So
every verdict carries the question it answers (`Clause.asks`), and this module tells

- which verdict, if any, an answer opens with (`verdict_of`), and
- whether two yes/no questions are asked the same way round (`same_polarity`): a "yes" to one
  is a "yes" to the other, or a "no".

The polarity of a question is read from its shape, not its topic. A question is *favourable*
(+1) when "yes" lets the asker do something or reassures them: "can I", "am I allowed", "is it
OK", "am I safe", "should I accept". It is *unfavourable* (-1) when "yes" forbids, condemns or
binds: "is that a breach", "am I in trouble", "is it banned", "does the policy still apply",
"should I decline". "Without" and a "not" inside the question turn it round. Questions that
cannot be answered yes or no ("what should I do", "fb at lunch?") have no polarity.

It is a reading of English by rules, made to warn a policy owner (`kb check`) and to score
replies (`policybot eval`); it is never used to change an answer.
"""

from __future__ import annotations

import enum
import re


class Verdict(enum.StrEnum):
    YES = "yes"
    NO = "no"
    DEPENDS = "depends"

    def flipped(self) -> Verdict:
        """The same verdict on the question asked the other way round."""
        if self is Verdict.YES:
            return Verdict.NO
        if self is Verdict.NO:
            return Verdict.YES
        return self


# "Yes." "Yes, if ..." "Yes you can" "Usually no." "No, not unless ..." "It depends." -- but
# not "No one ..." or "No personal use ...": a "No" is a verdict only when punctuation follows.
_OPENER = re.compile(
    r"^\s*(?:(?:usually|generally|normally|mostly|probably|mainly|in general)[\s,]+)?"
    r"(?:(?P<yes>yes)\b|(?P<no>no)(?=\s*(?:[.,;:!\u2013\u2014-]|$))|(?P<depends>(?:it\s+)?depends)\b)",
    re.IGNORECASE,
)


def verdict_of(answer: str) -> Verdict | None:
    """The verdict an answer opens with, or None when it opens with anything else (a rule, an
    instruction, a fact)."""
    found = _OPENER.match(answer)
    if found is None:
        return None
    if found.group("yes"):
        return Verdict.YES
    if found.group("no"):
        return Verdict.NO
    return Verdict.DEPENDS


def is_question(text: str) -> bool:
    """An `asks` must read as a question a member of staff would type: words and a "?"."""
    stripped = text.strip()
    return stripped.endswith("?") and len(re.findall(r"[A-Za-z]{2,}", stripped)) >= 3


_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b|\bcannot\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bshan'?t\b"), "shall not"),
    (
        re.compile(
            r"\b(is|are|was|were|do|does|did|has|have|had|should|would|could|must|need|might)n'?t\b"
        ),
        r"\1 not",
    ),
    (re.compile(r"\bi'?m\b"), "i am"),
    (re.compile(r"\bim\b"), "i am"),
    (re.compile(r"\bokay\b|\bk\b"), "ok"),
    (re.compile(r"[\u2018\u2019]"), "'"),
)


def _plain(text: str) -> str:
    text = text.casefold().replace("\u2019", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    # Commas stay: they mark where the story ends and the question starts.
    return " ".join(re.findall(r"[a-z0-9']+|,", text))


def _words(*options: str) -> str:
    return "(?:" + "|".join(options) + ")"


# "yes" condemns: a breach, a problem, trouble, a ban, a sanction -- wherever it stands.
_UNFAVOURABLE = re.compile(
    r"\b(?:"
    + "|".join(
        (
            r"breach(?:es|ing)?",
            r"against (?:the |our |council |my |this )?(?:policy|policies|rules?|code|law)",
            r"violat\w*",
            r"(?:a|an|any) (?:problem|issue|offence|crime|concern)",
            r"(?:problem|issue) for",
            r"(?:gross )?misconduct",
            r"disciplin\w*",
            r"sack\w*|fired|dismiss\w*|lose my job|get the sack|punish\w*",
            r"in trouble|into trouble|get me in",
            r"(?:held |am i |are we )?(?:responsible|accountable|liable) for|accountable|liable",
            r"banned|prohibited|forbidden|outlawed|off limits|off-limits|not allowed|not permitted",
            r"count(?:s)? as|classed as|classified as",
            r"monitor\w*|spy\w*|logged|recorded|tracked|watch\w*|keep tabs|keep an eye",
            r"keep (?:a )?records?",
            r"action (?:against|taken)",
        )
    )
    + r")\b"
)
# ... and what condemns only when it is said of the thing asked about: "is that bullying?",
# "would it be seen as inappropriate?" -- but not "can I report bullying?".
_CONDEMNED = re.compile(
    r"\b(?:is|are|was|were|be|been|seen as|considered)(?: \w+){0,3} "
    + _words(
        r"bullying",
        r"harassment",
        r"defamation|defamatory|libel\w*",
        r"discrimination|discriminatory",
        r"inappropriate|unprofessional|unacceptable|wrong|risky|a bad idea",
        r"illegal|unlawful|criminal|a crime",
        r"a risk",
    )
    + r"\b"
)
# "yes" binds: the rules still reach this place, person or message.
_COVERAGE = re.compile(
    r"\b(?:polic(?:y|ies)|rules?|code)\b.{0,40}\b(?:apply|applies|cover|covers|include|includes)\b"
    r"|\b(?:covered|included)\b|\bstill appl(?:y|ies)\b"
)
# "should I decline": the action asked about is a refusal, so "yes" forbids the thing refused.
_REFUSAL = re.compile(
    r"\b(?:should|must|ought|have to|has to|need to|needs to|do i|better|supposed to|required to)\b"
    r"(?: \w+){0,3} "
    + _words(
        r"decline\w*",
        r"refus\w*",
        r"reject\w*",
        r"ignor\w*",
        r"unfriend\w*",
        r"unfollow\w*",
        r"block\w*",
        r"delet\w*",
        r"remov\w*",
        r"stop\w*",
        r"avoid\w*",
        r"turn (?:it |them |him |her )?down",
        r"take (?:it |them )?down",
        r"stay off",
        r"hide\w*",
        r"report\w*",
    )
    + r"\b"
)
# "yes" lets the asker act, or reassures them.
_FAVOURABLE = re.compile(
    r"\b(?:"
    + "|".join(
        (
            r"can (?:i|we|you|staff|employees|they|he|she|my|a|an|the|council)",
            r"could (?:i|we)",
            r"may (?:i|we)",
            r"(?:am i|are we|are staff|are employees|is anyone|are you) (?:allowed|permitted|able)",
            r"allowed|permitted|acceptable|alright|all right|fine|safe|ok",
            r"(?:should|shall|must|do|would) (?:i|we)",
            r"(?:do|does) (?:i|we|he|she|staff|my|employees) (?:need|have) to",
            r"(?:is it|is that|is this) (?:ok|fine|alright|acceptable|legal|lawful)",
            r"am i (?:required|expected|obliged)",
            r"(?:is|are) (?:there|it|that|this|my|our)",
        )
    )
    + r")\b"
)
# A "not" after the opening words turns the question round ("should I not reply"); "isn't it"
# at the start does not ("Isn't that allowed?" asks whether it is allowed).
_OPENING_NEGATION = re.compile(
    r"^(?:(?:so|and|but|ok|well) )?(?:is|are|am|was|do|does|did|can|could|should|will|would) not\b"
)
_SENTENCE = re.compile(r"(?<=[?.!;])\s+|\n+")
_WH_QUESTION = re.compile(
    r"^(?:(?:so|and|but|hi|hello|please|ok|also|then) )*"
    r"(?:what|how|who|whom|whose|where|when|why|which)\b"
)
_CLAUSE = re.compile(r",|\b(?:but|so|and then)\b")
_CONDITION = re.compile(r"\b(?:if|when|unless|because|as long as|even though|although|once)\b")
_NEGATION = re.compile(r"\b(?:not|never|without|no longer)\b")
_ALREADY_COUNTED = re.compile(r"\bnot (?:allowed|permitted)\b")


def polarity(question: str) -> int | None:
    """+1 when "yes" to the question is favourable to the asker's act, -1 when it condemns or
    binds, None when the question is not a yes/no question this module can read.

    In a message of several sentences the last yes/no question decides: staff tell the story
    first and ask at the end ("I posted a rumour ..., am I in trouble?").
    """
    sentences = [s for s in _SENTENCE.split(question) if s.strip()]
    asked = [s for s in sentences if s.rstrip().endswith("?")] or sentences
    for sentence in reversed(asked):
        sign = _sentence_polarity(_plain(sentence))
        if sign is not None:
            return sign
    return None


def _sentence_polarity(text: str) -> int | None:
    # The asking part of a sentence is its last clause with a marker: in "it wasn't true, am I
    # in trouble" the "not" belongs to the story, not to the question.
    for part in reversed(_CLAUSE.split(text)):
        part = part.strip()
        if _WH_QUESTION.match(part):
            return None  # "..., what do I do?" cannot be answered yes or no
        sign = _clause_polarity(part)
        if sign is not None:
            return sign
    return None


def _clause_polarity(text: str) -> int | None:
    if not text:
        return None
    if any(p.search(text) for p in (_UNFAVOURABLE, _CONDEMNED, _COVERAGE, _REFUSAL)):
        sign = -1
    elif _FAVOURABLE.search(text):
        sign = 1
    else:
        return None
    # Only the main clause's negations turn the question round: in "am I safe if I don't name
    # the council" the "not" belongs to the condition.
    main = _CONDITION.split(text, maxsplit=1)[0]
    body = _ALREADY_COUNTED.sub(" ", _OPENING_NEGATION.sub(" ", main))
    if len(_NEGATION.findall(body)) % 2:
        sign = -sign
    return sign


def same_polarity(question: str, asks: str) -> bool | None:
    """True when a verdict on `asks` is the same verdict on `question`, False when it is the
    opposite, None when either cannot be read."""
    mine, theirs = polarity(question), polarity(asks)
    if mine is None or theirs is None:
        return None
    return mine == theirs
