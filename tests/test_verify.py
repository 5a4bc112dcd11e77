"""Verification of sampled SQL by execution: each rejection reason on a hand-made case, the tie check at
ORDER BY … LIMIT k (probe, tie-breaker, re-verification), and re-verification in another dialect."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sqlfoundry.db.executor import Executor
from sqlfoundry.synth.dedup import ResultIndex, ResultKey, sql_keys
from sqlfoundry.synth.dialects import reverify_in_dialect, same_answer, transpile_sql
from sqlfoundry.synth.verify import (
    Rejection,
    degenerate_reason,
    has_tie,
    order_shape,
    tie_probe,
    verify_batch,
    with_tie_breaker,
)

DDL = """
CREATE TABLE player (id INTEGER PRIMARY KEY, name TEXT NOT NULL, team TEXT, score INTEGER, nickname TEXT);
CREATE TABLE team (name TEXT PRIMARY KEY, city TEXT);
"""
PLAYERS = [
    (1, "Ada", "red", 90, None),
    (2, "Bob", "red", 80, None),
    (3, "Cy", "blue", 80, None),  # ties with Bob at score 80
    (4, "Di", "blue", 70, None),
    (5, "Ed", "green", 60, None),
]
TEAMS = [("red", "Oslo"), ("blue", "Rome"), ("green", "Lima")]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("verify") / "players.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(DDL)
    conn.executemany("INSERT INTO player VALUES (?, ?, ?, ?, ?)", PLAYERS)
    conn.executemany("INSERT INTO team VALUES (?, ?)", TEAMS)
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def ex():
    with Executor(workers=1, cache=False) as executor:
        yield executor


def verdict(ex, db, sql, **options):
    return verify_batch(ex, db, [sql], **options)[0]


# --- execution status --------------------------------------------------------------------------


def test_passing_statement_keeps_its_sql_and_outcome(ex, db):
    v = verdict(ex, db, "SELECT name FROM player WHERE score > 75")
    assert v.ok and v.reason is None
    assert v.sql == "SELECT name FROM player WHERE score > 75"
    assert v.outcome.row_count == 3 and not v.tie_broken


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELEC name FROM player", Rejection.SYNTAX_ERROR),
        ("SELECT nope FROM player", Rejection.RUNTIME_ERROR),
        ("SELECT name FROM player WHERE score > 1000", Rejection.EMPTY),
        ("SELECT nickname FROM player", Rejection.ALL_NULL),
        ("SELECT nickname, NULL AS x FROM player WHERE score > 50", Rejection.ALL_NULL),
        ("SELECT COUNT(*) FROM player WHERE score > 1000", Rejection.ZERO_COUNT),
        ("SELECT COUNT(*) AS n, SUM(score) AS s FROM player WHERE team = 'none'", Rejection.ZERO_COUNT),
        ("SELECT name FROM player LIMIT 2", Rejection.UNORDERED_LIMIT),
        ("DELETE FROM player", Rejection.DENIED),
    ],
)
def test_each_execution_rejection(ex, db, sql, reason):
    # judged from rows when kept, from fingerprints when not: the same verdict
    assert verdict(ex, db, sql).reason is reason
    assert verdict(ex, db, sql, keep_rows=True).reason is reason


def test_too_large_and_timeout(ex, db):
    from sqlfoundry.db.outcome import Limits

    v = verdict(ex, db, "SELECT name FROM player", limits=Limits(max_rows=2))
    assert v.reason is Rejection.TOO_LARGE
    slow = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) "
        "SELECT COUNT(*) FROM c"
    )
    assert verdict(ex, db, slow, limits=Limits(timeout_s=0.2)).reason is Rejection.TIMEOUT


def test_engine_verdict_comes_before_sqlglot(ex, db):
    assert verdict(ex, db, "SELECT (((").reason is Rejection.SYNTAX_ERROR


def test_statement_the_engine_runs_but_sqlglot_cannot_read_is_unparseable(ex, db, monkeypatch):
    import sqlfoundry.synth.verify as verify_module
    from sqlfoundry.sql.normalize import SQLParseError

    real = verify_module.parse_sql

    def picky(sql, dialect="sqlite", **kw):
        if "nickname IS NULL" in sql:
            raise SQLParseError("cannot parse")
        return real(sql, dialect, **kw)

    monkeypatch.setattr(verify_module, "parse_sql", picky)
    v = verdict(ex, db, "SELECT name FROM player WHERE nickname IS NULL")
    assert v.reason is Rejection.UNPARSEABLE and v.outcome.ok  # it ran; no later step could read it


def test_allow_empty_keeps_empty_results_and_zero_counts(ex, db):
    assert verdict(ex, db, "SELECT name FROM player WHERE score > 1000", allow_empty=True).ok
    assert verdict(ex, db, "SELECT COUNT(*) FROM player WHERE score > 1000", allow_empty=True).ok
    # all-NULL answers are degenerate whatever allow_empty says
    assert verdict(ex, db, "SELECT nickname FROM player", allow_empty=True).reason is Rejection.ALL_NULL


def test_zero_is_a_fine_answer_when_not_a_lone_aggregate(ex, db):
    # a grouped count with some zero cells, and a plain zero column among others, are real answers
    assert verdict(ex, db, "SELECT name, score - score AS d FROM player WHERE id = 1").ok
    assert degenerate_reason.__name__  # the pure function is importable on its own


# --- ties at ORDER BY … LIMIT k ------------------------------------------------------------------


def test_order_shape_maps_keys_to_output_columns():
    shape = order_shape("SELECT name, score AS s FROM player ORDER BY s DESC, id LIMIT 2 OFFSET 1")
    assert (shape.limit, shape.offset, shape.key_columns) == (2, 1, [1, None])
    assert not shape.compound and not shape.distinct and not shape.star
    assert order_shape("SELECT name FROM player ORDER BY 1").key_columns == [0]
    assert order_shape("SELECT name FROM player ORDER BY name").key_columns == [0]
    assert order_shape("SELECT p.name FROM player AS p ORDER BY p.name").key_columns == [0]
    assert order_shape("SELECT name FROM player").limit is None


def test_tie_probe_is_the_query_one_row_past_the_cut():
    sql = "SELECT name FROM player ORDER BY score DESC LIMIT 2"
    probe = tie_probe(sql, order_shape(sql))
    assert probe.sql == "SELECT name, score AS __tie_key0 FROM player ORDER BY score DESC LIMIT 3"
    assert probe.key_columns == [-1] and probe.boundaries == [(1, 2)]
    sql = "SELECT name, score FROM player ORDER BY score DESC LIMIT 2 OFFSET 1"
    probe = tie_probe(sql, order_shape(sql))
    assert probe.sql == "SELECT name, score FROM player ORDER BY score DESC LIMIT 4"
    assert probe.key_columns == [1] and probe.boundaries == [(2, 3), (0, 1)]


def test_has_tie_compares_key_values_at_each_boundary():
    sql = "SELECT name, score FROM player ORDER BY score DESC LIMIT 2"
    probe = tie_probe(sql, order_shape(sql))
    assert has_tie([("Ada", 90), ("Bob", 80), ("Cy", 80)], probe)
    assert not has_tie([("Ada", 90), ("Bob", 80), ("Di", 70)], probe)
    assert not has_tie([("Ada", 90), ("Bob", 80)], probe)  # nothing past the cut


def test_with_tie_breaker_appends_output_columns():
    sql = "SELECT name, score AS s FROM player ORDER BY s DESC LIMIT 2"
    assert (
        with_tie_breaker(sql, order_shape(sql), 2)
        == "SELECT name, score AS s FROM player ORDER BY s DESC, name LIMIT 2"
    )
    sql = "SELECT team, COUNT(*) FROM player GROUP BY team ORDER BY COUNT(*) DESC LIMIT 1"
    assert (
        with_tie_breaker(sql, order_shape(sql), 2)
        == "SELECT team, COUNT(*) FROM player GROUP BY team ORDER BY COUNT(*) DESC, team LIMIT 1"
    )
    sql = "SELECT * FROM team ORDER BY city LIMIT 1"
    assert with_tie_breaker(sql, order_shape(sql), 2) == "SELECT * FROM team ORDER BY city, 1, 2 LIMIT 1"
    # DISTINCT ordered by a key it does not output cannot be made deterministic
    sql = "SELECT DISTINCT team FROM player ORDER BY score LIMIT 1"
    assert with_tie_breaker(sql, order_shape(sql), 1) is None


def test_tie_at_limit_is_broken_and_reverified(ex, db):
    sql = "SELECT name FROM player ORDER BY score DESC LIMIT 2"  # Bob and Cy tie at the cut
    v = verdict(ex, db, sql, keep_rows=True)
    assert v.ok and v.tie_broken
    assert v.sql == "SELECT name FROM player ORDER BY score DESC, name LIMIT 2"
    assert v.outcome.rows == [("Ada",), ("Bob",)]


def test_tie_at_limit_rejected_under_reject_policy(ex, db):
    sql = "SELECT name FROM player ORDER BY score DESC LIMIT 2"
    v = verdict(ex, db, sql, tie_policy="reject")
    assert v.reason is Rejection.TIE_AT_LIMIT and v.sql == sql


def test_no_tie_leaves_the_statement_alone(ex, db):
    for sql in (
        "SELECT name FROM player ORDER BY score DESC LIMIT 1",  # 90 vs 80
        "SELECT name FROM player ORDER BY score DESC LIMIT 3",  # 80 vs 70
        "SELECT name FROM player ORDER BY score DESC LIMIT 10",  # no row past the cut
        "SELECT MAX(score) FROM player LIMIT 1",  # one row, no ORDER BY needed
    ):
        v = verdict(ex, db, sql)
        assert v.ok and not v.tie_broken and v.sql == sql, sql


def test_tie_at_offset_boundary_is_found(ex, db):
    # rows by score: 90 | 80 80 | 70 ... OFFSET 2 starts between the two 80s
    v = verdict(ex, db, "SELECT name FROM player ORDER BY score DESC LIMIT 2 OFFSET 2", tie_policy="reject")
    assert v.reason is Rejection.TIE_AT_LIMIT


def test_tie_on_grouped_order_key(ex, db):
    # red and blue both have 2 players: a tie at LIMIT 1 on COUNT(*)
    v = verdict(
        ex, db, "SELECT team FROM player GROUP BY team ORDER BY COUNT(*) DESC LIMIT 1", keep_rows=True
    )
    assert v.tie_broken and v.sql.endswith("ORDER BY COUNT(*) DESC, team LIMIT 1")
    assert v.outcome.rows == [("blue",)]


# --- redundancy judged on answers ---------------------------------------------------------------


def key_for(ex, db, sql, complexity="simple"):
    v = verdict(ex, db, sql)
    assert v.ok, (sql, v.reason)
    keys = sql_keys(sql)
    tables = frozenset(t.lower() for t in ("player", "team") if t in sql)
    return ResultKey(v.outcome.fingerprint, keys.skeleton, keys.template, tables, complexity)


def test_duplicate_result_same_skeleton_same_answer(ex, db):
    index = ResultIndex()
    first = key_for(ex, db, "SELECT name FROM player WHERE score > 85")
    index.keep(first)
    # another literal, same rows (nobody scores between 85 and 88), same shape
    assert (
        index.check(key_for(ex, db, "SELECT name FROM player WHERE score > 88")) is Rejection.DUPLICATE_RESULT
    )
    assert index.check(key_for(ex, db, "SELECT name FROM player WHERE score > 75")) is None


def test_equivalent_to_simpler(ex, db):
    index = ResultIndex()
    index.keep(key_for(ex, db, "SELECT name FROM player WHERE team = 'red'", "simple"))
    nested = "SELECT name FROM player WHERE id IN (SELECT id FROM player WHERE team = 'red')"
    assert index.check(key_for(ex, db, nested, "complex")) is Rejection.EQUIVALENT_TO_SIMPLER
    # the same answer at the same level is not "simpler"
    assert index.check(key_for(ex, db, nested, "simple")) is None


def test_constant_answer_shared_by_many_templates(ex, db):
    index = ResultIndex(max_same_result=2)
    index.keep(key_for(ex, db, "SELECT COUNT(*) FROM team"))
    index.keep(key_for(ex, db, "SELECT COUNT(DISTINCT team) FROM player"))
    third = key_for(ex, db, "SELECT COUNT(*) FROM player WHERE score >= 80")  # also 3
    assert index.check(third) is Rejection.CONSTANT


# --- other dialects ------------------------------------------------------------------------------


def test_transpile_and_same_answer_tolerates_float_formatting():
    from sqlfoundry.db.outcome import ExecutionOutcome, OutcomeStatus, fingerprint_rows

    assert transpile_sql("SELECT a FROM t", "sqlite", "sqlite") == "SELECT a FROM t"
    assert (
        transpile_sql("SELECT SUBSTR(a, 1, 2) FROM t", "sqlite", "duckdb")
        == "SELECT SUBSTRING(a, 1, 2) FROM t"
    )

    def outcome(rows):
        fp, ofp = fingerprint_rows(rows, 1)
        return ExecutionOutcome(OutcomeStatus.OK, ["x"], rows, len(rows), fp, ofp)

    assert same_answer("SELECT x FROM t", outcome([(0.1 + 0.2,)]), outcome([(0.3,)]))
    assert not same_answer("SELECT x FROM t", outcome([(0.3,)]), outcome([(0.4,)]))


def test_dialect_mismatch_on_integer_division(ex, db, tmp_path: Path):
    import duckdb

    target = tmp_path / "players.duckdb"
    conn = duckdb.connect(str(target))
    conn.execute(
        "CREATE TABLE player (id INTEGER, name VARCHAR, team VARCHAR, score INTEGER, nickname VARCHAR)"
    )
    conn.executemany("INSERT INTO player VALUES (?, ?, ?, ?, ?)", PLAYERS)
    conn.close()
    statements = ["SELECT name FROM player WHERE score > 75", "SELECT SUM(score) / 3 FROM player"]
    verified = verify_batch(ex, db, statements)
    results = reverify_in_dialect(ex, f"duckdb:///{target}", "duckdb", [(v.sql, v.outcome) for v in verified])
    assert results[0].ok and results[0].sql == "SELECT name FROM player WHERE score > 75"
    # SQLite divides integers (126), DuckDB does not (126.67): not the same answer
    assert results[1].reason is Rejection.DIALECT_MISMATCH


def test_float_formatting_differences_are_compared_by_rows(ex, db, tmp_path: Path):
    import duckdb

    target = tmp_path / "floats.duckdb"
    conn = duckdb.connect(str(target))
    conn.execute("CREATE TABLE player (id INTEGER, score INTEGER)")
    conn.execute("INSERT INTO player VALUES (1, 90)")
    conn.close()
    sql = "SELECT 0.1 + 0.2 AS x FROM player WHERE id = 1"  # SQLite: 0.30000000000000004, DuckDB: 0.3
    verified = [(v.sql, v.outcome) for v in verify_batch(ex, db, [sql])]
    assert verified[0][1].rows is None  # verification kept no rows
    url = f"duckdb:///{target}"
    assert reverify_in_dialect(ex, url, "duckdb", verified, source_url=db)[0].ok
    # without a way to fetch the source rows, different fingerprints cannot be shown to agree
    assert reverify_in_dialect(ex, url, "duckdb", verified)[0].reason is Rejection.DIALECT_MISMATCH
