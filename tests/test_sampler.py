"""The SQL sampler on real databases: the example bookshop, a 500-table database, small odd schemas
and Spider dev databases. Every statement must parse, carry the tags sqlglot reads off it, execute,
and quote values that exist in the data."""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlglot

from benchdata import BENCHMARKS
from sqlfoundry.db.connectors import connector_for
from sqlfoundry.db.example import build_example_db
from sqlfoundry.db.executor import Executor, Query
from sqlfoundry.db.outcome import Limits
from sqlfoundry.db.schema import introspect
from sqlfoundry.db.schema_model import Column, ForeignKey, Schema, Table
from sqlfoundry.sql.normalize import normalize_sql, sql_template
from sqlfoundry.sql.skills import sql_complexity, sql_skills
from sqlfoundry.synth.sampler import (
    COMPLEXITY_LEVELS,
    SamplerConfig,
    SamplerConfigError,
    SamplerReport,
    sample_queries,
)
from sqlfoundry.synth.types import REASONING_SKILLS, SampledQuery

SPIDER_DB = BENCHMARKS / "spider_dev" / "database"

#: every skill sql_skills can report that the sampler's recipes must exercise
EXPECTED_SKILLS = {
    "projection", "filter", "aggregation", "group_by", "having", "order_by", "limit", "join", "nested",
    "set_operation", "distinct", "case", "cte", "window", "date_time", "string_function", "arithmetic",
    "like", "in", "between", "is_null", "negation",
}  # fmt: skip

#: constructs (regex over the SQL text) the brief names, each of which must show up in 2000 samples
EXPECTED_CONSTRUCTS = {
    "equality": r"\w = '",
    "less than": r" < \d",
    "greater than": r" > \d",
    "at most": r" <= ",
    "at least": r" >= ",
    "not equal": r" != ",
    "BETWEEN": r" BETWEEN ",
    "NOT BETWEEN": r" NOT BETWEEN ",
    "LIKE": r" LIKE '",
    "NOT LIKE": r" NOT LIKE '",
    "IN list": r" IN \('",
    "NOT IN list": r" NOT IN \('",
    "IS NULL": r" IS NULL",
    "IS NOT NULL": r" IS NOT NULL",
    "COUNT(*)": r"COUNT\(\*\)",
    "COUNT DISTINCT": r"COUNT\(DISTINCT ",
    "SUM": r"\bSUM\(",
    "AVG": r"\bAVG\(",
    "MIN": r"\bMIN\(",
    "MAX": r"\bMAX\(",
    "GROUP BY": r" GROUP BY ",
    "HAVING": r" HAVING ",
    "top-k": r" LIMIT (3|5|10)$",
    "superlative": r" ORDER BY \S+ DESC LIMIT 1$",
    "least": r" ORDER BY [^,]+(?<!DESC) LIMIT 1$",
    "one join": r"^(?!.*JOIN.*JOIN).* JOIN ",
    "two joins": r" AS T3 ON ",
    "three joins": r" AS T4 ON ",
    "composite FK": r"ON T\d\.sale_id = T\d\.sale_id AND T\d\.line_no = T\d\.line_no",
    "self reference": r"employee AS T1 JOIN employee AS T2",
    "IN subquery": r" IN \(SELECT ",
    "NOT IN subquery": r" NOT IN \(SELECT ",
    "EXISTS": r"(?<!NOT )EXISTS \(SELECT ",
    "NOT EXISTS": r"NOT EXISTS \(SELECT ",
    "compare with aggregate": r"[<>=] \(SELECT (AVG|MAX|MIN)\(",
    "UNION": r" UNION ",
    "INTERSECT": r" INTERSECT ",
    "EXCEPT": r" EXCEPT ",
    "SELECT DISTINCT": r"SELECT DISTINCT ",
    "CASE": r"CASE WHEN ",
    "WITH": r"^WITH ",
    "RANK": r"\bRANK\(\) OVER \(",
    "ROW_NUMBER": r"ROW_NUMBER\(\) OVER \(",
    "window SUM/AVG": r"(SUM|AVG)\(\w+\) OVER \(",
    "PARTITION BY": r"OVER \(PARTITION BY ",
    "year": r"strftime\('%Y', ",
    "month": r"strftime\('%m', ",
    "date comparison": r"(sold_at|opened_on|hire_date|published_date|joined_at|reviewed_on|birth_date|refunded_at|last_restocked) (>=|<|>|<=) '\d{4}-",
    "julianday difference": r"julianday\([^)]*\) - julianday\(",
    "LENGTH": r"LENGTH\(",
    "UPPER": r"UPPER\(",
    "SUBSTR": r"SUBSTR\(",
    "concatenation": r" \|\| ",
    "col * col": r"\w \* \w",
    "col - col": r"[a-z_]\w* - [A-Za-z]",
    "percentage": r"CAST\(SUM\(CASE WHEN .* THEN 1 ELSE 0 END\) AS REAL\) \* 100 / COUNT\(\*\)",
}


