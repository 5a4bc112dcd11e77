"""Reward functions on a real SQLite database: exact rewards per case, TRL's calling convention,
batching (one run_batch per call), cached gold, bounded timeouts and the combined reward's logs."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from sqlfoundry.db.executor import Executor
from sqlfoundry.synth.prompt import ABSTENTION_TEXT
from sqlfoundry.train.rewards import (
    DEFAULT_WEIGHTS,
    RewardContext,
    RewardInputError,
    completion_text,
    format_reward,
    format_score,
    ngram_reward,
    ngram_similarity,
    schema_items,
    schema_linking_reward,
    schema_linking_score,
    sql_tokens,
)

BOMB = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"


def answer(sql: str, reasoning: str = "The pets are in table pet.") -> str:
    return f"{reasoning}\n```sql\n{sql}\n```"


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:
    path = Path(tmp_path_factory.mktemp("rewards")) / "pets.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE owner (owner_id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT);
        CREATE TABLE pet (pet_id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
                          age INTEGER, owner_id INTEGER REFERENCES owner (owner_id));
        INSERT INTO owner VALUES (1, 'Ann', 'Oslo'), (2, 'Bob', 'Rome');
        INSERT INTO pet VALUES (1, 'Rex', 'dog', 3, 1), (2, 'Tom', 'cat', 5, 1),
                               (3, 'Fido', 'dog', 7, 2), (4, 'Kit', 'cat', 1, 2);
        """
    )
    con.commit()
    con.close()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def executor():
    with Executor(workers=2, grace_s=0.5) as ex:
        yield ex


@pytest.fixture
def ctx(executor) -> RewardContext:
    return RewardContext(executor, timeout_s=2.0)


class CountingExecutor:
    """Wraps an Executor and counts run_batch calls and the statements sent."""

    def __init__(self, inner: Executor):
        self.inner = inner
        self.calls: list[int] = []

    def run_batch(self, queries, progress=None):
        self.calls.append(len(queries))
        return self.inner.run_batch(queries, progress)


def cols(n: int, gold: str, url: str, **extra) -> dict:
    """Dataset columns as TRL passes them: one value per completion."""
    return {"gold_sql": [gold] * n, "db_url": [url] * n, **{k: [v] * n for k, v in extra.items()}}


# --- completions as TRL passes them ----------------------------------------------------------------


def test_completion_text_reads_strings_and_chat_messages():
    assert completion_text("plain") == "plain"
    assert completion_text([{"role": "assistant", "content": "a"}]) == "a"
    chat = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "first"},
        {"role": "tool", "content": "x"},
    ]
    assert completion_text(chat) == "first"
    parts = [
        {"role": "assistant", "content": [{"type": "text", "text": "SELECT "}, {"type": "text", "text": "1"}]}
    ]
    assert completion_text(parts) == "SELECT 1"
    assert completion_text(None) == ""


# --- execution -----------------------------------------------------------------------------------


def test_execution_reward_correct_wrong_and_broken(ctx, db_url):
    gold = "SELECT name FROM pet WHERE kind = 'dog'"
    completions = [
        answer("SELECT name FROM pet WHERE kind = 'dog'"),  # same query
        answer("SELECT p.name FROM pet AS p WHERE p.kind = 'dog' AND p.age > 0"),  # other text, same rows
        answer("SELECT name FROM pet WHERE kind = 'cat'"),  # wrong rows
        answer("SELEC name FROM pet"),  # syntax error
        answer("SELECT nickname FROM pet"),  # runtime error
        "I think it is Rex and Fido.",  # no SQL
        [{"role": "assistant", "content": answer("SELECT name FROM pet WHERE age IN (3, 7)")}],  # chat form
    ]
    n = len(completions)
    assert ctx.execution_reward(prompts=["q"] * n, completions=completions, **cols(n, gold, db_url)) == [
        1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0,
    ]  # fmt: skip
    assert ctx.syntax_reward(prompts=["q"] * n, completions=completions, **cols(n, gold, db_url)) == [
        1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0,
    ]  # fmt: skip


