"""Execution accuracy of predicted SQL against gold, with Spider, BIRD or strict result semantics.

:class:`EvalConfig` holds every option (documented defaults); :func:`evaluate` reads the files, runs
gold and predictions through the Executor (gold results cached on disk) and returns an
:class:`EvalResult` with per-example outcomes, breakdowns and the TrustSQL reliability score.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import marshal
import os
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xxhash

from ..db.outcome import ExecutionOutcome, Limits, OutcomeStatus, json_value
from ..errors import InputFormatError, SQLFoundryError
from . import official
from .formats import GoldExample, Prediction, pair_by_key, pair_by_position, read_gold, read_predictions
from .reliability import ReliabilitySample, is_abstention, reliability_report

FORMATS = ("spider", "bird")
COMPATS = ("default", "official")
MODES = ("spider", "bird", "strict")

# Per-example outcome classes.
CORRECT = "correct"
WRONG_RESULT = "wrong_result"
ABSTAINED = "abstained"
ANSWERED_INFEASIBLE = "answered_infeasible"
GOLD_ERROR = "gold_error"
UNAVAILABLE = "unavailable"
#: prediction failures, one per Executor status
PRED_FAILURES = tuple(s.value for s in OutcomeStatus if s is not OutcomeStatus.OK)
ERROR_CLASSES = (WRONG_RESULT, *PRED_FAILURES, ABSTAINED, ANSWERED_INFEASIBLE, GOLD_ERROR, UNAVAILABLE)

DIFFICULTY_ORDER = ("easy", "medium", "hard", "extra", "simple", "moderate", "challenging")
_PREVIEW_ROWS = 5
_PREVIEW_CHARS = 120
CHECKPOINT_VERSION = 2


#: the on-disk result cache, in the cache dir
RESULTS_CACHE = "results.sqlite"


class CheckpointMismatchError(SQLFoundryError):
    """A --resume checkpoint written by a different run (other files or options)."""


def default_cache_dir() -> Path:
    """``$SQLFOUNDRY_CACHE_DIR/eval``, else ``$XDG_CACHE_HOME/sqlfoundry/eval``, else ``~/.cache/sqlfoundry/eval``."""
    root = os.environ.get("SQLFOUNDRY_CACHE_DIR")
    if root:
        return Path(root) / "eval"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "sqlfoundry" / "eval"


@dataclass
class EvalConfig:
    """Every option of an evaluation; the CLI maps its flags one to one onto these fields."""

    #: ``spider`` or ``bird``: how files are read, the default comparison mode, the difficulty source
    format: str = "spider"
    gold: Path | None = None
    pred: Path | None = None
    #: databases at ``<db_dir>/<db_id>/<db_id>.sqlite``
    db_dir: Path | None = None
    #: test-suite databases: correct only if equal on every ``.sqlite`` in ``<ts_dir>/<db_id>/``
    ts_dir: Path | None = None
    #: ``default`` (quirks fixed) or ``official`` (each official evaluator's quirks, bug for bug)
    compat: str = "default"
    #: comparison mode; None = the format's own (``spider`` or ``bird``)
    mode: str | None = None
    #: keep DISTINCT in both queries; None = official strips (test-suite default), default keeps
    keep_distinct: bool | None = None
    #: worker processes; None = one per CPU
    workers: int | None = None
    #: per-statement timeout; None = 30 s (official Spider: 60 s, official BIRD: 30 s shared by both queries)
    timeout_s: float | None = None
    max_rows: int = 100_000
    #: where gold results (and run checkpoints without an explicit path) are cached
    cache_dir: Path | None = None
    use_cache: bool = True
    #: run every prediction even when the cache holds its outcome (e.g. to time it afresh)
    fresh_predictions: bool = False
    #: a prediction equal to this (case-insensitive) abstains; None or "" disables abstention
    abstain_token: str | None = "null"
    #: BIRD prediction keys: ``auto``, ``index`` or ``question_id`` (default compat only)
    pred_keys: str = "auto"
    #: evaluate only the first N gold examples
    limit: int | None = None
    #: examples whose gold query fails: ``skip`` (not judged) or ``wrong``; None = skip, official = wrong
    gold_errors: str | None = None
    #: per-example results appended here as JSON lines; None = under the cache dir
    checkpoint: Path | None = None
    #: skip examples already in the checkpoint (when it was written by the same run)
    resume: bool = False
    #: examples per gold-then-prediction round (bounds memory; larger batches parallelize better)
    chunk_size: int = 4096

    def __post_init__(self) -> None:
        for name in ("gold", "pred", "db_dir", "ts_dir", "cache_dir", "checkpoint"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                setattr(self, name, Path(value))
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {self.format!r}")
        if self.compat not in COMPATS:
            raise ValueError(f"compat must be one of {COMPATS}, not {self.compat!r}")
        if self.mode is not None and self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.gold_errors not in (None, "skip", "wrong"):
            raise ValueError(f"gold_errors must be 'skip' or 'wrong', not {self.gold_errors!r}")
        if self.pred_keys not in ("auto", "index", "question_id"):
            raise ValueError(f"pred_keys must be auto, index or question_id, not {self.pred_keys!r}")

    # -- resolved options --------------------------------------------------------------------------
    @property
    def official(self) -> bool:
        return self.compat == "official"

    @property
    def comparison_mode(self) -> str:
        return self.mode or self.format

    @property
    def distinct_kept(self) -> bool:
        return self.keep_distinct if self.keep_distinct is not None else not self.official

    @property
    def timeout(self) -> float:
        if self.timeout_s is not None:
            return float(self.timeout_s)
        if self.official:
            return (
                official.SPIDER_OFFICIAL_TIMEOUT_S
                if self.format == "spider"
                else official.BIRD_OFFICIAL_TIMEOUT_S
            )
        return 30.0

    @property
    def gold_error_policy(self) -> str:
        return self.gold_errors or ("wrong" if self.official else "skip")

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else default_cache_dir()

    def summary(self) -> dict[str, Any]:
        """The options that shape scores, resolved, for reports and checkpoint identity."""
        return {
            "format": self.format,
            "compat": self.compat,
            "mode": self.comparison_mode,
            "keep_distinct": self.distinct_kept,
            "timeout_s": self.timeout,
            "max_rows": self.max_rows,
            "abstain_token": self.abstain_token or None,
            "gold_errors": self.gold_error_policy,
            "pred_keys": self.pred_keys,
            "gold": str(self.gold) if self.gold else None,
            "pred": str(self.pred) if self.pred else None,
            "db_dir": str(self.db_dir) if self.db_dir else None,
            "ts_dir": str(self.ts_dir) if self.ts_dir else None,
            "limit": self.limit,
        }


@dataclass
class ExampleResult:
    """What happened to one gold example. ``correct`` is None when it could not be judged."""

    index: int
    db_id: str
    correct: bool | None
    outcome: str
    key: str | None = None
    question: str = ""
    difficulty: str | None = None
    skills: list[str] = field(default_factory=list)
    gold_sql: str | None = None
    pred_sql: str | None = None
    pred_ms: float = 0.0
    gold_ms: float = 0.0
    gold_cached: bool = False
    #: the prediction's outcome came from the result cache (``pred_ms`` is from when it ran)
    pred_cached: bool = False
    message: str = ""
    n_databases: int = 0
    feasible: bool = True
    abstained: bool = False
    #: truncated results (columns, first rows, row count), kept for examples that are not correct
    gold_result: dict[str, Any] | None = None
    pred_result: dict[str, Any] | None = None

    @property
    def judged(self) -> bool:
        return self.correct is not None

    def to_json(self) -> dict[str, Any]:
        # Built by hand: dataclasses.asdict deep-copies every row preview and dominates checkpointing.
        data = {name: getattr(self, name) for name in _EXAMPLE_FIELDS}
        data["skills"] = list(self.skills)
        data["pred_ms"] = round(self.pred_ms, 3)
        data["gold_ms"] = round(self.gold_ms, 3)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExampleResult:
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in data.items() if k in names})


_EXAMPLE_FIELDS = tuple(ExampleResult.__dataclass_fields__)


def _bucket(items: Sequence[ExampleResult]) -> dict[str, Any]:
    judged = [e for e in items if e.judged]
    correct = sum(1 for e in judged if e.correct)
    return {
        "n": len(judged),
        "correct": correct,
        "accuracy": round(correct / len(judged), 6) if judged else None,
        "skipped": len(items) - len(judged),
    }


def _difficulty_key(name: str) -> tuple:
    return (DIFFICULTY_ORDER.index(name) if name in DIFFICULTY_ORDER else len(DIFFICULTY_ORDER), name)


@dataclass
class EvalResult:
    """Per-example results of one evaluation and every breakdown computed from them."""

    config: dict[str, Any]
    examples: list[ExampleResult]
    warnings: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return sum(1 for e in self.examples if e.judged)

    @property
    def correct(self) -> int:
        return sum(1 for e in self.examples if e.correct)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.n if self.n else None

    def overall(self) -> dict[str, Any]:
        skipped = Counter(e.outcome for e in self.examples if not e.judged)
        return {
            "n": self.n,
            "correct": self.correct,
            "accuracy": round(self.accuracy, 6) if self.accuracy is not None else None,
            "total": len(self.examples),
            "skipped": sum(skipped.values()),
            "skipped_by_reason": dict(skipped),
        }

    def _group(self, keys: Callable[[ExampleResult], list[str]]) -> dict[str, list[ExampleResult]]:
        groups: dict[str, list[ExampleResult]] = defaultdict(list)
        for e in self.examples:
            for k in keys(e):
                groups[k].append(e)
        return groups

    def by_difficulty(self) -> dict[str, Any]:
        groups = self._group(lambda e: [e.difficulty] if e.difficulty else [])
        return {k: _bucket(groups[k]) for k in sorted(groups, key=_difficulty_key)}

    def by_skill(self) -> dict[str, Any]:
        groups = self._group(lambda e: list(e.skills))
        return {k: _bucket(groups[k]) for k in sorted(groups)}

    def by_db(self) -> dict[str, Any]:
        groups = self._group(lambda e: [e.db_id])
        return {k: _bucket(groups[k]) for k in sorted(groups)}

    def error_classes(self) -> dict[str, int]:
        counts = Counter(e.outcome for e in self.examples if e.outcome != CORRECT)
        return {k: counts[k] for k in ERROR_CLASSES if counts.get(k)}

    def reliability(self) -> dict[str, Any]:
        samples = [
            ReliabilitySample(feasible=e.feasible, abstained=e.abstained, correct=bool(e.correct))
            for e in self.examples
            if e.judged
        ]
        return reliability_report(samples)

    def to_json(self, per_example: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "config": self.config,
            "overall": self.overall(),
            "by_difficulty": self.by_difficulty(),
            "by_skill": self.by_skill(),
            "by_db": self.by_db(),
            "errors": self.error_classes(),
            "reliability": self.reliability(),
            "warnings": list(self.warnings),
            "elapsed_s": round(self.elapsed_s, 3),
            "stats": self.stats,
        }
        if per_example:
            data["per_example"] = [e.to_json() for e in self.examples]
        return data


# ------------------------------------------------------------------------------------------------
# Planning: what to run for each example
# ------------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    gold: GoldExample
    pred: Prediction
    databases: list[Path]
    feasible: bool = True
    gold_exec: str = ""
    pred_exec: str | None = None
    order_matters: bool = False
    abstained: bool = False
    difficulty: str | None = None
    skills: list[str] = field(default_factory=list)
    #: an outcome decided without running the prediction (empty prediction)
    pred_override: ExecutionOutcome | None = None
    #: a final result decided without executing anything
    decided: ExampleResult | None = None
    #: difficulty, skills and row order worked out (by :class:`_Analysis`)
    analysed: bool = False


@functools.lru_cache(maxsize=4096)
def _sqlite_url(path: Path) -> str:
    return "sqlite:///" + str(path.resolve())


def _database_files(config: EvalConfig, db_id: str) -> list[Path]:
    if config.ts_dir is not None:
        folder = config.ts_dir / db_id
        if config.official:
            return official.spider_database_files(folder)
        return sorted(p for p in folder.glob("*.sqlite") if p.is_file()) if folder.is_dir() else []
    assert config.db_dir is not None
    if config.official and config.format == "spider":
        # The test-suite evaluator always compares on every *.sqlite* file beside the database.
        files = official.spider_database_files(config.db_dir / db_id)
        return files if (config.db_dir / db_id / f"{db_id}.sqlite").is_file() else []
    path = config.db_dir / db_id / f"{db_id}.sqlite"
    return [path] if path.is_file() else []


class _AnalysisStore:
    """Gold-query analyses (difficulty, skills, row order) kept between runs: parsing every gold query
    with sqlglot costs more than executing it on small databases. Entries are keyed by the query
    text and the source of the analysing modules, so a changed analysis never serves stale results."""

    def __init__(self, path: Path | None):
        self._path = path
        self._db: sqlite3.Connection | None = None
        self._new: dict[str, str] = {}
        self._stored: dict[str, str] | None = None
        self._version: str | None = None

    def _open(self) -> None:
        """Opened at the first analysis to look up: a run whose analyses all come from Spider's trees
        never needs it."""
        path, self._path = self._path, None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(path), isolation_level=None)
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS analysis (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
            except sqlite3.Error:
                self._db = None  # a cache that cannot be opened only costs time

    @staticmethod
    def _modules_digest() -> str:
        import importlib.util

        h = hashlib.sha256(str(CHECKPOINT_VERSION).encode())
        for name in (
            "sqlfoundry.sql.hardness", "sqlfoundry.sql.skills", "sqlfoundry.sql.compare", "sqlfoundry.sql.spider_tree",
        ):  # fmt: skip
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.origin and os.path.isfile(spec.origin):
                h.update(Path(spec.origin).read_bytes())
        return h.hexdigest()

    def key(self, *parts: Any) -> str:
        if self._version is None:
            self._version = self._modules_digest()
        # repr is deterministic for the str/dict/list/None parts used here, and far cheaper than JSON.
        return xxhash.xxh3_128_hexdigest(repr((self._version, parts)).encode("utf-8", "surrogatepass"))

    def get(self, key: str) -> Any:
        if key in self._new:
            return json.loads(self._new[key])
        if self._stored is None:
            self._stored = {}
            self._open()
            if self._db is not None:
                try:  # one read of the whole store beats a query per gold example
                    self._stored = dict(self._db.execute("SELECT key, value FROM analysis"))
                except sqlite3.Error:
                    pass
        value = self._stored.get(key)
        return json.loads(value) if value is not None else None

    def put(self, key: str, value: Any) -> None:
        self._new[key] = json.dumps(value)

    def close(self) -> None:
        if self._new and self._path is not None:
            self._open()
        if self._db is not None:
            try:
                if self._new:
                    self._db.execute("BEGIN")
                    self._db.executemany(
                        "INSERT OR REPLACE INTO analysis VALUES (?, ?)", list(self._new.items())
                    )
                    self._db.execute("COMMIT")
            except sqlite3.Error:
                pass
            self._db.close()
            self._db = None


class _Analyzer:
    """Difficulty, skills and row-order rule of gold SQL, memoized in memory and on disk, tolerating
    a missing or failing analysis module."""

    def __init__(self, fmt: str, warnings: list[str], store: _AnalysisStore):
        import importlib.util

        self.fmt = fmt
        self.store = store
        self._memo: dict[str, Any] = {}
        self._tree_memo: dict[str, tuple[str, list[str] | None, bool | None]] = {}
        self.hardness_failures = 0
        #: analyses worked out (not read from the store)
        self.computed = 0
        # The modules (and sqlglot under them) load at the first analysis the store does not hold.
        self._has_hardness = importlib.util.find_spec("sqlfoundry.sql.hardness") is not None
        self._has_skills = importlib.util.find_spec("sqlfoundry.sql.skills") is not None
        if not self._has_hardness and fmt == "spider":
            warnings.append("sqlfoundry.sql.hardness is not available: no Spider hardness breakdown")
        if not self._has_skills:
            warnings.append("sqlfoundry.sql.skills is not available: no per-skill breakdown")

    def _cached(self, compute: Callable[[], Any], *parts: Any) -> Any:
        key = self.store.key(*parts)
        if key in self._memo:
            return self._memo[key]
        value = self.store.get(key)
        if value is None:
            value = compute()
            self.computed += 1
            self.store.put(key, value)
        self._memo[key] = value
        return value

    def _from_tree(self, gold: GoldExample) -> tuple[str, list[str] | None, bool | None] | None:
        """Hardness, skills and row-order rule read off Spider's own parse tree of the gold query,
        when the gold file ships one (skills and order None where the tree cannot hold the whole
        query); worked out once per gold text, in microseconds, so nothing is stored."""
        tree = gold.extra.get("sql")
        if not isinstance(tree, dict) or gold.sql is None:
            return None
        found = self._tree_memo.get(gold.sql)
        if found is None:
            from ..sql import spider_tree

            try:
                level = spider_tree.spider_hardness_from_parsed(tree)
            except (KeyError, IndexError, TypeError, ValueError):
                level = "unknown"
            skills = order = None
            if spider_tree.tree_expresses(gold.sql):
                try:
                    skills = spider_tree.skills_from_tree(tree, gold.sql, checked=True)
                    order = spider_tree.orders_rows_from_tree(tree)
                except (KeyError, IndexError, TypeError, ValueError):
                    skills = order = None
            found = self._tree_memo[gold.sql] = (level, skills, order)
        return found

    def difficulty(self, gold: GoldExample) -> str | None:
        if self.fmt == "bird" or gold.sql is None or gold.difficulty is not None:
            return gold.difficulty
        from_tree = self._from_tree(gold)
        if from_tree is not None:
            # Spider's JSON ships the official parse tree: the official counting applies to it exactly.
            if from_tree[0] == "unknown":
                self.hardness_failures += 1
            return from_tree[0]
        if not self._has_hardness:
            return None

        def compute() -> str:
            from ..sql.hardness import spider_hardness

            try:
                return spider_hardness(gold.sql)
            except Exception:
                return "unknown"

        level = self._cached(compute, "hardness", gold.sql)
        if level == "unknown":
            self.hardness_failures += 1
        return level

    def skills(self, gold: GoldExample) -> list[str]:
        if not self._has_skills or gold.sql is None:
            return []
        from_tree = self._from_tree(gold)
        if from_tree is not None and from_tree[1] is not None:
            return list(from_tree[1])

        def compute() -> list[str]:
            from ..sql.skills import sql_skills

            try:
                return list(sql_skills(gold.sql))
            except Exception:
                return []

        return list(self._cached(compute, "skills", gold.sql))

    def orders_rows(self, gold: GoldExample, gold_exec: str, official_rule: bool) -> bool:
        from ..sql.compare import gold_orders_rows

        if official_rule:  # a substring test: nothing to cache
            return gold_orders_rows(gold_exec, "sqlite", "official")
        from_tree = self._from_tree(gold)
        if from_tree is not None and from_tree[2] is not None:
            # The tree is of the gold text; the executed form differs at most in DISTINCT and spacing.
            return from_tree[2]
        return bool(
            self._cached(lambda: gold_orders_rows(gold_exec, "sqlite", "default"), "order", gold_exec)
        )


def _plan(
    config: EvalConfig, gold: Sequence[GoldExample], preds: Sequence[Prediction], warnings: list[str]
) -> list[_Plan]:
    """What to execute for each example, and the examples decided without executing anything. Cheap:
    the gold analysis (difficulty, skills, row order) is left to :class:`_Analysis`."""
    from ..sql.compare import remove_distinct

    db_cache: dict[str, list[Path]] = {}
    plans = []
    token = config.abstain_token or None
    value_rewrites = 0
    for g, p in zip(gold, preds, strict=True):
        if g.db_id not in db_cache:
            db_cache[g.db_id] = _database_files(config, g.db_id)
        feasible = g.feasible and not is_abstention(g.sql, token)
        plan = _Plan(gold=g, pred=p, databases=db_cache[g.db_id], feasible=feasible)
        plan.abstained = is_abstention(p.sql, token)
        plans.append(plan)
        if not feasible or plan.abstained or not plan.databases:
            base = ExampleResult(
                index=g.index, db_id=g.db_id, correct=None, outcome="", key=p.key, question=g.question,
                gold_sql=g.sql, pred_sql=p.sql, n_databases=len(plan.databases), feasible=feasible,
                abstained=plan.abstained,
            )  # fmt: skip
            if not feasible:
                base.correct = plan.abstained
                base.outcome = CORRECT if plan.abstained else ANSWERED_INFEASIBLE
                base.message = "infeasible question: the right answer is to abstain"
            elif plan.abstained:
                base.correct, base.outcome = False, ABSTAINED
            else:
                base.outcome = UNAVAILABLE
                base.message = f"no database for db_id {g.db_id!r}"
            plan.decided = base
            continue
        assert g.sql is not None
        pred_sql = p.sql if p.sql is not None else ""
        if config.official and config.format == "spider":
            plan.gold_exec = official.spider_gold(g.sql, keep_distinct=config.distinct_kept)
            if "value" in pred_sql:
                value_rewrites += 1
            plan.pred_exec = official.spider_prediction(pred_sql, keep_distinct=config.distinct_kept)
        else:
            gold_sql = official.spider_gold_default(g.sql) if config.format == "spider" else g.sql
            plan.gold_exec = gold_sql if config.distinct_kept else remove_distinct(gold_sql)
            plan.pred_exec = pred_sql if config.distinct_kept else remove_distinct(pred_sql)
        if not pred_sql.strip():
            plan.pred_exec = None
            if config.official and config.format == "bird":
                # BIRD executes a missing prediction as " ": no error, no rows.
                plan.pred_override = ExecutionOutcome(status=OutcomeStatus.OK, columns=[], rows=[])
            else:
                plan.pred_override = ExecutionOutcome(
                    status=OutcomeStatus.SYNTAX_ERROR, message="empty prediction (nothing to execute)"
                )
    if value_rewrites:
        warnings.append(
            f"compat official: {value_rewrites} predictions contain 'value', rewritten to '1' as the "
            "test-suite evaluator does (this corrupts real columns named value)"
        )
    return plans


class _Analysis:
    """Difficulty, skills and the row-order rule of every gold query, worked out while the workers
    run the statements: on a cold cache parsing the gold costs as much as executing it, and on a warm
    one reading the stored analyses is still a tenth of a run. :meth:`step` is the Executor's
    ``idle`` hook (a slice of work whenever the pool would wait for a worker; a thread would contend
    for the interpreter lock instead); judging waits for it to be :attr:`done`.

    The pool pauses the cyclic garbage collector during a batch; parse trees are cyclic, so the
    youngest generation is collected here every few hundred queries parsed meanwhile."""

    _COLLECT_EVERY = 256
    #: seconds of work per idle call: the pool's answers wait at most this long
    SLICE_S = 0.002

    def __init__(self, config: EvalConfig, plans: Sequence[_Plan], warnings: list[str]):
        self.config, self.plans, self.warnings = config, plans, warnings
        self.done = False
        self._next = 0
        self._store: _AnalysisStore | None = None
        self._analyzer: _Analyzer | None = None
        self._notes: list[str] = []
        self._collected_at = 0

    def step(self, slice_s: float | None = None) -> bool:
        """Analyse for about ``slice_s`` seconds (default :attr:`SLICE_S`); True while work is left."""
        if self.done:
            return False
        config = self.config
        if self._analyzer is None:
            self._store = _AnalysisStore(
                config.resolved_cache_dir / "gold-analysis.sqlite" if config.use_cache else None
            )
            self._analyzer = _Analyzer(config.format, self._notes, self._store)
        analyzer = self._analyzer
        spider_rule = config.comparison_mode == "spider"
        until = time.perf_counter() + (self.SLICE_S if slice_s is None else slice_s)
        while self._next < len(self.plans):
            plan = self.plans[self._next]
            self._next += 1
            plan.difficulty = analyzer.difficulty(plan.gold)
            plan.skills = analyzer.skills(plan.gold) if plan.feasible else []
            if plan.decided is not None:
                plan.decided.difficulty, plan.decided.skills = plan.difficulty, plan.skills
            elif spider_rule:
                plan.order_matters = analyzer.orders_rows(plan.gold, plan.gold_exec, config.official)
            plan.analysed = True
            if analyzer.computed - self._collected_at >= self._COLLECT_EVERY and not gc.isenabled():
                gc.collect(0)
                self._collected_at = analyzer.computed
            if time.perf_counter() > until:
                return self._next < len(self.plans)
        if analyzer.hardness_failures:
            self._notes.append(
                f"{analyzer.hardness_failures} gold queries could not be parsed for hardness ('unknown')"
            )
        self.warnings.extend(self._notes)
        self.close()
        self.done = True
        return False

    def wait(self) -> None:
        """Finish what is left, here and now."""
        while self.step(float("inf")):
            pass

    def reach(self, plans: Iterable[_Plan]) -> None:
        """Analyse up to the last of ``plans`` (in order), and no further."""
        for plan in plans:
            while not plan.analysed and self.step(0.0):
                pass

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


# ------------------------------------------------------------------------------------------------
# Judging one example
# ------------------------------------------------------------------------------------------------


def _clip(value: Any) -> Any:
    v = json_value(value)
    if isinstance(v, str) and len(v) > _PREVIEW_CHARS:
        return v[: _PREVIEW_CHARS - 1] + "…"
    return v


def result_preview(outcome: ExecutionOutcome | None) -> dict[str, Any] | None:
    """A small JSON form of a result for reports: status, columns, the first rows, the row count."""
    if outcome is None:
        return None
    data: dict[str, Any] = {"status": outcome.status.value, "row_count": outcome.row_count}
    if outcome.ok:
        data["columns"] = list(outcome.columns)
        data["rows"] = [[_clip(v) for v in row] for row in (outcome.rows or [])[:_PREVIEW_ROWS]]
    else:
        data["message"] = outcome.message[:500]
    return data


def _same_result(gold: ExecutionOutcome, pred: ExecutionOutcome, mode: str, order_matters: bool) -> bool:
    from ..sql.compare import compare_results

    # Equal multiset fingerprints mean the same rows with the same multiplicities in the same column
    # order: equal under every mode, given equal order where order counts. Anything else is decided
    # on the rows (column permutations, duplicates under set semantics, float tolerance).
    if gold.fingerprint is not None and gold.fingerprint == pred.fingerprint:
        if not (order_matters or mode == "strict") or gold.ordered_fingerprint == pred.ordered_fingerprint:
            return True
    try:
        return compare_results(gold, pred, mode, order_matters=order_matters)
    except (ValueError, TypeError):
        # Rows that cannot be compared (e.g. a result the cache kept as fingerprints only) are not
        # evidence of a correct answer; the example stays wrong instead of stopping the run.
        return False


def _judge(
    config: EvalConfig, plan: _Plan, gold_outs: list[ExecutionOutcome], pred_outs: list[ExecutionOutcome]
) -> ExampleResult:
    g, p = plan.gold, plan.pred
    res = ExampleResult(
        index=g.index, db_id=g.db_id, correct=False, outcome=WRONG_RESULT, key=p.key, question=g.question,
        difficulty=plan.difficulty, skills=plan.skills, gold_sql=g.sql, pred_sql=p.sql,
        n_databases=len(plan.databases), feasible=True, abstained=False,
    )  # fmt: skip
    res.gold_ms = sum(o.elapsed_ms for o in gold_outs)
    res.pred_ms = sum(o.elapsed_ms for o in pred_outs)
    res.gold_cached = bool(gold_outs) and all(o.cached for o in gold_outs)
    res.pred_cached = bool(pred_outs) and all(o.cached for o in pred_outs)
    failed_gold = next((o for o in gold_outs if not o.ok), None)
    if failed_gold is not None:
        res.outcome = GOLD_ERROR
        res.correct = False if config.gold_error_policy == "wrong" else None
        res.message = f"gold query failed ({failed_gold.status.value}): {failed_gold.message}"
        res.gold_result = result_preview(failed_gold)
        return res
    mode = config.comparison_mode
    for db_i, (go, po) in enumerate(zip(gold_outs, pred_outs, strict=True)):
        where = f" on {plan.databases[db_i].name}" if len(plan.databases) > 1 else ""
        if not po.ok:
            res.outcome = po.status.value
            res.message = po.message + where
        elif (
            config.official
            and config.format == "bird"
            and official.bird_over_budget(po.elapsed_ms, go.elapsed_ms, config.timeout)
        ):
            res.outcome = OutcomeStatus.TIMEOUT.value
            res.message = (
                f"prediction ({po.elapsed_ms:.0f} ms) and gold ({go.elapsed_ms:.0f} ms) together exceed "
                f"BIRD's shared {config.timeout:g} s budget"
            )
        elif _same_result(go, po, mode, plan.order_matters):
            continue
        else:
            res.outcome = WRONG_RESULT
            res.message = (
                f"results differ ({mode} comparison{', ordered' if plan.order_matters else ''}){where}"
            )
        res.correct = False
        res.gold_result = result_preview(go)
        res.pred_result = result_preview(po)
        return res
    res.correct, res.outcome = True, CORRECT
    return res


# ------------------------------------------------------------------------------------------------
# Checkpoints
# ------------------------------------------------------------------------------------------------


def run_key(config: EvalConfig, gold: Sequence[GoldExample], preds: Sequence[Prediction]) -> str:
    """Identity of a run: the score-shaping options and the paired gold/prediction texts."""
    h = hashlib.sha256()
    opts = {k: v for k, v in config.summary().items() if k not in ("gold", "pred", "limit")}
    h.update(json.dumps(opts, sort_keys=True).encode())
    for g, p in zip(gold, preds, strict=True):
        h.update(json.dumps([g.index, g.db_id, g.sql, g.feasible, p.key, p.sql]).encode())
    return h.hexdigest()


def _checkpoint_path(config: EvalConfig, key: str) -> Path:
    if config.checkpoint is not None:
        return config.checkpoint
    return config.resolved_cache_dir / "checkpoints" / f"{key[:24]}.jsonl"


#: What a checkpoint line keeps of an example: what judging decided. The rest (question, SQL, database,
#: key…) is the run's input, which the run key pins, and comes back from the plan on resume.
_CHECKPOINT_FIELDS = (
    "index", "correct", "outcome", "message", "pred_ms", "gold_ms", "gold_cached", "pred_cached",
    "difficulty", "skills", "gold_result", "pred_result",
)  # fmt: skip


def load_checkpoint(path: Path, key: str) -> dict[int, dict[str, Any]]:
    """Per-example judged fields of an earlier run of the same key (an interrupted last line is ignored)."""
    if not path.is_file():
        return {}
    done: dict[int, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as fh:
        header_line = fh.readline()
        try:
            header = json.loads(header_line)
        except json.JSONDecodeError:
            raise CheckpointMismatchError(
                f"{path} is not an evaluation checkpoint; remove it or drop --resume"
            ) from None
        if header.get("checkpoint_version") != CHECKPOINT_VERSION or header.get("run_key") != key:
            raise CheckpointMismatchError(
                f"checkpoint {path} was written for a different run (other gold, predictions or options); "
                "remove it or drop --resume"
            )
        for line in fh:
            try:
                data = json.loads(line)
                done[int(data["index"])] = data
            except (json.JSONDecodeError, TypeError, KeyError, ValueError):
                continue
    return done


def _restored(plan: _Plan, data: dict[str, Any]) -> ExampleResult:
    g, p = plan.gold, plan.pred
    res = ExampleResult(
        index=g.index, db_id=g.db_id, correct=None, outcome="", key=p.key, question=g.question,
        gold_sql=g.sql, pred_sql=p.sql, n_databases=len(plan.databases), feasible=plan.feasible,
        abstained=plan.abstained,
    )  # fmt: skip
    for name in _CHECKPOINT_FIELDS:
        if name in data:
            setattr(res, name, data[name])
    return res


#: One encoder for every checkpoint line (json.dumps builds a new one per call given any option).
_encode_line = json.JSONEncoder(ensure_ascii=False).encode


class _CheckpointWriter:
    """Appends judged examples to the run's checkpoint, created at the first one (so that naming it,
    which digests the whole input, is not paid before the workers start)."""

    FLUSH_S = 0.2

    def __init__(self, path_of: Callable[[], Path], key_of: Callable[[], str], append: bool):
        self._path_of, self._key_of, self._append = path_of, key_of, append
        self._flushed = time.monotonic()
        self.path: Path | None = None
        self.fh: Any = None

    def _open(self) -> None:
        path = self.path = self._path_of()
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not (self._append and path.is_file())
        self.fh = path.open("w" if fresh else "a", encoding="utf-8")
        if fresh:
            self.fh.write(
                json.dumps({"checkpoint_version": CHECKPOINT_VERSION, "run_key": self._key_of()}) + "\n"
            )
            self.fh.flush()

    def write(self, results: Sequence[ExampleResult]) -> None:
        if results:
            if self.fh is None:
                self._open()
            self.fh.write(
                "".join(
                    _encode_line({name: getattr(r, name) for name in _CHECKPOINT_FIELDS}) + "\n"
                    for r in results
                )
            )
            # Flushed at most every FLUSH_S: a kill loses at most that much work, and a fast run does
            # not pay one system call per example.
            now = time.monotonic()
            if now - self._flushed >= self.FLUSH_S:
                self.fh.flush()
                self._flushed = now

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------

#: progress(done, total) in executed-or-cached statements
ProgressHook = Callable[[int, int], None]


#: Bumped when GoldExample's fields change, so that parsed gold files cached before are not read.
_GOLD_CACHE_VERSION = 1
_GOLD_FIELDS = tuple(GoldExample.__dataclass_fields__)


def _read_gold_cached(config: EvalConfig) -> list[GoldExample]:
    """``read_gold``, with the parsed examples kept in the cache dir by the file's path, size and
    modification time: Spider's dev.json (3.6 MB) takes ~30 ms to parse and ~10 ms to load back."""
    path = Path(config.gold)  # type: ignore[arg-type]
    try:
        st = path.stat()
        ident = f"{_GOLD_CACHE_VERSION}:{_GOLD_FIELDS}:{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return read_gold(path)  # which says what is wrong with the file
    if not config.use_cache:
        return read_gold(path)
    cached = config.resolved_cache_dir / "gold" / f"{hashlib.sha256(ident.encode()).hexdigest()[:32]}.marshal"
    try:
        return [GoldExample(*fields) for fields in marshal.loads(cached.read_bytes())]
    except (OSError, EOFError, ValueError, TypeError):
        pass
    gold = read_gold(path)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps([tuple(getattr(g, name) for name in _GOLD_FIELDS) for g in gold]))
        os.replace(tmp, cached)  # whole or not at all, even with runs side by side
    except (OSError, ValueError):
        pass  # only time is lost
    return gold


