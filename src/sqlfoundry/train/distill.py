"""Execution-verified distillation: sample k solutions per question from a teacher (or, in later
self-training rounds, from the student), keep the ones whose result equals the gold result, and
record the pass rate as each question's difficulty (rejection sampling; DeepDistill, ITERTL, Orca).

Round 1 samples the teacher and writes ``-o``; round r >= 2 samples the student (and, in online
mode, the teacher afresh) and writes ``<out>.round{r}.jsonl``. Every round is resumable.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..db.outcome import ExecutionOutcome, Limits
from ..errors import SQLFoundryError
from ..llm.base import Generator, Prompt
from ..records import Provenance, Record, RecordWriter, read_jsonl
from ..synth.prompt import ABSTENTION_TEXT, extract_sql, is_abstention
from .predict import DatabaseCatalog, Question, question_messages

MODES = ("offline", "online")
#: values of ``Provenance.generator`` on distilled records
TEACHER, STUDENT = "teacher", "student"


class DistillError(SQLFoundryError):
    """Distillation cannot run: bad option combination, missing model, unreadable input."""


@dataclass
class DistillConfig:
    """All options of a distillation run (the CLI's flags)."""

    #: samples per question and source
    k: int = 8
    temperature: float = 0.8
    max_tokens: int = 1024
    #: rounds in all: 1 is plain teacher distillation, more are self-training rounds (ITERTL)
    rounds: int = 1
    #: ``offline``: teacher samples drawn once (round 1) and reused; ``online``: fresh every round
    mode: str = "offline"
    #: result comparison when fingerprints differ (``spider``, ``bird`` or ``strict``)
    comparison: str = "spider"
    #: identical answers (same reasoning and SQL) of one question are kept once
    dedup: bool = True
    seed: int = 0
    #: questions generated and executed together (one Executor batch per chunk)
    chunk_size: int = 16
    timeout_s: float = 30.0
    workers: int | None = None
    limit: int | None = None

    def check(self) -> None:
        if self.k < 1:
            raise DistillError(f"k must be at least 1, got {self.k}")
        if self.rounds < 1:
            raise DistillError(f"rounds must be at least 1, got {self.rounds}")
        if self.mode not in MODES:
            raise DistillError(f"mode must be offline or online, not {self.mode!r}")
        if self.comparison not in ("spider", "bird", "strict"):
            raise DistillError(f"comparison must be spider, bird or strict, not {self.comparison!r}")


def round_path(out: str | os.PathLike, round_no: int) -> Path:
    """Where round ``round_no``'s records go: ``out`` for round 1, ``<stem>.round{r}<suffix>`` after."""
    out = Path(out)
    if round_no == 1:
        return out
    suffix = out.suffix or ".jsonl"
    return out.with_name(f"{out.stem if out.suffix else out.name}.round{round_no}{suffix}")


def summary_path(records_path: str | os.PathLike) -> Path:
    """The per-question summary beside a round's records (also the resume checkpoint)."""
    p = Path(records_path)
    return p.with_name(f"{p.stem if p.suffix else p.name}.questions.jsonl")


# ------------------------------------------------------------------------------------------------
# Reports
# ------------------------------------------------------------------------------------------------


@dataclass
class SourceStats:
    """What one generator did in one round, over every question of the round (resumed ones included)."""

    generator: str
    model: str
    questions: int = 0
    samples: int = 0
    correct: int = 0
    kept: int = 0
    no_sql: int = 0
    failed: int = 0
    zero_correct: int = 0
    #: pass rate (rounded to 4 places, as text) -> questions
    pass_rate_histogram: dict[str, int] = field(default_factory=dict)


@dataclass
class RoundReport:
    round: int
    records: Path
    summary: Path
    questions: int = 0
    resumed: int = 0
    gold_errors: int = 0
    kept: int = 0
    sources: dict[str, SourceStats] = field(default_factory=dict)
    #: token usage of this invocation, by source (the generator's ``usage`` when it has one)
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "records": str(self.records),
            "summary": str(self.summary),
            "questions": self.questions,
            "resumed": self.resumed,
            "gold_errors": self.gold_errors,
            "kept": self.kept,
            "sources": {k: vars(v) for k, v in self.sources.items()},
            "usage": self.usage,
        }


