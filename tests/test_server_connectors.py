"""PostgreSQL and MariaDB connectors against real throwaway servers: reads match SQLite, nothing can
write, limits hold, errors are typed, the catalog is complete."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from sqlfoundry.db.connectors import connector_for
from sqlfoundry.db.connectors import mysql as mysql_module
from sqlfoundry.db.connectors import postgres as pg_module
from sqlfoundry.db.outcome import Limits, OutcomeStatus
from sqlfoundry.db.url import parse_url
from sqlfoundry.errors import DatabaseUnavailableError

pytestmark = pytest.mark.servers

FAST = Limits(timeout_s=0.5, max_rows=10_000, max_bytes=10_000_000)
ENGINES = ["postgres", "mysql"]


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    return request.param


@pytest.fixture
def db(engine, request):
    """The small fixture database on ``engine`` (``CopiedDatabase``)."""
    return request.getfixturevalue("pg_db" if engine == "postgres" else "mysql_db")


@pytest.fixture
def conn(db):
    with connector_for(db.url) as c:
        yield c


@pytest.fixture
def sqlite_conn(small_sqlite):
    with connector_for(f"sqlite:///{small_sqlite}") as c:
        yield c


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


# -- reads -------------------------------------------------------------------------------------------

READS = [
    "SELECT emp_id, name, dept_id, manager_id, salary, hired_at, active, note FROM employee ORDER BY emp_id",
    "SELECT dept_id, name, budget, founded FROM department ORDER BY dept_id",
    "SELECT e.name, d.name FROM employee e JOIN department d ON e.dept_id = d.dept_id ORDER BY e.emp_id",
    "SELECT a.emp_id, p.title, a.hours FROM assignment a JOIN project p "
    "ON a.dept_id = p.dept_id AND a.code = p.code ORDER BY a.emp_id, p.title",
    "SELECT count(*), count(salary), min(salary), max(salary) FROM employee",
    "SELECT dept_id, count(*) FROM employee GROUP BY dept_id ORDER BY coalesce(dept_id, 0)",  # NULLs sort differently
    "SELECT name FROM employee WHERE note IS NULL ORDER BY name",
    "SELECT d FROM digits WHERE d > 6 ORDER BY d",
]


@pytest.mark.parametrize("sql", READS)
def test_reads_canonicalize_like_sqlite(conn, sqlite_conn, sql):
    got = conn.execute(sql, FAST)
    want = sqlite_conn.execute(sql, FAST)
    assert got.status is OutcomeStatus.OK, got.message
    assert want.status is OutcomeStatus.OK, want.message
    assert got.rows == want.rows
    assert got.fingerprint == want.fingerprint
    assert got.ordered_fingerprint == want.ordered_fingerprint


def test_value_types_are_canonical(conn):
    out = conn.execute(
        "SELECT salary, hired_at, active, note FROM employee WHERE emp_id IN (1, 4) ORDER BY emp_id", FAST
    )
    assert out.rows == [(12345.67, "2020-01-02 09:30:00", 1, "founder"), (None, None, None, None)]
    out = conn.execute("SELECT budget, founded FROM department ORDER BY dept_id", FAST)
    assert out.rows == [(1250000.5, "2001-02-03"), (980000, "1999-12-31"), (None, None)]


def test_keep_rows_false_still_fingerprints(conn, sqlite_conn):
    sql = "SELECT * FROM assignment"
    got, want = conn.execute(sql, FAST, keep_rows=False), sqlite_conn.execute(sql, FAST)
    assert got.rows is None and got.row_count == 4
    assert got.fingerprint == want.fingerprint


def test_trailing_semicolon_and_cte(conn):
    assert conn.execute("SELECT 1 AS one;", FAST).rows == [(1,)]
    out = conn.execute("WITH t AS (SELECT d FROM digits WHERE d < 3) SELECT count(*) FROM t", FAST)
    assert out.rows == [(3,)]


# -- nothing can write ---------------------------------------------------------------------------------

COMMON_WRITES = [
    "INSERT INTO digits VALUES (42)",
    "UPDATE digits SET d = d + 100",
    "DELETE FROM digits",
    "DROP TABLE digits",
    "TRUNCATE digits",
    "CREATE TABLE pwned (a INT)",
    "ALTER TABLE digits ADD COLUMN z INT",
    "SELECT 1; DELETE FROM digits",
    "SELECT 1; DROP TABLE digits",
    "GRANT ALL ON digits TO PUBLIC",
    "SELECT * INTO pwned FROM digits",
    "COMMIT",
    "SET autocommit = 1",
]
PG_WRITES = [
    "COPY digits TO PROGRAM 'touch /tmp/sqlfoundry-pwned'",
    "COPY (SELECT 1) TO '/tmp/sqlfoundry-pwned'",
    "COPY digits FROM '/etc/hostname'",
    "WITH gone AS (DELETE FROM digits RETURNING d) SELECT * FROM gone",
    "SELECT * FROM digits FOR UPDATE",
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT set_config('statement_timeout', '0', false)",
    "SELECT pg_catalog.set_config('default_transaction_read_only', 'off', false)",
    "SELECT pg_advisory_lock(1)",
    "SELECT query_to_xml('DELETE FROM digits', true, false, '')",
    "SELECT dblink_exec('dbname=postgres', 'DROP TABLE digits')",
    "DO $$ BEGIN DELETE FROM digits; END $$",
    "SET statement_timeout = 0",
    "VACUUM digits",
    "LISTEN channel",
    "NOTIFY channel",
    "SELECT U&\"pg_r\\0065ad_file\"('/etc/passwd')",
    "SELECT * FROM ts_stat('SELECT to_tsvector(pg_read_file(''/etc/passwd''))')",
]
MYSQL_WRITES = [
    "SELECT * FROM digits INTO OUTFILE '/tmp/sqlfoundry-pwned'",
    "SELECT 1 INTO DUMPFILE '/tmp/sqlfoundry-pwned'",
    "SELECT d INTO @x FROM digits LIMIT 1",
    "SELECT LOAD_FILE('/etc/passwd')",
    "SELECT GET_LOCK('sqlfoundry', 1)",
    "LOAD DATA INFILE '/etc/hostname' INTO TABLE digits",
    "REPLACE INTO digits VALUES (42)",
    "HANDLER digits OPEN",
    "LOCK TABLES digits WRITE",
    "SET GLOBAL max_connections = 1",
    "KILL 1",
    "DO SLEEP(0)",
    "CALL mysql.nothing()",
    "SELECT * FROM digits /*!50000 INTO OUTFILE '/tmp/sqlfoundry-pwned' */",
    "SELECT 1 /*!, LOAD_FILE('/etc/passwd') */",
    "SELECT 1 /*M! , GET_LOCK('x', 0) */",
    "SELECT /*+ MAX_EXECUTION_TIME(100000) */ 1",
]


def _writes(engine: str) -> list[str]:
    return COMMON_WRITES + (PG_WRITES if engine == "postgres" else MYSQL_WRITES)


@pytest.mark.parametrize("as_owner", [False, True], ids=["readonly-user", "superuser"])
def test_writes_are_denied_and_nothing_changes(db, engine, as_owner):
    """Refused before reaching the server, whoever connects (a superuser could read files)."""
    with connector_for(db.admin_url if as_owner else db.url) as conn:
        before = conn.checksum()
        for sql in _writes(engine):
            out = conn.execute(sql, FAST)
            assert out.status is OutcomeStatus.DENIED, (sql, out.status, out.message)
        assert conn.checksum() == before
        assert conn.execute("SELECT count(*) FROM digits", FAST).rows == [(10,)]


def test_session_layers_deny_writes_even_past_the_screen(db, engine, monkeypatch):
    """With the lexical screen switched off and the database *owner's* credentials, the read-only
    session/transaction (and psycopg's one-statement protocol) still stop every write."""
    module = pg_module if engine == "postgres" else mysql_module
    monkeypatch.setattr(module, "screen_statement", lambda *a, **k: None)
    statements = [
        "INSERT INTO digits VALUES (42)",
        "UPDATE digits SET d = d + 100",
        "DELETE FROM digits",
        "SELECT 1; DELETE FROM digits",
    ]
    if engine == "postgres":
        # MariaDB commits DDL implicitly even in a READ ONLY transaction; there the SELECT-only user is
        # the layer that stops DDL (see the next test).
        statements += [
            "CREATE TABLE pwned (a INT)",
            "DROP TABLE digits",
            "SELECT nextval('nosuch_seq')",
            "COPY (SELECT 1) TO PROGRAM 'touch /tmp/sqlfoundry-pwned'",
        ]
    with connector_for(db.admin_url) as owner:
        before = owner.checksum()
        for sql in statements:
            out = owner.execute(sql, FAST)
            assert out.status is not OutcomeStatus.OK, (sql, out.message)
        assert owner.checksum() == before
        assert owner.execute("SELECT count(*) FROM digits", FAST).rows == [(10,)]


def test_readonly_user_cannot_write_past_the_screen(conn, engine, monkeypatch):
    module = pg_module if engine == "postgres" else mysql_module
    monkeypatch.setattr(module, "screen_statement", lambda *a, **k: None)
    before = conn.checksum()
    for sql in ["CREATE TABLE pwned (a INT)", "DROP TABLE digits", "INSERT INTO digits VALUES (42)"]:
        out = conn.execute(sql, FAST)
        # PostgreSQL: DECLARE ... CURSOR FOR takes queries only (a syntax error); MariaDB: no grant.
        allowed = {OutcomeStatus.DENIED} | ({OutcomeStatus.SYNTAX_ERROR} if engine == "postgres" else set())
        assert out.status in allowed, (sql, out.status, out.message)
    assert conn.checksum() == before


def test_fixture_readonly_user_has_select_grants_only(db, engine):
    """The least-privilege user of servers.py, driven directly in a read-write transaction."""
    url = parse_url(db.url)
    if engine == "postgres":
        import psycopg

        with psycopg.connect(
            host=url.host,
            port=url.port,
            user=url.user,
            password=url.password,
            dbname=url.database,
            autocommit=True,
        ) as raw:
            raw.execute("SET default_transaction_read_only = off")
            assert raw.execute("SELECT count(*) FROM digits").fetchone() == (10,)
            for sql in ["CREATE TABLE pwned (a INT)", "INSERT INTO digits VALUES (42)", "DROP TABLE digits"]:
                with pytest.raises(psycopg.Error) as info:
                    raw.execute(sql)
                assert info.value.sqlstate == "42501", sql
    else:
        import pymysql

        raw = pymysql.connect(
            host=url.host, port=url.port, user=url.user, password=url.password, database=url.database
        )
        try:
            with raw.cursor() as cur:
                cur.execute("SELECT count(*) FROM digits")
                assert cur.fetchone() == (10,)
                for sql in [
                    "CREATE TABLE pwned (a INT)",
                    "INSERT INTO digits VALUES (42)",
                    "DROP TABLE digits",
                ]:
                    with pytest.raises(pymysql.Error) as info:
                        cur.execute(sql)
                    assert info.value.args[0] in (1142, 1044), (sql, info.value.args)
        finally:
            raw.close()


# -- limits --------------------------------------------------------------------------------------------


def _sleep(engine: str, seconds: float) -> str:
    return f"SELECT pg_sleep({seconds})" if engine == "postgres" else f"SELECT SLEEP({seconds})"


def test_sleep_times_out_and_connection_survives(conn, engine):
    start = time.monotonic()
    out = conn.execute(_sleep(engine, 5), Limits(timeout_s=0.5))
    elapsed = time.monotonic() - start
    assert out.status is OutcomeStatus.TIMEOUT, out.message
    assert elapsed < 1.5
    assert conn.execute("SELECT 1", FAST).rows == [(1,)]


def test_cross_join_bomb_times_out(conn):
    bomb = "SELECT count(*) FROM " + ", ".join(f"digits t{i}" for i in range(10))
    start = time.monotonic()
    out = conn.execute(bomb, Limits(timeout_s=0.5))
    assert out.status is OutcomeStatus.TIMEOUT, out.message
    assert time.monotonic() - start < 2.0
    assert conn.execute("SELECT 1", FAST).rows == [(1,)]


def test_client_deadline_when_the_server_does_not_abort(conn, engine, monkeypatch):
    """The last resort: with no server-side timeout, the client cancels (PostgreSQL) or KILLs the
    query from a second connection (MariaDB) at deadline + grace."""
    if engine == "postgres":
        monkeypatch.setattr(pg_module.PostgresConnector, "_begin", staticmethod(lambda c, limits: None))
    else:

        def begin_without_timeout(self, c, limits):
            with c.cursor() as cur:
                cur.execute("START TRANSACTION READ ONLY")
            return ""

        monkeypatch.setattr(mysql_module.MySQLConnector, "_begin", begin_without_timeout)
    start = time.monotonic()
    out = conn.execute(_sleep(engine, 5), Limits(timeout_s=0.3))
    assert out.status is OutcomeStatus.TIMEOUT, out.message
    assert time.monotonic() - start < 2.5
    assert conn.execute("SELECT 1", FAST).rows == [(1,)]


def test_row_cap_stops_early(conn):
    huge = "SELECT t1.d FROM " + ", ".join(f"digits t{i}" for i in range(1, 8))  # 10**7 rows
    start = time.monotonic()
    out = conn.execute(huge, Limits(timeout_s=10, max_rows=100))
    assert out.status is OutcomeStatus.TOO_LARGE, out.message
    assert time.monotonic() - start < 2.0  # the transfer stopped at the cap, not after 10**7 rows
    assert conn.execute("SELECT count(*) FROM digits", FAST).rows == [(10,)]


def test_byte_cap(conn):
    out = conn.execute("SELECT repeat('x', 100000) FROM digits", Limits(timeout_s=5, max_bytes=50_000))
    assert out.status is OutcomeStatus.TOO_LARGE, out.message
    assert conn.execute("SELECT 1", FAST).rows == [(1,)]


def test_exact_row_cap_is_allowed(conn):
    out = conn.execute("SELECT d FROM digits", Limits(timeout_s=5, max_rows=10))
    assert out.status is OutcomeStatus.OK and out.row_count == 10


# -- typed errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql, status",
    [
        ("SELEC 1", OutcomeStatus.SYNTAX_ERROR),
        ("SELECT FROM WHERE", OutcomeStatus.SYNTAX_ERROR),
        ("SELECT * FROM employee WHERE", OutcomeStatus.SYNTAX_ERROR),
        ("SELECT nosuch FROM employee", OutcomeStatus.RUNTIME_ERROR),
        ("SELECT * FROM nosuch_table", OutcomeStatus.RUNTIME_ERROR),
        ("", OutcomeStatus.SYNTAX_ERROR),
    ],
)
def test_errors_are_typed(conn, sql, status):
    out = conn.execute(sql, FAST)
    assert out.status is status, out.message
    assert out.message
    assert conn.execute("SELECT 1", FAST).rows == [(1,)]


