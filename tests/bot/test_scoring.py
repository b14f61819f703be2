"""The scoring weights: shipped, read, refused when stale."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.knowledge import Clause, Policy
from bot.scoring import (
    CONFIDENCE_FEATURES,
    FEATURES,
    Evidence,
    Features,
    Weights,
    WeightsError,
    load_weights,
    rank,
)
from tests.bot.made_up import made_up_policy


def _evidence(f1: float, *, outside: bool = False) -> Evidence:
    features = Features(best_f1=f1, explained=f1, fuzzy=f1, evidence=10 * f1, known=1.0)
    return Evidence(whole=features, ask=features, outside=outside, story=False, terms=6)


def test_the_shipped_weights_prefer_more_evidence() -> None:
    weights = load_weights()
    low, high = weights.probability(_evidence(0.2)), weights.probability(_evidence(0.9))
    assert 0.0 <= low < high <= 1.0


def test_weights_round_trip_through_json(tmp_path: Path) -> None:
    weights = Weights(
        tuple(float(i) for i in range(len(FEATURES))), (0.5,) * len(CONFIDENCE_FEATURES)
    )
    path = tmp_path / "weights.json"
    path.write_text(weights.to_json(fitted_on=["dev.yaml"]), encoding="utf-8")
    assert load_weights(path) == weights
    assert json.loads(path.read_text(encoding="utf-8"))["fitted_on"] == ["dev.yaml"]


def _constant(value: float) -> Weights:
    return Weights((value,) * len(FEATURES), (value,) * len(CONFIDENCE_FEATURES))


def test_drafted_weights_round_trip_and_score_a_draft_but_not_its_outside(tmp_path: Path) -> None:
    weights = replace(_constant(0.0), drafted=_constant(0.1))
    path = tmp_path / "weights.json"
    path.write_text(weights.to_json(), encoding="utf-8")
    assert load_weights(path) == weights
    clause, outside = _evidence(0.5), _evidence(0.5, outside=True)
    assert weights.probability(clause) == 0.5
    assert weights.probability(clause, draft=True) > 0.5
    # the "outside" examples are the same in every council: the reviewed weights score them
    assert weights.probability(outside, draft=True) == 0.5
    ranking = rank([], 0.0, story=False, terms=0)
    assert weights.confidence(ranking) == 0.5 != weights.confidence(ranking, draft=True)


def test_a_council_is_scored_as_a_draft_while_most_of_its_clauses_are_drafted() -> None:
    def council(drafted: int, reviewed: int) -> Policy:
        clauses = [
            Clause(
                id=f"c{n}", section="1", quote="q", answer="A.", questions=(), drafted=n >= reviewed
            )
            for n in range(drafted + reviewed)
        ]
        return made_up_policy(*clauses)

    weights = replace(_constant(0.0), drafted=_constant(0.1))
    assert weights.as_draft(council(drafted=3, reviewed=2))
    assert not weights.as_draft(council(drafted=2, reviewed=2))
    assert not _constant(0.0).as_draft(council(drafted=3, reviewed=0))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read"),
        ('{"clause": {"bias": 1}, "answer": {}}', "fitted for other features"),
        ("[]", "cannot read"),
    ],
)
def test_stale_or_broken_weights_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "weights.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(WeightsError, match=message):
        load_weights(path)
    with pytest.raises(WeightsError, match="cannot read"):
        load_weights(tmp_path / "missing.json")


def test_the_runner_up_is_the_best_clause_that_says_something_else() -> None:
    a = Clause(id="a", section="1", quote="q", answer="A.", questions=(), related=("b",))
    b = Clause(id="b", section="2", quote="q", answer="B.", questions=())
    c = Clause(id="c", section="3", quote="q", answer="C.", questions=())
    ranking = rank([(0.8, a), (0.7, b), (0.3, c)], 0.1, story=True, terms=50)
    assert (ranking.best, ranking.runner_up, ranking.outside) == (0.8, 0.3, 0.1)
    assert ranking.top3 == pytest.approx(1.8)
    assert ranking.vector()[CONFIDENCE_FEATURES.index("length")] == 1.0
    assert rank([], 0.4, story=False, terms=0).best == 0.0


def test_a_drafts_confidence_weighs_how_far_its_best_quote_leads_through_the_adapter() -> None:
    a, b, c = (Clause(id=i, section="1", quote="q", answer="-", questions=()) for i in "abc")
    scored = [(0.6, a), (0.5, b), (0.2, c)]
    ranking = rank(scored, 0.1, story=False, terms=5, adapted=[0.7, 0.2, 0.5])
    at = CONFIDENCE_FEATURES.index("adapted_lead")
    assert ranking.vector()[at] == pytest.approx(0.2)  # 0.7 against the next best, 0.5
    behind = rank(scored, 0.1, story=False, terms=5, adapted=[0.4, 0.6, 0.1])
    assert behind.vector()[at] == pytest.approx(-0.2)
    # a reviewed council has no adapted scores, nor a lone clause a rival
    assert rank(scored, 0.1, story=False, terms=5).vector()[at] == 0.0
    assert rank(scored[:1], 0.1, story=False, terms=5, adapted=[0.9]).vector()[at] == 0.0
    weights = load_weights()
    assert weights.answer[at] == 0.0  # fitted on reviewed councils, where it is always 0
    assert weights.drafted is not None and weights.drafted.answer[at] > 0.0
