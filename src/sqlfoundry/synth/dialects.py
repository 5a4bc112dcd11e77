"""Records in other SQL dialects: transpile a verified statement with sqlglot and keep it for a dialect
only when it runs on a real engine of that dialect (holding the same data) with the same answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot.errors import SqlglotError

from ..db.executor import Executor, Query
from ..db.outcome import ExecutionOutcome, Limits
from ..db.url import parse_url
from ..sql.compare import compare_results, gold_orders_rows
from .config import SynthError, canonical_dialect
from .verify import Rejection

#: numbers from two engines match within this (aggregates sum floats in different orders)
FLOAT_TOLERANCE = 1e-6


class TranspileError(SynthError):
    """sqlglot cannot write a statement in the target dialect."""


def engine_dialect(url: str) -> str:
    """The sqlglot dialect of the engine behind a database URL."""
    return canonical_dialect(parse_url(url).engine)


def transpile_sql(sql: str, read: str = "sqlite", write: str = "duckdb") -> str:
    """``sql`` written in ``write``'s dialect; raises :class:`TranspileError` when sqlglot cannot."""
    if read == write:
        return sql
    try:
        out = sqlglot.transpile(sql, read=read, write=write, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except (SqlglotError, RecursionError, ValueError, TypeError) as exc:
        raise TranspileError(
            f"cannot transpile to {write}: {str(exc).splitlines()[0] if str(exc) else exc}"
        ) from None
    if len(out) != 1:
        raise TranspileError(f"transpiling to {write} gave {len(out)} statements")
    return out[0]


def same_answer(
    source_sql: str, source: ExecutionOutcome, target: ExecutionOutcome, read: str = "sqlite"
) -> bool:
    """Whether two engines gave the same answer: equal multiset fingerprints (and ordered ones when
    the statement orders its rows), else Spider's rule with a small float tolerance (engines format and
    sum floats differently)."""
    if not (source.ok and target.ok):
        return False
    ordered = gold_orders_rows(source_sql, read)
    if source.fingerprint == target.fingerprint and (
        not ordered or source.ordered_fingerprint == target.ordered_fingerprint
    ):
        return True
    if source.rows is None or target.rows is None or source.row_count != target.row_count:
        return False
    return compare_results(
        source.rows, target.rows, "spider", order_matters=ordered, float_tolerance=FLOAT_TOLERANCE
    )


@dataclass
class DialectVerdict:
    """A statement in one target dialect: its text and outcome there, or why it was not kept."""

    dialect: str
    sql: str | None
    outcome: ExecutionOutcome | None
    reason: Rejection | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is None


def reverify_in_dialect(
    executor: Executor,
    url: str,
    dialect: str,
    verified: Sequence[tuple[str, ExecutionOutcome]],
    *,
    read: str = "sqlite",
    limits: Limits | None = None,
    source_url: str | None = None,
) -> list[DialectVerdict]:
    """Transpile each verified (statement, outcome) pair from ``read`` to ``dialect`` and run it on
    ``url``; a statement is kept for the dialect only when the answers agree (:func:`same_answer`).
    Where fingerprints differ and the source outcome holds no rows, the statement is run again on
    ``source_url`` for them (so verification itself never has to ship rows)."""
    verdicts: list[DialectVerdict] = []
    queries: list[Query] = []
    slots: list[int] = []
    for sql, _ in verified:
        try:
            text = transpile_sql(sql, read=read, write=dialect)
        except TranspileError as exc:
            verdicts.append(DialectVerdict(dialect, None, None, Rejection.TRANSPILE_ERROR, str(exc)))
            slots.append(-1)
            continue
        verdicts.append(DialectVerdict(dialect, text, None))
        slots.append(len(queries))
        queries.append(Query(url, text, limits, keep_rows=False))
    outcomes = executor.run_batch(queries) if queries else []
    sources = [source for _, source in verified]
    # Fingerprints differ: compare rows, fetching them where they were not kept.
    recheck = [
        i
        for i, slot in enumerate(slots)
        if slot >= 0
        and outcomes[slot].ok
        and sources[i].ok
        and not same_answer(verified[i][0], sources[i], outcomes[slot], read)
    ]
    if recheck:
        refetch = [Query(url, verdicts[i].sql or "", limits) for i in recheck]
        if source_url is not None:
            refetch += [Query(source_url, verified[i][0], limits) for i in recheck if sources[i].rows is None]
        fetched = iter(executor.run_batch(refetch))
        with_rows = {i: next(fetched) for i in recheck}
        for i in recheck:
            outcomes[slots[i]] = with_rows[i]
        for i in recheck:
            if sources[i].rows is None and source_url is not None:
                sources[i] = next(fetched)
    for i, (v, slot) in enumerate(zip(verdicts, slots, strict=True)):
        if slot < 0:
            continue
        v.outcome = outcomes[slot]
        if not same_answer(verified[i][0], sources[i], v.outcome, read):
            v.reason = Rejection.DIALECT_MISMATCH
            v.detail = v.outcome.message if not v.outcome.ok else "different answer"
    return verdicts


__all__ = [
    "DialectVerdict",
    "FLOAT_TOLERANCE",
    "TranspileError",
    "engine_dialect",
    "reverify_in_dialect",
    "same_answer",
    "transpile_sql",
]