def test_runtime_error_division_by_zero_on_postgres(pg_url):
    with connector_for(pg_url) as c:
        out = c.execute("SELECT 1 / (d - d) FROM digits", FAST)
        assert out.status is OutcomeStatus.RUNTIME_ERROR
        assert "division by zero" in out.message


def test_postgres_error_positions_point_into_the_users_sql(pg_url):
    with connector_for(pg_url) as c:
        out = c.execute("SELECT nosuch FROM employee", FAST)
        assert "at character 8" in out.message and "DECLARE" not in out.message


def test_sqlstate_and_error_code_classification():
    assert pg_module.classify_sqlstate("42601") is OutcomeStatus.SYNTAX_ERROR
    assert pg_module.classify_sqlstate("42703") is OutcomeStatus.RUNTIME_ERROR
    assert pg_module.classify_sqlstate("57014") is OutcomeStatus.TIMEOUT
    assert pg_module.classify_sqlstate("25006") is OutcomeStatus.DENIED
    assert pg_module.classify_sqlstate("42501") is OutcomeStatus.DENIED
    assert pg_module.classify_sqlstate("53200") is OutcomeStatus.TOO_LARGE
    assert pg_module.classify_sqlstate("54001") is OutcomeStatus.TOO_LARGE
    assert pg_module.classify_sqlstate("22012") is OutcomeStatus.RUNTIME_ERROR
    assert mysql_module.classify_error(1064) is OutcomeStatus.SYNTAX_ERROR
    assert mysql_module.classify_error(1054) is OutcomeStatus.RUNTIME_ERROR
    assert mysql_module.classify_error(1969) is OutcomeStatus.TIMEOUT
    assert mysql_module.classify_error(3024) is OutcomeStatus.TIMEOUT
    for code in (1792, 1142, 1227, 1290):
        assert mysql_module.classify_error(code) is OutcomeStatus.DENIED
    assert mysql_module.classify_error(1290, "running with the --max-session-mem-used=1 option") is (
        OutcomeStatus.TOO_LARGE
    )


