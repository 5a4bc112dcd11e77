"""Rationales derived from SQL (``synth/cot.py``): exact numbered steps, sqlglot-style, and the
properties every rationale keeps (deterministic, ends with the record's own SQL, never fails)."""

from __future__ import annotations

import json
import re

import pytest

from benchdata import BENCHMARKS
from sqlfoundry.db.connectors import connector_for
from sqlfoundry.db.schema import introspect
from sqlfoundry.db.schema_model import Schema
from sqlfoundry.synth.cot import rationale_from_sql

SPIDER = BENCHMARKS / "spider_dev"


@pytest.fixture(scope="module")
def bookshop(example_sqlite) -> Schema:
    return introspect(connector_for(f"sqlite:///{example_sqlite}"))


CASES = [
    (
        "SELECT title FROM book WHERE genre = 'Fiction' AND list_price > 20 ORDER BY list_price DESC LIMIT 5",
        "1. Start from `book` (books).\n"
        "2. Keep only the rows that satisfy all of: `genre = 'Fiction'`; `list_price > 20`.\n"
        "3. Return `title`.\n"
        "4. Sort the rows by `list_price` (descending).\n"
        "5. Keep only 5 rows (the top of the sorted list).",
    ),
    (
        "SELECT T2.name, COUNT(*) AS n_books FROM book AS T1 JOIN publisher AS T2 ON T1.publisher_id = T2.publisher_id WHERE T1.language = 'English' GROUP BY T2.publisher_id HAVING COUNT(*) > 10 ORDER BY n_books DESC",
        "1. Start from `book` AS T1 (books).\n"
        "2. Join `publisher` AS T2 (publishers) on `T1.publisher_id = T2.publisher_id` (foreign key book.publisher_id → publisher.publisher_id: each book has one publisher).\n"
        "3. Keep only the rows where `T1.language = 'English'`.\n"
        "4. Group the rows by `T2.publisher_id`, one group per distinct value.\n"
        "5. Compute `COUNT(*)` (the number of rows) in each group.\n"
        "6. Keep only the groups where `COUNT(*) > 10`.\n"
        "7. Return `T2.name`, `COUNT(*) AS n_books`.\n"
        "8. Sort the rows by `n_books` (descending).",
    ),
    (
        "SELECT first_name, last_name FROM customer WHERE customer_id NOT IN (SELECT customer_id FROM review WHERE rating = 5)",
        "1. Start from `customer` (customers).\n"
        "2. Subquery 1, for the IN list:\n"
        "   2.1. Start from `review` (reviews).\n"
        "   2.2. Keep only the rows where `rating = 5`.\n"
        "   2.3. Return `customer_id`.\n"
        "3. Keep only the rows where `customer_id NOT IN (SELECT customer_id FROM review WHERE rating = 5)` (the value must not appear in the subquery's result).\n"
        "4. Return `first_name`, `last_name`.",
    ),
    (
        "WITH genre_stats AS (SELECT genre, AVG(list_price) AS avg_price FROM book GROUP BY genre) SELECT genre FROM genre_stats WHERE avg_price > 20",
        "1. Build the common table expression `genre_stats` (a named intermediate result):\n"
        "   1.1. Start from `book` (books).\n"
        "   1.2. Group the rows by `genre`, one group per distinct value.\n"
        "   1.3. Compute `AVG(list_price)` (the average list price) in each group.\n"
        "   1.4. Return `genre`, `AVG(list_price) AS avg_price` for `genre_stats`.\n"
        "2. Now answer the question from the intermediate results:\n"
        "3. Start from the intermediate result `genre_stats`.\n"
        "4. Keep only the rows where `avg_price > 20`.\n"
        "5. Return `genre`.",
    ),
    (
        "SELECT city FROM customer INTERSECT SELECT city FROM store",
        "1. Part 1 of the INTERSECT:\n"
        "   1.1. Start from `customer` (customers).\n"
        "   1.2. Return `city`.\n"
        "2. Part 2 of the INTERSECT:\n"
        "   2.1. Start from `store` (stores).\n"
        "   2.2. Return `city`.\n"
        "3. Combine the 2 parts with INTERSECT: only rows found in every part.",
    ),
    (
        "SELECT c.first_name FROM customer AS c WHERE EXISTS (SELECT 1 FROM review AS r WHERE r.customer_id = c.customer_id AND r.rating = 5)",
        "1. Start from `customer` AS c (customers).\n"
        "2. Subquery 1, for EXISTS (it only matters whether it returns a row); it is correlated, so it runs again for each row of the outer query:\n"
        "   2.1. Start from `review` AS r (reviews).\n"
        "   2.2. Keep only the rows that satisfy all of: `r.customer_id = c.customer_id`; `r.rating = 5`.\n"
        "   2.3. Return `1`.\n"
        "3. Keep only the rows where `EXISTS(SELECT 1 FROM review AS r WHERE r.customer_id = c.customer_id AND r.rating = 5)` (a matching row must exist).\n"
        "4. Return `c.first_name`.",
    ),
    (
        "SELECT title, RANK() OVER (PARTITION BY genre ORDER BY list_price DESC) AS price_rank FROM book",
        "1. Start from `book` (books).\n"
        "2. Compute the window function `RANK() OVER (PARTITION BY genre ORDER BY list_price DESC)`: ranks the rows within each genre by `list_price` (descending).\n"
        "3. Return `title`, `RANK() OVER (PARTITION BY genre ORDER BY list_price DESC) AS price_rank`.",
    ),
    (
        "SELECT CAST(SUM(CASE WHEN is_loyalty_member = 1 THEN 1 ELSE 0 END) AS REAL) * 100 / COUNT(*) FROM customer",
        "1. Start from `customer` (customers).\n"
        "2. Compute `COUNT(*)` (the number of rows); `SUM(CASE WHEN is_loyalty_member = 1 THEN 1 ELSE 0 END)` (the number of rows where `is_loyalty_member = 1`) over all remaining rows.\n"
        "3. Return `CAST(SUM(CASE WHEN is_loyalty_member = 1 THEN 1 ELSE 0 END) AS REAL) * 100 / COUNT(*)` (a percentage).",
    ),
]