# ------------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bookshop(tmp_path_factory) -> tuple[str, Schema]:
    path = tmp_path_factory.mktemp("sampler") / "bookshop.sqlite"
    build_example_db(path, seed=0)
    url = f"sqlite:///{path}"
    return url, introspect(connector_for(url))


@pytest.fixture(scope="module")
def bookshop_samples(bookshop) -> list[SampledQuery]:
    _, schema = bookshop
    return list(sample_queries(schema, SamplerConfig(seed=0), 2000))


def _execute(url: str, queries: list[SampledQuery]) -> Counter:
    with Executor(workers=2, limits=Limits(timeout_s=10.0), cache=False) as ex:
        outcomes = ex.run_batch([Query(url, q.sql, keep_rows=False) for q in queries])
    return Counter(o.status.value for o in outcomes)


def _ok_rate(statuses: Counter) -> float:
    return statuses["ok"] / max(1, sum(statuses.values()))


# ------------------------------------------------------------------------------------------------
# the example database
# ------------------------------------------------------------------------------------------------


def test_every_statement_parses_and_is_tagged_like_sqlglot_reads_it(bookshop_samples):
    assert len(bookshop_samples) == 2000
    for q in bookshop_samples:
        sqlglot.parse_one(q.sql, read="sqlite")  # raises on a syntax error
        assert q.skills == sql_skills(q.sql), q.sql
        assert q.complexity == sql_complexity(q.sql), q.sql
        assert set(q.reasoning_skills) <= set(REASONING_SKILLS)


def test_statements_execute_on_the_real_database(bookshop, bookshop_samples):
    url, _ = bookshop
    statuses = _execute(url, bookshop_samples[:500])
    rate = _ok_rate(statuses)
    print(f"\nexample DB: {statuses['ok']}/500 statements ok ({rate:.1%}); statuses {dict(statuses)}")
    assert rate >= 0.9, dict(statuses)


def test_all_levels_skills_and_constructs_appear(bookshop_samples):
    levels = Counter(q.complexity for q in bookshop_samples)
    assert set(levels) == set(COMPLEXITY_LEVELS)
    # equal default weights: each level gets about a quarter
    assert all(350 <= levels[lvl] <= 650 for lvl in COMPLEXITY_LEVELS), levels
    skills = {s for q in bookshop_samples for s in q.skills}
    assert EXPECTED_SKILLS <= skills, EXPECTED_SKILLS - skills
    missing = [
        name
        for name, pattern in EXPECTED_CONSTRUCTS.items()
        if not any(re.search(pattern, q.sql) for q in bookshop_samples)
    ]
    assert not missing


def test_every_reasoning_skill_appears(bookshop_samples):
    seen = Counter(s for q in bookshop_samples for s in q.reasoning_skills)
    assert set(seen) == set(REASONING_SKILLS), seen