def test_trl_calling_convention_extra_kwargs(ctx, db_url):
    """TRL passes prompts/completions by keyword plus every column and its own extras."""
    n = 2
    out = ctx.execution_reward(
        prompts=[[{"role": "user", "content": "q"}]] * n,
        completions=[[{"role": "assistant", "content": answer("SELECT count(*) FROM pet")}]] * n,
        completion_ids=[[1, 2, 3]] * n,
        trainer_state=object(),
        log_extra=None,
        question=["How many pets?"] * n,
        db_id=["pets"] * n,
        **cols(n, "SELECT COUNT(*) FROM pet", db_url),
    )
    assert out == [1.0, 1.0]


def test_column_aliases_and_missing_columns(ctx, db_url):
    # Record's own field names work too: "sql" for the gold, "db_path" for the database.
    path = db_url.removeprefix("sqlite:///")
    out = ctx.execution_reward(None, [answer("SELECT 1")], sql=["SELECT 1"], db_path=[path])
    assert out == [1.0]
    with pytest.raises(RewardInputError, match="needs the dataset column 'db_url'"):
        ctx.execution_reward(None, [answer("SELECT 1")], gold_sql=["SELECT 1"])
    with pytest.raises(RewardInputError, match="needs the dataset column 'gold_sql'"):
        ngram_reward(None, [answer("SELECT 1")])


def test_comparison_modes(executor, db_url):
    kinds = "SELECT DISTINCT kind FROM pet"
    ordered = "SELECT name FROM pet ORDER BY age"
    pairs = [
        (kinds, "SELECT kind FROM pet"),  # duplicates: bird sets equal, spider multisets differ
        (ordered, "SELECT name FROM pet ORDER BY age DESC"),  # order: spider follows the gold's ORDER BY
        ("SELECT name, age FROM pet", "SELECT age, name FROM pet"),  # column permutation: spider only
        ("SELECT name FROM pet WHERE age > 100", "SELECT age FROM pet WHERE age > 100"),  # both empty
    ]
    expected = {"bird": [1.0, 1.0, 0.0, 1.0], "spider": [0.0, 0.0, 1.0, 1.0], "strict": [0.0, 0.0, 0.0, 1.0]}
    for mode, want in expected.items():
        ctx = RewardContext(executor, mode=mode)
        got = [
            ctx.execution_reward(None, [answer(pred)], gold_sql=[gold], db_url=[db_url])[0]
            for gold, pred in pairs
        ]
        assert got == want, mode


def test_one_run_batch_per_call_and_gold_executed_once(executor, db_url):
    spy = CountingExecutor(executor)
    ctx = RewardContext(spy, timeout_s=2.0)  # type: ignore[arg-type]
    gold_a = "SELECT name FROM pet WHERE age > 2 -- a"
    gold_b = "SELECT city FROM owner -- b"
    group = [
        answer("SELECT name FROM pet WHERE age > 2"),
        answer("SELECT name FROM pet"),
        answer("SELEC 1"),
    ] * 2
    completions = group + [answer("SELECT city FROM owner")] * 6  # 2 prompts x 6 generations
    columns = {"gold_sql": [gold_a] * 6 + [gold_b] * 6, "db_url": [db_url] * 12}
    first = ctx.execution_reward(None, completions, **columns)
    assert first == [1.0, 0.0, 0.0] * 2 + [1.0] * 6
    assert len(spy.calls) == 1  # all 12 completions and both golds in one batch
    assert spy.calls[0] == 2 + 4  # 2 golds + 4 distinct predictions (repeats run once)
    assert ctx.stats["gold_executed"] == 2
    # Later steps: gold comes from the cache, repeated completions from the memo.
    assert ctx.execution_reward(None, completions, **columns) == first
    assert ctx.syntax_reward(None, completions, **columns) == [1.0, 1.0, 0.0] * 2 + [1.0] * 6
    assert len(spy.calls) == 1
    new = [answer("SELECT name FROM pet WHERE age >= 3")] * 12
    assert ctx.execution_reward(None, new, **columns) == [1.0] * 6 + [0.0] * 6
    assert len(spy.calls) == 2 and spy.calls[1] == 1  # only the new prediction ran
    assert ctx.stats["gold_executed"] == 2


