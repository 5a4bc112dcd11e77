"""Spider and BIRD gold/prediction files: reading, writing, round trips, pairing by key or position."""

from __future__ import annotations

import json

import pytest

from sqlfoundry.errors import InputFormatError
from sqlfoundry.eval.formats import (
    BIRD_SEPARATOR,
    GoldExample,
    cut_prediction_line,
    gold_to_record,
    pair_by_key,
    pair_by_position,
    read_gold,
    read_predictions,
    split_bird_prediction,
    write_bird_gold,
    write_bird_predictions,
    write_spider_gold,
    write_spider_predictions,
)

SPIDER_RECORDS = [
    {"db_id": "shop", "query": "SELECT name FROM items", "question": "Names?", "query_toks": ["SELECT"]},
    {"db_id": "shop", "query": "SELECT count(*) FROM items", "question": "How many?"},
]
BIRD_RECORDS = [
    {
        "question_id": 10,
        "db_id": "shop",
        "question": "Cheapest?",
        "evidence": "cheap = min(price)",
        "SQL": "SELECT name FROM items ORDER BY price LIMIT 1",
        "difficulty": "simple",
    },
    {
        "question_id": 11,
        "db_id": "shop",
        "question": "Count?",
        "evidence": "",
        "SQL": "SELECT count(*) FROM items",
        "difficulty": "moderate",
    },
]


def test_spider_gold_json_round_trip_is_lossless(tmp_path):
    src = tmp_path / "dev.json"
    src.write_text(json.dumps(SPIDER_RECORDS))
    gold = read_gold(src)
    assert [(g.index, g.db_id, g.sql, g.question) for g in gold] == [
        (0, "shop", "SELECT name FROM items", "Names?"),
        (1, "shop", "SELECT count(*) FROM items", "How many?"),
    ]
    out = tmp_path / "out.json"
    write_spider_gold(out, gold)
    assert json.loads(out.read_text()) == SPIDER_RECORDS
    assert [list(r) for r in json.loads(out.read_text())] == [list(r) for r in SPIDER_RECORDS]


def test_bird_gold_json_round_trip_is_lossless(tmp_path):
    src = tmp_path / "dev.json"
    src.write_text(json.dumps(BIRD_RECORDS))
    gold = read_gold(src)
    assert [(g.question_id, g.difficulty, g.evidence) for g in gold] == [
        ("10", "simple", "cheap = min(price)"),
        ("11", "moderate", ""),
    ]
    out = tmp_path / "out.json"
    write_bird_gold(out, gold)
    assert json.loads(out.read_text()) == BIRD_RECORDS


def test_new_gold_examples_get_the_benchmark_layout():
    ex = GoldExample(index=0, db_id="d", sql="SELECT 1", question="q", difficulty="simple", question_id="7")
    assert gold_to_record(ex, "bird") == {
        "question_id": 7,
        "db_id": "d",
        "question": "q",
        "evidence": "",
        "SQL": "SELECT 1",
        "difficulty": "simple",
    }
    assert gold_to_record(GoldExample(index=0, db_id="d", sql="SELECT 1", question="q"), "spider") == {
        "db_id": "d",
        "question": "q",
        "query": "SELECT 1",
    }


def test_gold_sql_lines_round_trip(tmp_path):
    path = tmp_path / "dev_gold.sql"
    path.write_text("SELECT a FROM t\tdb1\n\nSELECT b\tFROM u\tdb2\r\n")
    gold = read_gold(path)
    # Blank lines are turn separators; the db_id is after the last TAB.
    assert [(g.sql, g.db_id) for g in gold] == [("SELECT a FROM t", "db1"), ("SELECT b\tFROM u", "db2")]
    out = tmp_path / "out.sql"
    write_spider_gold(out, gold)
    assert out.read_text() == "SELECT a FROM t\tdb1\nSELECT b FROM u\tdb2\n"


def test_gold_errors_name_the_problem(tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps([{"question": "x", "query": "SELECT 1"}]))
    with pytest.raises(InputFormatError, match="record 0 has no 'db_id'"):
        read_gold(path)
    path.write_text(json.dumps([{"db_id": "d"}]))
    with pytest.raises(InputFormatError, match="none of the SQL fields"):
        read_gold(path)
    with pytest.raises(InputFormatError, match="does not exist"):
        read_gold(tmp_path / "missing.json")


def test_infeasible_markers(tmp_path):
    path = tmp_path / "g.json"
    recs = [
        {"db_id": "d", "query": "SELECT 1"},
        {"db_id": "d", "query": "SELECT 1", "feasible": False},
        {"db_id": "d", "query": "SELECT 1", "is_impossible": True},
        {"db_id": "d", "query": None},
        {"db_id": "d", "query": "SELECT 1", "is_impossible": False},
    ]
    path.write_text(json.dumps(recs))
    assert [g.feasible for g in read_gold(path)] == [True, False, False, False, True]