def test_reasoning_tags_follow_the_sql(bookshop_samples):
    for q in bookshop_samples:
        tags = set(q.reasoning_skills)
        if "COUNT(" in q.sql:
            assert "counting" in tags, q.sql
        if re.search(r"EXISTS \(|NOT IN \(SELECT", q.sql):
            assert "quantifiers" in tags, q.sql
        if re.search(r"\b(SUM|AVG)\(", q.sql):
            assert "numerical_operation" in tags, q.sql
        if re.search(r"ORDER BY [^)]* LIMIT 1$", q.sql) or re.search(r"\b(MAX|MIN)\(", q.sql):
            assert "superlatives" in tags, q.sql


def test_order_limited_and_order_keys(bookshop_samples):
    limited = [q for q in bookshop_samples if q.order_limited]
    assert len(limited) > 100
    for q in bookshop_samples:
        top_limit = re.search(r" ORDER BY (.+) LIMIT \d+$", q.sql)
        assert q.order_limited == bool(top_limit), q.sql
        if q.order_limited:
            assert q.order_keys
            for key in q.order_keys:
                assert key in top_limit.group(1), (key, q.sql)


def test_template_is_the_sql_with_literals_abstracted(bookshop_samples):
    for q in bookshop_samples[:400]:
        assert "'" not in q.template.replace("'%Y'", "").replace("'%m'", "") or '"' in q.template
        assert normalize_sql(q.template) == sql_template(q.sql), q.sql


def test_values_come_from_the_database(bookshop, bookshop_samples):
    """Text equalities quote values present in the column; numbers and dates lie in the column's range."""
    url, schema = bookshop
    con = sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True)
    columns = {(t.name, c.name): c for t in schema.tables for c in t.columns}
    checked = 0
    for q in bookshop_samples:
        if " JOIN " in q.sql or "(SELECT" in q.sql or " WITH " in q.sql or q.sql.startswith("WITH"):
            continue
        m = re.search(r" FROM (\w+)", q.sql)
        table = m.group(1)
        for col, value in re.findall(r"\b(\w+) = '((?:[^']|'')*)'", q.sql):
            if (table, col) not in columns:
                continue
            value = value.replace("''", "'")
            (n,) = con.execute(f"SELECT COUNT(*) FROM {table} WHERE {col} = ?", (value,)).fetchone()
            assert n > 0, (value, q.sql)
            checked += 1
        for col, lo, hi in re.findall(r"\b(\w+) BETWEEN ('[^']*'|[\d.]+) AND ('[^']*'|[\d.]+)", q.sql):
            column = columns.get((table, col))
            if column is None or column.min is None:
                continue
            if lo.startswith("'"):
                assert str(column.min)[:10] <= lo.strip("'") <= hi.strip("'") <= str(column.max)[:10], q.sql
            else:
                assert column.min <= float(lo) <= float(hi) <= column.max, q.sql
            checked += 1
    assert checked > 150


def test_no_degenerate_shapes(bookshop_samples):
    keys = {
        "store_id",
        "employee_id",
        "publisher_id",
        "author_id",
        "book_id",
        "customer_id",
        "sale_id",
        "review_id",
    }
    for q in bookshop_samples:
        # aggregates over keys (other than COUNT DISTINCT) and GROUP BY a table's own key
        for _fn, arg in re.findall(r"\b(SUM|AVG|MIN|MAX)\((?:T\d\.)?(\w+)\)", q.sql):
            assert arg not in keys, q.sql
        assert "IN ()" not in q.sql
        # a column compared with itself
        for left, right in re.findall(r"([\w.]+) (?:=|!=|<|>) ([\w.]+)", q.sql):
            assert left != right or left.isdigit(), q.sql
        if "SELECT *" in q.sql:
            assert q.complexity == "simple", q.sql
        if " JOIN " in q.sql and not q.sql.startswith("WITH"):
            assert not re.search(r"SELECT (DISTINCT )?[a-z_]+[,\s]", q.sql.split(" JOIN ")[0]), q.sql


