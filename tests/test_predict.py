"""``predict``: execution-based majority voting with abstention, and end-to-end prediction files in
Spider and BIRD format, read back by the evaluator's own readers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"

from sqlfoundry.db.example import build_example_db  # noqa: E402
from sqlfoundry.db.executor import Executor, Query  # noqa: E402
from sqlfoundry.eval.formats import read_predictions  # noqa: E402
from sqlfoundry.llm.base import CallableGenerator  # noqa: E402
from sqlfoundry.synth.prompt import ABSTENTION_TEXT  # noqa: E402
from sqlfoundry.train.predict import (  # noqa: E402
    Candidate,
    PredictConfig,
    PredictError,
    predict,
    read_prompt_options,
    read_questions,
    vote,
    write_prompt_options,
)

STORES = "SELECT COUNT(*) FROM store"
STORES_TOO = "SELECT count(store_id) FROM store"  # same result, other text
BOOKS = "SELECT COUNT(*) FROM book"
BROKEN = "SELECT nope FROM store"


@pytest.fixture(scope="module")
def db_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dbs")
    build_example_db(root / "bookshop" / "bookshop.sqlite", seed=0, scale=0.2)
    return root


@pytest.fixture(scope="module")
def db_url(db_dir) -> str:
    return "sqlite:///" + str(db_dir / "bookshop" / "bookshop.sqlite")


@pytest.fixture(scope="module")
def executor():
    with Executor(workers=1, cache=False) as ex:
        yield ex


def _run(executor, url, cands):
    cands = [c if isinstance(c, Candidate) else Candidate(c or "", c) for c in cands]
    outs = executor.run_batch([Query(url, c.sql, keep_rows=False) for c in cands if c.sql])
    it = iter(outs)
    return cands, [next(it) if c.sql else None for c in cands]


# ------------------------------------------------------------------------------------------------
# vote
# ------------------------------------------------------------------------------------------------


def test_largest_result_group_wins_over_text(executor, db_url):
    cands, outs = _run(executor, db_url, [BOOKS, STORES, BROKEN, STORES_TOO, BOOKS, STORES])
    v = vote(cands, outs)
    assert (v.sql, v.abstained, v.votes, v.n_ok, v.n) == (STORES, False, 3, 5, 6)


def test_tie_goes_to_first_group_or_to_higher_logprob(executor, db_url):
    cands, outs = _run(executor, db_url, [BOOKS, STORES, STORES_TOO, BOOKS])
    assert vote(cands, outs).sql == BOOKS
    scores = [-2.0, -0.5, -0.1, -2.0]
    scored = [Candidate(c.text, c.sql, logprob=s) for c, s in zip(cands, scores, strict=True)]
    v = vote(scored, outs)
    # the STORES group has the higher mean; its best-scored member represents it
    assert (v.sql, v.votes) == (STORES_TOO, 2)


def test_nothing_executes(executor, db_url):
    cands, outs = _run(executor, db_url, [BROKEN, None, "SELECT * FROM nowhere"])
    v = vote(cands, outs)
    assert (v.sql, v.abstained, v.n_ok, v.reason) == (
        BROKEN,
        False,
        0,
        "no candidate executed; first SQL kept",
    )
    v = vote(cands, outs, abstain=True)
    assert (v.sql, v.abstained, v.reason) == (None, True, "no candidate executed")
    assert vote([None, None], [None, None]).sql is None


def test_abstention_below_agreement_or_outvoted(executor, db_url):
    cands, outs = _run(executor, db_url, [STORES, BOOKS, BROKEN, "SELECT 1"])
    assert vote(cands, outs, abstain=True).abstained  # 1 of 4 < 0.5
    v = vote(cands, outs, abstain=True, min_agreement=0.25)
    assert (v.abstained, v.sql) == (False, STORES)
    assert vote(cands, outs).sql == STORES  # no abstention asked: the first group wins the tie

    refusal = Candidate.from_completion(f"Thinking about it.\n\n{ABSTENTION_TEXT}")
    assert refusal.abstains and refusal.sql is None
    cands2, outs2 = _run(executor, db_url, [refusal, refusal, STORES, refusal])
    v = vote(cands2, outs2, abstain=True, min_agreement=0.0)
    assert (v.abstained, v.n_abstain, v.reason) == (True, 3, "3 of 4 candidates abstain")
    assert vote(cands2, outs2).sql == STORES
    all_refuse = vote([refusal, refusal], [None, None], abstain=True)
    assert (all_refuse.abstained, all_refuse.reason) == (True, "every candidate abstained")


def test_single_majority_passes_threshold(executor, db_url):
    cands, outs = _run(executor, db_url, [STORES, STORES_TOO, BOOKS, BROKEN])
    v = vote(cands, outs, abstain=True, min_agreement=0.5)
    assert (v.sql, v.abstained, v.votes) == (STORES, False, 2)


# ------------------------------------------------------------------------------------------------
# predict end to end
# ------------------------------------------------------------------------------------------------

QUESTIONS = [
    ("How many stores are there?", [f"```sql\n{STORES}\n```", BOOKS, f"```sql\n{STORES_TOO};\n```"]),
    ("What is the CEO's favourite colour?", [ABSTENTION_TEXT, ABSTENTION_TEXT, "```sql\nSELECT 1\n```"]),
    ("Which column is broken?", [f"```sql\n{BROKEN}\n```", "no idea", "```sql\nSELECT x FROM y\n```"]),
]


@pytest.fixture()
def gold(tmp_path) -> Path:
    path = tmp_path / "dev.json"
    records = [
        {"db_id": "bookshop", "question": q, "query": STORES, "question_id": i}
        for i, (q, _) in enumerate(QUESTIONS)
    ]
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def _scripted(calls: list | None = None) -> CallableGenerator:
    answers = {q: a for q, a in QUESTIONS}

    def answer(messages, n, temperature, max_tokens, stop, seed):
        assert messages[0]["role"] == "system" and "CREATE TABLE" in messages[1]["content"]
        question = next(q for q in answers if q in messages[1]["content"])
        if calls is not None:
            calls.append(question)
        return (answers[question] * n)[:n]

    return CallableGenerator(answer, name="scripted")


def test_predict_spider_format_with_abstention(tmp_path, gold, db_dir):
    out = tmp_path / "pred.sql"
    config = PredictConfig(gold=gold, out=out, db_dir=db_dir, n=3, abstain=True, min_agreement=0.5)
    result = predict(config, generator=_scripted())
    assert (result.n_questions, result.n_abstained, result.format) == (3, 2, "spider")
    assert [p.sql for p in read_predictions(out)] == [STORES, "null", "null"]
    votes = [json.loads(line) for line in config.votes_path.read_text().splitlines()]
    assert [v["votes"] for v in votes] == [2, 1, 0]
    assert [c["status"] for c in votes[2]["candidates"]] == ["runtime_error", None, "runtime_error"]


def test_predict_bird_format_without_abstention(tmp_path, gold, db_url):
    out = tmp_path / "predict_dev.json"
    config = PredictConfig(gold=gold, out=out, db_url=db_url, n=3)
    result = predict(config, generator=_scripted())
    assert result.format == "bird" and result.n_abstained == 0
    preds = read_predictions(out)
    assert [(p.key, p.sql, p.db_id) for p in preds] == [
        ("0", STORES, "bookshop"),
        ("1", "SELECT 1", "bookshop"),
        ("2", BROKEN, "bookshop"),
    ]
    assert json.loads(out.read_text())["0"] == f"{STORES}\t----- bird -----\tbookshop"


def test_predict_resumes_from_the_votes_file(tmp_path, gold, db_dir):
    out = tmp_path / "pred.sql"
    first = PredictConfig(gold=gold, out=out, db_dir=db_dir, n=3, limit=2)
    predict(first, generator=_scripted())
    calls: list[str] = []
    again = PredictConfig(gold=gold, out=out, db_dir=db_dir, n=3, resume=True)
    result = predict(again, generator=_scripted(calls))
    assert calls == [QUESTIONS[2][0]] and result.resumed == 2
    assert [p.sql for p in read_predictions(out)] == [STORES, "SELECT 1", BROKEN]


def test_single_candidate_is_not_executed(tmp_path, gold, db_dir):
    out = tmp_path / "one.sql"
    predict(PredictConfig(gold=gold, out=out, db_dir=db_dir, n=1), generator=_scripted())
    assert [p.sql for p in read_predictions(out)] == [STORES, "", BROKEN]


def test_records_jsonl_input_and_missing_database(tmp_path, db_dir):
    from sqlfoundry.records import Record

    path = tmp_path / "records.jsonl"
    rec = Record(id="r1", db_id="bookshop", question=QUESTIONS[0][0], sql=STORES)
    path.write_text(rec.model_dump_json() + "\n", encoding="utf-8")
    questions = read_questions(path)
    assert [(q.db_id, q.key) for q in questions] == [("bookshop", "r1")]
    out = tmp_path / "p.sql"
    predict(PredictConfig(gold=path, out=out, db_dir=db_dir, n=2), generator=_scripted())
    assert [p.sql for p in read_predictions(out)] == [STORES]
    with pytest.raises(PredictError, match="no database for db_id 'bookshop'"):
        predict(PredictConfig(gold=path, out=out, db_dir=tmp_path, n=2), generator=_scripted())


def test_predict_prompts_as_the_checkpoint_was_trained(tmp_path, gold, db_dir):
    checkpoint = tmp_path / "sft"
    write_prompt_options(checkpoint, {"with_samples": False, "compact": True, "with_schema": False})
    assert read_prompt_options(checkpoint) == {"with_samples": False, "compact": True, "with_schema": False}
    assert read_prompt_options(tmp_path / "elsewhere") == {}
    prompts: list[str] = []

    def answer(messages, n, temperature, max_tokens, stop, seed):
        prompts.append(messages[1]["content"])
        return [f"```sql\n{STORES}\n```"] * n

    config = PredictConfig(gold=gold, out=tmp_path / "p.sql", db_dir=db_dir, model=str(checkpoint), n=1)
    predict(config, generator=CallableGenerator(answer))
    assert prompts[0] == "Database engine:\nSQLite\n\n\nQuestion:\nHow many stores are there?\n"
    # options given explicitly win over the checkpoint's; a model name or plain directory gets the full prompt
    prompts.clear()
    config = PredictConfig(gold=gold, out=tmp_path / "p.sql", db_dir=db_dir, model=str(checkpoint), n=1,
                           prompt_options={"compact": True})  # fmt: skip
    predict(config, generator=CallableGenerator(answer))
    assert prompts[0].startswith("Database engine:\nSQLite\n\nDatabase schema:\n")
    assert " rows\nCREATE TABLE store (" in prompts[0] and "Instructions:" not in prompts[0]
    assert PredictConfig(gold=gold, out=tmp_path / "p.sql", model="tiny").resolved_prompt_options() == {}
    (checkpoint / "sqlfoundry_prompt.json").write_text('{"tiny": true}')
    with pytest.raises(PredictError, match="must be a JSON object"):
        read_prompt_options(checkpoint)


def test_cli_with_the_tiny_model(tmp_path, gold, db_dir, monkeypatch):
    pytest.importorskip("transformers")
    from typer.testing import CliRunner

    from sqlfoundry.train.predict_cli import app

    monkeypatch.setenv("SQLFOUNDRY_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "tiny.sql"
    args = ["--model", "tiny", "--gold", str(gold), "-o", str(out), "--db-dir", str(db_dir), "--n", "2",
            "--max-tokens", "4", "--limit", "2", "--abstain", "-q"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 predictions (spider)" in result.output
    preds = read_predictions(out)
    assert len(preds) == 2 and all(p.sql for p in preds)  # "null" unless random weights wrote SQL that runs
    bad = CliRunner().invoke(app, ["--gold", str(gold), "-o", str(out), "--db-dir", str(db_dir), "-q"])
    assert bad.exit_code == 2 and "--model" in bad.output


def test_cli_prompt_flags_override_the_saved_options(tmp_path, gold, db_dir, monkeypatch):
    from typer.testing import CliRunner

    from sqlfoundry.train import predict_cli
    from sqlfoundry.train.predict import PredictResult

    checkpoint = tmp_path / "sft"
    write_prompt_options(checkpoint, {"with_samples": False, "compact": True, "with_schema": False})
    seen: list[PredictConfig] = []

    def fake_predict(config, progress=None):
        seen.append(config)
        return PredictResult(config.out, "spider", 0, 0, 0, 0, "fake")

    monkeypatch.setattr(predict_cli, "predict", fake_predict)
    base = ["--gold", str(gold), "-o", str(tmp_path / "p.sql"), "--db-dir", str(db_dir), "--model", str(checkpoint), "-q"]
    assert CliRunner().invoke(predict_cli.app, base).exit_code == 0
    assert seen[-1].resolved_prompt_options() == {"with_samples": False, "compact": True, "with_schema": False}
    res = CliRunner().invoke(predict_cli.app, [*base, "--prompt-schema"])
    assert res.exit_code == 0, res.output
    assert seen[-1].prompt_options == {"with_samples": False, "compact": True, "with_schema": True}
