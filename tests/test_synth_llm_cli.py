"""`sqlfoundry synth --llm-url …` end to end: a real OpenAI-compatible HTTP server (the local stub),
a real SQLite database, questions by back-translation and rationales kept by execution agreement."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from llm_stub import StubLLMServer, prompt_sql, question_responder
from sqlfoundry.cli import app
from sqlfoundry.db.example import build_example_db


def _responder(messages, index, body):
    user = messages[-1]["content"]
    if "[QUESTION-START]" in user:
        return question_responder(messages, index, body)
    # Chain-of-thought request: every sample ends with the reference SQL shown in the prompt, so the
    # majority agrees by execution and the rationale is kept.
    return f"Step 1: read the schema.\nStep 2: write the query.\n\n```sql\n{prompt_sql(messages)}\n```"


def test_synth_with_an_llm_endpoint(tmp_path):
    db = build_example_db(tmp_path / "shop.sqlite", scale=0.2)
    out = tmp_path / "out"
    with StubLLMServer(responder=_responder, models=("stub-model",)) as server:
        result = CliRunner().invoke(
            app,
            ["synth", f"sqlite:///{db}", "-n", "8", "-o", str(out), "--llm-url", server.base_url,
             "--llm-model", "stub-model", "--styles", "formal,vague", "--llm-samples", "3",
             "--cot-samples", "3", "--infeasible-rate", "0", "--no-progress", "--workers", "1"],
        )  # fmt: skip
        requests = server.chat_requests
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert len(records) == 8
    assert {r["style"] for r in records} == {"formal", "vague"}
    assert all(r["provenance"]["generator"] == "llm" for r in records)
    assert all(r["provenance"]["model"] == "endpoint:stub-model" for r in records)
    assert all(r["question"].startswith("How many") for r in records)  # the consistent candidate won
    assert all(r["cot"] and r["cot"].startswith("Step 1") for r in records)
    assert requests >= 8 * 2  # a question request and a CoT request per record at least
    assert "LLM stub-model" in result.output


def test_llm_only_styles_need_an_llm(tmp_path):
    db = build_example_db(tmp_path / "shop.sqlite", scale=0.2)
    result = CliRunner().invoke(
        app, ["synth", f"sqlite:///{db}", "-n", "4", "-o", str(tmp_path / "o"), "--styles", "vague"]
    )
    assert result.exit_code == 2
    assert "need an LLM" in result.output


def test_llm_url_without_model_is_refused(tmp_path):
    db = build_example_db(tmp_path / "shop.sqlite", scale=0.2)
    result = CliRunner().invoke(
        app, ["synth", f"sqlite:///{db}", "-n", "4", "-o", str(tmp_path / "o"), "--llm-url", "http://127.0.0.1:9/v1"]
    )
    assert result.exit_code == 2
    assert "go together" in result.output