def test_same_seed_same_statements_different_seed_different(bookshop):
    _, schema = bookshop
    first = [(q.sql, q.skills, q.complexity) for q in sample_queries(schema, SamplerConfig(seed=7), 300)]
    again = [(q.sql, q.skills, q.complexity) for q in sample_queries(schema, SamplerConfig(seed=7), 300)]
    other = [(q.sql, q.skills, q.complexity) for q in sample_queries(schema, SamplerConfig(seed=8), 300)]
    assert first == again
    assert first != other
    assert len({s for s, _, _ in first} & {s for s, _, _ in other}) < 100


def test_endless_when_n_is_none(bookshop):
    _, schema = bookshop
    it = sample_queries(schema, SamplerConfig(seed=1))
    taken = [next(it) for _ in range(2500)]
    assert len(taken) == 2500


def test_speed_at_least_2000_per_second(bookshop):
    _, schema = bookshop
    best = 0.0
    for seed in range(3):  # best of three: the machine is shared
        start = time.perf_counter()
        n = sum(1 for _ in sample_queries(schema, SamplerConfig(seed=seed), 2000))
        best = max(best, n / (time.perf_counter() - start))
    print(f"\nsampler speed on the example DB: {best:.0f} statements/s")
    assert best >= 2000


# ------------------------------------------------------------------------------------------------
# configuration
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", COMPLEXITY_LEVELS)
def test_complexity_weights_pick_the_levels(bookshop, level):
    _, schema = bookshop
    weights = {lvl: (1.0 if lvl == level else 0.0) for lvl in COMPLEXITY_LEVELS}
    got = list(sample_queries(schema, SamplerConfig(seed=3, complexity_weights=weights), 200))
    assert len(got) == 200
    assert {q.complexity for q in got} == {level}
    for q in got[:50]:
        assert sql_complexity(q.sql) == level, q.sql


def test_complexity_weights_shift_the_mix(bookshop):
    _, schema = bookshop
    weights = {"simple": 3.0, "moderate": 1.0, "complex": 0.0, "highly_complex": 0.0}
    levels = Counter(
        q.complexity for q in sample_queries(schema, SamplerConfig(seed=2, complexity_weights=weights), 1000)
    )
    assert set(levels) == {"simple", "moderate"}
    assert 0.68 <= levels["simple"] / 1000 <= 0.82, levels


@pytest.mark.parametrize(
    "skill",
    ["window", "cte", "like", "set_operation", "having", "join", "nested", "aggregation", "group_by", "case"],
)
def test_skill_weight_zero_turns_a_skill_off(bookshop, skill):
    _, schema = bookshop
    got = list(sample_queries(schema, SamplerConfig(seed=4, skill_weights={skill: 0}), 600))
    assert len(got) == 600
    assert not [q.sql for q in got if skill in q.skills]


def test_skill_weight_raises_a_skill(bookshop):
    _, schema = bookshop
    base = sum("window" in q.skills for q in sample_queries(schema, SamplerConfig(seed=5), 1000))
    more = sum(
        "window" in q.skills
        for q in sample_queries(schema, SamplerConfig(seed=5, skill_weights={"window": 5}), 1000)
    )
    assert more > 1.5 * base, (base, more)


def test_function_toggles_and_max_joins(bookshop):
    _, schema = bookshop
    cfg = SamplerConfig(seed=6, string_functions=False, date_functions=False, arithmetic=False, max_joins=1)
    got = list(sample_queries(schema, cfg, 800))
    assert len(got) == 800
    for q in got:
        assert not {"string_function", "date_time", "arithmetic"} & set(q.skills), q.sql
        assert "T3" not in q.sql, q.sql
    no_joins = list(sample_queries(schema, SamplerConfig(seed=6, max_joins=0), 400))
    assert not [q.sql for q in no_joins if "join" in q.skills]


