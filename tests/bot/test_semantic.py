"""The sentence-embedding model, its tokenizer and the vector cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from bot.semantic import (
    DIMENSIONS,
    MAX_TOKENS,
    PROBE_RIDGE,
    AskedAs,
    ClauseVectors,
    MiniLM,
    QuoteAdapter,
    Remembering,
    WordPiece,
    cached_vectors,
    shipped_adapter,
)
from tests.fakes.encoder import Counting


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        # token ids from Hugging Face `tokenizers` with the model's own tokenizer.json
        ("Can I friend a service user?", [101, 2064, 1045, 2767, 1037, 2326, 5310, 1029, 102]),
        (
            "Café résumé: don't!! 中文",
            [101, 7668, 13746, 1024, 2123, 1005, 1056, 999, 999, 1746, 1861, 102],
        ),
        ("unfriendable", [101, 4895, 19699, 9013, 20782, 102]),
        ("\x00\ufffd", [101, 102]),
    ],
)
def test_wordpiece_matches_the_models_own_tokenizer(text: str, ids: list[int]) -> None:
    assert WordPiece.shipped().encode(text) == ids


def test_a_very_long_post_is_cut_to_what_the_model_reads() -> None:
    ids = WordPiece.shipped().encode("facebook " * 1000)
    assert len(ids) == MAX_TOKENS and ids[0] == 101 and ids[-1] == 102


@pytest.fixture(scope="module")
def model() -> MiniLM:
    return MiniLM()


def test_texts_that_mean_the_same_are_closer(model: MiniLM) -> None:
    post, same, other = model.encode(
        [
            "my manager saw what I wrote about work on my private facebook and now there's a "
            "disciplinary hearing, can they do that?",
            "Can I be disciplined for something I post on my personal social media?",
            "How do I claim mileage for driving to a training course?",
        ]
    )
    assert np.linalg.norm(post) == pytest.approx(1.0, abs=1e-4)
    assert float(post @ same) > float(post @ other) + 0.2
    assert model.encode([]).shape == (0, DIMENSIONS)


def test_the_cache_encodes_only_texts_it_has_not_seen(tmp_path: Path) -> None:
    encoder = Counting()
    first = cached_vectors(encoder, ["a", "bb", "a"], tmp_path)
    assert encoder.encoded == ["a", "bb"]  # each text once
    assert first.shape == (3, DIMENSIONS) and (first[0] == first[2]).all()
    again = cached_vectors(encoder, ["bb", "ccc"], tmp_path)
    assert encoder.encoded == ["a", "bb", "ccc"]
    assert (again[0] == first[1]).all()
    assert cached_vectors(encoder, [], tmp_path).shape == (0, DIMENSIONS)


def test_a_text_whose_digest_ends_in_a_zero_byte_is_found_again(tmp_path: Path) -> None:
    # A numpy bytes string drops trailing zero bytes: such a text was encoded at every start.
    text = next(
        t for i in range(10_000) if hashlib.sha256((t := f"text {i}").encode()).digest()[19] == 0
    )
    encoder = Counting()
    cached_vectors(encoder, [text, "other"], tmp_path)
    cached_vectors(encoder, [text, "other"], tmp_path)
    assert encoder.encoded == [text, "other"]


def test_a_full_cache_keeps_only_what_is_in_use(tmp_path: Path) -> None:
    encoder = Counting()
    cached_vectors(encoder, ["a", "bb"], tmp_path, limit=3)
    cached_vectors(encoder, ["ccc", "dddd"], tmp_path, limit=3)  # a and bb are dropped
    cached_vectors(encoder, ["ccc", "a"], tmp_path, limit=3)
    assert encoder.encoded == ["a", "bb", "ccc", "dddd", "a"]


def test_a_broken_or_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    (tmp_path / "counting.npz").write_bytes(b"not a cache")
    encoder = Counting()
    assert cached_vectors(encoder, ["a"], tmp_path).shape == (1, DIMENSIONS)
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    assert cached_vectors(encoder, ["a"], tmp_path / "file.txt" / "below").shape == (1, DIMENSIONS)
    assert cached_vectors(encoder, ["b"], tmp_path / "file.txt").shape == (1, DIMENSIONS)
    assert encoder.encoded == ["a", "a", "b"]


def test_a_clause_is_as_close_as_its_closest_text() -> None:
    vectors = np.eye(3, DIMENSIONS, dtype=np.float32)
    clauses = ClauseVectors(vectors, owners=[1, 0, 1], clauses=3)
    message = np.zeros(DIMENSIONS, dtype=np.float32)
    message[2] = 0.8
    message[1] = 0.6
    assert clauses.similarity(message, 0) == pytest.approx(0.6)
    assert clauses.similarity(message, 1) == pytest.approx(0.8)
    assert clauses.similarity(message, 2) == 0.0  # no texts


def test_the_probe_is_a_ridge_regression_from_a_text_to_its_clause() -> None:
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((7, DIMENSIONS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    owners = [0, 0, 1, 1, 1, 2, 2]  # clause 2 is left out of the fit, as "outside" is
    clauses = ClauseVectors(vectors, owners, clauses=3, probed=2)
    # the same fit made the plain way: weights for each clause from one-hot targets
    texts = np.hstack([vectors[:5], np.ones((5, 1), dtype=np.float32)]).astype(np.float64)
    targets = np.eye(2)[owners[:5]]
    weights = np.linalg.solve(
        texts.T @ texts + PROBE_RIDGE * np.eye(DIMENSIONS + 1), texts.T @ targets
    )
    message = (vectors[0] + 0.3 * vectors[3]) / np.linalg.norm(vectors[0] + 0.3 * vectors[3])
    direction = clauses.probe_direction(message)
    expected = np.append(message, 1.0) @ weights
    probes = clauses.probes(direction)
    assert probes[:2].tolist() == pytest.approx(expected.tolist(), abs=1e-4)
    assert probes[0] > 0.6 > 0.4 > probes[1]
    assert probes[2] == 0.0
    assert clauses.probes(direction, [2, 0]).tolist() == pytest.approx([0.0, probes[0]])
    assert clauses.probes(direction, []).tolist() == []
    gap = ClauseVectors(vectors[:4], [0, 0, 2, 2], clauses=3)  # clause 1 has no texts yet
    assert gap.probes(gap.probe_direction(message))[1] == 0.0


def test_a_remembering_encoder_encodes_a_text_once_while_it_is_among_the_last_used() -> None:
    counting = Counting()
    remembering = Remembering(counting, limit=2)
    first = remembering.encode(["aa", "bbb"])
    again = remembering.encode(["bbb", "aa", "bbb"])
    assert counting.encoded == ["aa", "bbb"]
    assert np.array_equal(again, first[[1, 0, 1]])
    remembering.encode(["c"])  # the third text: "aa", used longest ago, is forgotten
    remembering.encode(["bbb", "aa"])
    assert counting.encoded == ["aa", "bbb", "c", "aa"]
    assert remembering.encode([]).shape == (0, DIMENSIONS)


def _worded_otherwise(
    rng: np.random.Generator, wording: np.ndarray, clauses: int, asked: int
) -> AskedAs:
    """A made-up council: quotes at random, and questions that put each quote `wording`'s way,
    as staff put a rule in their own words."""
    size = wording.shape[0]
    quotes = rng.standard_normal((clauses, size))
    quotes /= np.linalg.norm(quotes, axis=1, keepdims=True)
    clause = np.repeat(np.arange(clauses), asked)
    questions = quotes[clause] @ wording + 0.1 * rng.standard_normal((len(clause), size))
    questions /= np.linalg.norm(questions, axis=1, keepdims=True)
    return AskedAs(questions.astype(np.float32), clause, quotes.astype(np.float32))


def _first_right(council: AskedAs, adapter: QuoteAdapter | None) -> float:
    asked = council.questions if adapter is None else adapter.adapt(council.questions)
    return float(np.mean((asked @ council.quotes.T).argmax(axis=1) == council.clause))


def test_the_quote_adapter_learns_how_rules_are_asked_and_carries_it_to_a_new_council() -> None:
    rng = np.random.default_rng(3)
    size = 16
    # staff word a rule in other words altogether (a rotation): the plain cosine is lost
    wording, _ = np.linalg.qr(rng.standard_normal((size, size)))
    reviewed = [_worded_otherwise(rng, wording, clauses=16, asked=6) for _ in range(6)]
    adapter = QuoteAdapter.fit(reviewed)
    new = _worded_otherwise(rng, wording, clauses=16, asked=6)
    assert _first_right(new, None) < 0.1
    assert _first_right(new, adapter) > 0.9
    # held to the plain cosine by its ridge: with nothing to learn it stays where it started
    same = [_worded_otherwise(rng, np.eye(size), clauses=16, asked=6) for _ in range(3)]
    assert np.abs(QuoteAdapter.fit(same).matrix - np.eye(size)).max() < 0.5
    with pytest.raises(ValueError, match="needs example questions"):
        QuoteAdapter.fit(
            [AskedAs(np.zeros((0, size), np.float32), np.zeros(0, np.int64), new.quotes)]
        )


def test_a_quote_adapter_is_kept_at_half_precision_and_the_shipped_one_fits_the_model(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(4)
    adapter = QuoteAdapter(np.eye(8, dtype=np.float32) + 0.1 * rng.standard_normal((8, 8)))
    adapter.save(tmp_path / "adapter.npy")
    again = QuoteAdapter.load(tmp_path / "adapter.npy")
    assert again.matrix.dtype == np.float32
    assert np.abs(again.matrix - adapter.matrix).max() < 1e-3
    assert (tmp_path / "adapter.npy").stat().st_size < 8 * 8 * 2 + 200
    assert shipped_adapter().matrix.shape == (DIMENSIONS, DIMENSIONS)
    with pytest.raises(ValueError, match="square matrix"):
        QuoteAdapter(np.zeros((2, 3), dtype=np.float32))
