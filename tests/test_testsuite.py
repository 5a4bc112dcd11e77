"""Distilled test suites: near-miss mutants, fuzzed databases that keep the schema and its
constraints, greedy distillation, determinism, and the CLI — on real SQLite files built here."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchdata import BENCHMARKS
from sqlfoundry.eval.testsuite import (
    MUTATION_KINDS,
    TestSuiteError,
    TestSuiteExistsError,
    build_test_suite,
    gold_values,
    near_miss_mutants,
    read_schema,
)
from sqlfoundry.eval.testsuite_cli import app, read_gold_sqls
from sqlfoundry.sql.compare import compare_results, gold_orders_rows

SPIDER = BENCHMARKS / "spider_dev"

COMPANY_DDL = """
CREATE TABLE department (
    dept_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    budget REAL CHECK (budget >= 0)
);
CREATE TABLE employee (
    emp_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    age INTEGER,
    salary REAL NOT NULL,
    dept_id INTEGER NOT NULL REFERENCES department (dept_id),
    manager_id INTEGER REFERENCES employee (emp_id)
);
CREATE INDEX idx_employee_dept ON employee (dept_id);
CREATE TABLE project (
    proj_id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    dept_id INTEGER REFERENCES department (dept_id),
    start_date TEXT
);
CREATE TABLE assignment (
    emp_id INTEGER NOT NULL REFERENCES employee (emp_id),
    proj_id INTEGER NOT NULL REFERENCES project (proj_id),
    hours INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (emp_id, proj_id)
);
CREATE TABLE timesheet (
    ts_id INTEGER PRIMARY KEY,
    emp_id INTEGER NOT NULL,
    proj_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    FOREIGN KEY (emp_id, proj_id) REFERENCES assignment (emp_id, proj_id)
);
CREATE VIEW senior AS SELECT name FROM employee WHERE age >= 50;
CREATE TRIGGER timesheet_hours AFTER INSERT ON timesheet BEGIN
    UPDATE assignment SET hours = hours + 8 WHERE emp_id = NEW.emp_id AND proj_id = NEW.proj_id;