def test_timeout_bomb_is_bounded(executor, db_url):
    ctx = RewardContext(executor, timeout_s=0.5)
    completions = [answer(BOMB), answer("SELECT count(*) FROM pet")]
    columns = cols(2, "SELECT count(*) FROM pet", db_url)
    start = time.perf_counter()
    assert ctx.execution_reward(None, completions, **columns) == [0.0, 1.0]
    assert time.perf_counter() - start < 0.5 + 2.0  # the limit, plus slack for a shared machine
    assert ctx.stats["timeouts"] == 1
    # Timeouts are memoised too: the same bomb in the next group costs nothing.
    start = time.perf_counter()
    assert ctx.syntax_reward(None, completions, **columns) == [0.0, 1.0]
    assert ctx.execution_reward(None, completions, **columns) == [0.0, 1.0]
    assert time.perf_counter() - start < 0.4
    assert ctx.stats["timeouts"] == 1


def test_failed_gold_gives_zero(ctx, db_url):
    out = ctx.execution_reward(
        None, [answer("SELECT 1")], gold_sql=["SELECT missing FROM pet"], db_url=[db_url]
    )
    assert out == [0.0]
    assert ctx.stats["gold_failed"] == 1


def test_infeasible_rows_reward_abstention(ctx, db_url):
    completions = [f"The schema has no prices.\n{ABSTENTION_TEXT}", answer("SELECT name FROM pet")]
    columns = {"gold_sql": ["", ""], "db_url": [db_url] * 2, "feasible": [False, False]}
    assert ctx.execution_reward(None, completions, **columns) == [1.0, 0.0]
    assert ctx.syntax_reward(None, completions, **columns) == [1.0, 1.0]
    assert format_reward(None, completions, **columns) == [1.0, 0.0]
    assert schema_linking_reward(None, completions, **columns) == [1.0, 0.0]
    # Abstaining on a feasible question earns nothing.
    feasible = cols(1, "SELECT name FROM pet", db_url)
    assert ctx.execution_reward(None, [ABSTENTION_TEXT], **feasible) == [0.0]
    assert format_reward(None, [ABSTENTION_TEXT], **feasible) == [0.0]


# --- format ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("Reasoning first.\n```sql\nSELECT 1\n```", 1.0),
        ("<think>plan</think>\n```sql\nSELECT 1\n```\n", 1.0),
        ("```sql\nSELECT 1\n```", 0.5),  # no reasoning
        ("Reasoning.\n```sql\nSELECT 1\n```\nHope this helps!", 0.5),  # text after the block
        ("SELECT 1", 0.0),  # no block
        ("Reasoning.\n```sql\nSELECT 1\n```\nOr:\n```sql\nSELECT 2\n```", 0.0),  # two blocks
        ("Reasoning.\n```python\nprint(1)\n```\n```sql\nSELECT 1\n```", 0.0),  # another block too
        ("Reasoning.\n```sql\nSELECT 1\n", 0.0),  # unclosed
        ("Reasoning.\n```sql\n\n```", 0.0),  # empty
        ("Reasoning.\n```\nSELECT 1\n```", 0.0),  # untagged block
        (ABSTENTION_TEXT, 0.0),  # abstention on a feasible question
    ],
)
def test_format_score(text, score):
    assert format_score(text) == score


# --- schema linking and n-grams: exact values ---------------------------------------------------------


def test_schema_items():
    assert schema_items("SELECT title FROM book WHERE genre = 'x'") == {
        "table:book",
        "column:title",
        "column:genre",
    }
    assert schema_items("SELECT kind, count(*) AS n FROM pet AS p GROUP BY kind ORDER BY n") == {
        "table:pet", "column:kind",
    }  # fmt: skip
    assert schema_items(
        "WITH old AS (SELECT * FROM pet WHERE age > 4) SELECT o.name, w.city FROM old AS o JOIN owner AS w "
        "ON o.owner_id = w.owner_id"
    ) == {"table:pet", "table:owner", "column:age", "column:name", "column:city", "column:owner_id"}
    assert schema_items("SELECT name FROM pet WHERE") is None


def test_schema_linking_score_exact():
    gold = "SELECT title FROM book WHERE genre = 'x'"
    assert schema_linking_score("SELECT title FROM book", gold) == pytest.approx(2 / 3)
    assert schema_linking_score("SELECT title FROM book WHERE genre = 'y'", gold) == 1.0
    # {book, title, genre} vs {book, author, title, name}: 2 shared of 5
    assert schema_linking_score("SELECT b.title, a.name FROM book AS b, author AS a", gold) == pytest.approx(
        2 / 5
    )
    assert schema_linking_score(None, gold) == 0.0
    assert schema_linking_score("SELEC", gold) == 0.0
    # With the schema known, a reference outside it (here the misspelt "titel") is ignored.
    schema = ["book", "book.title", "book.genre"]
    assert schema_linking_score("SELECT titel FROM book WHERE genre = 'x'", gold) == pytest.approx(2 / 4)
    assert schema_linking_score(
        "SELECT titel FROM book WHERE genre = 'x'", gold, schema=schema
    ) == pytest.approx(2 / 3)


