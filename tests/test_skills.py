"""SQL skills, complexity, and the canonical text forms (normalize, template, skeleton): exact
expectations, case by case."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from benchdata import BENCHMARKS
from sqlfoundry.sql.normalize import (
    SQLParseError,
    collapse_whitespace,
    normalize_sql,
    parse_sql,
    skeleton,
    sql_template,
)
from sqlfoundry.sql.skills import COMPLEXITY_LEVELS, SKILLS, complexity_counts, sql_complexity, sql_skills

SPIDER_DEV = BENCHMARKS / "spider_dev" / "dev.json"

CASES = [
    ("SELECT name FROM singer", ["projection"], "simple"),
    (
        "SELECT name FROM singer WHERE age > 20 ORDER BY age DESC LIMIT 3",
        ["filter", "limit", "order_by", "projection"],
        "simple",
    ),
    (
        "SELECT country, count(*) FROM singer GROUP BY country HAVING count(*) > 1",
        ["aggregation", "group_by", "having", "projection"],
        "complex",
    ),
    ("SELECT T1.name FROM a AS T1 JOIN b AS T2 ON T1.id = T2.aid", ["join", "projection"], "moderate"),
    ("SELECT a FROM t, s WHERE t.x = s.y", ["filter", "join", "projection"], "moderate"),
    (
        "SELECT name FROM s WHERE id NOT IN (SELECT sid FROM c)",
        ["filter", "in", "negation", "nested", "projection"],
        "complex",
    ),
    ("SELECT name FROM s WHERE x IS NULL", ["filter", "is_null", "projection"], "simple"),
    ("SELECT name FROM s WHERE x IS NOT NULL", ["filter", "is_null", "negation", "projection"], "simple"),
    (
        "SELECT a FROM t WHERE b BETWEEN 1 AND 5 AND c IN (1, 2)",
        ["between", "filter", "in", "projection"],
        "simple",
    ),
    (
        "SELECT a FROM t WHERE b NOT BETWEEN 1 AND 5",
        ["between", "filter", "negation", "projection"],
        "simple",
    ),
    ("SELECT a FROM t WHERE b LIKE '%x%'", ["filter", "like", "projection"], "simple"),
    ("SELECT a FROM t WHERE b NOT LIKE '%x%'", ["filter", "like", "negation", "projection"], "simple"),
    ("SELECT name FROM t WHERE name GLOB 'A*'", ["filter", "like", "projection"], "simple"),
    (
        "SELECT a FROM t WHERE NOT EXISTS (SELECT 1 FROM s WHERE s.a = t.a)",
        ["filter", "negation", "nested", "projection"],
        "complex",
    ),
    ("SELECT a FROM t UNION SELECT a FROM s", ["projection", "set_operation"], "complex"),
    ("SELECT a FROM t EXCEPT SELECT a FROM s", ["projection", "set_operation"], "complex"),
    (
        "SELECT a FROM t INTERSECT SELECT a FROM s ORDER BY a",
        ["order_by", "projection", "set_operation"],
        "complex",
    ),
    ("SELECT DISTINCT a FROM t", ["distinct", "projection"], "simple"),
    ("SELECT count(DISTINCT a) FROM t", ["aggregation", "distinct", "projection"], "moderate"),
    ("SELECT CASE WHEN a > 1 THEN 'big' ELSE 'small' END FROM t", ["case", "projection"], "moderate"),
    ("SELECT iif(a > 1, 1, 0) FROM t", ["case", "projection"], "moderate"),
    ("WITH c AS (SELECT a FROM t) SELECT a FROM c", ["cte", "projection"], "highly_complex"),
    (
        "SELECT a, rank() OVER (PARTITION BY b ORDER BY c DESC) FROM t",
        ["projection", "window"],
        "highly_complex",
    ),
    # an aggregate used as a window function is a window, not an aggregation; its ORDER BY is the window's
    ("SELECT sum(a) OVER (ORDER BY b) FROM t", ["projection", "window"], "highly_complex"),
    ("SELECT strftime('%Y', d) FROM t", ["date_time", "projection"], "simple"),
    ("SELECT julianday(a) - julianday(b) FROM t", ["arithmetic", "date_time", "projection"], "simple"),
    ("SELECT a FROM t WHERE d >= date('now', '-7 days')", ["date_time", "filter", "projection"], "simple"),
    (
        "SELECT upper(name), substr(name, 1, 3), length(name) FROM t",
        ["projection", "string_function"],
        "simple",
    ),
    ("SELECT first || ' ' || last FROM t", ["projection", "string_function"], "simple"),
    (
        "SELECT instr(a, 'x'), replace(a, 'x', 'y'), trim(a) FROM t",
        ["projection", "string_function"],
        "simple",
    ),
    ("SELECT a * 2 + b FROM t", ["arithmetic", "projection"], "simple"),
    ("SELECT -a FROM t", ["arithmetic", "projection"], "simple"),
    # a negative number is a literal, not arithmetic
    ("SELECT a FROM t WHERE b = -1", ["filter", "projection"], "simple"),
    (
        "SELECT avg(salary) FROM t WHERE dept IN (SELECT id FROM d WHERE budget > (SELECT avg(budget) FROM d))",
        ["aggregation", "filter", "in", "nested", "projection"],
        "highly_complex",
    ),
    ("SELECT * FROM (SELECT a FROM t) AS sub", ["nested", "projection"], "complex"),
    ("SELECT group_concat(name) FROM t", ["aggregation", "projection"], "moderate"),
    ("SELECT a FROM t LIMIT 5 OFFSET 10", ["limit", "projection"], "simple"),
    (
        "SELECT T1.a, count(*) FROM t AS T1 JOIN s AS T2 ON T1.id = T2.tid GROUP BY T1.a",
        ["aggregation", "group_by", "join", "projection"],
        "complex",
    ),
    (
        "SELECT T1.a FROM t AS T1 JOIN s AS T2 ON T1.id = T2.tid JOIN u AS T3 ON T3.sid = T2.id",
        ["join", "projection"],
        "complex",
    ),
    ("SELECT a FROM t WHERE b = 1 AND c = 2", ["filter", "projection"], "simple"),
    ("SELECT a FROM t WHERE b = 1 AND c = 2 OR d = 3", ["filter", "projection"], "moderate"),
    (
        "SELECT a FROM t AS T1 JOIN s AS T2 ON T1.id = T2.tid JOIN u AS T3 ON T3.sid = T2.id "
        "WHERE T1.x IN (SELECT x FROM v)",
        ["filter", "in", "join", "nested", "projection"],
        "highly_complex",
    ),
    (
        "SELECT a FROM t WHERE b IN (SELECT b FROM s) UNION SELECT a FROM u WHERE c > (SELECT avg(c) FROM u)",
        ["aggregation", "filter", "in", "nested", "projection", "set_operation"],
        "highly_complex",
    ),
]


@pytest.mark.parametrize(("sql", "skills", "complexity"), CASES)
def test_skills_and_complexity(sql: str, skills: list[str], complexity: str):
    assert sql_skills(sql) == skills
    assert sql_complexity(sql) == complexity


def test_every_skill_is_documented_and_exercised():
    seen = {s for _sql, skills, _c in CASES for s in skills}
    assert seen == set(SKILLS)
    assert {c for _s, _k, c in CASES} == set(COMPLEXITY_LEVELS)


def test_skills_accept_a_parsed_tree_and_other_dialects():
    tree = parse_sql("SELECT a FROM t WHERE b > 1")
    assert sql_skills(tree) == ["filter", "projection"]
    assert sql_skills("SELECT TOP 3 a FROM t", dialect="tsql") == ["limit", "projection"]
    assert sql_skills("SELECT a FROM t WHERE b ILIKE 'x%'", dialect="postgres") == [
        "filter",
        "like",
        "projection",
    ]


def test_complexity_counts():
    counts = complexity_counts(
        "SELECT T1.a FROM t AS T1 JOIN s AS T2 ON T1.id = T2.id "
        "WHERE T1.b > (SELECT avg(b) FROM t WHERE c IN (SELECT c FROM u)) AND T1.d = 1"
    )
    assert (counts.joins, counts.subqueries, counts.nesting_depth, counts.aggregations) == (1, 2, 2, 1)
    assert (counts.where_conditions, counts.set_operations, counts.ctes, counts.windows) == (3, 0, 0, 0)


def test_unparseable_sql_raises_a_typed_error():
    with pytest.raises(SQLParseError, match="cannot parse"):
        sql_skills("SELECT FROM WHERE (")
    with pytest.raises(SQLParseError, match="one SQL statement"):
        sql_skills("SELECT 1; SELECT 2")


@pytest.mark.benchmarkdata
def test_spider_dev_skills_and_complexity_run_on_every_query():
    if not SPIDER_DEV.is_file():
        pytest.skip(f"Spider dev data not found at {SPIDER_DEV} (see ../shared/benchmarks/README)")
    queries = [e["query"] for e in json.loads(SPIDER_DEV.read_text())]
    levels = Counter(sql_complexity(q) for q in queries)
    skills = Counter(s for q in queries for s in sql_skills(q))
    assert skills["projection"] == len(queries) == 1034
    assert set(levels) == {"simple", "moderate", "complex", "highly_complex"}
    assert skills["cte"] == skills["window"] == 0  # Spider has neither


# --- normalize, template, skeleton ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "normalized", "template", "skel"),
    [
        (
            "select  name ,age from singer where age>20 ;",
            "SELECT name, age FROM singer WHERE age > 20",
            "SELECT name, age FROM singer WHERE age > ?",
            "SELECT _col, _col FROM _tab WHERE _col > _val",
        ),
        (
            'SELECT name FROM singer WHERE country = "France" AND age BETWEEN 20 AND -3.5 LIMIT 2',
            'SELECT name FROM singer WHERE country = "France" AND age BETWEEN 20 AND -3.5 LIMIT 2',
            "SELECT name FROM singer WHERE country = ? AND age BETWEEN ? AND ? LIMIT 2",
            "SELECT _col FROM _tab WHERE _col = _val AND _col BETWEEN _val AND _val LIMIT _val",
        ),
        (
            "select count(*) from t as T1 join s as T2 on T1.id=T2.tid where T2.x like '%a  b%' "
            "group by T1.y order by count(*) desc limit 1",
            "SELECT COUNT(*) FROM t AS T1 JOIN s AS T2 ON T1.id = T2.tid WHERE T2.x LIKE '%a  b%' "
            "GROUP BY T1.y ORDER BY COUNT(*) DESC LIMIT 1",
            "SELECT COUNT(*) FROM t AS T1 JOIN s AS T2 ON T1.id = T2.tid WHERE T2.x LIKE ? "
            "GROUP BY T1.y ORDER BY COUNT(*) DESC LIMIT 1",
            "SELECT COUNT(*) FROM _tab JOIN _tab ON _col = _col WHERE _col LIKE _val "
            "GROUP BY _col ORDER BY COUNT(*) DESC LIMIT _val",
        ),
        (
            'SELECT [My Col] FROM `my tab` WHERE "My Col" IN ("a", 2)',
            'SELECT "My Col" FROM "my tab" WHERE "My Col" IN ("a", 2)',
            'SELECT "My Col" FROM "my tab" WHERE "My Col" IN (?, ?)',
            "SELECT _col FROM _tab WHERE _col IN (_val, _val)",
        ),
    ],
)
def test_normalize_template_skeleton(sql: str, normalized: str, template: str, skel: str):
    assert normalize_sql(sql) == normalized
    assert sql_template(sql) == template
    assert skeleton(sql) == skel


def test_normalize_is_idempotent_and_layout_insensitive():
    a = "SELECT a,b FROM t WHERE x='A  B'"
    b = "select a ,\n   b\tfrom t where x = 'A  B';"
    assert normalize_sql(a) == normalize_sql(b) == "SELECT a, b FROM t WHERE x = 'A  B'"
    assert normalize_sql(normalize_sql(a)) == normalize_sql(a)


def test_normalize_falls_back_to_collapsing_whitespace_outside_quotes():
    assert normalize_sql("SELEC  a,\n  b   FROM 'x   y'  \"q  r\" ;") == "SELEC a, b FROM 'x   y' \"q  r\""
    assert collapse_whitespace("a  'it''s   here'   b") == "a 'it''s   here' b"
    assert collapse_whitespace("x  [a   b]  `c   d`;;") == "x [a   b] `c   d`"


def test_template_and_skeleton_group_queries_that_differ_only_in_values_or_names():
    assert sql_template("SELECT a FROM t WHERE b = 1") == sql_template("SELECT a FROM t WHERE b = 'x'")
    assert skeleton("SELECT a FROM t WHERE b = 1") == skeleton("SELECT c FROM u AS U WHERE d = 'x'")
    assert skeleton("SELECT a FROM t WHERE b = 1") != skeleton("SELECT a FROM t WHERE b > 1")
    with pytest.raises(SQLParseError):
        sql_template("SELECT FROM WHERE (")