# -- catalog -------------------------------------------------------------------------------------------


def _keys(tables):
    return {
        t.name.lower(): (
            [c.lower() for c in t.primary_key],
            sorted(
                (
                    tuple(c.lower() for c in fk.columns),
                    fk.ref_table.lower(),
                    tuple(c.lower() for c in fk.ref_columns),
                )
                for fk in t.foreign_keys
            ),
        )
        for t in tables
    }


def test_catalog_matches_sqlite(conn, sqlite_conn):
    tables = conn.catalog()
    assert _keys(tables) == _keys(sqlite_conn.catalog())
    by_name = {t.name: t for t in tables}
    assert by_name["project"].primary_key == ["dept_id", "code"]
    assert [fk.columns for fk in by_name["assignment"].foreign_keys if fk.ref_table == "project"] == [
        ["dept_id", "code"]
    ]
    employee = by_name["employee"]
    assert employee.column("emp_id").primary_key and not employee.column("emp_id").nullable
    assert not employee.column("name").nullable and employee.column("note").nullable
    assert (
        "decimal" in employee.column("salary").declared_type.lower()
        or "numeric" in employee.column("salary").declared_type.lower()
    )


def test_postgres_schema_option(pg_db):
    import psycopg

    admin = parse_url(pg_db.admin_url)
    with psycopg.connect(
        host=admin.host, port=admin.port, user=admin.user, password=admin.password, dbname=admin.database
    ) as raw:
        raw.execute("CREATE SCHEMA IF NOT EXISTS sales")
        raw.execute("CREATE TABLE IF NOT EXISTS sales.region (region_id INT PRIMARY KEY, name TEXT)")
        raw.execute("GRANT USAGE ON SCHEMA sales TO sqlfoundry_ro")
        raw.execute("GRANT SELECT ON ALL TABLES IN SCHEMA sales TO sqlfoundry_ro")
    with connector_for(pg_db.url + "?schema=sales") as c:
        assert [t.name for t in c.catalog()] == ["region"]
        assert c.catalog()[0].primary_key == ["region_id"]
        assert c.execute("SELECT count(*) FROM region", FAST).rows == [(0,)]
        assert c.execute("SELECT count(*) FROM digits", FAST).rows == [(10,)]  # public stays on the path
    with connector_for(pg_db.url) as c:
        assert "region" not in [t.name for t in c.catalog()]


