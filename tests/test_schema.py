"""Schema introspection (SQLite, DuckDB), DDL/JSON rendering and Spider's tables.json format."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from pathlib import Path

import pytest

from benchdata import BENCHMARKS
from sqlfoundry.db.connectors import connector_for
from sqlfoundry.db.example import build_example_db
from sqlfoundry.db.schema import (
    declared_category,
    introspect,
    schema_from_json,
    schema_to_ddl,
    schema_to_json,
)
from sqlfoundry.db.schema_model import Column, ForeignKey, Schema, Table
from sqlfoundry.db.spider_tables import (
    detect_type_style,
    natural_name,
    read_tables_json,
    schema_to_spider,
    spider_to_schema,
    write_tables_json,
)
from sqlfoundry.errors import SchemaFormatError

SPIDER_TABLES = BENCHMARKS / "spider_dev" / "tables.json"
BIRD_TABLES = BENCHMARKS / "bird" / "dev" / "dev_tables.json"
CONCERT_SINGER = BENCHMARKS / "spider_dev" / "database" / "concert_singer" / "concert_singer.sqlite"


def _need(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"benchmark file {path} is missing (set SQLFOUNDRY_BENCHMARKS to the benchmarks folder)")


@pytest.fixture(scope="module")
def example_path(tmp_path_factory):
    return build_example_db(tmp_path_factory.mktemp("schema") / "bookshop.sqlite", seed=0)


@pytest.fixture(scope="module")
def example_schema(example_path):
    with connector_for(f"sqlite:///{example_path}") as conn:
        return introspect(conn)


# --- introspection of the example database ------------------------------------------------------
def test_tables_keys_and_foreign_keys(example_schema):
    s = example_schema
    assert s.db_id == "bookshop" and s.engine == "sqlite"
    assert s.table_names[:3] == ["store", "employee", "publisher"]
    assert s.table("book_author").primary_key == ["book_id", "author_id"]
    assert s.table("sale_item").primary_key == ["sale_id", "line_no"]
    assert s.table("book").primary_key == ["book_id"]
    fks = {
        (fk.ref_table, tuple(fk.columns), tuple(fk.ref_columns)) for fk in s.table("employee").foreign_keys
    }
    assert fks == {("employee", ("manager_id",), ("employee_id",)), ("store", ("store_id",), ("store_id",))}
    [refund_fk] = s.table("refund").foreign_keys
    assert refund_fk == ForeignKey(
        columns=["sale_id", "line_no"], ref_table="sale_item", ref_columns=["sale_id", "line_no"]
    )
    assert s.table("book").column("book_id").primary_key and not s.table("book").column("book_id").nullable
    assert not s.table("book").column("title").nullable and s.table("book").column("pages").nullable


def test_row_counts_nulls_and_distincts_match_sql(example_schema, example_path):
    with sqlite3.connect(example_path) as c:
        for table in example_schema.tables:
            assert table.row_count == c.execute(f'SELECT COUNT(*) FROM "{table.name}"').fetchone()[0]
            for col in table.columns:
                nulls, distinct = c.execute(
                    f'SELECT SUM("{col.name}" IS NULL), COUNT(DISTINCT "{col.name}") FROM "{table.name}"'
                ).fetchone()
                assert (col.null_count, col.distinct_count) == (nulls, distinct), (table.name, col.name)


def test_samples_most_frequent_first_with_value_tiebreak(example_schema, example_path):
    with sqlite3.connect(example_path) as c:
        for table, column in [("sale", "status"), ("book", "genre"), ("customer", "city"), ("store", "city")]:
            expected = [
                r[0]
                for r in c.execute(
                    f"SELECT {column}, COUNT(*) AS n FROM {table} WHERE {column} IS NOT NULL "
                    f"GROUP BY {column} ORDER BY n DESC, {column} LIMIT 5"
                )
            ]
            assert example_schema.table(table).column(column).samples == expected
    assert example_schema.table("sale").column("status").samples[0] == "completed"
    # every store city appears once: ties fall back to value order
    assert example_schema.table("store").column("city").samples == sorted(
        example_schema.table("store").column("city").samples
    )
    assert example_schema.table("customer").column("notes").null_count > 1000


def test_ranges_and_inferred_types(example_schema):
    book = example_schema.table("book")
    assert book.column("published_date").declared_type == "TEXT"
    assert book.column("published_date").inferred_type == "date"  # a date stored as TEXT
    assert (
        book.column("published_date").min >= "1990-01-01"
        and book.column("published_date").max <= "2024-10-31"
    )
    assert 4.0 < book.column("list_price").min < book.column("list_price").max < 50.0
    types = {
        ("book", "title"): "text",
        ("book", "list_price"): "real",
        ("book", "pages"): "integer",
        ("customer", "birth_date"): "date",
        ("customer", "joined_at"): "datetime",
        ("store", "is_flagship"): "boolean",
        ("employee", "is_active"): "boolean",
        ("review", "helpful_votes"): "integer",  # no declared type: inferred from the values
        ("sale", "status"): "text",
    }
    got = {key: example_schema.table(key[0]).column(key[1]).inferred_type for key in types}
    assert got == types
    assert example_schema.table("review").column("helpful_votes").declared_type == ""


def test_inference_from_values_on_undeclared_and_text_columns(tmp_path):
    path = tmp_path / "loose.sqlite"
    with sqlite3.connect(path) as c:
        c.execute(
            "CREATE TABLE t (a, b, c, d TEXT, e TEXT, f VARCHAR(5), g TEXT, h INTEGER, is_open INTEGER, k)"
        )
        rows = [
            (
                1,
                1.5,
                "x",
                f"2020-01-0{i}",
                f"2020-01-01 10:0{i}:00",
                "Y" if i % 2 else "N",
                f"10:3{i}",
                i,
                i % 2,
                None,
            )
            for i in range(1, 8)
        ]
        c.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        c.execute("INSERT INTO t (d, g) VALUES ('not a date', '10:30')")
    with connector_for(f"sqlite:///{path}") as conn:
        t = introspect(conn).table("t")
        bare = introspect(conn, stats=False).table("t")
    kinds = {c.name: c.inferred_type for c in t.columns}
    assert kinds == {
        "a": "integer", "b": "real", "c": "text", "d": "text", "e": "datetime", "f": "boolean",
        "g": "time", "h": "integer", "is_open": "boolean", "k": "unknown",
    }  # fmt: skip
    assert t.column("d").null_count == 0 and t.column("a").null_count == 1
    assert t.column("k").samples == [] and t.column("k").distinct_count == 0
    # without statistics only declarations count
    assert {c.name: c.inferred_type for c in bare.columns}["d"] == "text"
    assert {c.name: c.inferred_type for c in bare.columns}["a"] == "unknown"
    assert bare.row_count is None and bare.column("h").samples == [] and bare.column("h").min is None


def test_declared_categories():
    cases = {
        "INTEGER": "integer", "bigint": "integer", "int(11)": "integer", "SERIAL": "integer",
        "VARCHAR(255)": "text", "character varying": "text", "TEXT": "text", "UUID": "text",
        "REAL": "real", "double precision": "real", "float(10,2)": "real", "DECIMAL(10,2)": "numeric",
        "NUMERIC": "numeric", "BOOLEAN": "boolean", "bool": "boolean", "tinyint(1)": "boolean",
        "DATE": "date", "DATETIME": "datetime", "timestamp with time zone": "datetime",
        "TIMESTAMP": "datetime", "time without time zone": "time", "TIME": "time", "BLOB": "blob",
        "bytea": "blob", "": "unknown", "point": "unknown", "INTERVAL": "unknown", "year": "integer",
    }  # fmt: skip
    assert {t: declared_category(t) for t in cases} == cases


def test_tables_filter_and_sample_limit(example_path):
    with connector_for(f"sqlite:///{example_path}") as conn:
        s = introspect(conn, sample_values=2, tables=["BOOK", "store"], db_id="shop")
    assert s.db_id == "shop" and s.table_names == ["store", "book"]
    assert all(len(c.samples) <= 2 for t in s.tables for c in t.columns)


# --- rendering ----------------------------------------------------------------------------------
def test_ddl_has_keys_comments_and_recreates_the_catalog(example_schema):
    ddl = schema_to_ddl(example_schema)
    assert "CREATE TABLE book_author (" in ddl
    assert "  PRIMARY KEY (book_id, author_id)," in ddl
    assert "FOREIGN KEY (sale_id, line_no) REFERENCES sale_item(sale_id, line_no)" in ddl
    assert "FOREIGN KEY (manager_id) REFERENCES employee(employee_id)" in ddl
    assert "published_date TEXT NOT NULL, -- date;" in ddl
    assert "e.g. 'completed', " in ddl and "-- 850 rows" in ddl
    assert "helpful_votes INTEGER" in ddl  # inferred type stands in for a missing declaration
    assert "e.g." not in schema_to_ddl(example_schema, with_samples=False)
    # The prompt DDL is real DDL: executing it rebuilds the same tables, keys and foreign keys.
    for text in (ddl, schema_to_ddl(example_schema, with_samples=False)):
        mem = sqlite3.connect(":memory:")
        mem.executescript(text)
        for table in example_schema.tables:
            info = mem.execute(f"PRAGMA table_info({table.name})").fetchall()
            assert [r[1] for r in info] == [c.name for c in table.columns]
            assert [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]] == table.primary_key
            fk_rows = mem.execute(f"PRAGMA foreign_key_list({table.name})").fetchall()
            assert len(fk_rows) == sum(len(fk.columns) for fk in table.foreign_keys)
        mem.close()


def test_ddl_quotes_awkward_identifiers():
    schema = Schema(
        db_id="odd",
        tables=[
            Table(
                name="order",
                columns=[Column(name="Home Town", declared_type="text"), Column(name="id", primary_key=True)],
                primary_key=["id"],
            )
        ],
    )
    ddl = schema_to_ddl(schema)
    assert ddl.startswith('CREATE TABLE "order" (\n  "Home Town" text,\n  id PRIMARY KEY\n);')
    sqlite3.connect(":memory:").executescript(ddl)


def test_json_round_trip(example_schema):
    text = schema_to_json(example_schema)
    data = json.loads(text)
    assert data["db_id"] == "bookshop" and len(data["tables"]) == len(example_schema.tables)
    assert schema_from_json(text) == example_schema


# --- real databases -----------------------------------------------------------------------------
@pytest.mark.benchmarkdata
def test_spider_database_matches_tables_json():
    _need(SPIDER_TABLES)
    _need(CONCERT_SINGER)
    gold = {s.db_id: s for s in read_tables_json(SPIDER_TABLES)}
    database_dir = CONCERT_SINGER.parent.parent
    checked = 0
    for path in sorted(database_dir.glob("*/*.sqlite")):
        with connector_for(f"sqlite:///{path}") as conn:
            found = introspect(conn, sample_values=2)
        expected = gold[found.db_id]
        spider_tables = [t for t in expected.tables if not t.name.startswith("sqlite_")]
        assert [t.name.lower() for t in found.tables] == [t.name.lower() for t in spider_tables], found.db_id
        for ours, theirs in zip(found.tables, spider_tables, strict=True):
            assert [c.name.lower() for c in ours.columns] == [c.name.lower() for c in theirs.columns]
            assert ours.row_count is not None
            # Spider lists only the first column of a composite primary key
            assert [c.lower() for c in theirs.primary_key] in (
                [c.lower() for c in ours.primary_key],
                [c.lower() for c in ours.primary_key[:1]],
            ), (found.db_id, ours.name)

        def pairs(schema: Schema) -> set[tuple[str, str, str, str]]:
            return {
                (t.name.lower(), c.lower(), fk.ref_table.lower(), r.lower())
                for t in schema.tables
                for fk in t.foreign_keys
                for c, r in zip(fk.columns, fk.ref_columns, strict=True)
            }

        assert pairs(found) == pairs(expected), found.db_id
        checked += 1
    assert checked >= 1
    with connector_for(f"sqlite:///{CONCERT_SINGER}") as conn:
        cs = introspect(conn)
    assert cs.table("singer").row_count == 6
    assert cs.table("singer").column("Is_male").inferred_type == "boolean"  # 'T'/'F' in a bool column
    assert cs.table("singer_in_concert").primary_key == ["concert_ID", "Singer_ID"]


def _copy_rows(db, table: str, rows: list[tuple]) -> None:
    # One multi-row INSERT: DuckDB's executemany runs row by row and is slow.
    marks = "(" + ", ".join("?" * len(rows[0])) + ")"
    db.execute(f"INSERT INTO {table} VALUES " + ", ".join([marks] * len(rows)), [v for r in rows for v in r])


def test_duckdb_introspection(example_path, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    target = tmp_path / "shop.duckdb"
    src = sqlite3.connect(example_path)
    db = duckdb.connect(str(target))
    db.execute(
        "CREATE TABLE publisher (publisher_id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, country VARCHAR, "
        "founded_year INTEGER)"
    )
    db.execute(
        "CREATE TABLE book (book_id INTEGER PRIMARY KEY, title VARCHAR NOT NULL, "
        "publisher_id INTEGER REFERENCES publisher (publisher_id), published DATE, published_text VARCHAR, "
        "list_price DECIMAL(8,2), pages INTEGER)"
    )
    _copy_rows(db, "publisher", src.execute("SELECT * FROM publisher").fetchall())
    _copy_rows(
        db,
        "book",
        src.execute(
            "SELECT book_id, title, publisher_id, published_date, published_date, list_price, pages FROM book"
        ).fetchall(),
    )
    db.close()
    src.close()
    with connector_for(f"duckdb:///{target}") as conn:
        s = introspect(conn)
    assert s.engine == "duckdb" and s.db_id == "shop" and s.table_names == ["publisher", "book"]
    book = s.table("book")
    assert book.primary_key == ["book_id"] and book.row_count == 850
    assert book.foreign_keys == [
        ForeignKey(columns=["publisher_id"], ref_table="publisher", ref_columns=["publisher_id"])
    ]
    kinds = {c.name: c.inferred_type for c in book.columns}
    assert kinds == {
        "book_id": "integer", "title": "text", "publisher_id": "integer", "published": "date",
        "published_text": "date", "list_price": "numeric", "pages": "integer",
    }  # fmt: skip
    assert isinstance(book.column("published").min, str) and book.column("published").min >= "1990-01-01"
    assert isinstance(book.column("list_price").max, float)
    assert book.column("pages").null_count > 0
    assert s.table("publisher").column("founded_year").null_count > 0
    json.loads(schema_to_json(s))  # dates and decimals are JSON-safe


@pytest.mark.servers
@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_server_introspection_agrees_with_sqlite(engine, example_path, example_schema):
    """The same portable queries on a server copy give the same statistics as on SQLite."""
    if importlib.util.find_spec(f"sqlfoundry.db.connectors.{engine}") is None:
        pytest.skip(f"the {engine} connector is not available")
    servers = pytest.importorskip("servers")  # tests/servers.py: throwaway servers and loaders
    missing = servers.missing_binary(engine)
    if missing:
        pytest.skip(f"{missing} not installed; {servers.INSTALL_HINT}")
    server = servers.start_postgres() if engine == "postgres" else servers.start_mariadb()
    try:
        copied = servers.copy_sqlite_into(example_path, server.admin_url, "bookshop")
        with connector_for(copied.url) as conn:
            found = introspect(conn)
    finally:
        server.stop()
    assert found.engine == engine and sorted(found.table_names) == sorted(example_schema.table_names)
    for ours in found.tables:
        theirs = example_schema.table(ours.name)
        assert ours.row_count == theirs.row_count and ours.primary_key == theirs.primary_key
        fks = sorted((fk.columns, fk.ref_table, fk.ref_columns) for fk in ours.foreign_keys)
        assert fks == sorted((fk.columns, fk.ref_table, fk.ref_columns) for fk in theirs.foreign_keys)
        for a, b in zip(ours.columns, theirs.columns, strict=True):
            assert (a.null_count, a.distinct_count) == (b.null_count, b.distinct_count), (ours.name, a.name)
            assert a.inferred_type == b.inferred_type, (ours.name, a.name)
            if b.inferred_type in ("integer", "real", "date", "datetime"):
                assert (a.min, a.max) == (b.min, b.max) and a.samples == b.samples, (ours.name, a.name)


def test_five_hundred_tables(tmp_path):
    path = tmp_path / "wide.sqlite"
    ddl = ["CREATE TABLE t0 (id INTEGER PRIMARY KEY, name TEXT);"]
    ddl += [
        f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES t{i - 1} (id), "
        f"label VARCHAR(20) NOT NULL, amount REAL, created DATE);"
        for i in range(1, 500)
    ]
    c = sqlite3.connect(path)
    c.executescript(
        "BEGIN;\n" + "\n".join(ddl) + "\nINSERT INTO t1 VALUES (1, NULL, 'a', 1.5, '2024-01-01');\nCOMMIT;"
    )
    c.close()
    with connector_for(f"sqlite:///{path}") as conn:
        s = introspect(conn, stats=False)
    assert len(s.tables) == 500
    assert s.table("t499").foreign_keys == [
        ForeignKey(columns=["parent_id"], ref_table="t498", ref_columns=["id"])
    ]
    assert s.table("t7").column("created").inferred_type == "date"
    assert all(t.row_count is None for t in s.tables)
    assert len(schema_to_ddl(s).split("CREATE TABLE")) == 501


# --- Spider's tables.json -----------------------------------------------------------------------
def test_natural_names():
    cases = {
        "Song_release_year": "song release year", "Home Town": "home town", "concert_ID": "concert id",
        "customerName": "customer name", "HTTPServerLog": "http server log", "PetID": "pet id",
        "is_flagship": "is flagship", "address_line_1": "address line 1",
    }  # fmt: skip
    assert {k: natural_name(k) for k in cases} == cases


@pytest.mark.benchmarkdata
def test_spider_tables_json_round_trip_is_exact(tmp_path):
    _need(SPIDER_TABLES)
    raw = json.loads(SPIDER_TABLES.read_text())
    schemas = read_tables_json(SPIDER_TABLES)
    assert len(schemas) == len(raw) == 166
    for entry, schema in zip(raw, schemas, strict=True):
        assert schema_to_spider(schema) == entry, entry["db_id"]
    out = write_tables_json(schemas, tmp_path / "tables.json")
    assert out.read_text() == SPIDER_TABLES.read_text()  # byte for byte, layout included
    assert detect_type_style(SPIDER_TABLES) == "spider"


@pytest.mark.benchmarkdata
def test_bird_tables_json_round_trip_is_exact(tmp_path):
    _need(BIRD_TABLES)
    raw = json.loads(BIRD_TABLES.read_text())
    schemas = read_tables_json(BIRD_TABLES)
    assert detect_type_style(BIRD_TABLES) == "bird"
    for entry, schema in zip(raw, schemas, strict=True):
        assert schema_to_spider(schema, type_style="bird") == entry, entry["db_id"]
    composite = [t for s in schemas for t in s.tables if len(t.primary_key) > 1]
    assert composite  # BIRD nests composite primary keys
    write_tables_json(schemas, tmp_path / "dev_tables.json", type_style="bird")
    assert json.loads((tmp_path / "dev_tables.json").read_text()) == raw


def test_export_of_an_introspected_schema(example_schema):
    entry = schema_to_spider(example_schema)
    names = entry["column_names_original"]
    assert names[0] == [-1, "*"] and entry["table_names_original"][0] == "store"
    assert entry["table_names"][entry["table_names_original"].index("sale_item")] == "sale item"

    def idx(table: str, column: str) -> int:
        return names.index([entry["table_names_original"].index(table), column])

    assert [idx("book_author", "book_id"), idx("book_author", "author_id")] in entry["primary_keys"]
    assert idx("book", "book_id") in entry["primary_keys"]
    assert [idx("refund", "sale_id"), idx("sale_item", "sale_id")] in entry["foreign_keys"]
    assert [idx("refund", "line_no"), idx("sale_item", "line_no")] in entry["foreign_keys"]
    assert [idx("employee", "manager_id"), idx("employee", "employee_id")] in entry["foreign_keys"]
    types = entry["column_types"]
    assert types[idx("book", "published_date")] == "time"
    assert types[idx("book", "list_price")] == "number"
    assert types[idx("store", "is_flagship")] == "boolean"
    assert types[idx("book", "title")] == "text"
    # exporting what was imported gives the same entry again
    assert schema_to_spider(spider_to_schema(entry)) == entry


def _entry() -> dict:
    return {
        "db_id": "tiny",
        "table_names_original": ["Person", "Pet"],
        "table_names": ["person", "pet"],
        "column_names_original": [[-1, "*"], [0, "PersonID"], [0, "Name"], [1, "PetID"], [1, "OwnerID"]],
        "column_names": [[-1, "*"], [0, "person id"], [0, "name"], [1, "pet id"], [1, "owner id"]],
        "column_types": ["text", "number", "text", "number", "number"],
        "primary_keys": [1, [3, 4]],
        "foreign_keys": [[4, 1]],
    }


def test_spider_entry_to_schema():
    s = spider_to_schema(_entry())
    assert s.table("Pet").primary_key == ["PetID", "OwnerID"]
    assert s.table("Pet").foreign_keys == [
        ForeignKey(columns=["OwnerID"], ref_table="Person", ref_columns=["PersonID"])
    ]
    assert s.table("Person").column("PersonID").inferred_type == "numeric"
    assert s.table("Person").natural_name == "person"
    assert schema_to_spider(s) == _entry()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("primary_keys", [9], "'primary_keys'"),
        ("foreign_keys", [[4]], "'foreign_keys'"),
        ("foreign_keys", [[4, 0]], "'foreign_keys'"),
        ("column_types", ["text", "number", "text", "number", "float"], "'column_types'"),
        ("column_names_original", [[0, "x"]], "'column_names_original'"),
        ("column_names", [[-1, "*"], [0, "a"], [0, "b"], [1, "c"]], "'column_names'"),
        ("table_names", ["person"], "'table_names'"),
        ("primary_keys", [[1, 3]], "'primary_keys'"),
    ],
)
def test_bad_entries_name_the_entry_and_the_field(field, value, message):
    entry = _entry()
    entry[field] = value
    with pytest.raises(SchemaFormatError, match=message) as err:
        spider_to_schema(entry)
    assert "'tiny'" in str(err.value)


def test_bad_files(tmp_path):
    missing = _entry()
    del missing["foreign_keys"]
    path = tmp_path / "tables.json"
    path.write_text(json.dumps([_entry(), missing]))
    with pytest.raises(SchemaFormatError, match=r"#1 'tiny'.*'foreign_keys' is missing"):
        read_tables_json(path)
    path.write_text("{not json")
    with pytest.raises(SchemaFormatError, match="not valid JSON"):
        read_tables_json(path)
    path.write_text(json.dumps({"db_id": "x"}))
    with pytest.raises(SchemaFormatError, match="expected a JSON list"):
        read_tables_json(path)
    with pytest.raises(SchemaFormatError, match="does not exist"):
        read_tables_json(tmp_path / "nope.json")
    with pytest.raises(SchemaFormatError, match="'db_id'"):
        spider_to_schema({"table_names": []})
