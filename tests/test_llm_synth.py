"""LLM realizers through the stub server: back-translation in OmniSQL's nine styles with consistency
selection, and chain-of-thought kept only when a majority of sampled answers agree by execution."""

from __future__ import annotations

import random
import re
import sqlite3
from collections import Counter

import pytest

from llm_stub import StubLLMServer, prompt_question, prompt_sql, question_responder

pytest.importorskip("openai")

from sqlfoundry.db.executor import Executor  # noqa: E402
from sqlfoundry.llm import CallableGenerator, EndpointGenerator  # noqa: E402
from sqlfoundry.synth.llm_synth import (  # noqa: E402
    LLM_STYLES,
    LLMSynthesizer,
    cot_prompt,
    degenerate_reason,
    llm_cot,
    llm_questions,
    parse_question,
    question_prompt,
    select_consistent,
    split_reasoning,
)
from sqlfoundry.synth.types import Realization  # noqa: E402

DDL = """
CREATE TABLE ward (ward_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE patient (
    patient_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    age INTEGER NOT NULL,
    ward_id INTEGER REFERENCES ward (ward_id)
);
"""
GOLD = "SELECT COUNT(*) FROM patient WHERE age > 40"
EQUIVALENT = "SELECT COUNT(patient_id) FROM patient WHERE NOT age <= 40"
WRONG = "SELECT COUNT(*) FROM patient WHERE age >= 40"


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("llm") / "clinic.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(DDL)
    conn.executemany("INSERT INTO ward VALUES (?, ?)", [(1, "North"), (2, "South"), (3, "East")])
    rng = random.Random(3)
    # distinct ages (ORDER BY age has one right order), 40 among them (so "> 40" and ">= 40" differ)
    ages = [40, *rng.sample([a for a in range(1, 99) if a != 40], 59)]
    conn.executemany("INSERT INTO patient VALUES (?, ?, ?, ?)",
                     [(i + 1, f"Patient {i + 1}", ages[i], 1 + i % 3) for i in range(60)])  # fmt: skip
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def executor():
    with Executor(workers=1) as ex:
        yield ex


def make(server: StubLLMServer) -> EndpointGenerator:
    return EndpointGenerator(server.base_url, "stub-model", backoff_base=0.01)


# ------------------------------------------------------------------------------------------------
# Back-translation pieces, by exact expectation
# ------------------------------------------------------------------------------------------------


def test_nine_omnisql_styles():
    assert list(LLM_STYLES) == ["formal", "colloquial", "imperative", "interrogative", "descriptive", "concise",
                                "vague", "metaphorical", "multi_turn"]  # fmt: skip
    assert [s for s, v in LLM_STYLES.items() if v.wants_evidence] == ["vague", "metaphorical"]


@pytest.mark.parametrize(
    ("text", "style", "expected"),
    [
        ("[EXPLANATION-START]\nx\n[EXPLANATION-END]\n[QUESTION-START]\n How many   wards?\n[QUESTION-END]", "formal",
         ("How many wards?", None)),
        ("[QUESTION-START]Which wards are busy?[QUESTION-END]\n[EXTERNAL-KNOWLEDGE-START]busy means more than 10 "
         "patients[EXTERNAL-KNOWLEDGE-END]", "vague", ("Which wards are busy?", "busy means more than 10 patients")),
        ("[QUESTION-START]Which wards are busy?[QUESTION-END][EXTERNAL-KNOWLEDGE-START]None.[EXTERNAL-KNOWLEDGE-END]",
         "vague", ("Which wards are busy?", None)),
        ("[QUESTION-START]Who is oldest?[QUESTION-END][EXTERNAL-KNOWLEDGE-START]x[EXTERNAL-KNOWLEDGE-END]", "formal",
         ("Who is oldest?", None)),
        ("[QUESTION-START]How many wards are there?", "formal", ("How many wards are there?", None)),
        ("Question: How many wards are there?", "concise", ("How many wards are there?", None)),
        ('"List every ward."', "imperative", ("List every ward.", None)),
        ("[EXPLANATION-START] only an explanation [EXPLANATION-END]", "formal", None),
        ("", "formal", None),
    ],
)  # fmt: skip
def test_parse_question(text, style, expected):
    assert parse_question(text, style) == expected


