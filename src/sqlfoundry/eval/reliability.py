"""TrustSQL's Reliability Score: rewards abstaining on infeasible questions, penalizes wrong answers.

Per sample: +1 correct or proper abstention, 0 abstention on a feasible question, −1 a wrong answer or
an answer to an infeasible question; RS(c) = 100 · mean(s if s > 0 else c · s) for c = 0, 10, N.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ReliabilitySample:
    feasible: bool
    abstained: bool
    #: execution-correct; only read when the question is feasible and the model answered
    correct: bool


def sample_score(feasible: bool, abstained: bool, correct: bool) -> int:
    """The TrustSQL per-sample score (``scoring_utils.py:reliability_score``)."""
    if feasible:
        if abstained:
            return 0
        return 1 if correct else -1
    return 1 if abstained else -1


def reliability_score(scores: Sequence[int], c: float) -> float | None:
    """RS(c) = 100 · mean(s if s > 0 else c · s); None for an empty set (TrustSQL prints nan)."""
    if not scores:
        return None
    return 100.0 * sum(s if s > 0 else c * s for s in scores) / len(scores)


def reliability_report(samples: Sequence[ReliabilitySample]) -> dict:
    """RS(0), RS(10) and RS(N) on the total, feasible and infeasible subsets.

    N is the size of the whole evaluated set and is used for every subset, as TrustSQL's
    ``print_results`` does (``penalties = [0, 10, data_length]``).
    """
    scores = [sample_score(s.feasible, s.abstained, s.correct) for s in samples]
    n = len(samples)
    subsets = {
        "total": scores,
        "feasible": [sc for sc, s in zip(scores, samples, strict=True) if s.feasible],
        "infeasible": [sc for sc, s in zip(scores, samples, strict=True) if not s.feasible],
    }
    penalties = {"0": 0.0, "10": 10.0, "N": float(n)}
    return {
        "n": n,
        "N": n,
        "counts": {name: len(sub) for name, sub in subsets.items()},
        "abstained": sum(1 for s in samples if s.abstained),
        "scores": {
            f"RS({label})": {name: _round(reliability_score(sub, c)) for name, sub in subsets.items()}
            for label, c in penalties.items()
        },
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def is_abstention(sql: str | None, token: str | None) -> bool:
    """Whether a predicted SQL is the abstention token (case-insensitive, surrounding whitespace and
    trailing semicolons ignored). A missing prediction is not an abstention."""
    if not token or sql is None:
        return False
    return sql.strip().rstrip(";").strip().lower() == token.strip().lower()
