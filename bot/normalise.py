"""Text to matchable terms: the same pipeline for staff questions and for clause text.

lower case and straight quotes -> contractions expanded -> words -> British spellings ->
light stemming -> misspellings corrected against the known words -> synonym phrases rewritten to
one term each, broader terms added -> stop words dropped.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.knowledge import Vocabulary

_WORD = re.compile(r"[a-z0-9]+")
_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bshan'?t\b"), "shall not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'(?:m|re|ve|ll|d|s)\b"), ""),
)
_IT_DEPARTMENT = re.compile(r"\bIT\b")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "`": "'"})

# Irregular forms the suffix rules below would get wrong.
_IRREGULAR = {
    "children": "child",
    "people": "person",
    "men": "man",
    "women": "woman",
    "used": "use",
    "using": "use",
    "uses": "use",
    "was": "be",
    "were": "be",
    "is": "be",
    "are": "be",
    "been": "be",
    "being": "be",
    "has": "have",
    "had": "have",
    "having": "have",
    "did": "do",
    "does": "do",
    "doing": "do",
    "done": "do",
    "said": "say",
    "says": "say",
    "saw": "see",
    "seen": "see",
    "got": "get",
    "gotten": "get",
    "wrote": "writ",
    "written": "writ",
    "posted": "post",
    "news": "news",
    "media": "media",
    "this": "this",
    "its": "its",
    "his": "his",
    "us": "us",
    "bus": "bus",
}
_VOWELS = set("aeiouy")
# -ly is an adverb ending only after these; "bully", "family" and "reply" keep theirs.
_ADVERB_ENDINGS = ("ally", "ely", "ously", "ntly", "ctly", "fully")
# Misspellings shorter than this are too often another real word to correct.
MIN_CORRECTABLE = 4
TERMS_CACHE_SIZE = 16_384
# A word typed in this many example questions is a real word, not a slip.
MIN_TYPED_USES = 3


def stem(word: str) -> str:
    """A light, predictable stemmer: plurals, -ing, -ed, -ly and a final -e.

    Hand-written on purpose: the core may depend on rapidfuzz and the standard library only, and
    matching needs only that "posting", "posts" and "posted" meet at one form, not linguistic
    accuracy.
    """
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses") or word.endswith(("xes", "ches", "shes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) >= 6 and _VOWELS & set(word[:-3]):
        word = _undouble(word[:-3])
    elif word.endswith("ied") and len(word) >= 5:
        word = word[:-3] + "y"
    elif word.endswith("ed") and len(word) >= 5 and _VOWELS & set(word[:-2]):
        word = _undouble(word[:-2])
    elif word.endswith(_ADVERB_ENDINGS) and len(word) >= 6:
        word = word[:-2]
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]
    return word


def _undouble(word: str) -> str:
    if (
        len(word) >= 3
        and word[-1] == word[-2]
        and word[-1] not in "lsz"
        and word[-1] not in _VOWELS
    ):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-case words with contractions expanded; no stemming."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    # "IT" in capitals is the IT department, not the pronoun lower case would make it; unless
    # the whole message is in capitals.
    if not text.isupper():
        text = _IT_DEPARTMENT.sub("ict", text)
    text = text.lower()
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return _WORD.findall(text)


class Normaliser:
    """Turns text into terms. Built once per knowledge base; safe to share between tasks."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        *,
        known_text: Iterable[str] = (),
        typed_text: Iterable[str] = (),
    ) -> None:
        """`known_text` is correctly spelt (policy quotes and answers); `typed_text` is written
        the way staff type (example questions), so only its words used often enough to be real
        count as known: "servise" in one example question must still be corrected."""
        self._spellings = {
            source: tuple(words(target)) for source, target in vocabulary.spellings.items()
        }
        self._stopwords = frozenset(stem(w) for word in vocabulary.stopwords for w in words(word))
        # phrase (tuple of stems) -> the terms it stands for
        self._phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        for group in vocabulary.synonyms:
            canonical = self._term(group[0])
            for member in group:
                self._phrases[self._stems(member)] = (canonical,)
        for narrow, broad in vocabulary.broader.items():
            key = self._stems(narrow)
            own = self._phrases.setdefault(key, (self._term(narrow),))[0]
            # Every synonym of the narrow term counts as the broader term too: "insta" as
            # well as "instagram".
            for phrase, rewritten in self._phrases.items():
                if rewritten[0] == own:
                    self._phrases[phrase] = (*rewritten, self._term(broad))
        self._longest = max((len(k) for k in self._phrases), default=1)
        # Correction works on whole words, before stemming, so that a misspelling is compared
        # with the word it was meant to be ("servise" with "service", not with "servic").
        known: set[str] = set()
        for text in (*vocabulary.spellings.values(), *known_text):
            known.update(words(text))
        for group in vocabulary.synonyms:
            for member in group:
                known.update(words(member))
        known.update(words(" ".join(vocabulary.broader)))
        known.update(words(" ".join(vocabulary.stopwords)))  # "ever" must not become "every"
        typed: Counter[str] = Counter()
        for text in typed_text:
            typed.update(set(words(text)))
        known.update(word for word, count in typed.items() if count >= MIN_TYPED_USES)
        self._known = frozenset(known)
        # Misspellings nearly always keep their first letter: looking only among the known words
        # that share it keeps correction fast however large the knowledge base grows.
        by_initial: dict[str, list[str]] = {}
        for word in sorted(known):
            by_initial.setdefault(word[:1], []).append(word)
        self._known_by_initial = by_initial
        self._corrections: dict[str, str] = {}
        self._cached_terms = functools.lru_cache(maxsize=TERMS_CACHE_SIZE)(self._terms)
        # The terms that name what the policies are about, as messages' terms spell them.
        self.subject = frozenset(
            self._phrases.get(self._stems(phrase), (self._term(phrase),))[0]
            for phrase in vocabulary.subject
        )

    @property
    def known(self) -> frozenset[str]:
        return self._known

    def _stems(self, text: str, *, correct: bool = False) -> tuple[str, ...]:
        out: list[str] = []
        for word in words(text):
            for spelt in self._spellings.get(word, (word,)):
                out.append(stem(self._correct(spelt) if correct else spelt))
        return tuple(out)

    def _term(self, phrase: str) -> str:
        return "_".join(self._stems(phrase))

    def _correct(self, word: str) -> str:
        """The known word a misspelt one was meant to be, or the word itself."""
        if word in self._known or len(word) < MIN_CORRECTABLE or word.isdigit():
            return word
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        cutoff = 80 if len(word) >= 7 else 85
        close = process.extract(
            word,
            self._known_by_initial.get(word[:1], ()),
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            limit=5,
        )
        # Of the close words, the fewest keystrokes away wins: "servise" is one letter from
        # "service" but scores higher against "supervise" on the ratio alone.
        corrected = (
            min(close, key=lambda c: (Levenshtein.distance(word, c[0]), -c[1]))[0]
            if close
            else word
        )
        if len(self._corrections) < 100_000:
            self._corrections[word] = corrected
        return corrected

    def terms(self, text: str, *, correct: bool = True) -> tuple[str, ...]:
        """The terms of `text`, in order, with duplicates kept.

        `correct=False` is for indexing policy text, whose words are known by definition:
        correcting them would only cost time. Results are cached: the same example questions
        are indexed for every council, and staff ask the same questions again and again.
        """
        return self._cached_terms(text, correct)

    def _terms(self, text: str, correct: bool) -> tuple[str, ...]:
        return tuple(self._rewrite(self._stems(text, correct=correct)))

    def _rewrite(self, stems: Sequence[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(stems):
            for length in range(min(self._longest, len(stems) - i), 0, -1):
                replacement = self._phrases.get(tuple(stems[i : i + length]))
                if replacement is not None:
                    out.extend(t for t in replacement if t not in self._stopwords)
                    i += length
                    break
            else:
                if stems[i] not in self._stopwords:
                    out.append(stems[i])
                i += 1
        return out
