"""The synthesis pipeline: from a database URL to verified, deduplicated (question, SQL) records.

introspect → sample in batches → pre-dedup → verify (Executor) → dedup → realize questions → CoT →
re-verify in other dialects → infeasible questions → decontaminate → append to ``records.jsonl``.
The record stream is a pure function of the database and the stream options of :class:`SynthConfig`,
so a run killed at any point resumes by replaying the stream and skipping ids already on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import random
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from ..db.executor import Executor
from ..db.outcome import Limits
from ..db.schema_model import Schema
from ..errors import SQLFoundryError
from ..records import COMPLEXITIES, Provenance, Record, RecordWriter
from .config import EmptySchemaError, ResumeMismatchError, SynthConfig, SynthConfigError, SynthError
from .dedup import ResultIndex, ResultKey, SQLKeys, TemplateIndex, sql_keys
from .dialects import TranspileError, engine_dialect, reverify_in_dialect, transpile_sql
from .types import Realization, SampledQuery, UnsupportedSQL
from .verify import Rejection, Verdict, verify_batch

log = logging.getLogger("sqlfoundry.synth")

RECORDS_FILE = "records.jsonl"
MANIFEST_FILE = "manifest.json"
PARQUET_FILE = "records.parquet"
CACHE_DIR = ".cache"
GENERATOR = "rule"
#: infeasible questions drawn per call (five categories × five styles)
_INFEASIBLE_CHUNK = 25


# ------------------------------------------------------------------------------------------------
# The steps (plain callables, swappable: an LLM realizer plugs in here)
# ------------------------------------------------------------------------------------------------


@dataclass
class SynthSteps:
    """The pluggable steps of a run. Defaults are the rule-based modules of this package."""

    #: (schema, config) → an endless, seed-determined stream of SQLite statements
    sample: Callable[[Schema, SynthConfig], Iterator[SampledQuery]]
    #: (sqlite sql, schema, style, rng, with_evidence) → question; raises UnsupportedSQL
    realize: Callable[..., Realization]
    #: (sqlite sql, schema) → step-by-step rationale
    rationale: Callable[[str, Schema], str] | None = None
    #: (schema, rng, n, styles=…, with_cot=…) → unanswerable-question records
    infeasible: Callable[..., list[Record]] | None = None
    #: (exclude files) → an object with ``match(question, sql, dialect)`` returning None when clean
    decontaminator: Callable[[list[str]], Any] | None = None
    #: the generator kind written into provenance (``rule``, ``llm``)
    generator: str = GENERATOR
    #: the model behind the questions, when one wrote them
    model: str | None = None

    @classmethod
    def default(cls) -> SynthSteps:
        """The rule-based steps; a missing module is reported as a SynthError naming it."""
        try:
            from .realize import realize_question
            from .sampler import sample_queries
        except ImportError as exc:
            raise SynthError(f"synthesis needs {exc.name}, which is not installed in this build") from None
        steps = cls(sample=_default_sampler(sample_queries), realize=realize_question)
        with contextlib.suppress(ImportError):
            from .cot import rationale_from_sql

            steps.rationale = rationale_from_sql
        with contextlib.suppress(ImportError):
            from .infeasible import make_infeasible

            steps.infeasible = make_infeasible
        with contextlib.suppress(ImportError):
            from .decontaminate import Decontaminator

            steps.decontaminator = Decontaminator.from_files
        return steps


def _default_sampler(sample_queries: Callable) -> Callable[[Schema, SynthConfig], Iterator[SampledQuery]]:
    def sample(schema: Schema, config: SynthConfig) -> Iterator[SampledQuery]:
        from .sampler import SamplerConfig

        wanted: dict[str, Any] = {"seed": config.seed, "complexity_weights": dict(config.complexity_weights)}
        if config.skill_weights:
            wanted["skill_weights"] = dict(config.skill_weights)
        fields = getattr(SamplerConfig, "model_fields", None) or getattr(
            SamplerConfig, "__dataclass_fields__", {}
        )
        known = {k: v for k, v in wanted.items() if not fields or k in fields}
        return iter(sample_queries(schema, SamplerConfig(**known)))

    return sample


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------


@dataclass
class SynthReport:
    """What a run produced; also written, with the config, to ``manifest.json``.

    Accounting: ``candidates == accepted_sql + sum(rejections.values())`` (every sampled statement is
    kept or rejected for exactly one reason), and ``feasible + beyond_n == accepted_sql ×
    questions_per_sql × len(dialects) − sum(record_rejections.values())``.
    """

    out_dir: Path
    n: int
    records: int = 0  # records in the stream (≤ n); the file holds them all after a complete run
    written: int = 0  # appended by this run
    resumed: int = 0  # already on disk from an earlier, interrupted run
    feasible: int = 0
    infeasible: int = 0
    non_empty: int = 0
    candidates: int = 0
    accepted_sql: int = 0
    tie_broken: int = 0
    #: records made from kept statements after the stream had reached ``n`` (not written)
    beyond_n: int = 0
    #: infeasible questions dropped by decontamination
    infeasible_decontaminated: int = 0
    rejections: Counter = field(default_factory=Counter)
    record_rejections: Counter = field(default_factory=Counter)
    by_style: Counter = field(default_factory=Counter)
    by_complexity: Counter = field(default_factory=Counter)
    by_dialect: Counter = field(default_factory=Counter)
    #: feasible records per (style, complexity)
    style_complexity: Counter = field(default_factory=Counter)
    timings: dict[str, float] = field(default_factory=dict)
    elapsed_s: float = 0.0
    complete: bool = False
    warnings: list[str] = field(default_factory=list)
    db_id: str = ""
    parquet: Path | None = None

    @property
    def records_path(self) -> Path:
        return self.out_dir / RECORDS_FILE

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / MANIFEST_FILE

    @property
    def records_per_s(self) -> float:
        return self.records / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def non_empty_rate(self) -> float:
        return self.non_empty / self.feasible if self.feasible else 0.0

    def counts(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "written_this_run": self.written,
            "resumed": self.resumed,
            "feasible": self.feasible,
            "infeasible": self.infeasible,
            "non_empty": self.non_empty,
            "non_empty_rate": round(self.non_empty_rate, 4),
            "candidates": self.candidates,
            "accepted_sql": self.accepted_sql,
            "tie_broken": self.tie_broken,
            "beyond_n": self.beyond_n,
            "infeasible_decontaminated": self.infeasible_decontaminated,
            "by_style": dict(sorted(self.by_style.items())),
            "by_complexity": {c: self.by_complexity[c] for c in COMPLEXITIES if c in self.by_complexity},
            "by_dialect": dict(sorted(self.by_dialect.items())),
            "by_style_complexity": {
                s: {c: self.style_complexity[(s, c)] for c in COMPLEXITIES if self.style_complexity[(s, c)]}
                for s in sorted({s for s, _ in self.style_complexity})
            },
        }


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def record_id(db_id: str, sql: str, style: str, seed: int, dialect: str = "sqlite") -> str:
    """Deterministic record id: the same database, statement, style, seed and dialect give the same id."""
    digest = hashlib.sha256("\x1f".join((db_id, dialect, sql, style, str(seed))).encode("utf-8")).hexdigest()
    return f"{db_id}-{digest[:20]}"


def _rng(*parts: object) -> random.Random:
    # str seeds are hashed with SHA-512 by random.seed: stable across processes (unlike hash())
    return random.Random(":".join(map(str, parts)))


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so a reader (or a crash) only ever sees the old file or the complete new one."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=False, default=str)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class _Stopwatch:
    """Wall time per stage; a stage timed inside another is not counted twice (each thread has its own
    nesting)."""

    def __init__(self) -> None:
        self.totals: Counter = Counter()
        self._local = threading.local()

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        stack = self._local.__dict__.setdefault("stack", [])
        stack.append(0.0)  # time spent in stages nested in this one
        t0 = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - t0
            nested = stack.pop()
            self.totals[stage] += spent - nested
            if stack:
                stack[-1] += spent

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in sorted(self.totals.items())}


def load_schema(url: str, config: SynthConfig, warnings: list[str]) -> Schema:
    """Introspect the database and drop what cannot be asked about (empty tables, with a warning).

    Raises DatabaseUnavailableError (unreadable) or EmptySchemaError (no tables, or none with rows)."""
    from ..db.connectors import connector_for
    from ..db.schema import introspect

    connector = connector_for(url)
    connector.open()
    try:
        schema = introspect(connector, sample_values=config.sample_values, db_id=config.db_id)
    finally:
        connector.close()
    where = connector.url.display
    if not schema.tables:
        raise EmptySchemaError(f"database {where} has no tables: nothing to synthesize questions about")
    empty = [t.name for t in schema.tables if t.row_count == 0 or not t.columns]
    if empty:
        shown = ", ".join(empty[:10]) + (f" and {len(empty) - 10} more" if len(empty) > 10 else "")
        warnings.append(f"skipped {len(empty)} empty table(s): {shown}")
        keep = [t for t in schema.tables if t.name not in set(empty)]
        if not keep:
            raise EmptySchemaError(f"every table in {where} is empty: load data first, then synthesize")
        names = {t.name.lower() for t in keep}
        for t in keep:
            t.foreign_keys = [fk for fk in t.foreign_keys if fk.ref_table.lower() in names]
        schema = schema.model_copy(update={"tables": keep})
    if not any(t.foreign_keys for t in schema.tables):
        warnings.append("no foreign keys: statements will not join tables")
    return schema


# ------------------------------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    index: int
    sampled: SampledQuery
    sql: str  # in the source dialect
    keys: SQLKeys

    @property
    def template(self) -> str:
        return self.keys.template


@dataclass
class _Item:
    """One sampled statement after the checks that need no execution."""

    reason: Rejection | None
    candidate: _Candidate | None = None


@dataclass
class _Kept:
    candidate: _Candidate
    verdict: Verdict
    sqlite_sql: str  # what the realizer and the rationale read
    realizations: list[Realization]


class _Run:
    """One synthesis run's state; :func:`synthesize` is its public face."""

    def __init__(self, url: str, config: SynthConfig, out_dir: Path, steps: SynthSteps, progress: bool):
        self.url = url
        self.config = config
        self.out = out_dir
        self.steps = steps
        self.show_progress = progress
        self.watch = _Stopwatch()
        self.report = SynthReport(out_dir=out_dir, n=config.n)
        self.source_dialect = engine_dialect(url)
        self.dialects = config.dialects or [self.source_dialect]
        self.dialect_urls = {
            d: config.dialect_urls.get(d, url if d == self.source_dialect else "") for d in self.dialects
        }
        missing = [d for d, u in self.dialect_urls.items() if not u]
        if missing:
            raise SynthConfigError(
                f"no database for dialect {', '.join(missing)}: give --dialect-url {missing[0]}=URL "
                "(the same data loaded in that engine) so transpiled SQL can be re-verified"
            )
        for d, u in self.dialect_urls.items():
            if engine_dialect(u) != d:
                raise SynthConfigError(f"--dialect-url {d}={u} points at a {engine_dialect(u)} database")
        self.limits = Limits(timeout_s=config.timeout, max_rows=config.max_result_rows)
        self.templates = TemplateIndex(config.max_per_template)
        self.seen_text: set[str] = set()
        self.results = ResultIndex(config.max_same_result)
        self.style_cursor: Counter = Counter()
        self.rationales: dict[tuple[str, str], str | None] = {}
        self.decontaminator: Any = None
        self.schema: Schema | None = None
        self.writer: RecordWriter | None = None
        self.pending: list[Record] = []
        self.infeasible_pool: list[Record] = []
        self.infeasible_chunk = 0
        self.infeasible_ids: set[str] = set()
        self.infeasible_dry = False

    # -- set-up -----------------------------------------------------------------------------------
    def prepare_out_dir(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        records = self.out / RECORDS_FILE
        manifest = self.out / MANIFEST_FILE
        if not self.config.resume:
            for p in (records, manifest, self.out / PARQUET_FILE):
                p.unlink(missing_ok=True)
            shutil.rmtree(self.out / CACHE_DIR, ignore_errors=True)
            return
        has_records = records.exists() and records.stat().st_size > 0
        if not has_records:
            return
        try:
            previous = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ResumeMismatchError(
                f"{records} exists but {manifest} is missing or unreadable, so this run cannot tell whether "
                "it continues the same stream: use another output folder or --no-resume to start over"
            ) from None
        mine = self._identity()
        theirs = {k: previous.get(k) for k in mine}
        if theirs != mine:
            diff = _differences(theirs, mine)
            raise ResumeMismatchError(
                f"{self.out} holds records from a run with other options ({diff}): use the same options, "
                "another output folder, or --no-resume to start over"
            )

    def _identity(self) -> dict[str, Any]:
        from ..db.url import parse_url

        return {
            "database": parse_url(self.url).key,
            "stream_key": self.config.stream_key(),
            "stream_options": self.config.stream_options(),
        }

    def manifest(self, status: str) -> dict[str, Any]:
        r = self.report
        return {
            "status": status,
            **self._identity(),
            "db_id": r.db_id,
            "source_dialect": self.source_dialect,
            "dialects": self.dialects,
            "config": self._config_for_manifest(),
            "counts": r.counts(),
            "rejections": dict(sorted(r.rejections.items())),
            "record_rejections": dict(sorted(r.record_rejections.items())),
            "timings_s": {**self.watch.as_dict(), "total": round(r.elapsed_s, 3)},
            "records_per_s": round(r.records_per_s, 2),
            "complete": r.complete,
            "warnings": r.warnings,
            "files": {"records": RECORDS_FILE, "parquet": PARQUET_FILE if r.parquet else None},
        }

    def _config_for_manifest(self) -> dict[str, Any]:
        from ..db.url import parse_url

        data = self.config.model_dump(mode="json")
        data["dialect_urls"] = {
            d: parse_url(u).display for d, u in self.config.dialect_urls.items()
        }  # no passwords
        return data

    # -- the stream -------------------------------------------------------------------------------
    def run(self) -> SynthReport:
        t0 = time.perf_counter()
        r = self.report
        with self.watch("introspect"):
            self.schema = load_schema(self.url, self.config, r.warnings)
        self.prepare_out_dir()
        r.db_id = self.config.db_id or self.schema.db_id
        if self.config.exclude:
            if self.steps.decontaminator is None:
                raise SynthError("--exclude needs the decontamination module, which is not in this build")
            with self.watch("decontaminate"):
                self.decontaminator = self.steps.decontaminator(list(self.config.exclude))
        if self.config.infeasible_rate > 0 and self.steps.infeasible is None:
            r.warnings.append("no infeasible-question generator in this build: infeasible_rate ignored")
        write_json_atomic(self.out / MANIFEST_FILE, self.manifest("running"))
        cache_path = self.out / CACHE_DIR / "results.sqlite" if self.config.cache else None
        self.writer = RecordWriter(self.out / RECORDS_FILE)
        try:
            with Executor(
                workers=self.config.workers, limits=self.limits, cache=True, cache_path=cache_path
            ) as ex:
                self.executor = ex
                with self._progress() as tick:
                    self._loop(tick)
        finally:
            self._flush()
            self.writer.close()
            r.elapsed_s = time.perf_counter() - t0
        for w in r.warnings:
            log.info("synth: %s", w)  # the CLI prints report.warnings itself
        r.parquet = self._export_parquet()
        r.elapsed_s = time.perf_counter() - t0
        r.timings = self.watch.as_dict()
        write_json_atomic(self.out / MANIFEST_FILE, self.manifest("complete" if r.complete else "incomplete"))
        return r

    def _loop(self, tick: Callable[[], None]) -> None:
        """Sample and pre-check batch k+1 while the Executor verifies batch k (in a thread: the
        workers run SQL while this process parses), then admit batches strictly in stream order."""
        r, cfg = self.report, self.config
        assert self.schema is not None
        stream = self.steps.sample(self.schema, cfg)
        budget = math.ceil(cfg.max_candidates_per_record * cfg.n) + cfg.batch_size
        index = 0
        dry = False
        inflight: tuple[list[_Item], Future] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synth-verify") as pool:
            while r.records < cfg.n:
                size = 0 if dry else self._next_batch_size(len(inflight[0]) if inflight else 0)
                batch: list[SampledQuery] = []
                if size:
                    with self.watch("sample"):
                        for sq in stream:
                            batch.append(sq)
                            if len(batch) >= size:
                                break
                    dry = len(batch) < size
                submitted = None
                if batch:
                    items = self._pre_dedup(batch, index)
                    index += len(batch)
                    todo = [it.candidate for it in items if it.candidate is not None]
                    submitted = (items, pool.submit(self._verify, todo))
                if inflight is None and submitted is None:
                    r.warnings.append(
                        f"the sampler ran dry after {r.candidates} statements ({r.records} of {cfg.n} records)"
                    )
                    return
                if inflight is not None:
                    items, future = inflight
                    with self.watch("verify_wait"):
                        verdicts = future.result()
                    self._emit(self._admit(items, verdicts), tick)
                inflight = submitted
                if r.records < cfg.n and r.candidates >= budget:
                    r.warnings.append(
                        f"stopped after {r.candidates} sampled statements with {r.records} of {cfg.n} records: "
                        "the database supports fewer distinct questions (see rejections)"
                    )
                    break
            if inflight is not None:
                inflight[1].result()  # let the last batch finish before the Executor closes; not admitted
        r.complete = r.records >= cfg.n

    def _next_batch_size(self, in_flight: int) -> int:
        """About as many statements as the records still missing need, at the yield seen so far and
        counting the batch in flight (batches never change what is kept, only how much is verified
        past ``n``); 0 when the batch in flight should suffice."""
        r, cfg = self.report, self.config
        per_candidate = max(r.records / r.candidates, 0.02) if r.candidates >= 32 else 0.6
        missing = cfg.n - r.records - in_flight * per_candidate
        if r.candidates == 0 and not in_flight:
            return min(cfg.batch_size, 64)  # a small first batch: early records and a yield estimate
        if missing <= 0:
            return 0
        want = math.ceil(missing / per_candidate * 1.1) + 8
        return max(min(cfg.batch_size, want), min(cfg.batch_size, 16))

    def _reject(self, reason: Rejection | str) -> None:
        self.report.rejections[str(reason)] += 1

    def _pre_dedup(self, batch: list[SampledQuery], start: int) -> list[_Item]:
        """Checks that need no execution, in an order that depends on nothing but the statements
        sampled before (never on which batches were admitted yet): exact duplicate, parse,
        decontamination, template quota (re-checked on admission)."""
        items: list[_Item] = []
        with self.watch("dedup"):
            for offset, sq in enumerate(batch):
                if sq.sql in self.seen_text:  # the common exact duplicate, without parsing
                    items.append(_Item(Rejection.DUPLICATE_SQL))
                    continue
                self.seen_text.add(sq.sql)
                keys = sql_keys(sq.sql)  # a full parse happens in verification, only for what runs
                if keys is None:
                    items.append(_Item(Rejection.UNPARSEABLE))
                    continue
                reason = self.templates.check(keys.normalized, keys.template)
                self.templates.see(keys.normalized)
                if reason is not Rejection.DUPLICATE_SQL and self.decontaminator is not None:
                    if self._contaminated(sql=sq.sql):
                        reason = Rejection.DECONTAMINATED
                if reason is not None:
                    items.append(_Item(reason))
                    continue
                sql = sq.sql
                if self.source_dialect != "sqlite":
                    try:
                        sql = transpile_sql(sq.sql, "sqlite", self.source_dialect)
                    except TranspileError:
                        items.append(_Item(Rejection.TRANSPILE_ERROR))
                        continue
                items.append(_Item(None, _Candidate(start + offset, sq, sql, keys)))
        return items

    def _contaminated(
        self, question: str | None = None, sql: str | None = None, dialect: str = "sqlite"
    ) -> bool:
        return self.decontaminator.match(question, sql or None, dialect) is not None

    def _verify(self, candidates: list[_Candidate]) -> list[Verdict]:
        cfg = self.config
        return verify_batch(
            self.executor,
            self.url,
            [c.sql for c in candidates],
            dialect=self.source_dialect,
            limits=self.limits,
            allow_empty=cfg.allow_empty,
            tie_policy=cfg.tie_policy,
        )

    def _admit(self, items: list[_Item], verdicts: list[Verdict]) -> list[_Kept]:
        """Decide each statement of a batch in stream order: counted as kept or under one reason."""
        r = self.report
        kept: list[_Kept] = []
        pending = iter(verdicts)
        for item in items:
            r.candidates += 1
            if item.candidate is None:
                self._reject(item.reason or Rejection.UNPARSEABLE)
                continue
            c, v = item.candidate, next(pending)
            # the template quota first, as before execution (see _pre_dedup)
            reason = self.templates.admit(c.template) or v.reason
            if reason is not None:
                self._reject(reason)
                continue
            assert v.outcome is not None and v.outcome.fingerprint is not None
            with self.watch("dedup"):
                tables = (
                    frozenset(t.name.lower() for t in v.tree.find_all(exp.Table)) if v.tree else frozenset()
                )
                key = ResultKey(
                    v.outcome.fingerprint, c.keys.skeleton, c.template, tables, c.sampled.complexity
                )
                reason = self.results.check(key)
            if reason is not None:
                self._reject(reason)
                continue
            sqlite_sql = v.sql if self.source_dialect == "sqlite" else c.sampled.sql
            if v.tie_broken and self.source_dialect != "sqlite":
                with contextlib.suppress(TranspileError):
                    sqlite_sql = transpile_sql(v.sql, self.source_dialect, "sqlite")
            with self.watch("realize"):
                realizations = self._realize(c, sqlite_sql)
            if not realizations:
                self._reject(Rejection.UNSUPPORTED_REALIZATION)
                continue
            self.templates.keep(c.template)
            self.results.keep(key)
            r.accepted_sql += 1
            r.tie_broken += int(v.tie_broken)
            kept.append(_Kept(c, v, sqlite_sql, realizations))
        return kept

    def _realize(self, c: _Candidate, sqlite_sql: str) -> list[Realization]:
        """One question per style for ``questions_per_sql`` styles, cycling through the styles per
        complexity level; a statement the realizer cannot phrase in its first style is rejected."""
        cfg, assert_schema = self.config, self.schema
        assert assert_schema is not None
        level = c.sampled.complexity
        start = self.style_cursor[level]
        out: list[Realization] = []
        for j in range(cfg.questions_per_sql):
            style = cfg.styles[(start + j) % len(cfg.styles)]
            rng = _rng(cfg.seed, c.keys.normalized, style)
            try:
                q = self.steps.realize(sqlite_sql, assert_schema, style, rng, with_evidence=cfg.with_evidence)
            except UnsupportedSQL:
                if j == 0:
                    return []
                self.report.record_rejections[str(Rejection.UNSUPPORTED_REALIZATION)] += 1
                continue
            if not q.question.strip():
                if j == 0:
                    return []
                self.report.record_rejections[str(Rejection.UNSUPPORTED_REALIZATION)] += 1
                continue
            q.style = style
            out.append(q)
        self.style_cursor[level] += cfg.questions_per_sql
        return out

    def _rationale(self, sqlite_sql: str) -> str | None:
        if not self.config.with_cot or self.steps.rationale is None:
            return None
        key = ("sqlite", sqlite_sql)
        if key not in self.rationales:
            assert self.schema is not None
            with self.watch("cot"):
                try:
                    self.rationales[key] = self.steps.rationale(sqlite_sql, self.schema)
                except (SQLFoundryError, ValueError):
                    self.rationales[key] = None
            if len(self.rationales) > 4096:
                self.rationales.pop(next(iter(self.rationales)))
        return self.rationales[key]

    def _emit(self, kept: list[_Kept], tick: Callable[[], None]) -> None:
        cfg, r = self.config, self.report
        per_dialect: dict[str, list] = {}
        for d in self.dialects:
            if d == self.source_dialect:
                per_dialect[d] = [None] * len(kept)
                continue
            with self.watch("dialects"):
                per_dialect[d] = reverify_in_dialect(
                    self.executor,
                    self.dialect_urls[d],
                    d,
                    [(k.verdict.sql, k.verdict.outcome) for k in kept],  # type: ignore[misc]
                    read=self.source_dialect,
                    limits=self.limits,
                    source_url=self.url,
                )
        cots = [self._rationale(k.sqlite_sql) for k in kept]
        with self.watch("records"):
            for i, k in enumerate(kept):
                sq = k.candidate.sampled
                cot = cots[i]
                for d in self.dialects:
                    dv = per_dialect[d][i]
                    if dv is None:
                        sql, outcome = k.verdict.sql, k.verdict.outcome
                    elif not dv.ok:
                        r.record_rejections[str(dv.reason)] += len(k.realizations)
                        continue
                    else:
                        sql, outcome = dv.sql, dv.outcome
                    assert outcome is not None
                    for q in k.realizations:
                        if self.decontaminator is not None and self._contaminated(
                            question=q.question, sql=sql, dialect=d
                        ):
                            r.record_rejections[str(Rejection.DECONTAMINATED)] += 1
                            continue
                        record = Record(
                            id=record_id(r.db_id, sql, q.style, cfg.seed, d),
                            db_id=r.db_id,
                            dialect=d,
                            question=q.question,
                            style=q.style,
                            evidence=q.evidence,
                            sql=sql,
                            skills=list(sq.skills),
                            reasoning_skills=list(sq.reasoning_skills),
                            complexity=sq.complexity,
                            cot=_cot_for(cot, k.sqlite_sql, sql),
                            feasible=True,
                            result_fingerprint=outcome.fingerprint,
                            row_count=outcome.row_count,
                            exec_ms=round(outcome.elapsed_ms, 3),
                            provenance=Provenance(
                                generator=self.steps.generator, model=self.steps.model, seed=cfg.seed,
                                template=sq.template,
                            ),
                            verification="ok",
                        )
                        self._append(record, tick)
                        self._interleave_infeasible(tick)
        self._flush()

    def _append(self, record: Record, tick: Callable[[], None]) -> bool:
        """Add a record to the stream; False once the stream holds ``n`` records."""
        r = self.report
        if r.records >= self.config.n:
            r.beyond_n += 1
            return False
        r.records += 1
        if record.feasible:
            r.feasible += 1
            r.non_empty += int((record.row_count or 0) > 0)
            r.by_complexity[record.complexity] += 1
            r.style_complexity[(record.style, record.complexity)] += 1
        else:
            r.infeasible += 1
        r.by_style[record.style] += 1
        r.by_dialect[record.dialect] += 1
        assert self.writer is not None
        if record.id in self.writer.ids:
            r.resumed += 1
        else:
            self.pending.append(record)
        tick()
        return r.records < self.config.n

    def _interleave_infeasible(self, tick: Callable[[], None]) -> None:
        rate = self.config.infeasible_rate
        if rate <= 0 or self.steps.infeasible is None or self.infeasible_dry:
            return
        r = self.report
        while r.infeasible < math.floor(r.feasible * rate / (1.0 - rate)) and r.records < self.config.n:
            record = self._next_infeasible()
            if record is None:
                return
            self._append(record, tick)

    def _next_infeasible(self) -> Record | None:
        cfg = self.config
        assert self.schema is not None and self.steps.infeasible is not None
        tries = 0
        while not self.infeasible_pool:
            if tries >= 3:
                self.infeasible_dry = True
                self.report.warnings.append("the infeasible-question generator ran dry")
                return None
            tries += 1
            with self.watch("infeasible"):
                rng = _rng(cfg.seed, "infeasible", self.infeasible_chunk)
                try:
                    made = self.steps.infeasible(
                        self.schema, rng, _INFEASIBLE_CHUNK, styles=list(cfg.styles), with_cot=cfg.with_cot
                    )
                except (SQLFoundryError, ValueError) as exc:
                    self.infeasible_dry = True
                    self.report.warnings.append(f"infeasible questions disabled: {exc}")
                    return None
            for rec in made:
                dialect = self.dialects[len(self.infeasible_ids) % len(self.dialects)]
                rid = record_id(
                    self.report.db_id, f"INFEASIBLE: {rec.question}", rec.style, cfg.seed, dialect
                )
                if rid in self.infeasible_ids:
                    continue
                if self.decontaminator is not None and self._contaminated(question=rec.question):
                    self.report.infeasible_decontaminated += 1
                    continue
                self.infeasible_ids.add(rid)
                prov = rec.provenance.model_copy(update={"seed": cfg.seed})
                self.infeasible_pool.append(
                    rec.model_copy(
                        update={"id": rid, "db_id": self.report.db_id, "dialect": dialect, "feasible": False,
                                "sql": "", "verification": "infeasible", "provenance": prov}
                    )
                )  # fmt: skip
            self.infeasible_chunk += 1
        return self.infeasible_pool.pop(0)

    def _flush(self) -> None:
        if self.pending and self.writer is not None:
            with self.watch("write"):
                self.report.written += self.writer.write_many(self.pending)
            self.pending = []

    def _export_parquet(self) -> Path | None:
        try:
            from .export import to_parquet
        except ImportError:
            return None
        from ..records import read_jsonl

        target = self.out / PARQUET_FILE
        with self.watch("export"):
            try:
                to_parquet(read_jsonl(self.out / RECORDS_FILE), target)
            except (SQLFoundryError, OSError, ImportError) as exc:
                self.report.warnings.append(f"parquet export failed: {exc}")
                return None
        return target

    @contextlib.contextmanager
    def _progress(self) -> Iterator[Callable[[], None]]:
        if not self.show_progress:
            yield lambda: None
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        r = self.report
        progress = Progress(
            TextColumn("[bold]synth[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "{task.fields[rate]:>6.1f} rec/s  sampled {task.fields[sampled]}  kept {task.fields[kept]}"
            ),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        start = time.perf_counter()
        task = progress.add_task(r.db_id, total=self.config.n, rate=0.0, sampled=0, kept=0)

        def tick() -> None:
            dt = time.perf_counter() - start
            progress.update(
                task, completed=r.records, rate=r.records / dt if dt > 0 else 0.0,
                sampled=r.candidates, kept=r.accepted_sql,
            )  # fmt: skip

        with progress:
            yield tick
            tick()


def _cot_for(cot: str | None, sqlite_sql: str, sql: str) -> str | None:
    """The rationale of the SQLite statement, ending in ``sql`` (the statement in the record's dialect)."""
    if cot is None or sql == sqlite_sql:
        return cot
    block = f"```sql\n{sqlite_sql.strip().rstrip(';').strip()}\n```"
    if cot.endswith(block):
        return f"{cot[: -len(block)]}```sql\n{sql}\n```"
    return cot


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    if old.get("database") != new.get("database"):
        return f"database was {old.get('database')}"
    a, b = old.get("stream_options") or {}, new.get("stream_options") or {}
    changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(f"{k}: {a.get(k)!r} → {b.get(k)!r}" for k in changed[:4]) or "different options"


def synthesize(
    url: str,
    config: SynthConfig | None = None,
    out_dir: str | os.PathLike = "out",
    progress: bool = True,
    *,
    steps: SynthSteps | None = None,
) -> SynthReport:
    """Synthesize ``config.n`` verified records from the database at ``url`` into ``out_dir``.

    Writes ``records.jsonl`` (appended and fsync'd batch by batch), ``manifest.json`` (atomically, at
    the start and the end) and ``records.parquet``. Same database and stream options → same records
    with the same ids; re-running into the same folder resumes (or extends to a larger ``n``).
    Raises SQLFoundryError subclasses for unusable databases and options.
    """
    config = config or SynthConfig()
    return _Run(url, config, Path(out_dir), steps or SynthSteps.default(), progress).run()


__all__ = [
    "MANIFEST_FILE",
    "PARQUET_FILE",
    "RECORDS_FILE",
    "SynthReport",
    "SynthSteps",
    "load_schema",
    "record_id",
    "synthesize",
    "write_json_atomic",
]