def test_samples_value_source_quotes_only_sampled_values(bookshop):
    """With ``value_source="samples"`` every number compared with a column is one of its sample
    values or its min/max (no interpolated thresholds)."""
    _, schema = bookshop
    known = {
        (t.name, c.name): {float(v) for v in [*c.samples, c.min, c.max] if isinstance(v, int | float)}
        for t in schema.tables
        for c in t.columns
    }
    got = list(sample_queries(schema, SamplerConfig(seed=9, value_source="samples"), 600))
    checked = 0
    for q in got:
        if " JOIN " in q.sql or "(SELECT" in q.sql or q.sql.startswith("WITH") or " HAVING " in q.sql:
            continue
        table = re.search(r" FROM (\w+)", q.sql).group(1)
        for col, value in re.findall(r"\b(\w+) (?:=|!=|<|>|<=|>=) (-?\d+(?:\.\d+)?)\b", q.sql):
            if (table, col) in known and known[table, col]:
                assert float(value) in known[table, col], (col, value, q.sql)
                checked += 1
    assert checked > 50


def test_sqlglot_tag_source_gives_the_same_tags(bookshop):
    _, schema = bookshop
    fast = list(sample_queries(schema, SamplerConfig(seed=10), 150))
    slow = list(sample_queries(schema, SamplerConfig(seed=10, tag_source="sqlglot"), 150))
    assert [(q.sql, q.skills, q.complexity) for q in fast] == [(q.sql, q.skills, q.complexity) for q in slow]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"complexity_weights": {"easy": 1.0}},
        {"complexity_weights": {"simple": 0.0}},
        {"complexity_weights": {"simple": -1.0, "complex": 1.0}},
        {"skill_weights": {"teleportation": 1.0}},
        {"skill_weights": {"window": -2}},
        {"max_joins": -1},
        {"value_source": "oracle"},
        {"tag_source": "vibes"},
    ],
)
def test_bad_config_is_a_typed_error(kwargs):
    with pytest.raises(SamplerConfigError):
        SamplerConfig(**kwargs)


def test_partial_complexity_weights_mean_only_those_levels():
    cfg = SamplerConfig(complexity_weights={"moderate": 2})
    assert cfg.complexity_weights == {"simple": 0.0, "moderate": 2.0, "complex": 0.0, "highly_complex": 0.0}


def test_skill_aliases_from_types_are_accepted():
    assert SamplerConfig(skill_weights={"string": 0, "ratio": 2}).skill_weights == {
        "string_function": 0.0,
        "ratio": 2.0,
    }


# ------------------------------------------------------------------------------------------------
# any schema
# ------------------------------------------------------------------------------------------------


def _check_on_db(url: str, queries: list[SampledQuery], min_ok: float = 0.9) -> float:
    for q in queries:
        assert q.skills == sql_skills(q.sql), q.sql
        assert q.complexity == sql_complexity(q.sql), q.sql
    statuses = _execute(url, queries)
    rate = _ok_rate(statuses)
    assert rate >= min_ok, dict(statuses)
    return rate


def _make_db(path: Path, ddl: list[str], rows: dict[str, list[tuple]]) -> str:
    con = sqlite3.connect(path)
    for stmt in ddl:
        con.execute(stmt)
    for table, values in rows.items():
        if values:
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(values[0]))})", values)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_schema_without_foreign_keys(tmp_path):
    r = random.Random(0)
    ddl = [
        "CREATE TABLE city (city_id INTEGER PRIMARY KEY, name TEXT, country TEXT, population INTEGER, founded DATE)",
        "CREATE TABLE river (river_id INTEGER PRIMARY KEY, name TEXT, length_km REAL, country TEXT)",
    ]
    rows = {
        "city": [
            (
                i,
                f"City {i}",
                r.choice(["France", "Spain", "Italy"]),
                r.randint(1000, 900000),
                f"19{r.randint(10, 99)}-0{r.randint(1, 9)}-1{r.randint(0, 9)}",
            )
            for i in range(1, 60)
        ],
        "river": [
            (i, f"River {i}", round(r.uniform(10, 3000), 1), r.choice(["France", "Spain"]))
            for i in range(1, 30)
        ],
    }
    url = _make_db(tmp_path / "nofk.sqlite", ddl, rows)
    schema = introspect(connector_for(url))
    report = SamplerReport()
    got = list(sample_queries(schema, SamplerConfig(seed=1), 400, report=report))
    assert len(got) == 400
    assert not [q.sql for q in got if "join" in q.skills]
    assert {q.complexity for q in got} == set(COMPLEXITY_LEVELS), report.unreachable_levels
    _check_on_db(url, got)