def load_pairs(config: EvalConfig) -> tuple[list[GoldExample], list[Prediction]]:
    """Read the gold and prediction files and pair them as the config says (keys or positions)."""
    if config.gold is None or config.pred is None:
        raise InputFormatError("both a gold file and a prediction file are needed")
    gold = _read_gold_cached(config)
    preds = read_predictions(config.pred, cut_at_tab=True)
    source = str(config.pred)
    if config.format == "bird" and not config.official:
        paired = pair_by_key(gold, preds, keys=config.pred_keys, source=source)
    elif config.format == "spider" and not config.official and any(p.key is not None for p in preds):
        paired = pair_by_key(gold, preds, keys=config.pred_keys, source=source)
    else:
        # BIRD's evaluator takes the JSON values in file order and ignores the keys (mini_dev#41).
        paired = pair_by_position(gold, preds, source=source)
    return gold, paired


def evaluate(config: EvalConfig, progress: ProgressHook | None = None) -> EvalResult:
    """Evaluate the prediction file against the gold file named in ``config``."""
    from ..db.executor import gc_paused

    files_key = _files_key(config)
    ex = None
    if files_key is not None and not _all_cached(config, files_key):
        # Workers start now (interpreter + imports), and are ready once the files are read and planned.
        ex = _new_executor(config, prestart=True)
    try:
        # Reading the files allocates a few hundred thousand objects, none of them in cycles.
        with gc_paused():
            gold, preds = load_pairs(config)
        result = evaluate_pairs(config, gold, preds, progress, executor=ex)
    finally:
        if ex is not None:
            ex.close()
    if files_key is not None:
        _remember_finished(config, files_key)
    return result


