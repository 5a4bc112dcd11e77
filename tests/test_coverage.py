"""SQL construct extraction (exact sets) and coverage of a gold set by records, on Spider dev."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from benchdata import BENCHMARKS
from sqlfoundry.records import Record
from sqlfoundry.synth.coverage import coverage, coverage_from_files, sql_constructs
from sqlfoundry.synth.data_cli import coverage_app
from sqlfoundry.synth.export import write_jsonl

SPIDER_DEV = BENCHMARKS / "spider_dev" / "dev.json"


def fine(sql: str, dialect: str = "sqlite") -> set[str]:
    """The constructs beyond sql_skills' (those are tested in test_skills)."""
    return {c for c in sql_constructs(sql, dialect) if not c.startswith("skill:")}


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT count(*) FROM singer", {"agg:count"}),
        ("SELECT * FROM t", {"select:star"}),
        ("SELECT DISTINCT a FROM t ORDER BY a", {"select:distinct", "order:asc"}),
        ("SELECT count(DISTINCT a), max(b) FROM t", {"agg:count", "agg:count_distinct", "agg:max"}),
        (
            "SELECT name FROM t WHERE a > 1 AND b <= 2 OR c != 'x'",
            {"cmp:>", "cmp:<=", "cmp:!=", "logic:and", "logic:or"},
        ),
        (
            "SELECT T1.a FROM t AS T1 JOIN u AS T2 ON T1.id = T2.id AND T1.k = T2.k",
            {"join:count_1"},  # ON conditions are join conditions, not comparisons or logic
        ),
        (
            "SELECT * FROM a JOIN b ON a.x = b.x LEFT JOIN c ON c.y = b.y",
            {"select:star", "join:count_2", "join:left"},
        ),
        (
            "SELECT a.n FROM a JOIN b ON a.i = b.i JOIN c ON c.i = b.i JOIN a AS a2 ON a2.i = c.i",
            {"join:count_3+", "join:self"},
        ),
        ("SELECT x FROM a, b WHERE a.i = b.i", {"join:count_1", "join:cross", "cmp:="}),
        (
            "SELECT a FROM t WHERE b NOT IN (SELECT b FROM u) AND c IN (1, 2)",
            {"pred:not_in_subquery", "pred:in_list", "subquery:where", "logic:and"},
        ),
        (
            "SELECT a FROM t WHERE b LIKE '%x%' OR c NOT LIKE 'y' OR d BETWEEN 1 AND 2 OR e IS NULL OR f IS NOT NULL",
            {"pred:like", "pred:not_like", "pred:between", "pred:is_null", "pred:is_not_null", "logic:or"},
        ),
        (
            "SELECT a FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.a = t.a) AND NOT (b = 1)",
            {"pred:not_exists", "pred:not", "subquery:where", "cmp:=", "logic:and"},
        ),
        (
            "SELECT a, (SELECT max(b) FROM u) FROM (SELECT a FROM t) GROUP BY a, c HAVING count(*) > (SELECT 1)",
            {
                "subquery:select",
                "subquery:from",
                "subquery:having",
                "agg:max",
                "agg:count",
                "cmp:>",
                "group:multiple_keys",
            },
        ),
        (
            "SELECT a FROM t WHERE b IN (SELECT b FROM u WHERE c IN (SELECT c FROM v))",
            {"pred:in_subquery", "subquery:where", "subquery:depth_2+"},
        ),
        (
            "SELECT a FROM t UNION SELECT a FROM u INTERSECT SELECT a FROM v EXCEPT SELECT a FROM w UNION ALL SELECT 1",
            {"set:union", "set:intersect", "set:except", "set:union_all"},
        ),
        (
            "SELECT name FROM t ORDER BY count(*) DESC, name ASC LIMIT 3 OFFSET 1",
            {
                "agg:count",
                "order:desc",
                "order:asc",
                "order:multiple_keys",
                "order:by_aggregate",
                "limit:offset",
            },
        ),
        (
            "SELECT strftime('%Y', d), substr(n, 1, 2), round(x, 1), CAST(y AS REAL), a || b, julianday('now') - 1 FROM t",
            {
                "func:strftime",
                "func:substring",
                "func:round",
                "func:cast",
                "func:julianday",
                "arith:||",
                "arith:-",
            },
        ),
        (
            "SELECT a, rank() OVER (PARTITION BY b ORDER BY c DESC), sum(x) OVER () FROM t",
            {"window:rank", "window:partition_by", "window:order_by", "window:sum"},
        ),
        (
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n * 2 FROM r",
            {"cte:recursive", "set:union_all", "arith:+", "arith:*", "cmp:<"},
        ),
        (
            "SELECT CASE WHEN a > 1 THEN 'x' ELSE 'y' END, iif(b, 1, 0), coalesce(c, 0) FROM t",
            {"cmp:>", "func:coalesce"},
        ),
    ],
)
def test_constructs(sql, expected):
    assert fine(sql) == expected


def test_constructs_include_skills_and_read_other_dialects():
    assert {"skill:projection", "skill:aggregation", "agg:count"} <= sql_constructs("SELECT count(*) FROM t")
    # DuckDB SQL: names come out as SQLite writes them
    assert fine("SELECT a FROM t WHERE b ILIKE 'x%' LIMIT 2", "duckdb") == {"pred:like"}