def test_prediction_lines_cut_at_the_first_tab(tmp_path):
    assert cut_prediction_line("  SELECT a FROM t\tdb1 \n") == "SELECT a FROM t"
    assert cut_prediction_line("SELECT a\tFROM t") == "SELECT a"
    assert cut_prediction_line("SELECT a\tFROM t", cut_at_tab=False) == "SELECT a\tFROM t"
    path = tmp_path / "pred.sql"
    path.write_text("SELECT 1\tdb\n\nSELECT 2\r\n")
    preds = read_predictions(path)
    assert [(p.sql, p.db_id, p.position) for p in preds] == [
        ("SELECT 1", "db", 0),
        ("", None, 1),
        ("SELECT 2", None, 2),
    ]


def test_spider_predictions_round_trip(tmp_path):
    sqls = ["SELECT a\nFROM t", "SELECT\t1", None, "SELECT 'x  y'"]
    path = tmp_path / "pred.sql"
    write_spider_predictions(path, sqls)
    assert [p.sql for p in read_predictions(path)] == ["SELECT a FROM t", "SELECT 1", "", "SELECT 'x y'"]


def test_bird_predictions_round_trip_keeps_keys_and_order(tmp_path):
    path = tmp_path / "predict_dev.json"
    triples = [("1", "SELECT 2", "shop"), ("0", "SELECT 1\nFROM t", "shop")]
    write_bird_predictions(path, triples)
    assert json.loads(path.read_text()) == {
        "1": "SELECT 2\t----- bird -----\tshop",
        "0": "SELECT 1\nFROM t\t----- bird -----\tshop",
    }
    preds = read_predictions(path)
    assert [(p.key, p.sql, p.db_id, p.position) for p in preds] == [
        ("1", "SELECT 2", "shop", 0),
        ("0", "SELECT 1\nFROM t", "shop", 1),
    ]


def test_split_bird_prediction():
    assert split_bird_prediction(f"SELECT 1{BIRD_SEPARATOR}db") == ("SELECT 1", "db")
    assert split_bird_prediction("  SELECT 1 ") == ("SELECT 1", None)
    assert split_bird_prediction(None) == (None, None)
    assert split_bird_prediction(3) == (None, None)


def _gold(n, qids=None):
    return [
        GoldExample(index=i, db_id="d", sql=f"SELECT {i}", question_id=qids[i] if qids else None)
        for i in range(n)
    ]


def test_pair_by_key_matches_keys_not_positions(tmp_path):
    path = tmp_path / "p.json"
    # sort_keys order: "0", "1", "10", "11", "2", … (BIRD mini_dev#41)
    data = {str(i): f"SELECT {i}{BIRD_SEPARATOR}d" for i in range(12)}
    path.write_text(json.dumps(data, sort_keys=True))
    preds = read_predictions(path)
    assert [p.key for p in preds][:4] == ["0", "1", "10", "11"]
    gold = _gold(12)
    by_key = pair_by_key(gold, preds)
    assert [p.sql for p in by_key] == [g.sql for g in gold]
    by_pos = pair_by_position(gold, preds)
    assert [p.sql for p in by_pos][:4] == ["SELECT 0", "SELECT 1", "SELECT 10", "SELECT 11"]


def test_pair_by_key_uses_question_ids_when_keys_are_not_positions():
    gold = _gold(3, qids=["1471", "1472", "1480"])
    preds = read_predictions_from({"1480": "SELECT 2", "1471": "SELECT 0", "1472": "SELECT 1"})
    assert [p.sql for p in pair_by_key(gold, preds)] == ["SELECT 0", "SELECT 1", "SELECT 2"]
    # Keys that are positions win under auto (mini-dev files are keyed 0..499).
    preds = read_predictions_from({"2": "SELECT 2", "0": "SELECT 0", "1": "SELECT 1"})
    assert [p.sql for p in pair_by_key(gold, preds)] == ["SELECT 0", "SELECT 1", "SELECT 2"]


def read_predictions_from(obj):
    from sqlfoundry.eval.formats import predictions_from_json

    return predictions_from_json(obj)


def test_pairing_errors_name_both_counts():
    gold = _gold(3)
    with pytest.raises(InputFormatError, match="has 2 predictions but the gold file has 3 examples"):
        pair_by_position(gold, read_predictions_from(["SELECT 0", "SELECT 1"]))
    with pytest.raises(InputFormatError, match="1 gold examples have no prediction"):
        pair_by_key(gold, read_predictions_from({"0": "SELECT 0", "1": "SELECT 1"}))
    with pytest.raises(InputFormatError, match="match no gold example"):
        pair_by_key(gold, read_predictions_from({"0": "a", "1": "b", "2": "c", "x": "d"}))


def test_trailing_blank_prediction_lines_are_tolerated(tmp_path):
    path = tmp_path / "p.sql"
    path.write_text("SELECT 0\nSELECT 1\nSELECT 2\n\n\n")
    assert [p.sql for p in pair_by_position(_gold(3), read_predictions(path))] == [
        "SELECT 0",
        "SELECT 1",
        "SELECT 2",
    ]