def _files_key(config: EvalConfig) -> str | None:
    """Identity of a run from its options and both files' path, size and modification time, known
    before reading them (None when a file cannot be examined: reading it will say why)."""
    try:
        parts = [json.dumps(config.summary(), sort_keys=True, default=str)]
        for path in (config.gold, config.pred):
            st = Path(path).stat()  # type: ignore[arg-type]
            parts.append(f"{Path(path).resolve()}:{st.st_size}:{st.st_mtime_ns}")  # type: ignore[arg-type]
    except (OSError, TypeError, ValueError):
        return None
    return "files-" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def _all_cached(config: EvalConfig, key: str) -> bool:
    """Whether every statement will most likely come from the result cache: this very run finished
    before with this cache and its predictions are not to be run afresh."""
    return (
        config.use_cache
        and not config.fresh_predictions
        and (config.resolved_cache_dir / RESULTS_CACHE).is_file()
        and _finished_before(config, key)
    )


def _new_executor(config: EvalConfig, prestart: bool):
    from ..db.executor import Executor

    limits = Limits(timeout_s=config.timeout, max_rows=config.max_rows)
    # This process judges, analyses and runs gold statements itself: it is one of the CPUs.
    return Executor(
        workers=config.workers, limits=limits, cache=False, prestart=prestart, share_with_caller=True
    )


