"""Database URLs and the lexical read-only screen, case by case."""

from __future__ import annotations

import pytest

from sqlfoundry.db.guard import screen_statement
from sqlfoundry.db.outcome import OutcomeStatus
from sqlfoundry.db.url import parse_url
from sqlfoundry.errors import DatabaseURLError


@pytest.mark.parametrize(
    ("url", "engine", "where"),
    [
        ("sqlite:///rel/x.sqlite", "sqlite", "rel/x.sqlite"),
        ("sqlite:////abs/x.sqlite", "sqlite", "/abs/x.sqlite"),
        ("duckdb:///d.duckdb", "duckdb", "d.duckdb"),
        ("x.sqlite", "sqlite", "x.sqlite"),
        ("x.duckdb", "duckdb", "x.duckdb"),
        ("postgresql://u:p%40ss@127.0.0.1:5433/shop", "postgres", "shop"),
        ("postgres+psycopg://u@h/db", "postgres", "db"),
        ("mysql://root@localhost:3307/shop", "mysql", "shop"),
        ("mariadb://root@localhost/shop", "mysql", "shop"),
    ],
)
def test_parse_url(url, engine, where):
    parsed = parse_url(url)
    assert parsed.engine == engine
    assert (parsed.path if parsed.is_file else parsed.database) == where


def test_password_is_masked_and_decoded():
    parsed = parse_url("postgresql://u:p%40ss@127.0.0.1:5433/shop")
    assert parsed.password == "p@ss" and parsed.port == 5433
    assert parsed.display == "postgresql://u:***@127.0.0.1:5433/shop"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "empty"),
        ("oracle://x/y", "unsupported"),
        ("sqlite://relative.db", "three slashes"),
        ("postgresql://host", "names no database"),
        ("notes.txt", "cannot tell the engine"),
        ("postgresql://h:notaport/db", "bad port"),
    ],
)
def test_bad_urls_say_what_is_wrong(url, fragment):
    with pytest.raises(DatabaseURLError, match=fragment):
        parse_url(url)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "select a from t where b = ';'",
        "WITH x AS (SELECT 1) SELECT * FROM x",
        "(SELECT 1) UNION (SELECT 2)",
        "VALUES (1), (2)",
        "SELECT 1;",
        "SELECT 1 -- ; DROP TABLE t",
        "SELECT replace(name, 'a', 'b') FROM t",
    ],
)
@pytest.mark.parametrize("engine", ["sqlite", "duckdb", "postgres", "mysql"])
def test_screen_lets_reads_through(sql, engine):
    assert screen_statement(sql, engine) is None


@pytest.mark.parametrize(
    ("sql", "status"),
    [
        ("SELECT 1; SELECT 2", OutcomeStatus.DENIED),
        ("SELECT 1; DROP TABLE t", OutcomeStatus.DENIED),
        ("DROP TABLE t", OutcomeStatus.DENIED),
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", OutcomeStatus.DENIED),
        ("SELECT * INTO t2 FROM t", OutcomeStatus.DENIED),
        ("SELECT * FROM t INTO OUTFILE '/tmp/x'", OutcomeStatus.DENIED),
        ("SELECT * FROM t FOR UPDATE", OutcomeStatus.DENIED),
        ("VACUUM", OutcomeStatus.DENIED),
        ("EXPLAIN SELECT 1", OutcomeStatus.DENIED),
        ("SELEC 1", OutcomeStatus.SYNTAX_ERROR),
        ("", OutcomeStatus.SYNTAX_ERROR),
        ("  ;  ", OutcomeStatus.SYNTAX_ERROR),
        ("SELECT 'unterminated", OutcomeStatus.SYNTAX_ERROR),
    ],
)
def test_screen_refuses(sql, status):
    screened = screen_statement(sql, "postgres")
    assert screened is not None and screened.status is status, screened


def test_screen_denied_functions_only_when_called():
    deny = frozenset({"pg_read_file"})
    assert (
        screen_statement("SELECT pg_read_file('/etc/passwd')", "postgres", deny).status
        is OutcomeStatus.DENIED
    )
    assert screen_statement("SELECT 'pg_read_file(' AS s", "postgres", deny) is None
