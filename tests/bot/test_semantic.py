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
    ClauseVectors,
    MiniLM,
    Remembering,
    WordPiece,
    cached_vectors,
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
