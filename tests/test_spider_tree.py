"""Analyses read off Spider's own parse tree agree with the sqlglot analyses they stand in for: on
every Spider dev example, and on hand-made trees for what dev does not hold."""

from __future__ import annotations

import json

import pytest

from benchdata import BENCHMARKS
from sqlfoundry.sql.compare import gold_orders_rows
from sqlfoundry.sql.hardness import spider_hardness
from sqlfoundry.sql.skills import sql_skills
from sqlfoundry.sql.spider_tree import (
    orders_rows_from_tree,
    skills_from_tree,
    spider_hardness_from_parsed,
    tree_expresses,
)

SPIDER_DEV = BENCHMARKS / "spider_dev" / "dev.json"


def _query(**parts):
    """A Spider tree with empty clauses except ``parts``."""
    tree = {
        "select": [False, [[0, [0, [0, 1, False], None]]]],
        "from": {"table_units": [["table_unit", 0]], "conds": []},
        "where": [], "groupBy": [], "having": [], "orderBy": [], "limit": None,
        "intersect": None, "union": None, "except": None,
    }  # fmt: skip
    tree.update(parts)
    return tree


@pytest.mark.benchmarkdata
@pytest.mark.skipif(not SPIDER_DEV.is_file(), reason=f"Spider dev data not found at {SPIDER_DEV}")
def test_tree_analyses_equal_the_sqlglot_ones_on_every_spider_dev_example():
    examples = json.loads(SPIDER_DEV.read_text(encoding="utf-8"))
    assert len(examples) == 1034
    answered = 0
    seen: set[str] = set()
    for ex in examples:
        text, tree = ex["query"], ex["sql"]
        skills = skills_from_tree(tree, text)
        if skills is not None:
            answered += 1
            assert skills == sql_skills(text), text
            assert orders_rows_from_tree(tree) == gold_orders_rows(text), text
            seen.update(skills)
    assert answered == len(examples)  # dev holds nothing the tree cannot express
    # The comparison exercised the skills Spider dev has.
    assert {"aggregation", "join", "nested", "set_operation", "negation", "distinct", "between", "like"} <= seen
    levels = [spider_hardness_from_parsed(ex["sql"]) for ex in examples if ex["db_id"] != "wta_1"]
    assert {lv: levels.count(lv) for lv in ("easy", "medium", "hard", "extra")} == {
        "easy": 232, "medium": 416, "hard": 160, "extra": 164,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expresses"),
    [
        ("SELECT a FROM t", True),
        ("SELECT count(*) FROM t WHERE b IN (SELECT c FROM u)", True),
        ("SELECT 'case when' FROM t WHERE \"with\" = 1", True),  # inside literals and quoted names
        ("SELECT upper(a) FROM t", False),
        ("SELECT a || b FROM t", False),
        ("SELECT CASE WHEN a THEN 1 END FROM t", False),
        ("SELECT sum(a) OVER () FROM t", False),
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
        ("SELECT strftime('%Y', d) FROM t", False),
        ("SELECT CAST(a AS TEXT) FROM t", False),
    ],
)
def test_tree_declines_queries_it_cannot_hold(text, expresses):
    assert tree_expresses(text) is expresses
    if not expresses:
        assert skills_from_tree(_query(), text) is None


def test_hand_made_trees_for_what_spider_dev_lacks():
    # SELECT a - b FROM t: arithmetic is a val_unit's operator.
    minus = _query(select=[False, [[0, [1, [0, 1, False], [0, 2, False]]]]])
    assert skills_from_tree(minus, "SELECT a - b FROM t") == sql_skills("SELECT a - b FROM t")
    # SELECT count(DISTINCT a) FROM t: distinct inside an aggregate's column unit.
    count_distinct = _query(select=[False, [[3, [0, [0, 1, True], None]]]])
    text = "SELECT count(DISTINCT a) FROM t"
    assert skills_from_tree(count_distinct, text) == sql_skills(text)
    # SELECT a FROM (SELECT a FROM t): a FROM subquery is nested.
    inner = _query()
    outer = _query(**{"from": {"table_units": [["sql", inner]], "conds": []}})
    text = "SELECT a FROM (SELECT a FROM t)"
    assert skills_from_tree(outer, text) == sql_skills(text)
    # IS [NOT] NULL: how Spider's parser holds it is not pinned down, so the text is parsed instead.
    is_null = _query(where=[[False, 10, [0, [0, 1, False], None], "null", None]])
    assert skills_from_tree(is_null, "SELECT a FROM t WHERE a IS NULL") is None


def test_trailing_order_by_of_a_set_operation_orders_rows():
    # Spider's parser hangs "A UNION B ORDER BY x" on B: the whole result is ordered.
    text = "SELECT a FROM t UNION SELECT a FROM u ORDER BY a"
    tree = _query(union=_query(orderBy=["asc", [[0, [0, 1, False], None]]]))
    assert orders_rows_from_tree(tree) is True is gold_orders_rows(text)
    assert orders_rows_from_tree(_query(union=_query())) is False
    assert spider_hardness_from_parsed(tree) == spider_hardness(text)
