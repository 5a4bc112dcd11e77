"""Reward functions for GRPO on text-to-SQL: execution, syntax, schema linking, n-gram and format.

Each reward is a plain callable ``f(prompts, completions, **columns) -> list[float]`` that plugs into
TRL's ``GRPOTrainer`` unchanged; the ones that execute SQL share one :class:`RewardContext` (one
Executor, gold results cached, predictions batched and memoised). See ``docs/rewards.md``.
"""

from __future__ import annotations

import atexit
import collections
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from ..db.executor import Executor, Query, normalize_for_cache
from ..db.outcome import ExecutionOutcome, Limits, OutcomeStatus
from ..errors import SQLFoundryError
from ..sql.compare import Mode, compare_results, gold_orders_rows
from ..sql.normalize import SQLParseError, parse_sql
from ..synth.prompt import extract_sql, is_abstention

__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "CombinedReward",
    "RewardContext",
    "RewardInputError",
    "combined_reward",
    "completion_text",
    "default_context",
    "execution_reward",
    "format_reward",
    "ngram_reward",
    "ngram_similarity",
    "schema_items",
    "schema_linking_reward",
    "schema_linking_score",
    "syntax_reward",
]

#: Dataset columns read by the rewards, each with the aliases accepted (first match wins).
GOLD_SQL_COLUMNS = ("gold_sql", "sql", "query")
DB_URL_COLUMNS = ("db_url", "db_path", "database_url")
FEASIBLE_COLUMNS = ("feasible",)
DIALECT_COLUMNS = ("dialect",)

#: Component name -> the reward function's ``__name__`` (TRL logs rewards under that name).
COMPONENTS = ("execution", "syntax", "schema_linking", "ngram", "format")

#: Default weights of :func:`combined_reward`: the execution verdict dominates; the partial rewards
#: (Reasoning-SQL) only break ties inside a GRPO group where every completion is equally (in)correct.
DEFAULT_WEIGHTS: dict[str, float] = {
    "execution": 3.0,
    "syntax": 1.0,
    "schema_linking": 1.0,
    "ngram": 1.0,
    "format": 1.0,
}