@dataclass
class DistillReport:
    rounds: list[RoundReport] = field(default_factory=list)
    #: the training files handed to ``train_fn`` after each round (round -> paths)
    train_files: dict[int, list[Path]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounds": [r.to_dict() for r in self.rounds],
            "train_files": {str(k): [str(p) for p in v] for k, v in self.train_files.items()},
        }


# ------------------------------------------------------------------------------------------------
# Judging samples
# ------------------------------------------------------------------------------------------------


def same_result(
    gold: ExecutionOutcome, pred: ExecutionOutcome, order_matters: bool, comparison: str = "spider"
) -> bool:
    """Whether a sample's result equals the gold result: equal fingerprints (ordered ones when row
    order matters) settle it at once; otherwise :func:`~sqlfoundry.sql.compare.compare_results` decides
    (column permutations, float forms, ...)."""
    if not (gold.ok and pred.ok):
        return False
    ordered = order_matters or comparison == "strict"
    if ordered:
        if gold.ordered_fingerprint is not None and gold.ordered_fingerprint == pred.ordered_fingerprint:
            return True
    elif gold.fingerprint is not None and gold.fingerprint == pred.fingerprint:
        return True
    if gold.rows is None or pred.rows is None:
        return False
    from ..sql.compare import compare_results

    try:
        return compare_results(gold, pred, comparison, order_matters=order_matters)
    except (ValueError, TypeError):
        return False  # rows that cannot be compared are no evidence of a correct answer


def _is_correct(
    gold: ExecutionOutcome | None, pred: ExecutionOutcome | None, order_matters: bool, comparison: str
) -> bool:
    return gold is not None and pred is not None and same_result(gold, pred, order_matters, comparison)


@dataclass
class _Sample:
    text: str
    sql: str | None
    abstains: bool
    outcome: ExecutionOutcome | None = None
    correct: bool = False


def split_reasoning(completion: str) -> str | None:
    """The reasoning of a sample (text before its final SQL block), None when there is none."""
    from ..synth.llm_synth import split_reasoning as _split

    text = completion.split("</think>", 1)[1] if "</think>" in completion else completion
    reasoning = _split(text)
    return reasoning or None


# ------------------------------------------------------------------------------------------------
# One round
# ------------------------------------------------------------------------------------------------


@dataclass
class _Source:
    label: str  # TEACHER | STUDENT
    generator: Generator
    seed_offset: int


def _name(generator: Generator) -> str:
    return str(getattr(generator, "name", type(generator).__name__))


