"""Shared pytest fixtures.

Real-server fixtures start a throwaway PostgreSQL and MariaDB once per session (see ``servers.py``);
without the server binaries they skip, or fail under ``CI=true``. Small databases are built by code.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from servers import (
    CopiedDatabase,
    copy_sqlite_into,
    copy_sqlite_to_duckdb,
    missing_binary,
    start_mariadb,
    start_postgres,
)

# ------------------------------------------------------------------------------------------------
# Servers
# ------------------------------------------------------------------------------------------------


def _start_or_skip(engine: str, start: Callable) -> Iterator[str]:
    missing = missing_binary(engine)
    if missing:
        message = (
            f"{missing} is not installed; run `sudo .ci/install-servers.sh` to install PostgreSQL and MariaDB"
        )
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    server = start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_running() -> Iterator:
    """The throwaway PostgreSQL server (``servers.RunningServer``)."""
    yield from _start_or_skip("postgres", start_postgres)


@pytest.fixture(scope="session")
def mysql_running() -> Iterator:
    """The throwaway MariaDB server (``servers.RunningServer``)."""
    yield from _start_or_skip("mysql", start_mariadb)


@pytest.fixture(scope="session")
def pg_server(pg_running) -> str:
    """Admin (superuser) URL of the throwaway PostgreSQL server."""
    return pg_running.admin_url


@pytest.fixture(scope="session")
def mysql_server(mysql_running) -> str:
    """Admin (root) URL of the throwaway MariaDB server."""
    return mysql_running.admin_url


# ------------------------------------------------------------------------------------------------
# A small fixture database: foreign keys (one composite, one self-reference), NULLs, decimals,
# dates, datetimes, booleans, quotes and non-ASCII text.
# ------------------------------------------------------------------------------------------------

SMALL_DDL = """
CREATE TABLE department (
    dept_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    budget DECIMAL(12,2),
    founded DATE
);
CREATE TABLE employee (
    emp_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    dept_id INTEGER REFERENCES department (dept_id),
    manager_id INTEGER REFERENCES employee (emp_id),
    salary DECIMAL(10,2),
    hired_at DATETIME,
    active BOOLEAN,
    note TEXT
);
CREATE TABLE project (
    dept_id INTEGER NOT NULL REFERENCES department (dept_id),
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    PRIMARY KEY (dept_id, code)
);
CREATE TABLE assignment (
    emp_id INTEGER NOT NULL REFERENCES employee (emp_id),
    dept_id INTEGER NOT NULL,
    code TEXT NOT NULL,
    hours REAL,
    FOREIGN KEY (dept_id, code) REFERENCES project (dept_id, code)
);
CREATE TABLE digits (d INTEGER PRIMARY KEY);
"""

SMALL_ROWS: dict[str, list[tuple]] = {
    "department": [
        (1, "Research", 1250000.5, "2001-02-03"),
        (2, "Sales", 980000, "1999-12-31"),
        (3, "Support \u00e9quipe", None, None),
    ],
    "employee": [
        (1, "Ada Lovelace", 1, None, 12345.67, "2020-01-02 09:30:00", 1, "founder"),
        (2, "Grace O'Hara", 1, 1, 9000, "2021-06-15 14:00:00", 1, None),
        (3, "Linus \u00c5str\u00f6m", 2, 1, 7500.5, None, 0, 'says "hi"'),
        (4, "Nobody", None, None, None, None, None, None),
    ],
    "project": [(1, "AI", "Analytical engine"), (1, "DB", "Databases"), (2, "EU", "Europe push")],
    "assignment": [(1, 1, "AI", 120.5), (2, 1, "DB", 40.0), (3, 2, "EU", None), (2, 1, "AI", 0.25)],
    "digits": [(i,) for i in range(10)],
}


def build_small_db(path: Path) -> Path:
    """Write the small fixture database to ``path`` (SQLite)."""
    conn = sqlite3.connect(path)
    conn.executescript(SMALL_DDL)
    for table, rows in SMALL_ROWS.items():
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    conn.commit()
    conn.close()
    return path


@pytest.fixture(scope="session")
def small_sqlite(tmp_path_factory) -> Path:
    return build_small_db(tmp_path_factory.mktemp("small") / "small.sqlite")


@pytest.fixture(scope="session")
def pg_db(pg_server, small_sqlite) -> CopiedDatabase:
    """The small database copied into PostgreSQL (``.url`` read-only user, ``.admin_url`` owner)."""
    return copy_sqlite_into(small_sqlite, pg_server, "sqlfoundry_small")


@pytest.fixture(scope="session")
def mysql_db(mysql_server, small_sqlite) -> CopiedDatabase:
    """The small database copied into MariaDB (``.url`` read-only user, ``.admin_url`` owner)."""
    return copy_sqlite_into(small_sqlite, mysql_server, "sqlfoundry_small")


@pytest.fixture(scope="session")
def pg_url(pg_db) -> str:
    """URL of the small database on PostgreSQL, as the SELECT-only user."""
    return pg_db.url


@pytest.fixture(scope="session")
def mysql_url(mysql_db) -> str:
    """URL of the small database on MariaDB, as the SELECT-only user."""
    return mysql_db.url


# ------------------------------------------------------------------------------------------------
# The example database (db/example.py) on every engine
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def example_sqlite(tmp_path_factory) -> Path:
    from sqlfoundry.db.example import build_example_db

    return Path(build_example_db(tmp_path_factory.mktemp("example") / "example.sqlite", seed=0))


@pytest.fixture(scope="session")
def example_duckdb(example_sqlite) -> Path:
    target = example_sqlite.with_suffix(".duckdb")
    copy_sqlite_to_duckdb(example_sqlite, target)
    return target


@pytest.fixture(scope="session")
def example_pg_url(pg_server, example_sqlite) -> str:
    return copy_sqlite_into(example_sqlite, pg_server, "example").url


@pytest.fixture(scope="session")
def example_mysql_url(mysql_server, example_sqlite) -> str:
    return copy_sqlite_into(example_sqlite, mysql_server, "example").url
