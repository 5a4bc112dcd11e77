"""Decontamination against evaluation items: exact n-gram and SQL cases, file formats, and speed."""

from __future__ import annotations

import json
import time

import pytest

from benchdata import BENCHMARKS
from sqlfoundry.errors import InputFormatError
from sqlfoundry.records import Record
from sqlfoundry.synth.decontaminate import (
    Decontaminator,
    EvalItem,
    load_eval_items,
    question_ngrams,
    question_tokens,
    sql_key,
)

SPIDER_DEV = BENCHMARKS / "spider_dev" / "dev.json"

EVAL_QUESTION = "What are the names of the singers who performed in a concert in 2014?"
EVAL_SQL = "SELECT T2.name FROM singer_in_concert AS T1 JOIN singer AS T2 ON T1.singer_id = T2.singer_id WHERE T1.year = 2014"


def _record(question: str, sql: str = "SELECT 1", **kw) -> Record:
    return Record(id=kw.pop("id", "r"), db_id="d", question=question, sql=sql, **kw)


def test_tokens_and_ngrams():
    assert question_tokens("How many singers' ages are > 30?  Ça va_bien") == [
        "how", "many", "singers", "ages", "are", "30", "ça", "va", "bien",
    ]  # fmt: skip
    assert question_ngrams("a b c d", 3) == {"a b c", "b c d"}
    assert question_ngrams("a b c", 3) == {"a b c"}
    assert question_ngrams("A, b!", 3) == {"a b"}  # shorter than n: the whole question
    assert question_ngrams("?!", 3) == set()


def test_sql_keys():
    assert (
        sql_key("select name from singer where age > 30;", mode="normalized")
        == "select name from singer where age > 30"
    )
    assert (
        sql_key("SELECT name FROM singer WHERE age > 30", mode="template")
        == "select name from singer where age > ?"
    )
    assert sql_key("SELECT name FROM singer WHERE age > 30") == sql_key(
        "select NAME from SINGER where AGE>45"
    )
    assert sql_key("SELECT a FROM t LIMIT 3") != sql_key("SELECT a FROM t LIMIT 5")  # LIMIT counts are shape
    assert sql_key("", mode="template") is None and sql_key("SELECT 1", mode="none") is None
    assert (
        sql_key("SELECT * FROM t WHERE (a =   1") == "select * from t where (a = 1"
    )  # unparseable: collapsed text
    assert sql_key("SELECT a FROM t WHERE b ILIKE 'x'", dialect="duckdb") == sql_key(
        "SELECT a FROM t WHERE LOWER(b) LIKE LOWER('y')"
    )
    with pytest.raises(ValueError, match="sql_match"):
        sql_key("SELECT 1", mode="fuzzy")


def test_question_ngram_match():
    d = Decontaminator([(EVAL_QUESTION, None)])
    # shares the 8-gram "the names of the singers who performed in"
    hit = d.check(_record("List the names of the singers who performed in any concert.", id="a"))
    assert hit is not None and hit.reasons == ["question_ngram"]
    assert hit.ngram == "the names of the singers who performed in"
    assert hit.eval_item.question == EVAL_QUESTION and hit.record_id == "a"
    # seven words in common in a row is not enough
    assert d.check(_record("Give the names of the singers who performed at festivals.")) is None
    # case, punctuation and spacing do not matter
    assert d.check(_record("WHAT ARE THE NAMES OF THE SINGERS, who performed?")) is not None
    assert Decontaminator([(EVAL_QUESTION, None)], ngram=13).check(_record(EVAL_QUESTION.lower())) is not None
    assert (
        Decontaminator([(EVAL_QUESTION, None)], ngram=14).check(
            _record("names of the singers who performed in a concert")
        )
        is None
    )


def test_short_questions_match_only_exactly():
    d = Decontaminator([("How many singers do we have?", None)])
    assert d.check(_record("how many singers do we have")) is not None
    assert d.check(_record("How many singers do we have in total?")) is None
    assert d.check(_record("How many singers?")) is None


def test_sql_match_modes():
    items = [EvalItem(question=None, sql=EVAL_SQL)]
    moved_literal = EVAL_SQL.replace("2014", "2015")
    relaid = EVAL_SQL.lower().replace(" = ", "=")
    template = Decontaminator(items)  # default: template
    normalized = Decontaminator(items, sql_match="normalized")
    off = Decontaminator(items, sql_match="none")
    for sql, by_template, by_normalized in (
        (EVAL_SQL, True, True),
        (relaid, True, True),
        (moved_literal, True, False),
    ):
        assert (template.check(_record("unrelated", sql)) is not None) is by_template
        assert (normalized.check(_record("unrelated", sql)) is not None) is by_normalized
        assert off.check(_record("unrelated", sql)) is None
    other = "SELECT T2.name FROM singer_in_concert AS T1 JOIN singer AS T2 ON T1.singer_id = T2.singer_id WHERE T1.year > 2014"
    assert template.check(_record("unrelated", other)) is None
    with pytest.raises(ValueError):
        Decontaminator(items, sql_match="exactish")
    with pytest.raises(ValueError):
        Decontaminator(items, ngram=0)