def evaluate_pairs(
    config: EvalConfig,
    gold: Sequence[GoldExample],
    preds: Sequence[Prediction | str | None],
    progress: ProgressHook | None = None,
    *,
    executor: Any = None,
) -> EvalResult:
    """Evaluate predictions already paired with gold (same length, same order). ``executor``: an
    Executor to run statements on (left open), instead of a pool of this run's own."""
    started = time.monotonic()
    if len(gold) != len(preds):
        raise InputFormatError(
            f"{len(preds)} predictions for {len(gold)} gold examples; they must pair one to one"
        )
    preds = [p if isinstance(p, Prediction) else Prediction(sql=p, position=i) for i, p in enumerate(preds)]
    if config.limit is not None:
        gold, preds = list(gold)[: config.limit], preds[: config.limit]
    if config.db_dir is None and config.ts_dir is None:
        raise InputFormatError("a database folder is needed (--db-dir)")
    for name, folder in (("--db-dir", config.db_dir), ("--ts-dir", config.ts_dir)):
        if folder is not None and not folder.is_dir():
            raise InputFormatError(f"{name} {folder} is not a folder")

    warnings: list[str] = []
    # 'SQL<TAB>db_id' lines are the documented format; any other TAB cuts a query short.
    cut = [
        g.index
        for g, p in zip(gold, preds, strict=True)
        if p.raw is not None and p.key is None and "\t" in p.raw.strip()
        and p.raw.strip().split("\t", 1)[1].strip() != g.db_id
    ]  # fmt: skip
    if cut:
        warnings.append(
            f"{len(cut)} prediction lines hold a TAB that is not a 'SQL<TAB>db_id' separator (examples "
            f"{', '.join(map(str, cut[:10]))}): only the text before the first TAB was kept, as the Spider "
            "test-suite evaluator does"
        )
    if config.official and config.format == "spider":
        blank = sum(1 for p in preds if not (p.sql or "").strip())
        if blank:
            warnings.append(
                f"{blank} predictions are empty lines: the official test-suite script reads blank lines as "
                "turn separators and aborts ('number of sessions must equal'); they are counted wrong here"
            )
    limits = Limits(timeout_s=config.timeout, max_rows=config.max_rows)
    # Worked out when first needed (a digest of every text: ~3 ms on Spider dev), which for a run
    # with a pool of its caller's is once the first example is judged, while the workers run.
    key = functools.cache(lambda: run_key(config, gold, preds))
    ex = executor
    if ex is None and gold:
        # The pool's workers start (interpreter + imports, ~50 ms of CPU each) while the gold is
        # planned, unless every statement will most likely come from the result cache; then they
        # start only at a cache miss.
        ex = _new_executor(config, prestart=not _all_cached(config, key()))
    try:
        result = _evaluate_planned(config, gold, preds, warnings, ex, limits, progress, started, key)
    finally:
        if ex is not None and ex is not executor:
            ex.close()
    _remember_finished(config, key())
    return result


