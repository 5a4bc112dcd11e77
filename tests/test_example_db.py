"""The example bookshop database: realistic, valid, reproducible, written atomically."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from sqlfoundry.db.example import (
    EXAMPLE_DB_ID,
    ExampleDatabaseExistsError,
    build_example_db,
    content_digest,
    describe,
)
from sqlfoundry.errors import SQLFoundryError


@pytest.fixture(scope="module")
def example_path(tmp_path_factory):
    return build_example_db(tmp_path_factory.mktemp("example") / "bookshop.sqlite", seed=0)


@pytest.fixture()
def conn(example_path):
    c = sqlite3.connect(f"file:{example_path}?mode=ro", uri=True)
    yield c
    c.close()


def _tables(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


def test_builds_many_tables_with_thousands_of_rows(conn):
    tables = _tables(conn)
    assert len(tables) >= 7
    counts = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    assert all(n > 0 for n in counts.values()), counts
    assert 5_000 <= sum(counts.values()) <= 20_000, counts
    assert counts["sale_item"] > 1_000


def test_foreign_keys_declared_and_valid(conn):
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    # (table, constraint id, referenced table, column, referenced column)
    fks = [
        (t, r[0], r[2], r[3], r[4])
        for t in _tables(conn)
        for r in conn.execute(f'PRAGMA foreign_key_list("{t}")')
    ]
    pairs = {(t, ref, col, ref_col) for t, _, ref, col, ref_col in fks}
    assert ("employee", "employee", "manager_id", "employee_id") in pairs  # self-reference
    assert {
        ("book_author", "book", "book_id", "book_id"),
        ("book_author", "author", "author_id", "author_id"),
    } <= pairs
    refund = [(fid, col, ref_col) for t, fid, ref, col, ref_col in fks if t == "refund"]
    assert len({fid for fid, *_ in refund}) == 1  # one composite constraint
    assert sorted((col, ref_col) for _, col, ref_col in refund) == [
        ("line_no", "line_no"),
        ("sale_id", "sale_id"),
    ]
    pk_of_item = [
        r[1] for r in sorted(conn.execute("PRAGMA table_info(sale_item)"), key=lambda r: r[5]) if r[5]
    ]
    assert pk_of_item == ["sale_id", "line_no"]
    # the self-reference forms a tree: exactly one employee has no manager
    assert conn.execute("SELECT COUNT(*) FROM employee WHERE manager_id IS NULL").fetchone() == (1,)


def test_realistic_values_nulls_dates_reals(conn):
    for table, column in [
        ("customer", "email"),
        ("sale", "customer_id"),
        ("book", "pages"),
        ("sale_item", "discount"),
    ]:
        nulls, total = conn.execute(f"SELECT SUM({column} IS NULL), COUNT(*) FROM {table}").fetchone()
        assert 0 < nulls < total, (table, column)
    for table, column in [("book", "published_date"), ("customer", "birth_date"), ("employee", "hire_date")]:
        for (value,) in conn.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"):
            dt.date.fromisoformat(value)
    for (value,) in conn.execute("SELECT sold_at FROM sale"):
        assert len(value) == 19 and dt.datetime.fromisoformat(value)
    assert conn.execute(
        "SELECT typeof(list_price), typeof(salary) FROM book, employee LIMIT 1"
    ).fetchone() == (
        "real",
        "real",
    )
    assert set(r[0] for r in conn.execute("SELECT DISTINCT is_loyalty_member FROM customer")) == {0, 1}
    names = [r[0] for r in conn.execute("SELECT first_name || ' ' || last_name FROM customer LIMIT 20")]
    assert all(n.replace(" ", "").isalpha() for n in names)


def test_distributions_are_skewed(conn):
    counts = [r[0] for r in conn.execute("SELECT COUNT(*) FROM sale_item GROUP BY book_id ORDER BY 1 DESC")]
    assert counts[0] >= 10 * counts[len(counts) // 2]
    genres = [r[0] for r in conn.execute("SELECT COUNT(*) FROM book GROUP BY genre ORDER BY 1 DESC")]
    assert genres[0] >= 5 * genres[-1]


def test_same_seed_same_data_other_seed_other_data(example_path, tmp_path):
    again = build_example_db(tmp_path / "again.sqlite", seed=0)
    other = build_example_db(tmp_path / "other.sqlite", seed=1)
    first = content_digest(example_path)
    assert content_digest(again) == first
    changed = content_digest(other)
    assert changed.keys() == first.keys()
    assert sum(changed[t] != first[t] for t in first) >= 8


def test_scale_changes_row_counts(tmp_path):
    small = build_example_db(tmp_path / "small.sqlite", scale=0.1)
    with sqlite3.connect(small) as c:
        assert 50 <= c.execute("SELECT COUNT(*) FROM sale").fetchone()[0] <= 500
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []
    with pytest.raises(ValueError):
        build_example_db(tmp_path / "none.sqlite", scale=0)


def test_refuses_to_overwrite_unless_asked(tmp_path):
    target = tmp_path / "db.sqlite"
    target.write_bytes(b"precious")
    with pytest.raises(ExampleDatabaseExistsError, match="overwrite"):
        build_example_db(target)
    assert target.read_bytes() == b"precious"
    with pytest.raises(FileExistsError):
        build_example_db(target)
    assert issubclass(ExampleDatabaseExistsError, SQLFoundryError)
    build_example_db(target, overwrite=True)
    with sqlite3.connect(target) as c:
        assert c.execute("SELECT COUNT(*) FROM store").fetchone()[0] > 0
    # the temporary build file never stays behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite"]


def test_describe_names_every_table(conn):
    text = describe()
    assert EXAMPLE_DB_ID
    for table in _tables(conn):
        assert f"{table}(" in text, table