def test_quote(engine, db):
    c = connector_for(db.url)
    assert c.quote("a") == ('"a"' if engine == "postgres" else "`a`")
    assert c.quote('we"ird`') == ('"we""ird`"' if engine == "postgres" else '`we"ird```')


# -- connection failures ------------------------------------------------------------------------------


def test_bad_credentials_are_unavailable(db):
    bad = _with_password(db.url, "wrong-password")
    with pytest.raises(DatabaseUnavailableError) as info:
        connector_for(bad).open()
    parts = urlsplit(db.url)
    message = str(info.value)
    assert f"{parts.hostname}:{parts.port}/sqlfoundry_small" in message
    assert "wrong-password" not in message
    assert "auth" in message.lower() or "denied" in message.lower()


def test_server_down_is_unavailable(engine):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    scheme = "postgresql" if engine == "postgres" else "mysql"
    with pytest.raises(DatabaseUnavailableError, match=f"127.0.0.1:{port}/nodb"):
        connector_for(f"{scheme}://u:p@127.0.0.1:{port}/nodb").open()


def test_unknown_database_is_unavailable(engine, request):
    server = request.getfixturevalue("pg_running" if engine == "postgres" else "mysql_running")
    with pytest.raises(DatabaseUnavailableError, match="no_such_db"):
        connector_for(server.url_for("no_such_db", server.admin_user, "sqlfoundry-admin-pw")).open()