#: Run keys of the last evaluations that finished with this cache folder, one per line.
FINISHED_RUNS = "finished-runs.txt"
_FINISHED_KEPT = 500


def _finished_before(config: EvalConfig, key: str) -> bool:
    try:
        return key in (config.resolved_cache_dir / FINISHED_RUNS).read_text(encoding="utf-8").split()
    except OSError:
        return False


def _remember_finished(config: EvalConfig, key: str) -> None:
    if not config.use_cache:
        return
    path = config.resolved_cache_dir / FINISHED_RUNS
    try:
        keys = [k for k in path.read_text(encoding="utf-8").split() if k != key] if path.is_file() else []
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([*keys[-(_FINISHED_KEPT - 1) :], key]) + "\n", encoding="utf-8")
    except OSError:
        pass  # only a start-up hint is lost


def _evaluate_planned(config, gold, preds, warnings, ex, limits, progress, started, key) -> EvalResult:
    plans = _plan(config, gold, preds, warnings)
    done = load_checkpoint(_checkpoint_path(config, key()), key()) if config.resume else {}
    results: dict[int, ExampleResult] = {}
    for plan in plans:
        if plan.gold.index in done:
            results[plan.gold.index] = _restored(plan, done[plan.gold.index])
    todo = [p for p in plans if p.gold.index not in results]
    # Worked out while the pool waits for its workers (the Executor's idle hook).
    analysis = _Analysis(config, todo, warnings)
    writer = _CheckpointWriter(
        lambda: _checkpoint_path(config, key()), key, append=config.resume and bool(done)
    )
    judge = _Judge(config, analysis, results, writer)
    stats: Counter = Counter(resumed=len(results))
    result_cache = _ResultCache(config.resolved_cache_dir / RESULTS_CACHE if config.use_cache else None)
    try:
        for p in todo:
            if p.decided is not None:
                judge.decided(p)
        to_run = [p for p in todo if p.decided is None]
        total = sum(len(p.databases) * (2 if p.pred_exec is not None else 1) for p in to_run)
        counter = [0]

        def tick(*_: Any) -> None:
            counter[0] += 1
            if progress is not None:
                progress(counter[0], total)

        if progress is not None:
            progress(0, total)
        if to_run:
            assert ex is not None
            for start in range(0, len(to_run), max(1, config.chunk_size)):
                chunk = to_run[start : start + config.chunk_size]
                _run_chunk(config, chunk, ex, result_cache, limits, tick, judge, stats, analysis)
                if judge.backlog > 2 * config.chunk_size:
                    # Outcomes waiting for a slow analysis hold their rows: at most ~three chunks of
                    # them (the next chunk's waits go on with the analysis meanwhile).
                    analysis.wait()
                    judge.flush()
            stats.update({f"executor_{k}": v for k, v in ex.stats.items()})
        analysis.wait()
        judge.flush()
    except BaseException:
        # Interrupted (Ctrl-C, a progress callback that raised): what was executed is checkpointed,
        # so that --resume does not run it again.
        try:
            judge.salvage()
        except Exception:
            pass  # the interruption is what the caller needs to see
        raise
    finally:
        analysis.close()
        writer.close()
        result_cache.close()
    ordered = [results[p.gold.index] for p in plans]
    _summarize_warnings(config, ordered, warnings)
    if writer.path is not None or config.resume:
        try:
            # A finished run needs no checkpoint: its results are returned.
            (writer.path or _checkpoint_path(config, key())).unlink()
        except OSError:
            pass
    return EvalResult(
        config=config.summary(),
        examples=ordered,
        warnings=warnings,
        elapsed_s=time.monotonic() - started,
        stats=dict(stats),
    )