@pytest.mark.parametrize(("sql", "steps"), CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_exact_rationale(bookshop, sql, steps):
    assert rationale_from_sql(sql, bookshop) == f"{steps}\n\n```sql\n{sql}\n```"


def test_deterministic_and_ends_with_the_given_sql(bookshop):
    sql = "SELECT title FROM book WHERE pages > 300 ORDER BY pages DESC LIMIT 3;  "
    first = rationale_from_sql(sql, bookshop)
    assert first == rationale_from_sql(sql, bookshop)
    assert first.endswith("```sql\nSELECT title FROM book WHERE pages > 300 ORDER BY pages DESC LIMIT 3\n```")


def test_unparseable_sql_still_gets_a_rationale(bookshop):
    text = rationale_from_sql("SELEC title FROM", bookshop)
    assert (
        text
        == "1. The statement could not be analysed; it is used as written.\n\n```sql\nSELEC title FROM\n```"
    )


def test_sampled_queries(bookshop):
    from sqlfoundry.synth.sampler import SamplerConfig, sample_queries

    for q in sample_queries(bookshop, SamplerConfig(seed=1), 200):
        _check_shape(rationale_from_sql(q.sql, bookshop), q.sql)


def _check_shape(text: str, sql: str) -> None:
    body, _, final = text.partition("\n\n```sql\n")
    assert final == f"{sql.strip().rstrip(';').strip()}\n```"
    lines = body.split("\n")
    assert lines[0].startswith("1. ")
    top = [int(m.group(1)) for line in lines if (m := re.match(r"^(\d+)\. ", line))]
    assert top == list(range(1, len(top) + 1))  # top-level steps numbered 1, 2, 3, ...
    assert all(re.match(r"^( {3})*\d+(\.\d+)*\. \S", line) for line in lines), body


@pytest.mark.benchmarkdata
@pytest.mark.skipif(
    not (SPIDER / "dev.json").is_file(),
    reason=f"Spider dev data not found at {SPIDER} (set SQLFOUNDRY_BENCHMARKS)",
)
def test_spider_dev_rationales():
    from sqlfoundry.db.spider_tables import read_tables_json

    schemas = {s.db_id: s for s in read_tables_json(SPIDER / "tables.json")}
    examples = json.loads((SPIDER / "dev.json").read_text(encoding="utf-8"))
    for ex in examples:
        _check_shape(rationale_from_sql(ex["query"], schemas[ex["db_id"]]), ex["query"])