def test_parse_question_keeps_dialogue_lines():
    text = "[QUESTION-START]\nUser: Hi.\n  Assistant: Hello!\nUser: How many wards?\n[QUESTION-END]"
    assert parse_question(text, "multi_turn") == ("User: Hi.\nAssistant: Hello!\nUser: How many wards?", None)


@pytest.mark.parametrize(
    ("question", "style", "reason"),
    [
        ("How many patients are older than 40?", "formal", None),
        ("", "formal", "empty"),
        ("???", "formal", "empty"),
        ("Wards?", "concise", "too_short"),
        ("Run SELECT name FROM ward to see them", "formal", "contains_sql"),
        ("I'm sorry, I cannot write that question.", "formal", "refusal"),
        ("[QUESTION-START] How many wards", "formal", "markup"),
        (" ".join(["ward"] * 100), "formal", "too_long"),
        ("ward ward ward ward ward ward ward ward ward ward ward patients", "formal", "repetitive"),
        ("How many wards are there in the hospital?", "multi_turn", "not_dialogue"),
        ("User: How many wards are there?", "multi_turn", None),
    ],
)
def test_degenerate_reason(question, style, reason):
    assert degenerate_reason(question, style) == reason


def test_select_consistent_picks_the_medoid_not_the_outlier():
    candidates = [
        "How many patients are older than 40?",
        "Tell me a joke about penguins.",
        "How many patients are older than 40 years?",
        "Count the patients older than 40.",
    ]
    assert select_consistent(candidates) == 0
    assert select_consistent(["only one"]) == 0
    # with an embedding function the same rule runs on cosine similarity
    vectors = {
        candidates[0]: [1.0, 0.0],
        candidates[1]: [0.0, 1.0],
        candidates[2]: [0.9, 0.1],
        candidates[3]: [0.8, 0.3],
    }
    assert select_consistent(candidates, embed=lambda texts: [vectors[t] for t in texts]) == 3


def test_question_prompt_states_style_and_sql():
    messages = question_prompt(GOLD, "CREATE TABLE patient (age INTEGER);", "vague")
    user = messages[-1]["content"]
    assert f"```sql\n{GOLD}\n```" in user
    assert "Style: Vague" in user and "[EXTERNAL-KNOWLEDGE-START]" in user
    assert "[EXTERNAL-KNOWLEDGE-START]" not in question_prompt(GOLD, "", "formal")[-1]["content"]
    assert "'User:'" in question_prompt(GOLD, "", "multi_turn")[-1]["content"]
    with pytest.raises(ValueError, match="unknown LLM question style"):
        question_prompt(GOLD, "", "shouty")


# ------------------------------------------------------------------------------------------------
# Back-translation through the stub
# ------------------------------------------------------------------------------------------------


def test_llm_questions_in_all_styles_picks_the_consistent_candidate():
    with StubLLMServer(responder=question_responder) as server:
        stats: Counter = Counter()
        out = llm_questions(GOLD, DDL, make(server), samples=3, rng=random.Random(0), stats=stats)
        assert [r.style for r in out] == list(LLM_STYLES)
        assert all(isinstance(r, Realization) for r in out)
        for r in out:
            assert "penguins" not in r.question  # the drifting sample never wins
            assert "patient rows" in r.question
        by_style = {r.style: r for r in out}
        assert by_style["vague"].evidence == "rows means records"
        assert by_style["formal"].evidence is None
        assert by_style["multi_turn"].question.startswith(
            "User: I have a question about patient.\nAssistant:"
        )
        assert server.chat_requests == 9  # one request per style, n=3
        assert stats["question_candidates"] == 27 and stats["question_selected"] == 9


def test_degenerate_candidates_are_rejected_and_counted():
    answers = {
        0: "",
        1: "[QUESTION-START]SELECT * FROM patient[QUESTION-END]",
        2: "[QUESTION-START]Sorry, I can't help.[QUESTION-END]",
    }

    def responder(messages, index, body):
        return answers.get(index % 3, "")

    with StubLLMServer(responder=responder) as server:
        stats: Counter = Counter()
        out = llm_questions(GOLD, DDL, make(server), styles=["formal", "concise"], samples=3, stats=stats)
        assert out == []
        assert stats["question_style_dropped"] == 2
        assert stats["question_rejected_no_question"] == 2
        assert stats["question_rejected_contains_sql"] == 2
        assert stats["question_rejected_refusal"] == 2