class _Judge:
    """Judges examples as their outcomes arrive and checkpoints them; until the gold analysis is done
    (the row-order rule decides correctness), they wait in memory in arrival order."""

    def __init__(self, config: EvalConfig, analysis: _Analysis, results: dict[int, ExampleResult], writer):
        self.config, self.analysis, self.results, self.writer = config, analysis, results, writer
        #: (plan, gold outcomes, prediction outcomes); outcomes None where the plan's result is decided
        self._waiting: list[tuple[_Plan, Any, Any]] = []

    def decided(self, plan: _Plan) -> None:
        # Listed now for the final order; written once the analysis has filled in its breakdowns.
        assert plan.decided is not None
        self.results[plan.decided.index] = plan.decided
        self._waiting.append((plan, None, None))
        self.flush()

    def example(
        self, plan: _Plan, gold_outs: list[ExecutionOutcome], pred_outs: list[ExecutionOutcome]
    ) -> None:
        self._waiting.append((plan, gold_outs, pred_outs))
        self.flush()

    @property
    def backlog(self) -> int:
        return len(self._waiting)

    def flush(self) -> None:
        if not self._waiting or not self.analysis.done:
            return
        self._write(self._waiting)

    def salvage(self) -> None:
        """Judges and writes every waiting example now, analysing only their own gold queries (a run
        being interrupted must not wait for the whole analysis)."""
        self.analysis.reach(plan for plan, _, _ in self._waiting)
        self._write(self._waiting)

    def _write(self, items: list[tuple[_Plan, Any, Any]]) -> None:
        ready = [
            plan.decided if gold_outs is None else _judge(self.config, plan, gold_outs, pred_outs)
            for plan, gold_outs, pred_outs in items
        ]
        items.clear()
        for r in ready:
            self.results[r.index] = r
        self.writer.write(ready)