def _read_summary(path: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return rows
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):  # a torn last line from an interrupted run
        with path.open("r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            rows[str(row["id"])] = row
        except (ValueError, KeyError, TypeError):
            continue
    return rows


def distill_round(
    records: Sequence[Record],
    catalog: DatabaseCatalog,
    sources: Sequence[_Source],
    config: DistillConfig,
    out: Path,
    round_no: int,
    executor: Any,
    gold_cache: dict[tuple[str, str], ExecutionOutcome],
    progress: Callable[[int, int], None] | None = None,
) -> RoundReport:
    """Sample, verify and keep for every question not yet in this round's summary file."""
    from ..db.executor import Query
    from ..sql.compare import gold_orders_rows

    summary = summary_path(out)
    done = _read_summary(summary)
    todo = [r for r in records if r.id not in done]
    report = RoundReport(round=round_no, records=out, summary=summary, resumed=len(records) - len(todo))
    limits = Limits(timeout_s=config.timeout_s)
    if progress is not None:
        progress(len(records) - len(todo), len(records))
    with RecordWriter(out) as writer, summary.open("a", encoding="utf-8") as summary_fh:
        for start in range(0, len(todo), max(1, config.chunk_size)):
            chunk = todo[start : start + config.chunk_size]
            urls = [catalog.url(r.db_id) for r in chunk]
            dialects = [r.dialect or catalog.dialect(r.db_id) for r in chunk]
            prompts: list[Prompt] = [
                question_messages(Question(i, r.db_id, r.question, r.evidence or "", d, r.id), catalog)
                for i, (r, d) in enumerate(zip(chunk, dialects, strict=True))
            ]
            # samples[source][question] -> list of _Sample
            samples: dict[str, list[list[_Sample]]] = {}
            for src in sources:
                seed = config.seed + src.seed_offset + round_no * 1_000_003 + start + report.resumed
                rows = src.generator.generate(
                    prompts,
                    n=config.k,
                    temperature=config.temperature,
                    max_tokens=config.max_tokens,
                    seed=seed,
                )
                if len(rows) != len(prompts):
                    raise DistillError(
                        f"generator {_name(src.generator)} answered {len(rows)} of {len(prompts)} prompts"
                    )
                samples[src.label] = [
                    [_sample(text, d) for text in row] for row, d in zip(rows, dialects, strict=True)
                ]
            # one Executor batch: each gold query not yet known, then every sample's SQL
            queries: list[Query] = []
            gold_keys: list[tuple[str, str]] = []
            for r, url in zip(chunk, urls, strict=True):
                key = (url, r.sql)
                if r.feasible and r.sql.strip() and key not in gold_cache and key not in gold_keys:
                    gold_keys.append(key)
                    queries.append(Query(url, r.sql, limits, keep_rows=True, cache=True))
            where: list[_Sample] = []
            for per_question in samples.values():
                for r, url, row in zip(chunk, urls, per_question, strict=True):
                    for s in row:
                        if s.sql is not None and r.feasible:
                            queries.append(Query(url, s.sql, limits, keep_rows=True, cache=False))
                            where.append(s)
            outcomes = executor.run_batch(queries) if queries else []
            for key, outcome in zip(gold_keys, outcomes[: len(gold_keys)], strict=True):
                gold_cache[key] = outcome
            for s, outcome in zip(where, outcomes[len(gold_keys) :], strict=True):
                s.outcome = outcome

            new_records: list[Record] = []
            rows_out: list[dict[str, Any]] = []
            for qi, (r, url, dialect) in enumerate(zip(chunk, urls, dialects, strict=True)):
                gold = gold_cache.get((url, r.sql)) if r.feasible else None
                row: dict[str, Any] = {"id": r.id, "db_id": r.db_id, "round": round_no, "k": config.k}
                if r.feasible and (gold is None or not gold.ok):
                    row["gold"] = (
                        f"{gold.status.value}: {gold.message}" if gold is not None else "empty gold SQL"
                    )
                    row["sources"] = {}
                    row["difficulty"] = None
                    rows_out.append(row)
                    continue
                order_matters = bool(r.feasible) and gold_orders_rows(r.sql, dialect)
                row["gold"] = "ok" if r.feasible else "infeasible"
                row["sources"] = {}
                for src in sources:
                    qs = samples[src.label][qi]
                    for s in qs:
                        if r.feasible:
                            s.correct = _is_correct(gold, s.outcome, order_matters, config.comparison)
                        else:
                            s.correct = s.abstains
                    n_correct = sum(s.correct for s in qs)
                    pass_rate = n_correct / len(qs) if qs else 0.0
                    kept = _keep(r, qs, pass_rate, src, round_no, config)
                    new_records.extend(kept)
                    row["sources"][src.label] = {
                        "model": _name(src.generator),
                        "samples": len(qs),
                        "correct": n_correct,
                        "pass_rate": pass_rate,
                        "kept": len(kept),
                        "no_sql": sum(s.sql is None and not s.abstains for s in qs),
                        "failed": sum(s.outcome is not None and not s.outcome.ok for s in qs),
                    }
                primary = sources[-1].label  # the student when it takes part, else the teacher
                row["difficulty"] = row["sources"][primary]["pass_rate"]
                rows_out.append(row)
            writer.write_many(new_records)
            # the summary line comes after the question's records: a question is done only once both are
            summary_fh.write("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows_out))
            summary_fh.flush()
            os.fsync(summary_fh.fileno())
            for x in rows_out:
                done[x["id"]] = x
            if progress is not None:
                progress(len(done), len(records))
    _tally(report, [done[r.id] for r in records if r.id in done], sources)
    report.usage = {
        src.label: src.generator.usage.to_dict() for src in sources if hasattr(src.generator, "usage")
    }
    return report


def _sample(text: str, dialect: str) -> _Sample:
    text = text or ""
    sql = extract_sql(text, dialect)
    return _Sample(text=text, sql=sql, abstains=sql is None and is_abstention(text))


def _keep(
    source_record: Record,
    qs: list[_Sample],
    pass_rate: float,
    src: _Source,
    round_no: int,
    config: DistillConfig,
) -> list[Record]:
    kept: list[Record] = []
    seen: set[tuple[str | None, str]] = set()
    for j, s in enumerate(qs):
        if not s.correct:
            continue
        if source_record.feasible:
            cot, sql = split_reasoning(s.text), s.sql
        else:  # the answer is the abstention sentence itself; format_answer adds it back
            cot, sql = _without_abstention(s.text), ""
        key = (cot, sql or "")
        if config.dedup and key in seen:
            continue
        seen.add(key)
        out = s.outcome
        kept.append(
            source_record.model_copy(
                update={
                    "id": f"{source_record.id}-r{round_no}-{src.label[0]}{j}",
                    "sql": sql or "",
                    "cot": cot,
                    "result_fingerprint": out.fingerprint if out is not None else None,
                    "row_count": out.row_count if out is not None else None,
                    "exec_ms": round(out.elapsed_ms, 3) if out is not None else None,
                    "verification": "ok" if source_record.feasible else "infeasible",
                    "difficulty": pass_rate,
                    "provenance": Provenance(
                        generator=src.label,
                        seed=config.seed,
                        model=_name(src.generator),
                        template=f"distill-round{round_no}",
                    ),
                },
                deep=True,
            )
        )
    return kept


_ABSTENTION_RE = re.compile(r"\s+".join(map(re.escape, ABSTENTION_TEXT.split())), re.I)


def _without_abstention(text: str) -> str | None:
    """The reasoning of an abstaining answer: its text with the abstention sentence taken out."""
    return _ABSTENTION_RE.sub("", text).strip() or None


def _tally(report: RoundReport, rows: list[dict[str, Any]], sources: Sequence[_Source]) -> None:
    report.questions = len(rows)
    report.gold_errors = sum(1 for x in rows if x.get("gold") not in ("ok", "infeasible"))
    for src in sources:
        stats = SourceStats(generator=src.label, model=_name(src.generator))
        hist: Counter = Counter()
        for x in rows:
            s = x.get("sources", {}).get(src.label)
            if s is None:
                continue
            stats.questions += 1
            stats.model = s.get("model", stats.model) if stats.model == "resumed" else stats.model
            stats.samples += s["samples"]
            stats.correct += s["correct"]
            stats.kept += s["kept"]
            stats.no_sql += s["no_sql"]
            stats.failed += s["failed"]
            stats.zero_correct += s["correct"] == 0
            hist[round(s["pass_rate"], 4)] += 1
        stats.pass_rate_histogram = {f"{rate:g}": hist[rate] for rate in sorted(hist)}
        report.sources[src.label] = stats
        report.kept += stats.kept


# ------------------------------------------------------------------------------------------------
# Rounds
# ------------------------------------------------------------------------------------------------

#: ``train_fn(round, training_files) -> student``: trains the student on the files after a round;
#: returns a Generator, or a model path / name for a local transformers model
TrainFn = Callable[[int, list[Path]], Any]


def training_files(out: str | os.PathLike, round_no: int, mode: str) -> list[Path]:
    """The files to train the student on after round ``round_no``.

    offline: the fixed teacher set (round 1) plus the student's own kept samples of every round so
    far; online: only this round's fresh samples (teacher and student).
    """
    if mode == "online":
        return [round_path(out, round_no)]
    return [round_path(out, r) for r in range(1, round_no + 1)]


def as_generator(model: Any) -> Generator:
    """A generator from a Generator, a model path/name (local transformers) or an endpoint spec."""
    if hasattr(model, "generate"):
        return model
    from ..llm.local import TransformersGenerator

    return TransformersGenerator(os.fspath(model))


def read_questions(path: str | os.PathLike, limit: int | None = None) -> list[Record]:
    """The questions of a records file, first occurrence of each id, at most ``limit``."""
    seen: set[str] = set()
    out: list[Record] = []
    for r in read_jsonl(path):
        if r.id in seen:
            continue
        seen.add(r.id)
        out.append(r)
        if limit is not None and len(out) >= limit:
            break
    return out


def distill_rounds(
    records: Sequence[Record] | str | os.PathLike,
    out: str | os.PathLike,
    teacher: Generator | None,
    config: DistillConfig | None = None,
    *,
    db_url: str | None = None,
    db_dir: str | os.PathLike | None = None,
    student: Generator | str | os.PathLike | None = None,
    train_fn: TrainFn | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> DistillReport:
    """Distill ``records``' questions for ``config.rounds`` rounds; see the module docstring.

    Round 1 samples ``teacher``. Round r >= 2 samples the student — the one ``train_fn`` returned
    after round r-1 when given, else ``student`` — and, in ``online`` mode, the teacher again with a
    fresh seed. ``teacher`` may be None when round 1 is already complete (resume) and the mode is
    offline. ``progress(round, done, total)`` is called after each chunk.
    """
    config = config or DistillConfig()
    config.check()
    if isinstance(records, str | os.PathLike):
        records = read_questions(records, config.limit)
    elif config.limit is not None:
        records = list(records)[: config.limit]
    catalog = DatabaseCatalog(db_dir, db_url)
    for db_id in sorted({r.db_id for r in records}):
        catalog.url(db_id)  # fail before any model work when a database is missing
    current_student = as_generator(student) if student is not None else None

    from ..db.executor import Executor

    report = DistillReport()
    gold_cache: dict[tuple[str, str], ExecutionOutcome] = {}
    workers = config.workers if config.workers is not None else min(2, os.cpu_count() or 1)
    with Executor(workers=workers, limits=Limits(timeout_s=config.timeout_s)) as executor:
        for round_no in range(1, config.rounds + 1):
            path = round_path(out, round_no)
            srcs: list[_Source] = []
            if round_no == 1 or config.mode == "online":
                srcs.append(_Source(TEACHER, _need(teacher, round_no, path, records, "the teacher"), 0))
            if round_no >= 2:
                if current_student is None and config.mode == "offline":
                    raise DistillError(
                        f"round {round_no} samples the student: give a student model (--student) or a "
                        "train_fn, or use online mode"
                    )
                if current_student is not None:
                    srcs.append(_Source(STUDENT, current_student, 7919))

            def round_progress(done: int, total: int, _r: int = round_no) -> None:
                if progress is not None:
                    progress(_r, done, total)

            rr = distill_round(
                records, catalog, srcs, config, path, round_no, executor, gold_cache, round_progress
            )
            report.rounds.append(rr)
            if train_fn is not None and round_no < config.rounds:
                files = training_files(out, round_no, config.mode)
                report.train_files[round_no] = files
                current_student = as_generator(train_fn(round_no, files))
    return report


def _need(gen: Generator | None, round_no: int, path: Path, records: Sequence[Record], what: str) -> Any:
    if gen is not None:
        return gen
    done = _read_summary(summary_path(path))
    if all(r.id in done for r in records):
        return _Idle()
    raise DistillError(f"round {round_no} needs {what} (--teacher-url/--teacher-model or --teacher-local)")


class _Idle:
    """Stands in for a model that is not needed because its round is already complete."""

    name = "resumed"

    def generate(self, prompts: Sequence[Prompt], **_: Any) -> list[list[str]]:
        raise DistillError("internal: a resumed round asked for new samples")


__all__ = [
    "MODES",
    "STUDENT",
    "TEACHER",
    "DistillConfig",
    "DistillError",
    "DistillReport",
    "RoundReport",
    "SourceStats",
    "TrainFn",
    "as_generator",
    "distill_round",
    "distill_rounds",
    "read_questions",
    "round_path",
    "same_result",
    "split_reasoning",
    "summary_path",
    "training_files",
]
