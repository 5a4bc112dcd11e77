"""Execution accuracy with Spider, BIRD and strict semantics, test-suite accuracy, the TrustSQL
reliability score, and reports; ``--compat official`` reproduces the official evaluators' quirks."""

from .evaluator import EvalConfig, EvalResult, ExampleResult, evaluate, evaluate_pairs, load_pairs
from .formats import GoldExample, Prediction, read_gold, read_predictions

__all__ = [
    "EvalConfig",
    "EvalResult",
    "ExampleResult",
    "GoldExample",
    "Prediction",
    "evaluate",
    "evaluate_pairs",
    "load_pairs",
    "read_gold",
    "read_predictions",
]