def test_single_table_and_text_only_table(tmp_path):
    url = _make_db(
        tmp_path / "one.sqlite",
        ["CREATE TABLE note (body TEXT)"],
        {"note": [("hello world",), ("buy milk",), ("call mum",), ("hello again",)]},
    )
    schema = introspect(connector_for(url))
    report = SamplerReport()
    got = list(sample_queries(schema, SamplerConfig(seed=2), 200, report=report))
    assert len(got) == 200
    assert {"simple", "moderate"} <= {q.complexity for q in got}
    assert not [q for q in got if "join" in q.skills]
    # levels the schema cannot reach are reported, not looped on forever
    assert set(report.unreachable_levels) <= {"complex", "highly_complex"}
    _check_on_db(url, got)


def test_tables_without_numeric_columns(tmp_path):
    url = _make_db(
        tmp_path / "texts.sqlite",
        [
            "CREATE TABLE person (code TEXT PRIMARY KEY, name TEXT, city TEXT)",
            "CREATE TABLE pet (tag TEXT PRIMARY KEY, owner TEXT REFERENCES person (code), species TEXT)",
        ],
        {
            "person": [(f"P{i}", f"Name{i}", ["Oslo", "Rome", "Lima"][i % 3]) for i in range(12)],
            "pet": [(f"T{i}", f"P{i % 7}", ["cat", "dog"][i % 2]) for i in range(20)],
        },
    )
    schema = introspect(connector_for(url))
    got = list(sample_queries(schema, SamplerConfig(seed=3), 300))
    assert len(got) == 300
    # no sums or averages (conditional counts, SUM(CASE ... THEN 1 ...), are fine)
    assert not [q.sql for q in got if re.search(r"\b(SUM|AVG)\((?!CASE)", q.sql)]
    _check_on_db(url, got)


def test_empty_tables_are_skipped_with_a_reason(tmp_path):
    url = _make_db(
        tmp_path / "empty.sqlite",
        [
            "CREATE TABLE full_table (id INTEGER PRIMARY KEY, label TEXT, score REAL)",
            "CREATE TABLE empty_table (id INTEGER PRIMARY KEY, full_id INTEGER REFERENCES full_table (id), note TEXT)",
        ],
        {"full_table": [(i, f"row {i}", i * 1.5) for i in range(1, 11)], "empty_table": []},
    )
    schema = introspect(connector_for(url))
    report = SamplerReport()
    got = list(sample_queries(schema, SamplerConfig(seed=4), 200, report=report))
    assert len(got) == 200
    assert report.skipped_tables == {"empty_table": "empty table"}
    assert report.skipped["empty table"] == 1
    assert report.skipped["foreign key to a skipped table"] == 0  # the FK lives on the skipped table
    assert not [q.sql for q in got if "empty_table" in q.sql]
    _check_on_db(url, got)


def test_all_tables_empty_ends_at_once():
    schema = Schema(
        db_id="void",
        tables=[Table(name="t", columns=[Column(name="a", inferred_type="integer")], row_count=0)],
    )
    report = SamplerReport()
    assert list(sample_queries(schema, SamplerConfig(), None, report=report)) == []
    assert set(report.unreachable_levels) == set(COMPLEXITY_LEVELS)
    assert report.skipped_tables == {"t": "empty table"}


