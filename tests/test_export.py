"""The shared prompt format, record exports (JSONL, Parquet, TRL chat, Spider, BIRD) and imports, and the
``export`` / ``stats`` commands — checked with exact expectations and loaded back with ``datasets``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from benchdata import BENCHMARKS
from sqlfoundry.db.connectors import connector_for
from sqlfoundry.db.schema import introspect, schema_to_ddl
from sqlfoundry.db.spider_tables import read_tables_json
from sqlfoundry.records import Provenance, Record, read_jsonl
from sqlfoundry.synth import export as ex
from sqlfoundry.synth.data_cli import app
from sqlfoundry.synth.prompt import (
    ABSTENTION_TEXT,
    SYSTEM_PROMPT,
    build_prompt,
    extract_sql,
    format_answer,
    is_abstention,
)
from sqlfoundry.synth.stats import dataset_stats, read_rejections, stats_for_path

SPIDER_DEV = BENCHMARKS / "spider_dev" / "dev.json"
BIRD_DEV = BENCHMARKS / "bird" / "dev" / "dev.json"


@pytest.fixture(scope="module")
def bookshop(example_sqlite):
    with connector_for(f"sqlite:///{example_sqlite}") as connector:
        return introspect(connector, sample_values=3, db_id="bookshop")


def _records() -> list[Record]:
    return [
        Record(
            id="r1",
            db_id="bookshop",
            question="How many stores are there?",
            sql="SELECT COUNT(*) FROM store",
            skills=["aggregation", "projection"],
            complexity="moderate",
            result_fingerprint="abc",
            row_count=1,
            exec_ms=0.5,
            provenance=Provenance(generator="rule", seed=7, template="count"),
        ),
        Record(
            id="r2",
            db_id="bookshop",
            question="Which city has the largest flagship store?",
            style="interrogative",
            evidence="flagship refers to is_flagship = 1",
            sql="SELECT city FROM store WHERE is_flagship = 1 ORDER BY floor_area_m2 DESC LIMIT 1",
            skills=["filter", "limit", "order_by", "projection"],
            reasoning_skills=["superlatives"],
            complexity="simple",
            cot="Filter flagship stores, order by floor area, take the first city.",
            provenance=Provenance(generator="llm", model="teacher-x", template="superlative"),
            difficulty=0.25,
            split="dev",
        ),
        Record(
            id="r3",
            db_id="bookshop",
            question="What is the phone number of each store?",
            sql="",
            feasible=False,
            verification="infeasible",
            cot="No table records a phone number.",
            provenance=Provenance(generator="rule", template="column-related"),
        ),
    ]


@pytest.fixture(autouse=True)
def _offline_datasets(monkeypatch):
    # datasets must never reach the network in tests
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


# ------------------------------------------------------------------------------------------------
# Prompt format
# ------------------------------------------------------------------------------------------------


def test_prompt_holds_schema_with_values_question_evidence_and_instructions(bookshop):
    prompt = build_prompt(
        bookshop,
        "Which city has the largest flagship store?",
        evidence="flagship refers to is_flagship = 1",
        matched_values={"store.city": ["Berlin", "O'Hara", "x", "y", "z", "cut"]},
    )
    assert "Database engine:\nSQLite\n" in prompt
    assert schema_to_ddl(bookshop, with_samples=True).rstrip("\n") in prompt
    assert "-- 12 rows\nCREATE TABLE store (" in prompt  # row counts and sample comments kept
    assert "e.g. 'Berlin'" in prompt
    assert "Question:\nWhich city has the largest flagship store?\n" in prompt
    assert "Evidence (external knowledge):\nflagship refers to is_flagship = 1\n" in prompt
    assert "- store.city: 'Berlin', 'O''Hara', 'x', 'y', 'z'\n" in prompt  # at most five, SQL-quoted
    assert ABSTENTION_TEXT in prompt
    assert prompt.index("Database schema:") < prompt.index("Question:") < prompt.index("Instructions:")
    assert prompt.rstrip().endswith("```sql\n-- your SQL query\n```")


def test_prompt_leaves_out_empty_parts_and_names_the_dialect():
    prompt = build_prompt("CREATE TABLE t (a INTEGER);\n", "  Count t.  ", evidence="  ", dialect="postgres")
    assert "Evidence" not in prompt and "match words" not in prompt
    assert "Database engine:\nPostgreSQL\n" in prompt
    assert "Database schema:\nCREATE TABLE t (a INTEGER);\n\nThe schema lists" in prompt
    assert "Question:\nCount t.\n" in prompt
    assert "PostgreSQL SQL syntax" in prompt


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("Think.\n```sql\nSELECT 1;\n```", "SELECT 1"),
        ("```sql\nSELECT 1\n```\nbetter:\n```sql\nSELECT 2 ;;\n```\nDone.", "SELECT 2"),
        ("```SQL\nSELECT a\nFROM t\n```", "SELECT a\nFROM t"),
        ("```sqlite\nSELECT 3\n```", "SELECT 3"),
        ("```\nSELECT 4\n```", "SELECT 4"),
        ("```sql\nSELECT 5\n```\n```\nnot sql\n```", "SELECT 5"),  # a sql block beats a later plain one
        ("```sql SELECT 6```", "SELECT 6"),
        ("```SELECT 7```", "SELECT 7"),
        ("```python\nprint(1)\n```\nSo the answer is SELECT 8 FROM t;", "SELECT 8 FROM t"),
        ("reasoning...\n```sql\nSELECT 9 FROM t\nWHERE", "SELECT 9 FROM t\nWHERE"),  # cut off mid-block
        ("```sql\n\n```\n```sql\nSELECT 10\n```", "SELECT 10"),
        (
            "The query:\nSELECT a FROM t WHERE b IN (SELECT b FROM u)\n\nIt returns a.",
            "SELECT a FROM t WHERE b IN (SELECT b FROM u)",
        ),
        (
            "First SELECT 1;\nthen WITH x AS (SELECT 2) SELECT * FROM x;",
            "WITH x AS (SELECT 2) SELECT * FROM x",
        ),
        ("Answer:\nSELECT a FROM t\nwhich lists every a.", "SELECT a FROM t"),  # prose on the next line
        ("<think>I could SELECT x, but nothing holds it.</think>\n" + ABSTENTION_TEXT, None),
        ("<think>```sql\nSELECT 1\n```</think>\n```sql\nSELECT 2\n```", "SELECT 2"),
        ("we select rows from t", None),  # lower-case prose is not SQL
        ("", None),
        (ABSTENTION_TEXT, None),
    ],
)
def test_extract_sql(completion, expected):
    assert extract_sql(completion) == expected


def test_answer_format_round_trips_through_extract_sql():
    answer = format_answer("SELECT 1;  ", "Because.")
    assert answer == "Because.\n\n```sql\nSELECT 1\n```"
    assert extract_sql(answer) == "SELECT 1"
    abstain = format_answer(None, "Nothing holds it.")
    assert abstain == f"Nothing holds it.\n\n{ABSTENTION_TEXT}"
    assert extract_sql(abstain) is None and is_abstention(abstain)
    assert is_abstention(ABSTENTION_TEXT.upper().replace(" ", "  "))
    assert not is_abstention(answer)
    assert not is_abstention(f"{ABSTENTION_TEXT}\n```sql\nSELECT 1\n```")


# ------------------------------------------------------------------------------------------------
# JSONL and Parquet, loaded with datasets
# ------------------------------------------------------------------------------------------------


def test_parquet_schema_follows_the_record_model():
    schema = ex.arrow_schema()
    assert schema.names == list(Record.model_fields)
    assert str(schema.field("provenance").type) == (
        "struct<generator: string not null, seed: int64, model: string, template: string>"
    )
    assert str(schema.field("skills").type) == "list<item: string>"
    assert schema.field("evidence").nullable and not schema.field("question").nullable
    assert str(schema.field("exec_ms").type) == "double" and str(schema.field("row_count").type) == "int64"


def test_parquet_round_trip(tmp_path):
    records = _records()
    assert ex.to_parquet(records, tmp_path / "r.parquet") == 3
    assert list(ex.from_parquet(tmp_path / "r.parquet")) == records
    assert list(ex.read_records(tmp_path / "r.parquet")) == records
    assert ex.to_parquet([], tmp_path / "empty.parquet") == 0
    assert list(ex.from_parquet(tmp_path / "empty.parquet")) == []


def test_datasets_loads_jsonl_and_parquet(tmp_path):
    datasets = pytest.importorskip("datasets")
    records = _records()
    ex.write_jsonl(records, tmp_path / "r.jsonl")
    ex.to_parquet(records, tmp_path / "r.parquet")
    assert list(read_jsonl(tmp_path / "r.jsonl")) == records
    for builder, path in (("json", "r.jsonl"), ("parquet", "r.parquet")):
        ds = datasets.load_dataset(
            builder, data_files=str(tmp_path / path), split="train", cache_dir=str(tmp_path / "hf")
        )
        assert ds.num_rows == 3
        assert ds.column_names == list(Record.model_fields)
        assert ds[1]["provenance"]["model"] == "teacher-x"
        assert ds[1]["skills"] == ["filter", "limit", "order_by", "projection"]
        assert ds["feasible"] == [True, True, False]
    # Parquet keeps every declared type even where JSON sees only nulls
    assert str(ds.features["result_fingerprint"].dtype) == "string"


# ------------------------------------------------------------------------------------------------
# TRL chat
# ------------------------------------------------------------------------------------------------


def test_trl_chat_messages(tmp_path, bookshop):
    n = ex.to_trl_chat(_records(), {"bookshop": bookshop}, tmp_path / "chat.jsonl", columns=("id",))
    assert n == 3
    rows = [json.loads(line) for line in (tmp_path / "chat.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["r1", "r2", "r3"]
    first = rows[0]["messages"]
    assert [m["role"] for m in first] == ["system", "user", "assistant"]
    assert first[0]["content"] == SYSTEM_PROMPT
    assert first[1]["content"] == build_prompt(bookshop, "How many stores are there?")
    assert first[2]["content"] == "```sql\nSELECT COUNT(*) FROM store\n```"
    second = rows[1]["messages"]
    assert "Evidence (external knowledge):\nflagship refers to is_flagship = 1" in second[1]["content"]
    assert second[2]["content"].startswith(
        "Filter flagship stores, order by floor area, take the first city.\n\n```sql\n"
    )
    assert rows[2]["messages"][2]["content"] == f"No table records a phone number.\n\n{ABSTENTION_TEXT}"
    ex.to_trl_chat(
        _records(), {"bookshop": "CREATE TABLE store (id INT);"}, tmp_path / "plain.jsonl", with_cot=False
    )
    plain = [json.loads(line) for line in (tmp_path / "plain.jsonl").read_text().splitlines()]
    assert set(plain[0]) == {"messages"}
    assert plain[1]["messages"][2]["content"].startswith("```sql\n")
    assert plain[2]["messages"][2]["content"] == ABSTENTION_TEXT
    assert "CREATE TABLE store (id INT);" in plain[0]["messages"][1]["content"]


def test_trl_chat_needs_every_schema(tmp_path):
    with pytest.raises(ex.ExportError, match="no schema for database 'bookshop'"):
        ex.to_trl_chat(_records(), {}, tmp_path / "chat.jsonl")
    assert not (tmp_path / "chat.jsonl").exists()  # nothing half-written
    with pytest.raises(ex.ExportError, match="unknown record field"):
        ex.to_trl_chat(_records(), {}, tmp_path / "chat.jsonl", columns=("nope",))


def test_trl_chat_loads_with_datasets(tmp_path, bookshop):
    datasets = pytest.importorskip("datasets")
    ex.to_trl_chat(_records(), {"bookshop": bookshop}, tmp_path / "chat.jsonl")
    ds = datasets.load_dataset(
        "json", data_files=str(tmp_path / "chat.jsonl"), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert ds.num_rows == 3 and ds.column_names == ["messages"]
    assert ds[0]["messages"][2]["role"] == "assistant"


# ------------------------------------------------------------------------------------------------
# Spider and BIRD
# ------------------------------------------------------------------------------------------------

SPIDER_ITEMS = [
    {"db_id": "concert_singer", "query": "SELECT count(*) FROM singer", "question": "How many singers do we have?"},
    {"db_id": "concert_singer", "query": "SELECT name ,  country ,  age FROM singer ORDER BY age DESC",
     "question": "Show name, country, age for all singers ordered by age from the oldest to the youngest."},
    {"db_id": "pets_1", "query": "SELECT count(*) FROM pets WHERE weight  >  10", "question": "How many pets have weight > 10?"},
]  # fmt: skip


def test_spider_round_trip_is_exact(tmp_path):
    src = tmp_path / "dev.json"
    src.write_text(json.dumps(SPIDER_ITEMS))
    records = ex.from_spider(src)
    assert [r.id for r in records] == ["spider-dev-0", "spider-dev-1", "spider-dev-2"]
    assert [r.split for r in records] == ["dev"] * 3
    assert records[0].skills == ["aggregation", "projection"] and records[0].provenance.generator == "import"
    assert records[2].skills == ["aggregation", "filter", "projection"]
    summary = ex.to_spider(records, tmp_path / "out")
    assert summary.written == 3 and not summary.skipped
    assert json.loads((tmp_path / "out" / "dev.json").read_text()) == SPIDER_ITEMS
    assert (tmp_path / "out" / "dev_gold.sql").read_text() == "".join(
        f"{i['query']}\t{i['db_id']}\n" for i in SPIDER_ITEMS
    )
    assert not (tmp_path / "out" / "tables.json").exists()


def test_spider_export_skips_or_writes_infeasible_and_writes_tables(tmp_path, bookshop):
    records = _records()
    summary = ex.to_spider(records, tmp_path / "a", schemas=[bookshop])
    assert summary.written == 2 and summary.skipped == {"infeasible": 1}
    items = json.loads((tmp_path / "a" / "dev.json").read_text())
    assert items[1] == {
        "db_id": "bookshop",
        "query": records[1].sql,
        "question": records[1].question,
        "evidence": "flagship refers to is_flagship = 1",
    }
    (schema,) = read_tables_json(tmp_path / "a" / "tables.json")
    assert schema.db_id == "bookshop" and schema.table_names == bookshop.table_names
    summary = ex.to_spider(records, tmp_path / "b", include_infeasible=True, name="train")
    assert summary.written == 3
    assert json.loads((tmp_path / "b" / "train.json").read_text())[2]["query"] is None
    assert (tmp_path / "b" / "train_gold.sql").read_text().splitlines()[2] == "NULL\tbookshop"
    back = ex.from_spider(tmp_path / "b" / "train.json")
    assert [r.feasible for r in back] == [True, True, False] and back[2].verification == "infeasible"
    assert [r.split for r in back] == ["train"] * 3
    with pytest.raises(ex.ExportError, match="no schema for database"):
        ex.to_spider(records, tmp_path / "c", schemas={})


def test_bird_export_maps_complexity_to_difficulty(tmp_path, bookshop):
    levels = ["simple", "moderate", "complex", "highly_complex"]
    records = [
        Record(id=str(i), db_id="bookshop", question=f"q{i}", sql=f"SELECT {i}", complexity=c)
        for i, c in enumerate(levels)
    ]
    ex.to_bird(records, tmp_path, schemas={"bookshop": bookshop})
    items = json.loads((tmp_path / "dev.json").read_text())
    assert [i["difficulty"] for i in items] == ["simple", "moderate", "challenging", "challenging"]
    assert items[0] == {
        "question_id": 0, "db_id": "bookshop", "question": "q0", "evidence": "", "SQL": "SELECT 0", "difficulty": "simple",
    }  # fmt: skip
    assert (tmp_path / "dev.sql").read_text().splitlines()[3] == "SELECT 3\tbookshop"
    assert json.loads((tmp_path / "dev_tables.json").read_text())[0]["column_types"][1] == "integer"
    back = ex.from_bird(tmp_path / "dev.json")
    assert [r.complexity for r in back] == ["simple", "moderate", "complex", "complex"]
    assert [r.id for r in back] == ["bird-dev-0", "bird-dev-1", "bird-dev-2", "bird-dev-3"]


def test_gold_lines_keep_sql_on_one_line(tmp_path):
    record = Record(id="x", db_id="d", question="q", sql="SELECT a\nFROM t\tWHERE  b = 'x'")
    ex.to_spider([record], tmp_path)
    assert (tmp_path / "dev_gold.sql").read_text() == "SELECT a FROM t WHERE  b = 'x'\td\n"


@pytest.mark.benchmarkdata
@pytest.mark.skipif(not SPIDER_DEV.is_file(), reason=f"Spider dev not found at {SPIDER_DEV}")
def test_real_spider_dev_round_trip(tmp_path):
    records = ex.from_spider(SPIDER_DEV)
    assert len(records) == 1034
    ex.to_spider(records, tmp_path)
    original = json.loads(SPIDER_DEV.read_text())
    written = json.loads((tmp_path / "dev.json").read_text())
    assert [(o["db_id"], o["question"], o["query"]) for o in original] == [
        (w["db_id"], w["question"], w["query"]) for w in written
    ]
    gold = SPIDER_DEV.parent / "dev_gold.sql"
    if gold.is_file():
        assert (tmp_path / "dev_gold.sql").read_text() == gold.read_text()


@pytest.mark.benchmarkdata
@pytest.mark.skipif(not BIRD_DEV.is_file(), reason=f"BIRD dev not found at {BIRD_DEV}")
def test_real_bird_dev_round_trip_is_identical(tmp_path):
    records = ex.from_bird(BIRD_DEV)
    ex.to_bird(records, tmp_path)
    assert json.loads((tmp_path / "dev.json").read_text()) == json.loads(BIRD_DEV.read_text())


# ------------------------------------------------------------------------------------------------
# Stats
# ------------------------------------------------------------------------------------------------


def test_stats_counts(tmp_path):
    stats = dataset_stats(_records())
    assert stats.total == 3 and stats.with_cot == 2 and stats.with_evidence == 1
    assert stats.counts["skills"] == {
        "projection": 2,
        "aggregation": 1,
        "filter": 1,
        "limit": 1,
        "order_by": 1,
    }
    assert stats.counts["feasible"] == {"feasible": 2, "infeasible": 1}
    assert stats.counts["verification"] == {"ok": 2, "infeasible": 1}
    assert stats.counts["infeasible_category"] == {"column-related": 1}
    assert stats.counts["generator"] == {"rule": 2, "llm": 1}
    assert stats.counts["split"] == {"train": 2, "dev": 1}
    data = stats.to_dict()
    assert list(data["complexity"].items()) == [("simple", 2), ("moderate", 1)]  # by count, descending
    assert data["rejected"] == 0


def test_stats_read_run_folder_rejections(tmp_path):
    run = tmp_path / "out"
    ex.write_jsonl(_records(), run / "records.jsonl")
    assert read_rejections(run) == {}
    (run / "rejections.json").write_text(json.dumps({"empty_result": 2}))
    assert read_rejections(run) == {"empty_result": 2}
    (run / "manifest.json").write_text(json.dumps({"n": 3, "rejections": {"timeout": 4, "duplicate": 9}}))
    stats = stats_for_path(run)
    assert stats.total == 3 and stats.rejections == {"timeout": 4, "duplicate": 9} and stats.rejected == 13
    assert stats_for_path(run / "records.jsonl").rejections == {"timeout": 4, "duplicate": 9}


# ------------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------------


def test_stats_command(tmp_path):
    run = tmp_path / "out"
    ex.write_jsonl(_records(), run / "records.jsonl")
    (run / "manifest.json").write_text(json.dumps({"rejections": {"timeout": 4}}))
    result = CliRunner().invoke(app, ["stats", str(run), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 3 and data["rejections"] == {"timeout": 4} and data["feasible"]["infeasible"] == 1
    table = CliRunner().invoke(app, ["stats", str(run / "records.jsonl")])
    assert table.exit_code == 0 and "SQL skill" in table.output and "Rejected candidates" in table.output
    missing = CliRunner().invoke(app, ["stats", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_export_command_formats(tmp_path, example_sqlite):
    data = tmp_path / "records.jsonl"
    ex.write_jsonl(_records(), data)
    runner = CliRunner()
    result = runner.invoke(
        app, ["export", str(data), "--format", "parquet", "--out", str(tmp_path / "r.parquet"), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["written"] == 3
    assert list(ex.from_parquet(tmp_path / "r.parquet")) == _records()

    result = runner.invoke(app, ["export", str(data), "-f", "trl", "-o", str(tmp_path / "chat.jsonl")])
    assert result.exit_code == 2 and "no schema for database(s) bookshop" in result.output

    url = f"sqlite:///{example_sqlite}"
    result = runner.invoke(
        app, ["export", str(data), "-f", "trl", "-o", str(tmp_path / "chat.jsonl"), "--db", url]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "chat.jsonl").read_text().splitlines()]
    assert (
        len(rows) == 3
        and rows[0]["db_id"] == "bookshop"
        and "CREATE TABLE store" in rows[0]["messages"][1]["content"]
    )

    result = runner.invoke(
        app,
        [
            "export",
            str(data),
            "-f",
            "spider",
            "-o",
            str(tmp_path / "sp"),
            "--db",
            f"bookshop={url}",
            "--split",
            "train",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "skipped 1 infeasible" in result.output
    assert len(json.loads((tmp_path / "sp" / "dev.json").read_text())) == 1
    assert (tmp_path / "sp" / "tables.json").is_file()

    bad = runner.invoke(app, ["export", str(data), "-f", "csv", "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "unknown format" in bad.output


def test_export_command_decontaminates(tmp_path):
    data = tmp_path / "records.jsonl"
    ex.write_jsonl(_records(), data)
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT count(*) FROM store\tbookshop\n")
    result = CliRunner().invoke(
        app,
        [
            "export",
            str(data),
            "-f",
            "jsonl",
            "-o",
            str(tmp_path / "clean.jsonl"),
            "--exclude",
            str(gold),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["written"] == 2
    assert report["decontamination"]["by_reason"] == {"question_ngram": 0, "sql_match": 1}
    assert [r.id for r in read_jsonl(tmp_path / "clean.jsonl")] == ["r2", "r3"]
