"""Unanswerable questions on the example database: labels, categories, absent attributes, determinism."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from sqlfoundry.db.connectors import connector_for
from sqlfoundry.db.schema import introspect
from sqlfoundry.db.schema_model import Column, Schema, Table
from sqlfoundry.synth.infeasible import (
    _RELATED,
    _UNRELATED,
    INFEASIBLE_CATEGORIES,
    _contexts,
    attribute_absent,
    make_infeasible,
    schema_vocabulary,
)


@pytest.fixture(scope="module")
def bookshop(example_sqlite) -> Schema:
    with connector_for(f"sqlite:///{example_sqlite}") as connector:
        return introspect(connector, sample_values=5, db_id="bookshop")


def test_records_are_labelled_infeasible(bookshop):
    records = make_infeasible(bookshop, random.Random(0), 50)
    assert len(records) == 50
    assert len({r.question.lower() for r in records}) == 50 and len({r.id for r in records}) == 50
    for r in records:
        assert (r.feasible, r.sql, r.verification, r.db_id, r.dialect) == (
            False,
            "",
            "infeasible",
            "bookshop",
            "sqlite",
        )
        assert r.provenance.template in INFEASIBLE_CATEGORIES and r.provenance.generator == "rule"
        assert r.id.startswith("bookshop-infeasible-")
        assert r.cot and "SQL" in r.cot
        assert r.question[0].isupper() and r.question.endswith(("?", "."))
    assert Counter(r.provenance.template for r in records) == dict.fromkeys(INFEASIBLE_CATEGORIES, 10)
    assert Counter(r.style for r in records) == dict.fromkeys(
        ("formal", "colloquial", "imperative", "interrogative", "concise"), 10
    )
    # every category meets every style
    assert len({(r.provenance.template, r.style) for r in records}) == 25


def test_same_seed_same_records(bookshop):
    a = make_infeasible(bookshop, 7, 20)
    b = make_infeasible(bookshop, random.Random(7), 20)
    c = make_infeasible(bookshop, 8, 20)
    assert a == b and a != c


def test_options(bookshop):
    records = make_infeasible(
        bookshop, 1, 6, categories=["non-sql"], styles=["formal"], dialect="duckdb", with_cot=False
    )
    assert [r.provenance.template for r in records] == ["non-sql"] * 6
    assert {r.style for r in records} == {"formal"} and {r.dialect for r in records} == {"duckdb"}
    assert all(r.cot is None for r in records)
    with pytest.raises(ValueError, match="unknown infeasible"):
        make_infeasible(bookshop, 1, 3, categories=["column-magic"])
    with pytest.raises(ValueError, match="styles"):
        make_infeasible(bookshop, 1, 3, styles=["shouty"])
    assert make_infeasible(bookshop, 1, 0) == []
    assert make_infeasible(Schema(db_id="empty"), 1, 5) == []


def test_attribute_absence_check(bookshop):
    vocab = schema_vocabulary(bookshop)
    assert {
        "store",
        "city",
        "isbn",
        "barcode",
        "salary",
        "rating",
        "score",
        "email",
    } <= vocab  # synonyms included
    assert not attribute_absent(
        "phone number", bookshop.model_copy(update={"tables": [_table("store", "phone_no")]})
    )
    assert not attribute_absent(
        "telephone number", bookshop.model_copy(update={"tables": [_table("s", "mobile")]})
    )
    assert not attribute_absent("barcode", bookshop)  # book.isbn is a barcode
    assert not attribute_absent("nationality", bookshop)  # author.country may well be it
    assert not attribute_absent("star rating", bookshop)  # review.rating
    assert not attribute_absent("number", bookshop)  # nothing identifies it
    assert not attribute_absent(
        "closing date", _schema(_table("store", "closed_on"))
    )  # stems: closing/closed
    assert attribute_absent("phone number", bookshop)
    assert attribute_absent("blood type", bookshop)
    assert attribute_absent("death date", bookshop)


def _table(name: str, *columns: str) -> Table:
    return Table(name=name, columns=[Column(name=c, inferred_type="text") for c in columns])


def _schema(*tables: Table) -> Schema:
    return Schema(db_id="s", tables=list(tables))


def test_asked_attributes_are_absent(bookshop):
    attributes = sorted(
        {*(a for pool in _RELATED.values() for a in pool), *_UNRELATED}, key=len, reverse=True
    )
    records = make_infeasible(bookshop, 3, 300, categories=["column-related", "column-unrelated"])
    assert len(records) > 100
    asked_all = set()
    for r in records:
        asked = next(a for a in attributes if re.search(rf"\b{re.escape(a)}\b", r.question, re.I))
        assert attribute_absent(asked, bookshop), (asked, r.question)
        asked_all.add(asked)
    # things the bookshop does hold (book.isbn, author.country, review.rating) are never asked for
    assert not asked_all & {"barcode", "nationality", "rating"}
    assert {"phone number", "blood type"} <= asked_all


def test_no_question_about_a_column_that_exists():
    schema = _schema(
        Table(
            name="store",
            columns=[
                Column(name="store_id", inferred_type="integer", primary_key=True),
                Column(name="name", inferred_type="text", samples=["Alpha", "Beta"]),
                Column(name="phone", inferred_type="text"),
                Column(name="website_url", inferred_type="text"),
                Column(name="opened_on", inferred_type="date"),
                Column(name="closed_on", inferred_type="date"),
                Column(name="postcode", inferred_type="text"),
            ],
            primary_key=["store_id"],
        )
    )
    records = make_infeasible(schema, 0, 200, categories=["column-related", "column-unrelated"])
    assert len(records) > 20
    text = " ".join(r.question.lower() for r in records)
    for present in ("phone", "website", "postal code", "zip"):
        assert present not in text
    # column-surface keeps a real column's words but changes one; never into another real column
    surface = make_infeasible(schema, 0, 200, categories=["column-surface"])
    assert surface and not any("closing date" in r.question.lower() for r in surface)
    assert all(re.search(r"\b(previous|original|preferred|former)\b", r.question, re.I) for r in surface)


def test_column_surface_variants_change_a_real_column(bookshop):
    records = make_infeasible(bookshop, 5, 40, categories=["column-surface"])
    assert len(records) == 40
    columns = {c.name.replace("_", " ") for t in bookshop.tables for c in t.columns}
    for r in records:
        # each names a near-miss of a real column: a swapped word or a prefix before the column's words
        assert re.search(
            r"\b(middle|death|closing|resignation|wholesale|parking|cancellation|reprint|dissolution|previous|original|preferred|former)\b",
            r.question,
            re.I,
        ), r.question
    assert any("middle name" in r.question for r in records) or any("death" in r.question for r in records)
    assert "first name" in columns and "birth date" in columns


def test_non_sql_and_external_knowledge(bookshop):
    non_sql = make_infeasible(bookshop, 2, 30, categories=["non-sql"])
    assert len(non_sql) == 30
    assert all(
        re.search(
            r"chart|histogram|model|cluster|translate|sentiment|email|spreadsheet|summarize|pdf",
            r.question,
            re.I,
        )
        for r in non_sql
    )
    # sending emails is only asked of people
    for r in non_sql:
        if "email" in r.question.lower():
            assert re.search(r"customer|employee|author", r.question)
    ext = make_infeasible(bookshop, 2, 30, categories=["ext-know"])
    assert len(ext) == 30
    cities = {
        v for t in bookshop.tables for c in t.columns if c.name in ("city", "country") for v in c.samples
    }
    for r in ext:
        future = re.search(r"\bin (\d{4})\?", r.question)
        assert (
            future
            or any(v in r.question for v in cities)
            or "Nobel" in r.question
            or "followers" in r.question
        ), r.question
        if future:
            assert int(future.group(1)) > 2024  # after the last date in the data


def test_link_tables_and_internal_tables_are_not_subjects():
    schema = _schema(
        Table(name="sqlite_sequence", columns=[Column(name="name", inferred_type="text")]),
        Table(
            name="book_author",
            columns=[
                Column(name="book_id", inferred_type="integer"),
                Column(name="author_id", inferred_type="integer"),
            ],
            primary_key=["book_id", "author_id"],
        ),
        Table(
            name="authors",
            columns=[
                Column(name="author_id", inferred_type="integer"),
                Column(name="name", inferred_type="text"),
            ],
        ),
    )
    contexts = _contexts(schema)
    assert [(c.table.name, c.singular, c.plural, c.kind) for c in contexts] == [
        ("authors", "author", "authors", "person")
    ]