# -- the example database on every engine -------------------------------------------------------------

EXAMPLE_QUERIES = [
    "SELECT count(*) FROM sale",
    "SELECT store_id, count(*), sum(quantity) FROM sale JOIN sale_item ON sale.sale_id = sale_item.sale_id "
    "GROUP BY store_id ORDER BY store_id",
    "SELECT customer_id, email, birth_date, joined_at, is_loyalty_member FROM customer ORDER BY customer_id",
    "SELECT book_id, title, list_price, published_date FROM book ORDER BY book_id",
    "SELECT review_id, helpful_votes FROM review ORDER BY review_id",
]


@pytest.mark.parametrize("sql", EXAMPLE_QUERIES)
def test_example_database_matches_on_every_engine(
    example_sqlite, example_duckdb, example_pg_url, example_mysql_url, sql
):
    limits = Limits(timeout_s=10)
    with connector_for(f"sqlite:///{example_sqlite}") as ref:
        want = ref.execute(sql, limits)
    assert want.status is OutcomeStatus.OK, want.message
    for url in (f"duckdb:///{example_duckdb}", example_pg_url, example_mysql_url):
        with connector_for(url) as c:
            got = c.execute(sql, limits)
        assert got.status is OutcomeStatus.OK, (url, got.message)
        assert got.fingerprint == want.fingerprint, (url, got.rows[:3] if got.rows else None, want.rows[:3])


def test_example_catalog_keys_on_every_engine(
    example_sqlite, example_duckdb, example_pg_url, example_mysql_url
):
    with connector_for(f"sqlite:///{example_sqlite}") as ref:
        want = _keys(ref.catalog())
    for url in (example_pg_url, example_mysql_url):
        with connector_for(url) as c:
            assert _keys(c.catalog()) == want, url
    # DuckDB checks a self-referencing key against rows already stored, so the copy leaves those out.
    without_self_refs = {t: (pk, [fk for fk in fks if fk[1] != t]) for t, (pk, fks) in want.items()}
    with connector_for(f"duckdb:///{example_duckdb}") as c:
        assert _keys(c.catalog()) == without_self_refs