# ------------------------------------------------------------------------------------------------
# Chain of thought by execution agreement (real SQLite, real Executor)
# ------------------------------------------------------------------------------------------------


def cot_text(sql: str, note: str = "") -> str:
    return (f"Step 1: the patient table holds ages.{note}\nStep 2: keep patients older than 40 and count them.\n\n"
            f"```sql\n{sql}\n```")  # fmt: skip


def scripted_cot(plan: dict[int, str]):
    """Sample i answers plan[i] ('gold' = the reference SQL from the prompt, else literal SQL or text)."""

    def responder(messages, index, body):
        what = plan.get(index, "gold")
        if what == "gold":
            return cot_text(prompt_sql(messages))
        if what == "nosql":
            return "I think we should count them."
        return cot_text(what, note=f" (variant {index})")

    return responder


def test_split_reasoning():
    assert (
        split_reasoning(cot_text(GOLD))
        == "Step 1: the patient table holds ages.\nStep 2: keep patients older than 40 and count them."
    )
    assert (
        split_reasoning("Reasoning here.\nThe final SQL query is:\n```sql\nSELECT 1\n```")
        == "Reasoning here."
    )
    assert split_reasoning("Only words.") == "Only words."
    assert split_reasoning("Cut off:\n```sql\nSELECT") == "Cut off:"


def test_cot_prompt_is_the_training_prompt_plus_the_reference():
    messages = cot_prompt("How many patients are older than 40?", DDL, GOLD)
    assert "Question:\nHow many patients are older than 40?" in messages[-1]["content"]
    assert messages[-1]["content"].rstrip().endswith("End with your final query in a ```sql block.")
    assert f"```sql\n{GOLD}\n```" in messages[-1]["content"]
    assert GOLD not in cot_prompt("q?", DDL, None)[-1]["content"]


def test_cot_kept_when_the_majority_agrees(db_url, executor):
    with StubLLMServer(responder=scripted_cot({1: WRONG, 3: "nosql"})) as server:
        stats: Counter = Counter()
        cot = llm_cot("How many patients are older than 40?", GOLD, DDL, make(server), executor, db_url, samples=5,
                      stats=stats)  # fmt: skip
        assert (
            cot
            == "Step 1: the patient table holds ages.\nStep 2: keep patients older than 40 and count them."
        )
        assert (stats["cot_agree"], stats["cot_disagree"], stats["cot_failed"], stats["cot_kept"]) == (
            3,
            1,
            1,
            1,
        )
        assert prompt_question(server.requests[0]["messages"]) == "How many patients are older than 40?"


def test_cot_dropped_without_a_majority(db_url, executor):
    with StubLLMServer(
        responder=scripted_cot({0: WRONG, 1: WRONG, 2: "SELECT nonsense FROM nowhere"})
    ) as server:
        stats: Counter = Counter()
        cot = llm_cot("How many patients are older than 40?", GOLD, DDL, make(server), executor, db_url, samples=5,
                      stats=stats)  # fmt: skip
        assert cot is None
        assert (stats["cot_agree"], stats["cot_disagree"], stats["cot_failed"]) == (2, 2, 1)
        assert stats["cot_no_majority"] == 1 and stats["cot_kept"] == 0


def test_equivalent_sql_agrees_by_result_but_the_exact_one_is_preferred(db_url, executor):
    with StubLLMServer(responder=scripted_cot({0: EQUIVALENT, 1: EQUIVALENT, 2: "gold"})) as server:
        stats: Counter = Counter()
        cot = llm_cot("q?", GOLD, DDL, make(server), executor, db_url, samples=3, stats=stats)
        assert stats["cot_agree"] == 3
        assert cot is not None and "variant" not in cot  # the sample whose SQL is the gold SQL itself