def test_schema_without_statistics():
    """A catalog read with ``stats=False``: no values, so only value-free shapes come out."""
    tables = [
        Table(
            name="parent",
            columns=[
                Column(name="id", declared_type="INTEGER", inferred_type="integer", primary_key=True),
                Column(name="name", declared_type="TEXT", inferred_type="text"),
            ],
            primary_key=["id"],
        ),
        Table(
            name="child",
            columns=[
                Column(name="id", declared_type="INTEGER", inferred_type="integer", primary_key=True),
                Column(name="parent_id", declared_type="INTEGER", inferred_type="integer"),
                Column(name="price", declared_type="REAL", inferred_type="real"),
            ],
            primary_key=["id"],
            foreign_keys=[ForeignKey(columns=["parent_id"], ref_table="parent", ref_columns=["id"])],
        ),
    ]
    got = list(sample_queries(Schema(db_id="bare", tables=tables), SamplerConfig(seed=5), 200))
    assert len(got) == 200
    for q in got:
        assert q.skills == sql_skills(q.sql), q.sql
        assert "'" not in q.sql.replace("' '", ""), q.sql


def test_broken_foreign_keys_are_skipped():
    tables = [
        Table(
            name="a",
            columns=[
                Column(name="id", inferred_type="integer", primary_key=True),
                Column(name="b_id", inferred_type="integer"),
            ],
            primary_key=["id"],
            foreign_keys=[
                ForeignKey(columns=["b_id"], ref_table="nowhere", ref_columns=["id"]),
                ForeignKey(columns=["b_id"], ref_table="a", ref_columns=["missing"]),
                ForeignKey(columns=["b_id", "id"], ref_table="a", ref_columns=["id"]),
            ],
            row_count=3,
        )
    ]
    report = SamplerReport()
    got = list(sample_queries(Schema(db_id="broken", tables=tables), SamplerConfig(), 50, report=report))
    assert len(got) == 50
    assert report.skipped["foreign key to a missing table"] == 1
    assert report.skipped["foreign key to a missing column"] == 1
    assert report.skipped["foreign key with mismatched columns"] == 1


def test_500_tables(tmp_path):
    r = random.Random(0)
    ddl, rows = [], {}
    for i in range(500):
        fk = f", parent_id INTEGER REFERENCES t{r.randrange(i)} (id)" if i else ""
        ddl.append(
            f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name TEXT, kind TEXT, amount REAL, created DATE{fk})"
        )
        rows[f"t{i}"] = [
            (
                j,
                f"item {j}",
                r.choice("abc"),
                round(r.uniform(1, 100), 2),
                f"2020-0{r.randint(1, 9)}-1{r.randint(0, 9)}",
            )
            + ((r.randint(1, 8),) if i else ())
            for j in range(1, 9)
        ]
    url = _make_db(tmp_path / "wide.sqlite", ddl, rows)
    schema = introspect(connector_for(url))
    start = time.perf_counter()
    got = list(sample_queries(schema, SamplerConfig(seed=6), 2000))
    rate = len(got) / (time.perf_counter() - start)
    assert len(got) == 2000
    assert {q.complexity for q in got} == set(COMPLEXITY_LEVELS)
    assert len({t for q in got for t in q.tables}) > 300
    assert rate >= 1000, rate  # setup is linear in the schema; the per-statement cost does not grow
    _check_on_db(url, got[:300])


# ------------------------------------------------------------------------------------------------
# Spider dev databases
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("db_id", ["concert_singer", "car_1", "world_1", "student_transcripts_tracking"])
def test_spider_dev_databases(db_id):
    path = SPIDER_DB / db_id / f"{db_id}.sqlite"
    if not path.is_file():
        pytest.skip(f"Spider dev database {db_id} not found at {path} (set SQLFOUNDRY_BENCHMARKS)")
    url = f"sqlite:///{path}"
    schema = introspect(connector_for(url))
    got = list(sample_queries(schema, SamplerConfig(seed=0), 300))
    assert len(got) == 300
    assert {q.complexity for q in got} == set(COMPLEXITY_LEVELS)
    rate = _check_on_db(url, got)
    print(f"\n{db_id}: {rate:.1%} of 300 statements ok")