END;
"""

COMPANY_ROWS = {
    "department": [(1, "Sales", 1000.0), (2, "Research", 5000.0), (3, "Support", None)],
    # no one is exactly 30 and only one name starts with 'A': near misses of the gold queries below
    # (age >= 30, MIN for MAX) give gold's answer on this data and need other data to be told apart
    "employee": [
        (1, "Alice", 52, 9000.0, 2, None),
        (2, "Bob", 35, 4000.0, 1, 1),
        (3, "Carol", 25, 3500.0, 1, 2),
        (4, "Dan", 41, 6000.0, 2, 1),
        (5, "Eve", None, 3000.0, 3, 1),
    ],
    "project": [(1, "Apollo", 2, "2021-01-01"), (2, "Borealis", 1, "2022-06-01"), (3, "Cygnus", None, None)],
    "assignment": [(1, 1, 12), (2, 2, 4), (3, 2, 20), (4, 1, 8), (4, 3, 0)],
    "timesheet": [(1, 1, 1, "2021-02-01"), (2, 3, 2, "2022-07-04")],
}

GOLD = [
    "SELECT name FROM employee WHERE age > 30",
    "SELECT count(*) FROM employee AS T1 JOIN department AS T2 ON T1.dept_id = T2.dept_id WHERE T2.name = 'Sales'",
    "SELECT max(salary) FROM employee WHERE name LIKE 'A%'",
    "SELECT DISTINCT T1.title FROM project AS T1 JOIN assignment AS T2 ON T1.proj_id = T2.proj_id "
    "WHERE T2.hours >= 10",
    "SELECT name FROM employee WHERE emp_id NOT IN (SELECT manager_id FROM employee WHERE manager_id IS NOT NULL)",
    "SELECT T2.name, count(*) FROM employee AS T1 JOIN department AS T2 ON T1.dept_id = T2.dept_id "
    "GROUP BY T2.name HAVING count(*) >= 2",
    "SELECT name, salary FROM employee ORDER BY salary DESC LIMIT 2",
]


def make_company_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(COMPANY_DDL)
    conn.execute("PRAGMA foreign_keys = ON")
    # the trigger fires on timesheet inserts, so assignment hours are final only after them
    for table, rows in COMPANY_ROWS.items():
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    conn.commit()
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    return path


@pytest.fixture(scope="module")
def company_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_company_db(tmp_path_factory.mktemp("company") / "company.sqlite")


@pytest.fixture(scope="module")
def company_suite(company_db: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("suite")
    report = build_test_suite(company_db, GOLD, out, k=6, seed=3, n_candidates=40, executor="inline")
    return out, report


def schema_sql(path: Path | str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY rowid"
        ).fetchall()
    finally:
        conn.close()


def dump(path: Path | str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def run(path: Path | str, sql: str):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def suite_files(out: Path, db_id: str) -> list[Path]:
    return sorted((out / db_id).glob("*.sqlite"))


# --- mutants ------------------------------------------------------------------------------------


SCHEMA = {"employee": ["emp_id", "name", "age", "dept_id"], "department": ["dept_id", "name"]}


def test_mutants_of_a_filtered_ordered_query_are_exactly_the_one_edit_near_misses():
    sql = "SELECT name FROM employee WHERE age > 30 AND salary <= 5000 ORDER BY name LIMIT 3"
    got = sorted(near_miss_mutants(sql, SCHEMA))
    base = "SELECT name FROM employee WHERE {} ORDER BY name{}"
    expected = sorted(
        [
            ("comparison", base.format(f"age {op} 30 AND salary <= 5000", " LIMIT 3"))
            for op in ("=", "<>", ">=", "<", "<=")
        ]
        + [
            ("comparison", base.format(f"age > 30 AND salary {op} 5000", " LIMIT 3"))
            for op in ("=", "<>", ">", ">=", "<")
        ]
        + [
            ("drop_predicate", base.format("age > 30", " LIMIT 3")),
            ("drop_predicate", base.format("salary <= 5000", " LIMIT 3")),
            ("negation", base.format("NOT (age > 30) AND salary <= 5000", " LIMIT 3")),
            ("negation", base.format("age > 30 AND NOT (salary <= 5000)", " LIMIT 3")),
            ("order_direction", base.format("age > 30 AND salary <= 5000", " DESC LIMIT 3")),
            ("limit", base.format("age > 30 AND salary <= 5000", " LIMIT 4")),
            ("limit", base.format("age > 30 AND salary <= 5000", " LIMIT 2")),
            ("limit", base.format("age > 30 AND salary <= 5000", "")),
        ]
    )
    assert got == expected


def test_mutants_cover_aggregates_distinct_join_keys_and_removing_not():
    sql = (
        "SELECT count(DISTINCT T1.name) FROM employee AS T1 JOIN department AS T2 "
        "ON T1.dept_id = T2.dept_id WHERE NOT T2.name LIKE 'S%'"
    )
    got = near_miss_mutants(sql, SCHEMA)
    by_kind: dict[str, set[str]] = {}
    for kind, text in got:
        by_kind.setdefault(kind, set()).add(text)
    tail = "WHERE NOT T2.name LIKE 'S%'"
    join = "FROM employee AS T1 JOIN department AS T2 ON"
    assert by_kind["aggregate"] == {f"SELECT SUM(DISTINCT T1.name) {join} T1.dept_id = T2.dept_id {tail}"}
    assert by_kind["distinct"] == {f"SELECT COUNT(T1.name) {join} T1.dept_id = T2.dept_id {tail}"}
    assert by_kind["negation"] == {
        f"SELECT COUNT(DISTINCT T1.name) {join} T1.dept_id = T2.dept_id WHERE T2.name LIKE 'S%'"
    }
    assert by_kind["drop_predicate"] == {f"SELECT COUNT(DISTINCT T1.name) {join} T1.dept_id = T2.dept_id"}
    assert by_kind["join_key"] == {
        f"SELECT COUNT(DISTINCT T1.name) {join} T1.{a} = T2.{b} {tail}"
        for a, b in [("emp_id", "dept_id"), ("name", "dept_id"), ("age", "dept_id"), ("dept_id", "name")]
    }
    assert len(by_kind["comparison"]) == 5  # the ON equality swapped for each other operator
    assert set(by_kind) <= set(MUTATION_KINDS)


def test_mutants_are_deduplicated_capped_round_robin_and_never_the_query_itself():
    sql = "SELECT max(age), min(age) FROM employee WHERE age > 1 AND age < 9"
    everything = near_miss_mutants(sql, SCHEMA)
    texts = [t for _k, t in everything]
    assert len(texts) == len(set(texts))
    assert sql not in texts
    capped = near_miss_mutants(sql, SCHEMA, max_mutants=4)
    assert [k for k, _ in capped] == ["comparison", "drop_predicate", "aggregate", "negation"]


def test_gold_values_resolve_aliases_and_add_boundary_neighbours(company_db: Path):
    spec = read_schema(company_db)
    values = gold_values(GOLD, spec)
    assert values.literals[("employee", "age")] == [30]
    assert values.neighbours[("employee", "age")] == [29, 31]
    assert values.literals[("department", "name")] == ["Sales"]
    assert values.patterns[("employee", "name")] == ["A%"]
    assert values.literals[("assignment", "hours")] == [10]


# --- the suite ----------------------------------------------------------------------------------


def test_suite_tells_apart_strictly_more_mutants_than_the_original(company_suite):
    out, report = company_suite
    assert report.gold_used == len(GOLD) and not report.gold_failed
    assert report.mutants_total > 50
    assert report.killed_by_original < report.killed_by_suite <= report.mutants_total
    assert 1 <= len(report.databases) <= 6
    assert [d.killed_after for d in report.databases] == sorted(d.killed_after for d in report.databases)
    assert report.databases[-1].killed_after == report.killed_by_suite
    assert sum(s.total for s in report.by_kind.values()) == report.mutants_total
    saved = json.loads(Path(report.report_path).read_text())
    assert saved["killed_by_suite"] == report.killed_by_suite
    assert saved["mutants_total"] == report.mutants_total


def test_suite_folder_holds_the_original_and_the_numbered_variants(company_db: Path, company_suite):
    out, report = company_suite
    files = suite_files(out, "company")
    names = [f.name for f in files]
    assert "company.sqlite" in names
    assert sorted(names) == sorted(
        ["company.sqlite"] + [f"company_{i}.sqlite" for i in range(1, len(report.databases) + 1)]
    )
    assert dump(out / "company" / "company.sqlite") == dump(company_db)
    assert not list(out.glob(".*candidates*"))  # the work folder is gone


def test_variants_keep_schema_keys_and_constraints(company_db: Path, company_suite):
    out, report = company_suite
    original = schema_sql(company_db)
    for db in report.databases:
        assert schema_sql(db.path) == original
        conn = sqlite3.connect(db.path)
        try:
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute(
                "SELECT count(*) FROM employee WHERE name IS NULL OR salary IS NULL"
            ).fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM department WHERE budget < 0").fetchone() == (0,)
            dup = conn.execute(
                "SELECT count(*) FROM (SELECT name FROM department GROUP BY name HAVING count(*) > 1)"
            )
            assert dup.fetchone() == (0,)
            dup = conn.execute(
                "SELECT count(*) FROM (SELECT emp_id, proj_id FROM assignment GROUP BY 1, 2 HAVING count(*) > 1)"
            )
            assert dup.fetchone() == (0,)
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COMPANY_ROWS}
            assert counts == db.row_counts
            assert sum(counts.values()) > 0
        finally:
            conn.close()


def test_a_boundary_mutant_the_original_cannot_tell_apart_is_told_apart_by_the_suite(
    company_db, company_suite
):
    out, _report = company_suite
    gold, mutant = "SELECT name FROM employee WHERE age > 30", "SELECT name FROM employee WHERE age >= 30"
    assert compare_results(run(company_db, gold), run(company_db, mutant))
    assert any(not compare_results(run(p, gold), run(p, mutant)) for p in suite_files(out, "company"))


def test_report_counts_match_an_independent_recount_with_sqlite3(company_db: Path, company_suite):
    out, report = company_suite
    files = suite_files(out, "company")
    schema = read_schema(company_db).column_names()
    killed_original = killed_suite = total = 0
    for gold in GOLD:
        order = gold_orders_rows(gold)
        for _kind, mutant in near_miss_mutants(gold, schema, max_mutants=60):
            if run(company_db, mutant) is None:
                continue  # mutants must run on the original
            total += 1

            def differs(path: Path, gold: str = gold, mutant: str = mutant, order: bool = order) -> bool:
                got = run(path, mutant)
                return got is None or not compare_results(run(path, gold), got, order_matters=order)

            killed_original += differs(company_db)
            killed_suite += any(differs(p) for p in files)
    assert (total, killed_original, killed_suite) == (
        report.mutants_total,
        report.killed_by_original,
        report.killed_by_suite,
    )


def test_same_seed_same_suite_whichever_runner(company_db: Path, company_suite, tmp_path: Path):
    out, report = company_suite
    again = build_test_suite(company_db, GOLD, tmp_path, k=6, seed=3, n_candidates=40)  # the Executor
    assert [dump(p) for p in suite_files(tmp_path, "company")] == [
        dump(p) for p in suite_files(out, "company")
    ]
    assert again.model_dump(
        exclude={"elapsed_s", "suite_dir", "report_path", "databases"}
    ) == report.model_dump(exclude={"elapsed_s", "suite_dir", "report_path", "databases"})
    other = build_test_suite(
        company_db, GOLD, tmp_path / "other", k=6, seed=4, n_candidates=40, executor="inline"
    )
    assert [dump(p) for p in suite_files(tmp_path / "other", "company")] != [
        dump(p) for p in suite_files(out, "company")
    ]
    assert other.mutants_total == report.mutants_total


def test_existing_suite_is_kept_unless_overwrite(company_db: Path, tmp_path: Path):
    build_test_suite(company_db, GOLD[:2], tmp_path, k=1, n_candidates=3, executor="inline")
    with pytest.raises(TestSuiteExistsError, match="overwrite"):
        build_test_suite(company_db, GOLD[:2], tmp_path, k=1, n_candidates=3, executor="inline")
    report = build_test_suite(
        company_db, GOLD[:2], tmp_path, k=1, n_candidates=3, executor="inline", overwrite=True
    )
    assert len(suite_files(tmp_path, "company")) == 1 + len(report.databases)


def test_gold_that_fails_is_reported_and_left_out(company_db: Path, tmp_path: Path):
    report = build_test_suite(
        company_db, [GOLD[0], "SELECT nope FROM employee"], tmp_path, k=2, n_candidates=5, executor="inline"
    )
    assert report.gold_used == 1
    assert [f.index for f in report.gold_failed] == [1]
    assert "nope" in report.gold_failed[0].message


def test_non_sqlite_databases_are_refused(tmp_path: Path):
    with pytest.raises(TestSuiteError, match="SQLite"):
        build_test_suite("duckdb:///x.duckdb", GOLD, tmp_path)


def test_example_database_variants_keep_its_constraints(tmp_path: Path):
    example = pytest.importorskip("sqlfoundry.db.example")
    db = example.build_example_db(tmp_path / "bookshop.sqlite", seed=0, scale=0.05)
    gold = [
        "SELECT title FROM book WHERE list_price > 20 ORDER BY title",
        "SELECT T1.name, count(*) FROM store AS T1 JOIN sale AS T2 ON T1.store_id = T2.store_id GROUP BY T1.name",
        "SELECT avg(rating) FROM review AS T1 JOIN book AS T2 ON T1.book_id = T2.book_id WHERE T2.genre = 'Fantasy'",
        "SELECT count(*) FROM refund AS T1 JOIN sale_item AS T2 ON T1.sale_id = T2.sale_id AND T1.line_no = T2.line_no",
        "SELECT first_name FROM employee WHERE manager_id IS NULL",
    ]
    report = build_test_suite(db, gold, tmp_path / "suite", k=4, seed=0, n_candidates=12, executor="inline")
    assert report.killed_by_suite > report.killed_by_original
    original = schema_sql(db)
    for suite_db in report.databases:
        assert schema_sql(suite_db.path) == original
        conn = sqlite3.connect(suite_db.path)
        try:
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute(
                "SELECT count(*) FROM review WHERE rating NOT BETWEEN 1 AND 5"
            ).fetchone() == (0,)
        finally:
            conn.close()


@pytest.mark.benchmarkdata
def test_spider_database_suite_is_valid_and_stronger():
    db = SPIDER / "database" / "concert_singer" / "concert_singer.sqlite"
    if not db.is_file():
        pytest.skip(f"Spider dev data not found at {SPIDER} (see ../shared/benchmarks/README)")
    gold = [
        e["query"] for e in json.loads((SPIDER / "dev.json").read_text()) if e["db_id"] == "concert_singer"
    ]
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        report = build_test_suite(db, gold, out, k=5, seed=0, n_candidates=15)
        assert report.gold_used == len(gold) == 45
        assert report.killed_by_suite > report.killed_by_original
        assert report.killed_by_suite >= 0.95 * report.mutants_total
        for suite_db in report.databases:
            assert schema_sql(suite_db.path) == schema_sql(db)
            assert run(suite_db.path, "PRAGMA foreign_key_check") == []


# --- CLI ----------------------------------------------------------------------------------------


def test_read_gold_sqls_reads_spider_json_and_sql_lines(tmp_path: Path):
    spider = tmp_path / "gold.json"
    spider.write_text(json.dumps([{"query": "SELECT 1", "db_id": "a"}, {"query": "SELECT 2", "db_id": "b"}]))
    assert read_gold_sqls(spider) == [("SELECT 1", "a"), ("SELECT 2", "b")]
    lines = tmp_path / "gold.sql"
    lines.write_text("SELECT 1\ta\n\nSELECT 2\n")
    assert read_gold_sqls(lines) == [("SELECT 1", "a"), ("SELECT 2", None)]


def test_cli_build_writes_suite_and_refuses_to_overwrite(company_db: Path, tmp_path: Path):
    gold = tmp_path / "gold.sql"
    gold.write_text("\n".join(f"{g}\tcompany" for g in GOLD[:3]) + "\nSELECT 1\tother_db\n")
    out = tmp_path / "out"
    args = ["build", "--db", f"sqlite:///{company_db}", "--gold", str(gold), "--out", str(out), "-k", "2"]
    result = CliRunner().invoke(app, [*args, "--seed", "1", "--candidates", "6", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert (out / "company" / "company.sqlite").is_file()
    report = json.loads((out / "company.testsuite.json").read_text())
    assert report["gold_total"] == 3  # the other database's query is not this suite's
    assert report["seed"] == 1
    again = CliRunner().invoke(app, [*args, "--candidates", "6"])
    assert again.exit_code != 0
    assert "overwrite" in again.output