class RewardInputError(SQLFoundryError, KeyError):
    """The reward was called without a column it needs (e.g. the gold SQL or the database URL)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


# ------------------------------------------------------------------------------------------------
# Reading TRL's arguments
# ------------------------------------------------------------------------------------------------


def completion_text(completion: Any) -> str:
    """The text of one completion as TRL passes it: a string (standard format), or a list of chat
    messages (conversational format) whose last assistant message is the answer. Message content may
    itself be a list of parts (``{"type": "text", "text": ...}``)."""
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        return _content_text(completion.get("content"))
    if isinstance(completion, Sequence):
        messages = [m for m in completion if isinstance(m, Mapping)]
        for message in reversed(messages):
            if message.get("role", "assistant") == "assistant":
                return _content_text(message.get("content"))
        return _content_text(messages[-1].get("content")) if messages else ""
    return str(completion)


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(
            part.get("text") or "" if isinstance(part, Mapping) else str(part)
            for part in content
            if not isinstance(part, Mapping) or part.get("type", "text") == "text"
        )
    return str(content)


def _column(columns: Mapping[str, Any], names: Sequence[str], n: int, *, required: bool, reward: str) -> list:
    for name in names:
        if name in columns and columns[name] is not None:
            value = columns[name]
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                return [value] * n  # one value for the whole batch
            if len(value) != n:
                raise RewardInputError(
                    f"{reward}: column {name!r} has {len(value)} values for {n} completions"
                )
            return list(value)
    if required:
        raise RewardInputError(
            f"{reward} needs the dataset column {names[0]!r} (or one of {', '.join(map(repr, names[1:]))}); "
            f"got columns: {', '.join(sorted(columns)) or 'none'}"
        )
    return [None] * n


def _feasible(columns: Mapping[str, Any], n: int, reward: str) -> list[bool]:
    values = _column(columns, FEASIBLE_COLUMNS, n, required=False, reward=reward)
    return [True if v is None else bool(v) for v in values]


def _dialects(columns: Mapping[str, Any], n: int, default: str, reward: str) -> list[str]:
    values = _column(columns, DIALECT_COLUMNS, n, required=False, reward=reward)
    return [v or default for v in values]


# ------------------------------------------------------------------------------------------------
# Pure rewards: format, schema linking, n-gram (no database needed)
# ------------------------------------------------------------------------------------------------

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
_SQL_FENCE_LANGS = {"sql", "sqlite", "sqlite3", "postgresql", "postgres", "mysql", "duckdb", "psql"}


def format_score(text: str, feasible: bool = True) -> float:
    """How well one answer follows the output format.

    Feasible question: 1.0 for reasoning text followed by exactly one closed ```sql block with a
    non-empty body and nothing but whitespace after it; 0.5 for exactly one such block without
    reasoning before it or with text after it; 0.0 otherwise (no block, several blocks, an unclosed
    block, an abstention). Infeasible question: 1.0 for the abstention sentence with no SQL, else 0.0.
    """
    if not feasible:
        return 1.0 if is_abstention(text) else 0.0
    if text.count("```") % 2:  # an unclosed fence
        return 0.0
    blocks = list(_FENCE.finditer(text))
    sql_blocks = [m for m in blocks if m.group(1).lower() in _SQL_FENCE_LANGS]
    if len(sql_blocks) != 1 or len(blocks) != 1 or not sql_blocks[0].group(2).strip():
        return 0.0
    block = sql_blocks[0]
    reasoning = text[: block.start()]
    if "</think>" in reasoning:  # a reasoning model's scratch work counts as reasoning
        reasoning = reasoning.replace("<think>", "").replace("</think>", "")
    has_reasoning = bool(reasoning.strip())
    clean_end = not text[block.end() :].strip()
    return 1.0 if has_reasoning and clean_end else 0.5


def format_reward(prompts: Any = None, completions: Sequence[Any] = (), **columns: Any) -> list[float]:
    """Reward for the output format (see :func:`format_score`); reads the optional ``feasible`` column."""
    n = len(completions)
    feasible = _feasible(columns, n, "format_reward")
    return [format_score(completion_text(c), f) for c, f in zip(completions, feasible, strict=True)]


@lru_cache(maxsize=8192)
def _schema_items_cached(sql: str, dialect: str) -> frozenset[str] | None:
    try:
        tree = parse_sql(sql, dialect, copy=False)
    except SQLParseError:
        return None
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables = {t.name.lower() for t in tree.find_all(exp.Table) if t.name and t.name.lower() not in cte_names}
    output_aliases = {a.alias.lower() for a in tree.find_all(exp.Alias) if a.alias}
    columns = set()
    for col in tree.find_all(exp.Column):
        name = col.name.lower()
        if not name or isinstance(col.this, exp.Star):
            continue
        if not col.table and name in output_aliases:
            continue  # ORDER BY total where total is a select alias: not a schema column
        columns.add(name)
    return frozenset({f"table:{t}" for t in tables} | {f"column:{c}" for c in columns})


def schema_items(sql: str, dialect: str = "sqlite") -> frozenset[str] | None:
    """The schema items a query references, ``table:<name>`` and ``column:<name>`` (lower-cased,
    columns unqualified; CTE names, ``*`` and references to select aliases left out), or None when
    the SQL does not parse."""
    return _schema_items_cached(sql, dialect)


