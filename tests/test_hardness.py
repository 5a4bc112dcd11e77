"""Spider hardness: the official eval_hardness counting, from sqlglot and from Spider's parse trees,
checked case by case and against the official buckets of Spider dev."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from benchdata import BENCHMARKS
from sqlfoundry.sql.hardness import (
    HardnessCounts,
    hardness_counts,
    hardness_counts_from_parsed,
    hardness_from_counts,
    spider_hardness,
    spider_hardness_from_parsed,
)
from sqlfoundry.sql.normalize import SQLParseError

SPIDER_DEV = BENCHMARKS / "spider_dev" / "dev.json"


@pytest.mark.parametrize(
    ("sql", "counts", "level"),
    [
        ("SELECT count(*) FROM singer", (0, 0, 0), "easy"),
        ("SELECT name FROM singer WHERE age > 20", (1, 0, 0), "easy"),
        ("SELECT name, age FROM singer", (0, 0, 1), "medium"),
        # WHERE + OR = 2; two WHERE conditions = 1 other
        ("SELECT name FROM t WHERE a = 1 OR b = 2", (2, 0, 1), "medium"),
        ("SELECT name FROM t WHERE a LIKE '%x%'", (2, 0, 0), "medium"),
        # NOT LIKE is a LIKE condition with its NOT flag set
        ("SELECT name FROM t WHERE a NOT LIKE '%x%'", (2, 0, 0), "medium"),
        ("SELECT T1.a FROM t AS T1 JOIN s AS T2 ON T1.id = T2.id", (1, 0, 0), "easy"),
        (
            "SELECT T1.a FROM t AS T1 JOIN s AS T2 ON T1.id = T2.id JOIN u AS T3 ON T3.id = T2.id",
            (2, 0, 0),
            "medium",
        ),
        ("SELECT a FROM t, s", (1, 0, 0), "easy"),
        ("SELECT a FROM t GROUP BY a ORDER BY count(*) DESC LIMIT 1", (3, 0, 0), "hard"),
        ("SELECT a, count(*) FROM t GROUP BY a, b", (1, 0, 2), "medium"),
        # the official aggregate count: one per aggregated SELECT item and ORDER BY aggregate
        ("SELECT max(a), min(a) FROM t", (0, 0, 2), "medium"),
        ("SELECT a FROM t GROUP BY a ORDER BY sum(b) - sum(c)", (2, 0, 1), "medium"),
        ("SELECT a, count(*) FROM t GROUP BY a ORDER BY count(*)", (2, 0, 2), "extra"),
        # ... and, in WHERE/HAVING, negated conditions and HAVING's AND/OR (the first field of a unit)
        ("SELECT a, count(*) FROM t WHERE b NOT IN (1, 2) GROUP BY a", (2, 0, 2), "extra"),
        ("SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1 AND sum(b) > 2", (1, 0, 2), "medium"),
        ("SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1", (1, 0, 1), "medium"),
        # nested: conditions whose value is a subquery, and a set operation; FROM subqueries are not
        ("SELECT name FROM t WHERE id NOT IN (SELECT id FROM s)", (1, 1, 0), "hard"),
        (
            "SELECT name FROM t WHERE a > (SELECT avg(a) FROM t) AND b < (SELECT max(b) FROM t)",
            (1, 2, 1),
            "extra",
        ),
        (
            "SELECT a FROM t WHERE b BETWEEN (SELECT min(b) FROM s) AND (SELECT max(b) FROM s)",
            (1, 2, 0),
            "extra",
        ),
        ("SELECT count(*) FROM (SELECT a FROM t WHERE b > 1)", (0, 0, 0), "easy"),
        ("SELECT a FROM t INTERSECT SELECT a FROM s", (0, 1, 0), "hard"),
        # after a set operation, ORDER BY/LIMIT belong to the right-hand side, which is not counted
        (
            "SELECT a FROM t WHERE b = 1 UNION SELECT a FROM s WHERE c = 2 ORDER BY a LIMIT 3",
            (1, 1, 0),
            "hard",
        ),
        ("SELECT a FROM t EXCEPT SELECT a FROM s UNION SELECT a FROM u", (0, 1, 0), "hard"),
        ("SELECT a, b FROM t WHERE c IN (SELECT c FROM s) EXCEPT SELECT a, b FROM u", (1, 2, 1), "extra"),
        # Spider's parser loses the conditions after "= <column> OR" up to the next AND
        ("SELECT a FROM t AS T1 JOIN s AS T2 ON T1.x = T2.y OR T1.x = T2.z", (1, 0, 0), "easy"),
        (
            "SELECT a FROM t AS T1 JOIN s AS T2 ON T1.x = T2.y WHERE T1.b = T2.c OR T1.b = 3 AND T1.d = 4",
            (2, 0, 1),
            "medium",
        ),
        # ... but a "double-quoted" value is a string to Spider, so the OR counts
        ('SELECT a FROM t WHERE b = "x" OR b = "y"', (2, 0, 1), "medium"),
        ("SELECT a FROM t WHERE (b = 1 OR b = 2) AND c = 3", (2, 0, 1), "medium"),
        ("SELECT a FROM t WHERE b IS NOT NULL", (1, 0, 0), "easy"),
        ("SELECT a FROM t WHERE EXISTS (SELECT 1 FROM s)", (1, 1, 0), "hard"),
        ("WITH c AS (SELECT a FROM t WHERE b = 1) SELECT a FROM c", (0, 0, 0), "easy"),
    ],
)
def test_counts_and_level(sql: str, counts: tuple[int, int, int], level: str):
    assert hardness_counts(sql) == HardnessCounts(*counts)
    assert spider_hardness(sql) == level


@pytest.mark.parametrize(
    ("c1", "c2", "others", "level"),
    [
        (1, 0, 0, "easy"),
        (0, 0, 1, "medium"),
        (1, 0, 2, "medium"),
        (2, 0, 1, "medium"),
        (2, 0, 2, "extra"),
        (2, 0, 3, "hard"),
        (3, 0, 2, "hard"),
        (4, 0, 0, "extra"),
        (1, 1, 0, "hard"),
        (0, 1, 1, "extra"),
        (0, 2, 0, "extra"),
    ],
)
def test_official_thresholds(c1: int, c2: int, others: int, level: str):
    assert hardness_from_counts(c1, c2, others) == level


def test_parsed_tree_path_applies_the_same_counting():
    # SELECT T1.name, count(*) FROM a AS T1 JOIN b AS T2 ON T1.id = T2.aid WHERE T2.x LIKE '%q%'
    #   OR T2.y NOT IN (SELECT ...) GROUP BY T1.name
    sub = {
        "select": [False, [[0, [0, [0, 5, False], None]]]], "from": {"table_units": [["table_unit", 2]], "conds": []},
        "where": [], "groupBy": [], "having": [], "orderBy": [], "limit": None,
        "intersect": None, "union": None, "except": None,
    }  # fmt: skip
    tree = {
        "select": [False, [[0, [0, [0, 1, False], None]], [3, [0, [0, 0, False], None]]]],
        "from": {"table_units": [["table_unit", 0], ["table_unit", 1]], "conds": [[False, 2, [0, [0, 2, False], None], [0, 4, False], None]]},
        "where": [[False, 9, [0, [0, 6, False], None], '"%q%"', None], "or", [True, 8, [0, [0, 7, False], None], sub, None]],
        "groupBy": [[0, 1, False]], "having": [], "orderBy": [], "limit": None,
        "intersect": None, "union": None, "except": None,
    }  # fmt: skip
    # component1: where 1 + group 1 + join 1 + or 1 + like 1; component2: one subquery value;
    # others: aggregates (count 1 + NOT flag 1) > 1, 2 select items, 2 where conditions
    assert hardness_counts_from_parsed(tree) == HardnessCounts(5, 1, 3)
    assert spider_hardness_from_parsed(tree) == "extra"
    sql = (
        "SELECT T1.name, count(*) FROM a AS T1 JOIN b AS T2 ON T1.id = T2.aid "
        "WHERE T2.x LIKE '%q%' OR T2.y NOT IN (SELECT z FROM b) GROUP BY T1.name"
    )
    assert hardness_counts(sql) == HardnessCounts(5, 1, 3)


def test_unparseable_sql_raises_a_typed_error():
    with pytest.raises(SQLParseError):
        spider_hardness("SELEC FROM WHERE (")


def _dev_examples() -> list[dict]:
    if not SPIDER_DEV.is_file():
        pytest.skip(f"Spider dev data not found at {SPIDER_DEV} (see ../shared/benchmarks/README)")
    return json.loads(SPIDER_DEV.read_text())


@pytest.mark.benchmarkdata
def test_spider_dev_without_wta_1_matches_the_official_buckets_exactly():
    examples = [e for e in _dev_examples() if e["db_id"] != "wta_1"]
    assert len(examples) == 972
    official = {"easy": 232, "medium": 416, "hard": 160, "extra": 164}  # EVALUATORS.md
    assert Counter(spider_hardness(e["query"]) for e in examples) == official
    assert Counter(spider_hardness_from_parsed(e["sql"]) for e in examples) == official


@pytest.mark.benchmarkdata
def test_every_spider_dev_example_agrees_with_the_official_parse_tree_counts():
    examples = _dev_examples()
    disagree = [
        (i, e["query"])
        for i, e in enumerate(examples)
        if hardness_counts(e["query"]) != hardness_counts_from_parsed(e["sql"])
    ]
    assert disagree == []
    # the widely reported Spider dev breakdown (all 1034 examples)
    assert Counter(spider_hardness(e["query"]) for e in examples) == {
        "easy": 248,
        "medium": 446,
        "hard": 174,
        "extra": 166,
    }
