"""``distill``: rejection sampling from a teacher with exact pass rates, resume, self-training rounds
(offline and online), through a scripted generator and through the stub OpenAI-compatible server."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"

from llm_stub import StubLLMServer, prompt_question  # noqa: E402
from sqlfoundry.db.example import build_example_db  # noqa: E402
from sqlfoundry.db.executor import Executor, Query  # noqa: E402
from sqlfoundry.llm.base import CallableGenerator  # noqa: E402
from sqlfoundry.records import Record, RecordWriter, read_jsonl  # noqa: E402
from sqlfoundry.synth.prompt import ABSTENTION_TEXT, format_answer  # noqa: E402
from sqlfoundry.train.distill import (  # noqa: E402
    DistillConfig,
    DistillError,
    distill_rounds,
    round_path,
    same_result,
    summary_path,
)

STORES = "SELECT COUNT(*) FROM store"
STORES_TOO = "SELECT count(store_id) FROM store"
BOOKS = "SELECT COUNT(*) FROM book"
BROKEN = "SELECT nope FROM store"
NAMES = "SELECT name FROM store ORDER BY name"
NAMES_DESC = "SELECT name FROM store ORDER BY name DESC"
ID_NAME = "SELECT store_id, name FROM store"
NAME_ID = "SELECT name, store_id FROM store"


def answer(sql: str | None, i: int = 0) -> str:
    return format_answer(sql, f"Step {i}: think about the tables.")


#: question -> (gold SQL or None for infeasible, the k=4 answers the scripted teacher gives)
SCRIPT: dict[str, tuple[str | None, list[str]]] = {
    "How many stores are there?": (STORES, [answer(STORES, 0), answer(STORES_TOO, 1), answer(BOOKS, 2),
                                            answer(BROKEN, 3)]),
    "How many books are there?": (BOOKS, [answer(BOOKS, i) for i in range(4)]),
    "List store names alphabetically.": (NAMES, [answer(NAMES, 0), answer(NAMES_DESC, 1),
                                                 "I think it is the store table.", answer(ID_NAME, 3)]),
    "Give each store's id and name.": (ID_NAME, [answer(NAME_ID, 0), answer(BROKEN, 1), answer(BROKEN, 2),
                                                 answer(BOOKS, 3)]),
    "How many authors were born on Mars?": (STORES, [answer(BOOKS, i) for i in range(4)]),
    "What is the weather in the store tomorrow?": (None, [f"Step 0: no weather.\n\n{ABSTENTION_TEXT}", answer(STORES, 1), ABSTENTION_TEXT,
                                                          f"Step 3: no weather table.\n\n{ABSTENTION_TEXT}"]),
}  # fmt: skip
#: exact correct counts out of 4, per question (in SCRIPT order)
EXPECTED_CORRECT = [2, 4, 1, 1, 0, 3]


def make_records() -> list[Record]:
    out = []
    for i, (question, (gold, _)) in enumerate(SCRIPT.items()):
        out.append(Record(id=f"q{i}", db_id="bookshop", question=question, sql=gold or "", feasible=gold is not None,
                          verification="ok" if gold else "infeasible", skills=["count"]))  # fmt: skip
    return out


def scripted(
    answers: dict[str, list[str]] | None = None, name: str = "scripted-teacher"
) -> CallableGenerator:
    table = answers or {q: a for q, (_, a) in SCRIPT.items()}

    def fn(messages, n, temperature, max_tokens, stop, seed):
        question = prompt_question(messages)
        assert n == 4
        return list(table[question])[:n]

    return CallableGenerator(fn, name=name)


def always_right(name: str = "scripted-student") -> CallableGenerator:
    gold = {q: g for q, (g, _) in SCRIPT.items()}

    def fn(messages, n, temperature, max_tokens, stop, seed):
        g = gold[prompt_question(messages)]
        return [answer(g, 0) if g else ABSTENTION_TEXT] * n  # identical: kept once per question

    return CallableGenerator(fn, name=name)


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("distill") / "bookshop.sqlite"
    build_example_db(path, seed=0, scale=0.2)
    return f"sqlite:///{path}"


@pytest.fixture
def records_file(tmp_path) -> Path:
    path = tmp_path / "questions.jsonl"
    with RecordWriter(path) as w:
        w.write_many(make_records())
    return path


def config(**kw) -> DistillConfig:
    return DistillConfig(k=4, workers=1, **kw)


def by_question(path: Path) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for r in read_jsonl(path):
        out.setdefault(r.id.split("-")[0], []).append(r)
    return out


# ------------------------------------------------------------------------------------------------
# Judging results
# ------------------------------------------------------------------------------------------------


def test_same_result_fingerprint_then_comparison(db_url):
    with Executor(workers=1, cache=False) as ex:
        names, desc, id_name, name_id, stores, too = ex.run_batch(
            [Query(db_url, s) for s in (NAMES, NAMES_DESC, ID_NAME, NAME_ID, STORES, STORES_TOO)]
        )
    assert same_result(stores, too, order_matters=False)
    assert same_result(names, desc, order_matters=False)  # same multiset
    assert not same_result(names, desc, order_matters=True)
    assert id_name.fingerprint != name_id.fingerprint
    assert same_result(id_name, name_id, order_matters=False)  # spider: columns up to permutation
    assert not same_result(id_name, name_id, order_matters=False, comparison="strict")
    assert not same_result(stores, names, order_matters=False)


# ------------------------------------------------------------------------------------------------
# Rejection sampling with a scripted teacher
# ------------------------------------------------------------------------------------------------


def test_kept_records_are_exactly_the_correct_ones(db_url, records_file, tmp_path):
    teacher = scripted()
    out = tmp_path / "distilled.jsonl"
    report = distill_rounds(records_file, out, teacher, config(), db_url=db_url)

    kept = by_question(out)
    assert sorted(kept) == ["q0", "q1", "q2", "q3", "q5"]  # q4: nothing correct, no record
    assert [r.id for r in kept["q0"]] == ["q0-r1-t0", "q0-r1-t1"]
    assert [r.sql for r in kept["q0"]] == [STORES, STORES_TOO]
    assert [r.sql for r in kept["q2"]] == [NAMES]
    assert [r.sql for r in kept["q3"]] == [NAME_ID]
    assert [r.sql for r in kept["q5"]] == ["", "", ""]
    assert all(not r.feasible and r.verification == "infeasible" for r in kept["q5"])
    assert [r.cot for r in kept["q5"]] == ["Step 0: no weather.", None, "Step 3: no weather table."]
    assert len(kept["q1"]) == 4
    for i, n_correct in enumerate(EXPECTED_CORRECT):
        for r in kept.get(f"q{i}", []):
            assert r.difficulty == n_correct / 4
    r0 = kept["q0"][1]
    assert r0.cot == "Step 1: think about the tables."
    assert r0.provenance.generator == "teacher" and r0.provenance.model == "scripted-teacher"
    assert r0.provenance.template == "distill-round1"
    assert r0.question == "How many stores are there?" and r0.skills == ["count"]
    assert r0.result_fingerprint is not None and r0.row_count == 1

    rows = [json.loads(line) for line in summary_path(out).read_text().splitlines()]
    assert [row["id"] for row in rows] == [f"q{i}" for i in range(6)]
    assert [row["sources"]["teacher"]["correct"] for row in rows] == EXPECTED_CORRECT
    assert [row["difficulty"] for row in rows] == [c / 4 for c in EXPECTED_CORRECT]
    assert rows[2]["sources"]["teacher"]["no_sql"] == 1
    assert rows[0]["sources"]["teacher"]["failed"] == 1

    (rr,) = report.rounds
    t = rr.sources["teacher"]
    assert (rr.questions, rr.kept, rr.resumed) == (6, 11, 0)
    assert (t.samples, t.correct, t.kept, t.zero_correct) == (24, 11, 11, 1)
    assert t.pass_rate_histogram == {"0": 1, "0.25": 2, "0.5": 1, "0.75": 1, "1": 1}
    assert rr.usage["teacher"]["requests"] == 6 and rr.usage["teacher"]["total_tokens"] > 0


def test_identical_correct_answers_are_kept_once_unless_asked(db_url, records_file, tmp_path):
    same = {q: [answer(g, 0) if g else ABSTENTION_TEXT] * 4 for q, (g, _) in SCRIPT.items()}
    out = tmp_path / "d.jsonl"
    distill_rounds(records_file, out, scripted(same), config(), db_url=db_url)
    kept = by_question(out)
    assert len(kept["q1"]) == 1 and kept["q1"][0].difficulty == 1.0
    out2 = tmp_path / "d2.jsonl"
    distill_rounds(records_file, out2, scripted(same), config(dedup=False), db_url=db_url)
    assert len(by_question(out2)["q1"]) == 4


def test_resume_skips_questions_already_done(db_url, records_file, tmp_path):
    out = tmp_path / "d.jsonl"
    first = scripted()
    distill_rounds(records_file, out, first, config(limit=3), db_url=db_url)
    assert first.usage.requests == 3
    # an interrupted write leaves a torn summary line: it is dropped and that question redone
    with summary_path(out).open("a") as fh:
        fh.write('{"id": "q3", "db_id": "book')
    second = scripted()
    report = distill_rounds(records_file, out, second, config(), db_url=db_url)
    assert second.usage.requests == 3  # q3, q4, q5 only
    assert report.rounds[0].resumed == 3 and report.rounds[0].questions == 6
    assert report.rounds[0].kept == 11  # totals cover resumed questions too
    ids = [r.id for r in read_jsonl(out)]
    assert len(ids) == len(set(ids)) == 11
    third = scripted()
    distill_rounds(records_file, out, third, config(), db_url=db_url)
    assert third.usage.requests == 0


# ------------------------------------------------------------------------------------------------
# Rounds (ITERTL self-training) and offline vs online
# ------------------------------------------------------------------------------------------------


def test_offline_rounds_sample_the_student_and_tag_rounds(db_url, records_file, tmp_path):
    out = tmp_path / "d.jsonl"
    teacher = scripted()
    calls = []

    def train_fn(round_no, files):
        calls.append((round_no, [p.name for p in files]))
        return always_right(f"student-{round_no}")

    report = distill_rounds(records_file, out, teacher, config(rounds=3), db_url=db_url, train_fn=train_fn)
    assert teacher.usage.requests == 6  # offline: the teacher is sampled once
    assert calls == [(1, ["d.jsonl"]), (2, ["d.jsonl", "d.round2.jsonl"])]
    assert round_path(out, 2).name == "d.round2.jsonl"
    for r, model in ((2, "student-1"), (3, "student-2")):
        recs = list(read_jsonl(round_path(out, r)))
        assert len(recs) == 6  # one per question: identical answers are kept once
        assert {x.provenance.generator for x in recs} == {"student"}
        assert {x.provenance.model for x in recs} == {model}
        assert {x.provenance.template for x in recs} == {f"distill-round{r}"}
        assert all(x.id.split("-")[1] == f"r{r}" for x in recs)
    assert [rr.round for rr in report.rounds] == [1, 2, 3]
    s = report.rounds[1].sources["student"]
    assert (s.correct, s.samples, s.pass_rate_histogram) == (24, 24, {"1": 6})


def test_offline_round_two_needs_a_student(db_url, records_file, tmp_path):
    with pytest.raises(DistillError, match="student"):
        distill_rounds(records_file, tmp_path / "d.jsonl", scripted(), config(rounds=2), db_url=db_url)


def test_online_rounds_draw_fresh_teacher_samples(db_url, records_file, tmp_path):
    out = tmp_path / "d.jsonl"
    teacher = scripted()
    seen_files = []
    report = distill_rounds(records_file, out, teacher, config(rounds=2, mode="online"), db_url=db_url,
                            student=always_right(), train_fn=lambda r, f: seen_files.append(f) or always_right())  # fmt: skip
    assert teacher.usage.requests == 12  # round 1 and round 2
    assert [p.name for p in seen_files[0]] == ["d.jsonl"]
    assert report.train_files == {1: [out]}
    recs = list(read_jsonl(round_path(out, 2)))
    assert Counter(x.provenance.generator for x in recs) == {"teacher": 11, "student": 6}
    row = json.loads(summary_path(round_path(out, 2)).read_text().splitlines()[0])
    assert set(row["sources"]) == {"teacher", "student"} and row["difficulty"] == 1.0  # the student's


def test_resumed_round_then_new_round_with_a_student(db_url, records_file, tmp_path):
    out = tmp_path / "d.jsonl"
    distill_rounds(records_file, out, scripted(), config(), db_url=db_url)
    # distill -> train sft -> distill --rounds 2 --student: round 1 is resumed without a teacher
    report = distill_rounds(records_file, out, None, config(rounds=2), db_url=db_url, student=always_right())
    assert report.rounds[0].resumed == 6 and report.rounds[0].sources["teacher"].model == "scripted-teacher"
    assert len(list(read_jsonl(round_path(out, 2)))) == 6


# ------------------------------------------------------------------------------------------------
# Through the stub OpenAI-compatible server and the CLI
# ------------------------------------------------------------------------------------------------


def stub_responder(messages, index, body):
    _, answers = SCRIPT[prompt_question(messages)]
    return answers[index % 4]


def test_endpoint_teacher_through_stub_server(db_url, records_file, tmp_path):
    pytest.importorskip("openai")
    from sqlfoundry.llm import EndpointGenerator

    with StubLLMServer(responder=stub_responder, models=("teacher-7b",)) as server:
        teacher = EndpointGenerator(server.base_url, "teacher-7b", backoff_base=0.01)
        out = tmp_path / "d.jsonl"
        report = distill_rounds(records_file, out, teacher, config(), db_url=db_url)
        assert server.chat_requests == 6 and all(b["n"] == 4 for b in server.requests)
    rows = [json.loads(line) for line in summary_path(out).read_text().splitlines()]
    assert [row["sources"]["teacher"]["correct"] for row in rows] == EXPECTED_CORRECT
    recs = list(read_jsonl(out))
    assert len(recs) == 11 and {r.provenance.model for r in recs} == {"endpoint:teacher-7b"}
    usage = report.rounds[0].usage["teacher"]
    assert usage["requests"] == 6 and usage["estimated_requests"] == 0 and usage["completion_tokens"] > 0


def test_cli_distill_and_resume(db_url, records_file, tmp_path):
    pytest.importorskip("openai")
    from typer.testing import CliRunner

    from sqlfoundry.train.distill_cli import app

    out = tmp_path / "d.jsonl"
    with StubLLMServer(responder=stub_responder, models=("teacher-7b",)) as server:
        args = ["--records", str(records_file), "--db", db_url, "-o", str(out), "--teacher-url", server.base_url,
                "--teacher-model", "teacher-7b", "--k", "4", "--quiet"]  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "round 1: 6 questions, 11 records kept" in result.output
        assert "24 samples, 11 correct, 11 kept, 1 questions with none correct" in result.output
        assert "pass rates {0: 1, 0.25: 2, 0.5: 1, 0.75: 1, 1: 1}" in result.output
        report = json.loads((tmp_path / "d.report.json").read_text())
        assert report["rounds"][0]["sources"]["teacher"]["correct"] == 11
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0 and "(6 resumed)" in result.output
        assert server.chat_requests == 6
        bad = CliRunner().invoke(app, [*args[:6], "--rounds", "2", "--quiet"])
        assert bad.exit_code == 2 and "student" in bad.output