class _ResultCache:
    """Outcomes kept between runs, keyed as the Executor keys its own cache: (database identity —
    path, size, mtime —, normalized SQL, limits). Gold statements always use it; predictions too
    unless ``fresh_predictions`` (a prediction identical to a cached statement, often its own gold,
    is then not run again)."""

    def __init__(self, path: Path | None):
        from ..db.executor import ResultCache

        self.cache = ResultCache(path)
        self._identity: dict[str, str] = {}

    def key(self, url: str, sql: str, limits: Limits) -> tuple:
        from ..db.executor import database_identity, statement_key
        from ..db.url import parse_url

        ident = self._identity.get(url)
        if ident is None:
            ident = self._identity[url] = database_identity(parse_url(url))
        return statement_key(ident, sql, limits)

    def lookup(self, queries: Sequence[Any], fresh: Sequence[bool]) -> tuple[list[tuple | None], list[Any]]:
        """Cache keys (None where ``fresh[i]``: neither read nor stored, e.g. a prediction timed
        afresh) and cached outcomes (None for a miss) of ``queries``, read in one go."""
        keys = [None if f else self.key(q.url, q.sql, q.limits) for q, f in zip(queries, fresh, strict=True)]
        looked = [k for k in keys if k is not None]
        hits = iter(self.cache.get_many(looked, need_rows=True) if looked else [])
        return keys, [None if k is None else next(hits) for k in keys]

    def store(self, items: list[tuple[tuple, ExecutionOutcome]]) -> None:
        if items:
            self.cache.put_many(items)

    def close(self) -> None:
        self.cache.close()


