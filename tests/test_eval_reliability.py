"""TrustSQL reliability score on hand-computed cases, and the official evaluators' text quirks."""

from __future__ import annotations

import pytest

from sqlfoundry.eval import official
from sqlfoundry.eval.reliability import (
    ReliabilitySample,
    is_abstention,
    reliability_report,
    reliability_score,
    sample_score,
)


@pytest.mark.parametrize(
    ("feasible", "abstained", "correct", "score"),
    [
        (True, False, True, 1),
        (True, True, False, 0),
        (True, True, True, 0),  # abstaining scores 0 whatever the SQL would have done
        (True, False, False, -1),
        (False, False, True, -1),  # answering an infeasible question is wrong even if it "runs"
        (False, True, False, 1),
    ],
)
def test_sample_score(feasible, abstained, correct, score):
    assert sample_score(feasible, abstained, correct) == score


def test_reliability_report_hand_case():
    samples = [
        ReliabilitySample(True, False, True),  # +1
        ReliabilitySample(True, False, True),  # +1
        ReliabilitySample(True, True, False),  # 0
        ReliabilitySample(True, False, False),  # -1
        ReliabilitySample(False, True, False),  # +1
        ReliabilitySample(False, False, False),  # -1
    ]
    rep = reliability_report(samples)
    assert rep["n"] == rep["N"] == 6
    assert rep["counts"] == {"total": 6, "feasible": 4, "infeasible": 2}
    assert rep["abstained"] == 2
    s = rep["scores"]
    assert s["RS(0)"] == {"total": 50.0, "feasible": 50.0, "infeasible": 50.0}
    assert s["RS(10)"] == {
        "total": pytest.approx(-283.3333, abs=1e-4),
        "feasible": -200.0,
        "infeasible": -450.0,
    }
    # c = N = 6 (the whole set's size) on every subset, as TrustSQL's print_results does
    assert s["RS(N)"] == {"total": -150.0, "feasible": -100.0, "infeasible": -250.0}


def test_reliability_score_edges():
    assert reliability_score([], 10) is None
    assert reliability_score([1, 1], 10) == 100.0
    assert reliability_score([0, 0], 10) == 0.0
    assert reliability_report([])["scores"]["RS(0)"]["total"] is None


def test_is_abstention():
    assert is_abstention(" NULL ; ", "null")
    assert is_abstention("null", "NULL")
    assert not is_abstention("SELECT null", "null")
    assert not is_abstention(None, "null")
    assert not is_abstention("null", None)
    assert not is_abstention("", "")


def test_official_text_quirks():
    assert official.fix_spaced_operators("a > = 1 AND b < = 2 AND c ! = 3") == "a >= 1 AND b <= 2 AND c != 3"
    assert official.replace_current_year("SELECT YEAR ( CURDATE ( ) ) - 1") == "SELECT 2020- 1"
    assert official.replace_value_placeholder("SELECT value, Value FROM t WHERE x = 'value'") == (
        "SELECT 1, Value FROM t WHERE x = '1'"
    )
    assert (
        official.spider_prediction("SELECT DISTINCT value FROM t WHERE a > = 1")
        == "SELECT  1 FROM t WHERE a >= 1"
    )
    assert (
        official.spider_prediction("SELECT DISTINCT a FROM t", keep_distinct=True)
        == "SELECT DISTINCT a FROM t"
    )
    assert official.spider_gold("SELECT DISTINCT value FROM t") == "SELECT  value FROM t"
    assert official.bird_over_budget(20_000, 10_001, 30) and not official.bird_over_budget(20_000, 10_000, 30)


def test_official_database_files_use_a_substring_test(tmp_path):
    for name in ("db.sqlite", "db.sqlite.bak", "other.sqlite3", "notes.txt"):
        (tmp_path / name).write_text("")
    assert sorted(p.name for p in official.spider_database_files(tmp_path)) == [
        "db.sqlite",
        "db.sqlite.bak",
        "other.sqlite3",
    ]
    assert official.spider_database_files(tmp_path / "missing") == []