def test_coverage_counts_and_shares():
    gold = [
        "SELECT count(*) FROM a",
        "SELECT name FROM a WHERE x > 1",
        "SELECT name FROM a WHERE x > 1 INTERSECT SELECT name FROM b",
        "SELEC nothing (",
    ]
    data = [
        "SELECT count(*) FROM z",
        "SELECT q FROM z WHERE r > 5",
        ("SELECT q FROM z WHERE r > 5", "duckdb"),
        "",
    ]
    report = coverage(gold, data)
    assert (report.gold_queries, report.gold_unparsed, report.data_records, report.data_unparsed) == (
        3,
        1,
        3,
        0,
    )
    assert report.queries_covered == 2 and report.query_coverage == pytest.approx(2 / 3)
    rows = {c.name: (c.gold_count, c.data_count, c.covered) for c in report.constructs}
    assert rows["agg:count"] == (1, 1, True)
    assert rows["cmp:>"] == (2, 2, True)
    assert rows["set:intersect"] == (1, 0, False)
    assert [c.name for c in report.missing()] == ["set:intersect", "skill:set_operation"]
    assert report.construct_coverage == pytest.approx((len(rows) - 2) / len(rows))
    total = sum(g for g, _, _ in rows.values())
    assert report.weighted_coverage == pytest.approx((total - 2) / total)
    strict = coverage(gold, data, min_count=2)
    assert {c.name for c in strict.constructs if c.covered} == {"skill:projection", "skill:filter", "cmp:>"}
    assert coverage(gold, []).query_coverage == 0.0


def _spider_like_records(path: Path) -> Path:
    sqls = [
        "SELECT count(*) FROM singer",
        "SELECT name, country, age FROM singer ORDER BY age DESC",
        "SELECT avg(age), min(age), max(age) FROM singer WHERE country = 'France'",
        "SELECT T2.name FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id "
        "GROUP BY T1.stadium_id ORDER BY count(*) DESC LIMIT 1",
    ]
    records = [Record(id=str(i), db_id="concert_singer", question=f"q{i}", sql=s) for i, s in enumerate(sqls)]
    records.append(
        Record(
            id="x",
            db_id="concert_singer",
            question="phone?",
            sql="",
            feasible=False,
            verification="infeasible",
        )
    )
    write_jsonl(records, path)
    return path


@pytest.mark.benchmarkdata
@pytest.mark.skipif(not SPIDER_DEV.is_file(), reason=f"Spider dev not found at {SPIDER_DEV}")
def test_coverage_against_spider_dev(tmp_path):
    data = _spider_like_records(tmp_path / "records.jsonl")
    report = coverage_from_files(SPIDER_DEV, [data])
    assert report.gold_queries == 1034 and report.gold_unparsed == 0
    assert report.data_records == 4  # the infeasible record has no SQL
    covered = {c.name for c in report.constructs if c.covered}
    missing = {c.name for c in report.missing()}
    assert {
        "agg:count",
        "agg:avg",
        "order:desc",
        "order:by_aggregate",
        "join:count_1",
        "cmp:=",
        "skill:limit",
    } <= covered
    assert {
        "set:intersect",
        "set:except",
        "pred:not_in_subquery",
        "skill:nested",
        "cmp:>",
        "join:count_2",
    } <= missing
    # the gold queries equal to a record's shape are covered, so are the many plain counts of Spider
    gold = json.loads(SPIDER_DEV.read_text())
    plain_counts = sum(
        1
        for g in gold
        if g["query"].strip().lower().startswith("select count(*) from")
        and " " not in g["query"].strip()[21:].strip()
    )
    assert report.queries_covered >= plain_counts > 0
    assert 0.3 < report.query_coverage < 0.7
    assert 0 < report.construct_coverage < report.weighted_coverage < 1
    by_name = {c.name: c for c in report.constructs}
    assert by_name["skill:projection"].gold_count == 1034 and by_name["skill:projection"].data_count == 4
    assert report.constructs[0].gold_count >= report.constructs[-1].gold_count  # most used first


@pytest.mark.benchmarkdata
@pytest.mark.skipif(not SPIDER_DEV.is_file(), reason=f"Spider dev not found at {SPIDER_DEV}")
def test_coverage_command_mounted_like_the_cli(tmp_path):
    data = _spider_like_records(tmp_path / "records.jsonl")
    root, synth = typer.Typer(), typer.Typer()
    synth.add_typer(coverage_app, name="coverage")
    root.add_typer(synth, name="synth")

    @root.callback()
    def main() -> None: ...

    runner = CliRunner()
    result = runner.invoke(root, ["synth", "coverage", "--against", str(SPIDER_DEV), str(data), "--json"])
    assert result.exit_code == 0, result.output
    data_json = json.loads(result.output)
    assert data_json["gold_queries"] == 1034 and "set:intersect" in data_json["missing"]
    table = runner.invoke(root, ["synth", "coverage", "--against", str(SPIDER_DEV), str(data), "--show", "5"])
    assert (
        table.exit_code == 0
        and "queries fully covered" in table.output
        and "set:intersect" not in table.output
    )
    assert "cmp:>" in table.output  # the most-used missing construct is listed first
    missing = runner.invoke(root, ["synth", "coverage", "--against", str(tmp_path / "nope.json"), str(data)])
    assert missing.exit_code == 2 and "cannot read" in missing.output