def test_both_reasons_and_report():
    d = Decontaminator([(EVAL_QUESTION, EVAL_SQL), ("How many pets are there?", "SELECT count(*) FROM pets")])
    records = [
        _record(EVAL_QUESTION, EVAL_SQL, id="both"),
        _record("something else entirely", "SELECT count(*) FROM pets", id="sql"),
        _record("How many pets are there?", "SELECT 2", id="question"),
        _record("How many dogs are there?", "SELECT count(*) FROM dogs", id="clean"),
        _record("How many pets are there?", "", id="infeasible", feasible=False, verification="infeasible"),
    ]
    kept, report = d.filter(records)
    assert [r.id for r in kept] == ["clean"]
    assert (report.checked, report.dropped, report.kept) == (5, 4, 1)
    assert report.to_dict()["by_reason"] == {"question_ngram": 3, "sql_match": 2}
    assert [e.record_id for e in report.examples] == ["both", "sql", "question", "infeasible"]
    assert report.examples[0].reasons == ["question_ngram", "sql_match"]
    assert report.examples[1].eval_item.question == "How many pets are there?"
    sql_only = Decontaminator([(EVAL_QUESTION, EVAL_SQL)], check_questions=False)
    assert sql_only.check(_record(EVAL_QUESTION, "SELECT 1")) is None


def test_dialects_meet_in_one_form():
    d = Decontaminator([EvalItem(question=None, sql="SELECT name FROM singer WHERE name LIKE 'A%' LIMIT 3")])
    rec = _record("q", 'SELECT "name" FROM "singer" WHERE "name" LIKE \'B%\' LIMIT 3', dialect="postgres")
    assert d.check(rec) is not None


def test_load_eval_items_formats(tmp_path):
    (tmp_path / "spider.json").write_text(
        json.dumps([{"db_id": "a", "question": "Q1?", "query": "SELECT 1"}])
    )
    (tmp_path / "bird.json").write_text(
        json.dumps([{"question_id": 0, "db_id": "a", "question": "Q2?", "evidence": "", "SQL": "SELECT 2"}])
    )
    (tmp_path / "pred.json").write_text(json.dumps({"0": "SELECT 3\t----- bird -----\ta"}))
    (tmp_path / "records.jsonl").write_text(
        _record("Q4?", "SELECT 4", dialect="duckdb").model_dump_json() + "\n\n"
    )
    (tmp_path / "gold.sql").write_text("SELECT 5\ta\n\nSELECT 6\n")
    (tmp_path / "questions.txt").write_text("Q7?\n\n")
    loaded = {p.name: load_eval_items(p) for p in sorted(tmp_path.iterdir())}
    assert [(i.question, i.sql) for i in loaded["spider.json"]] == [("Q1?", "SELECT 1")]
    assert [(i.question, i.sql) for i in loaded["bird.json"]] == [("Q2?", "SELECT 2")]
    assert [(i.question, i.sql) for i in loaded["pred.json"]] == [(None, "SELECT 3")]
    assert [(i.question, i.sql, i.dialect) for i in loaded["records.jsonl"]] == [
        ("Q4?", "SELECT 4", "duckdb")
    ]
    assert [(i.question, i.sql) for i in loaded["gold.sql"]] == [(None, "SELECT 5"), (None, "SELECT 6")]
    assert [(i.question, i.sql) for i in loaded["questions.txt"]] == [("Q7?", None)]
    assert loaded["gold.sql"][1].source == "gold.sql:2"
    d = Decontaminator.from_files(sorted(tmp_path.iterdir()))
    assert len(d) == 7


def test_load_eval_items_errors(tmp_path):
    with pytest.raises(InputFormatError, match="cannot read"):
        load_eval_items(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("[1, 2")
    with pytest.raises(InputFormatError, match="not valid JSON"):
        load_eval_items(tmp_path / "bad.json")
    (tmp_path / "empty.json").write_text(json.dumps([{"db_id": "a"}]))
    with pytest.raises(InputFormatError, match="neither 'question'"):
        load_eval_items(tmp_path / "empty.json")


def test_fast_on_many_records():
    items = [
        (f"what is the total number of widgets of kind {i} sold in store {i * 7}", None) for i in range(20000)
    ]
    items += [(None, f"SELECT count(*) FROM w WHERE k = {i} AND j = {i}") for i in range(100)]
    d = Decontaminator(items)
    records = [
        _record(
            f"how many gadgets of colour {i} were returned to shop number {i}",
            f"SELECT sum(x) FROM g WHERE c = {i % 50}",
            id=str(i),
        )
        for i in range(20000)
    ]
    start = time.perf_counter()
    kept, report = d.filter(records)
    assert report.dropped == 0 and len(kept) == 20000
    assert time.perf_counter() - start < 5  # one set lookup per n-gram; each distinct SQL parsed once


@pytest.mark.benchmarkdata
@pytest.mark.skipif(not SPIDER_DEV.is_file(), reason=f"Spider dev not found at {SPIDER_DEV}")
def test_spider_dev_against_itself():
    items = load_eval_items(SPIDER_DEV)
    assert len(items) == 1034
    d = Decontaminator(items)
    data = json.loads(SPIDER_DEV.read_text())
    records = [_record(x["question"], x["query"], id=str(i)) for i, x in enumerate(data[:200])]
    kept, report = d.filter(records)
    assert kept == [] and report.by_reason["question_ngram"] == 200 and report.by_reason["sql_match"] == 200