def test_row_order_matters_when_the_gold_orders_rows(db_url, executor):
    gold = "SELECT name FROM patient ORDER BY age"
    reversed_order = "SELECT name FROM patient ORDER BY age DESC"
    with StubLLMServer(responder=scripted_cot({0: reversed_order, 1: reversed_order})) as server:
        stats: Counter = Counter()
        assert llm_cot("q?", gold, DDL, make(server), executor, db_url, samples=3, stats=stats) is None
        assert (stats["cot_agree"], stats["cot_disagree"]) == (1, 2)


def test_gold_that_fails_is_reported(db_url, executor):
    gen = CallableGenerator(lambda m, n, *a: [cot_text(GOLD)] * n)
    stats: Counter = Counter()
    assert (
        llm_cot("q?", "SELECT broken FROM nowhere", DDL, gen, executor, db_url, samples=3, stats=stats)
        is None
    )
    assert stats["cot_gold_failed"] == 1


def test_missing_samples_count_against_the_majority(db_url, executor):
    gen = CallableGenerator(lambda m, n, *a: [cot_text(GOLD)])  # one answer whatever n is
    stats: Counter = Counter()
    assert llm_cot("q?", GOLD, DDL, gen, executor, db_url, samples=3, stats=stats) is None
    assert (stats["cot_agree"], stats["cot_failed"]) == (1, 2)


# ------------------------------------------------------------------------------------------------
# The pipeline's entry point
# ------------------------------------------------------------------------------------------------


def test_llm_synthesizer_end_to_end(db_url, executor):
    def responder(messages, index, body):
        user = messages[-1]["content"]
        if "[QUESTION-START]" in user:
            return question_responder(messages, index, body)
        return scripted_cot({1: WRONG})(messages, index, body)

    with StubLLMServer(responder=responder) as server:
        gen = make(server)
        synth = LLMSynthesizer(
            gen, executor, db_url, DDL, styles=["formal", "vague"], samples=3, cot_samples=3, seed=1
        )
        realizations = synth.realize(GOLD)
        assert [r.style for r in realizations] == ["formal", "vague"]
        assert re.fullmatch(
            r"How many patient rows are there in total( overall)?\?", realizations[0].question
        )
        cot = synth.rationale(realizations[0].question, GOLD)
        assert cot is not None and cot.startswith("Step 1:")
        many = synth.realize_many([GOLD, "SELECT name FROM ward"], styles=["concise"])
        assert [[r.style for r in rs] for rs in many] == [["concise"], ["concise"]]
        assert "ward rows" in many[1][0].question
        assert synth.stats["question_selected"] == 4 and synth.stats["cot_kept"] == 1
        assert synth.usage is gen.usage and synth.usage.requests == server.chat_requests == 5
        assert synth.model_name == "endpoint:stub-model"
    with pytest.raises(ValueError, match="unknown LLM question style"):
        LLMSynthesizer(gen, executor, db_url, DDL, styles=["loud"])


def test_pipeline_step_adapters(db_url, executor):
    from dataclasses import dataclass

    from sqlfoundry.synth.types import UnsupportedSQL

    @dataclass
    class Steps:  # the shape of pipeline.SynthSteps
        realize: object = None
        rationale: object = None
        generator: str = "rule"
        model: str | None = None

    def fn(messages, n, *rest):
        user = messages[-1]["content"]
        if "[QUESTION-START]" in user:
            return [question_responder(messages, i, {}) for i in range(n)]
        return [cot_text(prompt_sql(messages))] * n

    synth = LLMSynthesizer(
        CallableGenerator(fn, name="fn-model"), executor, db_url, DDL, samples=3, cot_samples=3
    )
    steps = synth.pipeline_steps(Steps())
    assert (steps.generator, steps.model) == ("llm", "fn-model")
    assert steps.rationale(GOLD, None) is None  # no question asked yet for this SQL
    q = steps.realize(GOLD, None, "colloquial", random.Random(1), with_evidence=False)
    assert q.style == "colloquial" and "patient rows" in q.question
    assert steps.rationale(GOLD, None).startswith("Step 1:")
    empty = LLMSynthesizer(CallableGenerator(lambda m, n, *a: [""] * n), executor, db_url, DDL)
    with pytest.raises(UnsupportedSQL):
        empty.realize_one(GOLD, None, "formal")