#: examples whose statements are prepared (cache lookups included) per block fed to the Executor
_FEED_EXAMPLES = 64
#: outcomes written to the result cache per write while the workers run
_STORE_EVERY = 256


def _run_chunk(config, chunk, ex, result_cache, limits, tick, judge: _Judge, stats, analysis) -> None:
    """Gold and prediction statements of a chunk of examples in one streamed batch: the workers start
    on the first block of examples while the next blocks are prepared (statements built, cached
    outcomes looked up); cached outcomes are used at once; each example is judged as soon as its last
    statement is back. While the pool waits, the gold analysis goes on and new outcomes are written
    to the result cache. A prediction runs even where its gold fails (rare; the example is then a
    gold error whatever it returns), so that the workers start on predictions without waiting."""
    from ..db.executor import Query

    per_gold: list[list[Any]] = [[] for _ in chunk]
    per_pred: list[list[Any]] = [[] for _ in chunk]
    remaining = [0] * len(chunk)
    #: per statement sent to the Executor: (example, kind, database) and its cache key (None: not stored)
    sent_slots: list[tuple[int, int, int]] = []
    sent_keys: list[tuple | None] = []
    to_store: list[tuple[tuple, ExecutionOutcome]] = []
    cursor = [0]

    def on_done(slot: tuple[int, int, int], outcome: ExecutionOutcome) -> None:
        tick()
        pi, kind, d = slot
        (per_pred if kind else per_gold)[pi][d] = outcome
        remaining[pi] -= 1
        if remaining[pi] == 0:
            # Judged and checkpointed as soon as its last statement is back (and the analysis is done).
            judge.example(chunk[pi], per_gold[pi], per_pred[pi])

    def next_block() -> list[Any] | None:
        lo = cursor[0]
        if lo >= len(chunk):
            return None
        hi = cursor[0] = min(len(chunk), lo + _FEED_EXAMPLES)
        queries, slots, hit_stats, fresh = [], [], [], []
        for pi in range(lo, hi):
            plan = chunk[pi]
            n = len(plan.databases)
            per_gold[pi] = [None] * n
            per_pred[pi] = (
                [None] * n
                if plan.pred_exec is not None
                else [plan.pred_override or ExecutionOutcome(status=OutcomeStatus.RUNTIME_ERROR)] * n
            )
            for kind, sql in ((0, plan.gold_exec), (1, plan.pred_exec)):
                if sql is None:
                    continue
                for d, db in enumerate(plan.databases):
                    # Gold SQL comes from the benchmark's file, not from a model: the pool may run it
                    # in this process while it waits.
                    queries.append(Query(_sqlite_url(db), sql, limits, True, trusted=not kind))
                    slots.append((pi, kind, d))
                    hit_stats.append("pred_cache_hits" if kind else "gold_cache_hits")
                    fresh.append(bool(kind) and config.fresh_predictions)
                    remaining[pi] += 1
            stats["gold_statements"] += n
            if plan.pred_exec is not None:
                stats["pred_statements"] += n
        keys, hits = result_cache.lookup(queries, fresh)
        misses = []
        for i, hit in enumerate(hits):
            if hit is None:
                misses.append(queries[i])
                sent_slots.append(slots[i])
                sent_keys.append(keys[i])
            else:
                stats[hit_stats[i]] += 1
                on_done(slots[i], hit)
        return misses

    def progress(j: int, outcome: ExecutionOutcome) -> None:
        on_done(sent_slots[j], outcome)
        if sent_keys[j] is not None:
            to_store.append((sent_keys[j], outcome))

    def idle() -> bool:
        if analysis.step():
            return True
        if len(to_store) >= _STORE_EVERY:
            result_cache.store(to_store[:])
            to_store.clear()
            return True
        return False

    first = next_block() or []
    ex.run_batch(first, progress=progress, idle=idle, more=next_block)
    result_cache.store(to_store)
    # A progress callback that did not fire (it should) still must not lose an example.
    for pi, plan in enumerate(chunk):
        if remaining[pi] > 0:
            missing = ExecutionOutcome(status=OutcomeStatus.RUNTIME_ERROR, message="no outcome")
            judge.example(plan, [o or missing for o in per_gold[pi]], [o or missing for o in per_pred[pi]])


def _summarize_warnings(config: EvalConfig, examples: Sequence[ExampleResult], warnings: list[str]) -> None:
    unavailable = Counter(e.db_id for e in examples if e.outcome == UNAVAILABLE)
    if unavailable:
        where = config.ts_dir or config.db_dir
        ids = ", ".join(f"{db} ({n})" for db, n in unavailable.most_common())
        warnings.append(
            f"{sum(unavailable.values())} examples skipped, database not found under {where}: {ids}; "
            "they are not counted as right or wrong"
        )
    gold_errors = [e for e in examples if e.outcome == GOLD_ERROR]
    if gold_errors:
        how = (
            "counted wrong (the official Spider script aborts on a failing gold query; BIRD scores it 0)"
            if config.gold_error_policy == "wrong"
            else "skipped, not counted as right or wrong"
        )
        first = ", ".join(str(e.index) for e in gold_errors[:10])
        warnings.append(f"{len(gold_errors)} gold queries failed to execute (examples {first}…): {how}")