def test_schema_linking_reward_reads_columns():
    gold = "SELECT title FROM book WHERE genre = 'x'"
    out = schema_linking_reward(
        None,
        [answer("SELECT title FROM book"), "no sql here"],
        gold_sql=[gold] * 2,
        completion_ids=[[1], [2]],
    )
    assert out == [pytest.approx(2 / 3), 0.0]


def test_sql_tokens_and_ngram_similarity_exact():
    assert sql_tokens("SELECT Name FROM pet WHERE kind = 'Dog';") == (
        "select", "name", "from", "pet", "where", "kind", "=", "'Dog'",
    )  # fmt: skip
    gold = "SELECT name FROM pet WHERE age > 3"
    # bigrams of the prediction: (select name) (name from) (from pet), all among the gold's 7
    assert ngram_similarity("SELECT name FROM pet", gold) == pytest.approx(3 / 7)
    assert ngram_similarity("select NAME from PET where AGE > 3", gold) == 1.0
    # unigrams: {select, name, from, pet} vs 8 gold tokens
    assert ngram_similarity("SELECT name FROM pet", gold, n=1) == pytest.approx(4 / 8)
    assert ngram_similarity("SELECT", "SELECT", n=2) == 1.0  # shorter than n: one whole-sequence n-gram
    assert ngram_similarity(None, gold) == 0.0
    out = ngram_reward(None, [answer("SELECT name FROM pet")], gold_sql=[gold])
    assert out == [pytest.approx(3 / 7)]


# --- combined reward -------------------------------------------------------------------------------


def test_reward_functions_are_named_for_trl(ctx):
    names = [f.__name__ for f in ctx.reward_functions()]
    assert names == [
        "execution_reward",
        "syntax_reward",
        "schema_linking_reward",
        "ngram_reward",
        "format_reward",
    ]
    assert ctx.combined_reward().__name__ == "sqlfoundry_reward"
    with pytest.raises(ValueError, match="unknown reward component"):
        ctx.combined_reward({"execution": 1.0, "vibes": 1.0})


def test_combined_reward_weights_and_logged_components(ctx, db_url):
    gold = "SELECT name FROM pet WHERE age > 3"
    completions = [
        answer("SELECT name FROM pet WHERE age > 3"),  # all components 1
        "```sql\nSELECT name FROM pet\n```",  # runs, wrong result, no reasoning
        answer("SELEC name FROM pet"),  # syntax error
    ]
    reward = ctx.combined_reward({"execution": 2.0, "syntax": 1.0, "ngram": 1.0, "format": 0.5})
    total = reward(None, completions, **cols(3, gold, db_url))
    comps = reward.last_components
    assert set(comps) == {"execution", "syntax", "ngram", "format", "total"}
    assert comps["execution"] == [1.0, 0.0, 0.0]
    assert comps["syntax"] == [1.0, 1.0, 0.0]
    assert comps["format"] == [1.0, 0.5, 1.0]
    assert comps["ngram"][:2] == [1.0, pytest.approx(3 / 7)]
    bad = ngram_similarity("SELEC name FROM pet", gold)
    assert total == [
        pytest.approx(2 + 1 + 1 + 0.5),
        pytest.approx(0 + 1 + 3 / 7 + 0.25),
        pytest.approx(0 + 0 + bad + 0.5),
    ]
    reward(None, completions[:1], **cols(1, gold, db_url))
    metrics = reward.pop_metrics()
    assert metrics["rewards/execution_reward/mean"] == pytest.approx((1 / 3 + 1) / 2)
    assert metrics["rewards/total/mean"] == pytest.approx((sum(total) / 3 + 4.5) / 2)
    assert reward.pop_metrics() == {}
    normalized = ctx.combined_reward({"execution": 3.0, "format": 1.0}, normalize=True)
    assert normalized(None, completions[:1], **cols(1, gold, db_url)) == [1.0]


def test_default_weights_cover_every_component():
    assert set(DEFAULT_WEIGHTS) == {"execution", "syntax", "schema_linking", "ngram", "format"}