def _jaccard(a: frozenset | set, b: frozenset | set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def schema_linking_score(
    pred_sql: str | None,
    gold_sql: str,
    dialect: str = "sqlite",
    schema: Sequence[str] | None = None,
) -> float:
    """Jaccard overlap of the tables and columns referenced by the predicted and the gold query (0.0
    when the prediction is missing or does not parse). ``schema``, when given, is the database's
    table and column names: items outside it (unresolved aliases, typos of the gold) are ignored."""
    if not pred_sql:
        return 0.0
    pred, gold = schema_items(pred_sql, dialect), schema_items(gold_sql, dialect)
    if pred is None or gold is None:
        return 0.0
    if schema is not None:
        known = {str(s).lower().rsplit(".", 1)[-1] for s in schema}
        pred = frozenset(i for i in pred if i.split(":", 1)[1] in known)
        gold = frozenset(i for i in gold if i.split(":", 1)[1] in known)
    return _jaccard(pred, gold)


def _schema_names(columns: Mapping[str, Any], n: int) -> list[list[str] | None]:
    tables = _column(columns, ("schema_tables",), n, required=False, reward="schema_linking_reward")
    cols = _column(columns, ("schema_columns",), n, required=False, reward="schema_linking_reward")
    out: list[list[str] | None] = []
    for t, c in zip(tables, cols, strict=True):
        out.append(None if t is None and c is None else [*(t or []), *(c or [])])
    return out


def schema_linking_reward(
    prompts: Any = None, completions: Sequence[Any] = (), **columns: Any
) -> list[float]:
    """Reward for referencing the gold query's tables and columns (see :func:`schema_linking_score`).

    Reads ``gold_sql``, and optionally ``schema_tables``/``schema_columns``, ``feasible`` and
    ``dialect``. An infeasible question earns 1.0 for abstaining and 0.0 otherwise."""
    n = len(completions)
    gold = _column(columns, GOLD_SQL_COLUMNS, n, required=True, reward="schema_linking_reward")
    feasible = _feasible(columns, n, "schema_linking_reward")
    dialects = _dialects(columns, n, "sqlite", "schema_linking_reward")
    schemas = _schema_names(columns, n)
    out = []
    for c, g, f, d, s in zip(completions, gold, feasible, dialects, schemas, strict=True):
        text = completion_text(c)
        if not f:
            out.append(1.0 if is_abstention(text) else 0.0)
        else:
            out.append(schema_linking_score(extract_sql(text, d), g or "", d, s))
    return out


_WORD = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|\w+|[^\w\s]")


@lru_cache(maxsize=8192)
def sql_tokens(sql: str, dialect: str = "sqlite") -> tuple[str, ...]:
    """The SQL's tokens for n-gram similarity: sqlglot tokens, lower-cased except string literals
    (which keep their case and quotes); a regex split when sqlglot cannot tokenize the text."""
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(sql)
    except (SqlglotError, ValueError):
        return tuple(t if t.startswith("'") else t.lower() for t in _WORD.findall(sql))
    out = []
    for tok in tokens:
        if tok.token_type.name == "STRING":
            out.append("'" + tok.text + "'")
        elif tok.token_type.name == "SEMICOLON":
            continue
        else:
            out.append(tok.text.lower())
    return tuple(out)


def ngram_similarity(pred_sql: str | None, gold_sql: str, n: int = 2, dialect: str = "sqlite") -> float:
    """Jaccard similarity of the sets of token n-grams of two queries (a query shorter than ``n``
    tokens counts as one n-gram of its whole token sequence); 0.0 when the prediction is missing."""
    if not pred_sql:
        return 0.0
    a, b = _ngrams(sql_tokens(pred_sql, dialect), n), _ngrams(sql_tokens(gold_sql, dialect), n)
    return _jaccard(a, b)


def _ngrams(tokens: tuple[str, ...], n: int) -> frozenset[tuple[str, ...]]:
    if not tokens:
        return frozenset()
    if len(tokens) < n:
        return frozenset({tokens})
    return frozenset(tokens[i : i + n] for i in range(len(tokens) - n + 1))


def ngram_reward(
    prompts: Any = None, completions: Sequence[Any] = (), *, ngram_n: int = 2, **columns: Any
) -> list[float]:
    """Reward for textual closeness to the gold query (see :func:`ngram_similarity`, bigrams by
    default). Reads ``gold_sql`` and optionally ``feasible`` and ``dialect``."""
    n = len(completions)
    gold = _column(columns, GOLD_SQL_COLUMNS, n, required=True, reward="ngram_reward")
    feasible = _feasible(columns, n, "ngram_reward")
    dialects = _dialects(columns, n, "sqlite", "ngram_reward")
    out = []
    for c, g, f, d in zip(completions, gold, feasible, dialects, strict=True):
        text = completion_text(c)
        if not f:
            out.append(1.0 if is_abstention(text) else 0.0)
        else:
            out.append(ngram_similarity(extract_sql(text, d), g or "", ngram_n, d))
    return out


# ------------------------------------------------------------------------------------------------
# Rewards that execute SQL: one shared context
# ------------------------------------------------------------------------------------------------


@dataclass
class _Item:
    """One completion of a reward call, resolved to what has to run."""

    text: str
    url: str | None
    gold_sql: str
    pred_sql: str | None
    feasible: bool
    dialect: str
    gold_norm: str = ""  # normalize_for_cache of the SQL texts, computed once per completion
    pred_norm: str = ""


class RewardContext:
    """Everything the execution-based rewards share across calls and across reward functions.

    One :class:`Executor` (created here with ``workers`` processes unless one is passed, and then not
    closed by :meth:`close`); gold results cached by (database, SQL) so each gold query runs once per
    training run; prediction outcomes (timeouts included) and verdicts memoised, because identical
    completions recur within and across GRPO groups and several rewards look at the same completion.
    Every reward call makes at most one ``run_batch`` call for all its completions.

    ``mode`` is the comparison rule (``bird``: set equality; ``spider``: multiset, ordered when the
    gold has a top-level ORDER BY; ``strict``); ``timeout_s`` and ``max_rows`` bound every statement.
    ``memo_size`` bounds the prediction memo (entries) and ``memo_max_rows`` the rows it keeps per
    prediction (larger results are kept as fingerprints; verdicts are memoised separately).
    """

    def __init__(
        self,
        executor: Executor | None = None,
        *,
        timeout_s: float = 5.0,
        max_rows: int = 100_000,
        mode: Mode | str = Mode.BIRD,
        dialect: str = "sqlite",
        workers: int | None = None,
        memo_size: int = 16_384,
        memo_max_rows: int = 1_000,
        gold_cache_size: int = 100_000,
    ):
        self.mode = Mode(mode)
        self.dialect = dialect
        self.limits = Limits(timeout_s=timeout_s, max_rows=max_rows)
        self._owns_executor = executor is None
        self.executor = (
            executor if executor is not None else Executor(workers=workers, limits=self.limits, grace_s=0.5)
        )
        self.memo_size = memo_size
        self.memo_max_rows = memo_max_rows
        self.gold_cache_size = gold_cache_size
        self._gold: collections.OrderedDict[tuple[str, str], ExecutionOutcome] = collections.OrderedDict()
        self._pred: collections.OrderedDict[tuple[str, str], ExecutionOutcome] = collections.OrderedDict()
        self._verdicts: collections.OrderedDict[tuple, bool] = collections.OrderedDict()
        self._lock = threading.RLock()
        #: counters: gold_executed, gold_cache_hits, predictions_executed, prediction_memo_hits,
        #: verdict_memo_hits, run_batch_calls, timeouts, gold_failed, compare_fallbacks
        self.stats: collections.Counter[str] = collections.Counter()

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> RewardContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_executor:
            self.executor.close()

    # -- resolving a reward call -------------------------------------------------------------------
    def _items(self, completions: Sequence[Any], columns: Mapping[str, Any], reward: str) -> list[_Item]:
        n = len(completions)
        urls = _column(columns, DB_URL_COLUMNS, n, required=True, reward=reward)
        gold = _column(columns, GOLD_SQL_COLUMNS, n, required=True, reward=reward)
        feasible = _feasible(columns, n, reward)
        dialects = _dialects(columns, n, self.dialect, reward)
        items = []
        for c, u, g, f, d in zip(completions, urls, gold, feasible, dialects, strict=True):
            text = completion_text(c)
            pred = extract_sql(text, d)
            gold_sql = g or ""
            items.append(
                _Item(
                    text,
                    str(u) if u else None,
                    gold_sql,
                    pred,
                    f,
                    d,
                    gold_norm=_normalized(gold_sql),
                    pred_norm=_normalized(pred) if pred else "",
                )  # fmt: skip
            )
        return items

    def _remember(self, store: collections.OrderedDict, key: Any, value: Any, size: int) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > size:
            store.popitem(last=False)

    def outcomes(
        self, items: Sequence[_Item], *, gold_needed: Sequence[bool], pred_rows_needed: Sequence[bool]
    ) -> tuple[list[ExecutionOutcome | None], list[ExecutionOutcome | None]]:
        """Gold and prediction outcomes for ``items`` from the caches, running what is missing in ONE
        ``run_batch`` call. A prediction outcome has rows when ``pred_rows_needed`` says so."""
        with self._lock:
            gold_out: list[ExecutionOutcome | None] = [None] * len(items)
            pred_out: list[ExecutionOutcome | None] = [None] * len(items)
            queries: list[Query] = []
            slots: list[tuple[str, int, tuple[str, str]]] = []
            queued: dict[tuple[str, tuple[str, str]], int] = {}

            def want(kind: str, i: int, key: tuple[str, str], sql: str, keep_rows: bool, cache: bool) -> None:
                at = queued.get((kind, key))
                if at is None:
                    at = queued[(kind, key)] = len(queries)
                    queries.append(Query(key[0], sql, self.limits, keep_rows=keep_rows, cache=cache))
                slots.append((kind, i, key))

            for i, it in enumerate(items):
                if it.url is None:
                    continue
                if gold_needed[i] and it.gold_sql:
                    key = (it.url, it.gold_norm)
                    hit = self._gold.get(key)
                    if hit is not None:
                        self._gold.move_to_end(key)
                        self.stats["gold_cache_hits"] += 1
                        gold_out[i] = hit
                    else:
                        want("gold", i, key, it.gold_sql, True, True)
                if it.pred_sql:
                    key = (it.url, it.pred_norm)
                    hit = self._pred.get(key)
                    if hit is not None and (hit.rows is not None or not pred_rows_needed[i] or not hit.ok):
                        self._pred.move_to_end(key)
                        self.stats["prediction_memo_hits"] += 1
                        pred_out[i] = hit
                    else:
                        # Predictions bypass the executor's cache: this memo keeps them (timeouts
                        # included, which the executor does not cache) without rows unless needed.
                        want("pred", i, key, it.pred_sql, pred_rows_needed[i], False)
            if not queries:
                return gold_out, pred_out
            self.stats["run_batch_calls"] += 1
            results = self.executor.run_batch(queries)
            done: set[tuple[str, tuple[str, str]]] = set()
            for kind, i, key in slots:
                out = results[queued[(kind, key)]]
                first = (kind, key) not in done
                done.add((kind, key))
                if kind == "gold":
                    gold_out[i] = out
                    if first:
                        self.stats["gold_executed"] += 1
                        if out.status is not OutcomeStatus.TIMEOUT:  # a timeout may pass on a quieter machine
                            self._remember(self._gold, key, out, self.gold_cache_size)
                else:
                    pred_out[i] = out
                    if first:
                        self.stats["predictions_executed"] += 1
                        if out.status is OutcomeStatus.TIMEOUT:
                            self.stats["timeouts"] += 1
                        if out.rows is not None and len(out.rows) > self.memo_max_rows:
                            out = out.copy()
                            out.rows = None
                        self._remember(self._pred, key, out, self.memo_size)
            return gold_out, pred_out

    # -- verdicts ----------------------------------------------------------------------------------
    def _order_matters(self, gold_sql: str, dialect: str) -> bool:
        return self.mode is Mode.SPIDER and _gold_orders_rows(gold_sql, dialect)

    def _fast_verdict(self, gold: ExecutionOutcome, pred: ExecutionOutcome, order: bool) -> bool | None:
        """True/False when fingerprints decide, None when rows must be compared."""
        if self.mode is Mode.BIRD:
            if pred.fingerprint == gold.fingerprint:
                return True  # equal multisets are equal sets
            return None  # set equality ignores duplicates and (for empty results) column counts
        if pred.row_count != gold.row_count:
            return False  # spider and strict compare multisets / lists: sizes must agree
        same = (
            pred.ordered_fingerprint == gold.ordered_fingerprint
            if order or self.mode is Mode.STRICT
            else (pred.fingerprint == gold.fingerprint)
        )
        if same:
            return True
        return False if self.mode is Mode.STRICT else None  # spider: columns may be permuted

    def _verdict_key(self, it: _Item) -> tuple:
        assert it.url is not None and it.pred_sql is not None
        return (it.url, it.gold_norm, it.pred_norm, self.mode)

    # -- rewards -----------------------------------------------------------------------------------
    def execution_reward(
        self, prompts: Any = None, completions: Sequence[Any] = (), **columns: Any
    ) -> list[float]:
        """1.0 when the answer's SQL returns the gold result under :attr:`mode`, else 0.0.

        Reads ``gold_sql`` and ``db_url`` (required), ``feasible`` and ``dialect`` (optional). An
        infeasible question (``feasible`` False) earns 1.0 for the abstention sentence and 0.0 for
        any SQL; a feasible one earns 0.0 for abstaining. A gold query that fails earns every
        completion 0.0 (counted in ``stats["gold_failed"]``)."""
        with self._lock:
            return self._execution_rewards(self._items(completions, columns, "execution_reward"))

    def _execution_rewards(self, items: list[_Item]) -> list[float]:
        rewards: list[float | None] = [None] * len(items)
        need_gold = [False] * len(items)
        for i, it in enumerate(items):
            if not it.feasible:
                rewards[i] = 1.0 if is_abstention(it.text) else 0.0
            elif not it.pred_sql or not it.url or not it.gold_sql:
                rewards[i] = 0.0
            else:
                hit = self._verdicts.get(self._verdict_key(it))
                if hit is not None:
                    self.stats["verdict_memo_hits"] += 1
                    rewards[i] = 1.0 if hit else 0.0
                else:
                    need_gold[i] = True
        # Rows come back with the first run (a wrong bird answer always needs them); a memoised
        # outcome stored without rows is run again only when its fingerprint does not decide.
        rows_needed = [True] * len(items)
        todo = [i for i, r in enumerate(rewards) if r is None]
        for attempt in range(2):
            wanted = set(todo)
            pending_items = [it if i in wanted else _skip(it) for i, it in enumerate(items)]
            gold_out, pred_out = self.outcomes(
                pending_items, gold_needed=need_gold, pred_rows_needed=rows_needed
            )
            still = []
            for i in todo:
                it, g, p = items[i], gold_out[i], pred_out[i]
                verdict = self._judge(it, g, p)
                if verdict is None and attempt == 0:
                    still.append(i)
                    rows_needed[i] = True
                    continue
                rewards[i] = 1.0 if verdict else 0.0
                if g is not None and g.ok and p is not None and p.status is not OutcomeStatus.TIMEOUT:
                    self._remember(self._verdicts, self._verdict_key(it), bool(verdict), self.memo_size)
            if not still:
                break
            todo = still
        return [float(r) if r is not None else 0.0 for r in rewards]

    def _judge(self, it: _Item, gold: ExecutionOutcome | None, pred: ExecutionOutcome | None) -> bool | None:
        if gold is None or not gold.ok:
            self.stats["gold_failed"] += 1
            return False
        if pred is None or not pred.ok:
            return False
        order = self._order_matters(it.gold_sql, it.dialect)
        fast = self._fast_verdict(gold, pred, order)
        if fast is not None:
            return fast
        if pred.rows is None or gold.rows is None:
            return None
        self.stats["compare_fallbacks"] += 1
        try:
            return compare_results(gold, pred, self.mode, order_matters=order)
        except (ValueError, TypeError):
            return False

    def syntax_reward(
        self, prompts: Any = None, completions: Sequence[Any] = (), **columns: Any
    ) -> list[float]:
        """1.0 when the answer's SQL parses with sqlglot and runs to completion (status ok), else 0.0
        (no SQL, a parse error, a syntax or runtime error, a timeout, a denied statement, a result
        over the row cap). Reads ``db_url``; an infeasible question earns 1.0 for abstaining."""
        items = self._items(completions, {"gold_sql": "", **columns}, "syntax_reward")
        rewards: list[float | None] = [None] * len(items)
        for i, it in enumerate(items):
            if not it.feasible and is_abstention(it.text):
                rewards[i] = 1.0
            elif not it.pred_sql or not it.url or not _parses(it.pred_sql, it.dialect):
                rewards[i] = 0.0
        runnable = [it if rewards[i] is None else _skip(it) for i, it in enumerate(items)]
        no = [False] * len(items)
        _, pred_out = self.outcomes(runnable, gold_needed=no, pred_rows_needed=no)
        for i, r in enumerate(rewards):
            if r is None:
                p = pred_out[i]
                rewards[i] = 1.0 if p is not None and p.ok else 0.0
        return [float(r) for r in rewards]  # type: ignore[arg-type]

    def schema_linking_reward(
        self, prompts: Any = None, completions: Sequence[Any] = (), **columns: Any
    ) -> list[float]:
        """:func:`schema_linking_reward` (pure: needs no database)."""
        return schema_linking_reward(prompts, completions, **columns)

    def ngram_reward(
        self, prompts: Any = None, completions: Sequence[Any] = (), **columns: Any
    ) -> list[float]:
        """:func:`ngram_reward` (pure: needs no database)."""
        return ngram_reward(prompts, completions, **columns)

    def format_reward(
        self, prompts: Any = None, completions: Sequence[Any] = (), **columns: Any
    ) -> list[float]:
        """:func:`format_reward` (pure: needs no database)."""
        return format_reward(prompts, completions, **columns)

    def reward_function(self, component: str) -> Callable[..., list[float]]:
        """The reward callable of one component (``execution``, ``syntax``, ...), named
        ``<component>_reward``."""
        if component not in COMPONENTS:
            raise ValueError(f"unknown reward component {component!r}: use one of {', '.join(COMPONENTS)}")
        return getattr(self, f"{component}_reward")

    def reward_functions(self, components: Sequence[str] = COMPONENTS) -> list[Callable[..., list[float]]]:
        """Callables for TRL's ``reward_funcs`` (pair with ``GRPOConfig(reward_weights=...)``); TRL
        logs each one under its ``__name__``."""
        return [self.reward_function(c) for c in components]

    def combined_reward(
        self, weights: Mapping[str, float] | None = None, *, normalize: bool = False
    ) -> CombinedReward:
        """One callable returning the weighted sum of the components (see :class:`CombinedReward`)."""
        return CombinedReward(self, weights, normalize=normalize)


def _skip(it: _Item) -> _Item:
    """The item with nothing left to run (its outcome is already known)."""
    return replace(it, url=None)


@lru_cache(maxsize=16_384)
def _normalized(sql: str) -> str:
    return normalize_for_cache(sql)


@lru_cache(maxsize=8192)
def _gold_orders_rows(gold_sql: str, dialect: str) -> bool:
    return gold_orders_rows(gold_sql, dialect)


@lru_cache(maxsize=8192)
def _parses(sql: str, dialect: str) -> bool:
    try:
        parse_sql(sql, dialect, copy=False)
    except SQLParseError:
        return False
    return True


# ------------------------------------------------------------------------------------------------
# The combined reward, with per-component logging
# ------------------------------------------------------------------------------------------------


class CombinedReward:
    """The weighted sum of reward components as one TRL reward function, logging each component.

    ``weights`` maps component names (:data:`COMPONENTS`) to weights; components left out or weighted
    0 are not computed. ``normalize`` divides by the sum of weights so the reward lies in [0, 1].
    After every call ``last_components`` holds each component's per-completion rewards (and
    ``"total"``); ``history`` gets one entry of per-component means per call, which
    :meth:`pop_metrics` averages and clears for a trainer callback to log.
    """

    __name__ = "sqlfoundry_reward"

    def __init__(
        self, context: RewardContext, weights: Mapping[str, float] | None = None, *, normalize: bool = False
    ):
        weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        unknown = set(weights) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown reward components {sorted(unknown)}: use {', '.join(COMPONENTS)}")
        self.context = context
        # Execution first: it runs gold and predictions, and syntax then reads the memoised outcomes.
        self.weights = {c: float(weights[c]) for c in COMPONENTS if weights.get(c)}
        if not self.weights:
            raise ValueError("combined_reward needs at least one component with a non-zero weight")
        self.normalize = normalize
        self.last_components: dict[str, list[float]] = {}
        self.history: list[dict[str, float]] = []

    def __call__(self, prompts: Any = None, completions: Sequence[Any] = (), **columns: Any) -> list[float]:
        components = {
            c: self.context.reward_function(c)(prompts, completions, **columns) for c in self.weights
        }
        scale = sum(self.weights.values()) if self.normalize else 1.0
        total = [
            sum(self.weights[c] * components[c][i] for c in self.weights) / scale
            for i in range(len(completions))
        ]
        self.last_components = {**components, "total": total}
        self.history.append({k: _mean(v) for k, v in self.last_components.items()})
        return total

    def pop_metrics(self, prefix: str = "rewards/") -> dict[str, float]:
        """Mean of each component over the calls since the last pop (``rewards/<name>_reward/mean``,
        as TRL names its own reward logs), then forget them."""
        if not self.history:
            return {}
        names = self.history[-1].keys()
        out = {}
        for name in names:
            values = [h[name] for h in self.history if name in h]
            label = name if name == "total" else f"{name}_reward"
            out[f"{prefix}{label}/mean"] = _mean(values)
        self.history = []
        return out


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# ------------------------------------------------------------------------------------------------
# Module-level rewards on a default context (for reward_funcs=[execution_reward, ...])
# ------------------------------------------------------------------------------------------------

_default: RewardContext | None = None
_default_lock = threading.Lock()


def default_context() -> RewardContext:
    """The process-wide context used by the module-level :func:`execution_reward`,
    :func:`syntax_reward` and :func:`combined_reward` (created on first use, closed at exit)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = RewardContext()
            atexit.register(_default.close)
        return _default


def execution_reward(prompts: Any = None, completions: Sequence[Any] = (), **columns: Any) -> list[float]:
    """:meth:`RewardContext.execution_reward` on :func:`default_context` (bird comparison)."""
    return default_context().execution_reward(prompts, completions, **columns)


def syntax_reward(prompts: Any = None, completions: Sequence[Any] = (), **columns: Any) -> list[float]:
    """:meth:`RewardContext.syntax_reward` on :func:`default_context`."""
    return default_context().syntax_reward(prompts, completions, **columns)


def combined_reward(
    weights: Mapping[str, float] | None = None,
    *,
    context: RewardContext | None = None,
    normalize: bool = False,
) -> CombinedReward:
    """A :class:`CombinedReward` over ``context`` (default: :func:`default_context`)."""
    return CombinedReward(context or default_context(), weights, normalize=normalize)
