"""Execution checks a sampled statement must pass before it becomes a record: it runs within limits,
returns a non-degenerate answer, and its answer does not depend on how ties at ``ORDER BY … LIMIT k`` fall.

The pure pieces (:func:`status_reason`, :func:`degenerate_reason`, :func:`order_shape`,
:func:`tie_probe`, :func:`has_tie`, :func:`with_tie_breaker`) are usable alone; :func:`verify_batch`
runs a whole batch through one :class:`~sqlfoundry.db.executor.Executor` (grouped, cached) in at most
two rounds: the statements with their tie probes, then the tie-broken rewrites.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import SqlglotError

from ..db.executor import Executor, Query
from ..db.outcome import ExecutionOutcome, Limits, OutcomeStatus, fingerprint_rows
from ..sql.normalize import SQLParseError, parse_sql


class Rejection(StrEnum):
    """Why a sampled statement (or one of its records) was not kept; the manifest counts each."""

    # execution (the Executor's outcome statuses)
    SYNTAX_ERROR = "syntax_error"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    DENIED = "denied"
    TOO_LARGE = "too_large"
    # degenerate answers
    EMPTY = "empty"
    ALL_NULL = "all_null"
    ZERO_COUNT = "zero_count"
    CONSTANT = "constant"
    # determinism
    TIE_AT_LIMIT = "tie_at_limit"
    UNORDERED_LIMIT = "unordered_limit"
    # redundancy
    DUPLICATE_SQL = "duplicate_sql"
    DUPLICATE_TEMPLATE = "duplicate_template"
    DUPLICATE_RESULT = "duplicate_result"
    EQUIVALENT_TO_SIMPLER = "equivalent_to_simpler"
    # later steps
    UNPARSEABLE = "unparseable"
    UNSUPPORTED_REALIZATION = "unsupported_realization"
    DECONTAMINATED = "decontaminated"
    DIALECT_MISMATCH = "dialect_mismatch"
    TRANSPILE_ERROR = "transpile_error"


_STATUS_REASON = {
    OutcomeStatus.SYNTAX_ERROR: Rejection.SYNTAX_ERROR,
    OutcomeStatus.RUNTIME_ERROR: Rejection.RUNTIME_ERROR,
    OutcomeStatus.TIMEOUT: Rejection.TIMEOUT,
    OutcomeStatus.DENIED: Rejection.DENIED,
    OutcomeStatus.TOO_LARGE: Rejection.TOO_LARGE,
}


def status_reason(outcome: ExecutionOutcome) -> Rejection | None:
    """The rejection for a statement that did not run to completion, or None when it did."""
    return None if outcome.ok else _STATUS_REASON[outcome.status]


def _top_select(tree: exp.Expression) -> exp.Select | None:
    node = tree
    while isinstance(node, exp.Subquery):
        node = node.this
    while isinstance(node, exp.SetOperation):
        node = node.this
        while isinstance(node, exp.Subquery):
            node = node.this
    return node if isinstance(node, exp.Select) else None


def _aggregate_only(tree: exp.Expression) -> bool:
    """Whether the top-level SELECT list is made of aggregates only, without GROUP BY (one row)."""
    select = _top_select(tree)
    if select is None or select is not tree or select.args.get("group"):
        return False
    projections = [p.unalias() for p in select.expressions]
    return bool(projections) and all(isinstance(p, exp.AggFunc) for p in projections)


def degenerate_reason(
    outcome: ExecutionOutcome, allow_empty: bool = False, tree: exp.Expression | None = None
) -> Rejection | None:
    """Whether an ``ok`` result is a degenerate answer no one would ask for: no rows (unless
    ``allow_empty``), only NULLs, or an aggregate-only query (``tree``) answering 0/NULL (a COUNT of
    nothing, unless ``allow_empty``). Works from the rows when the outcome kept them, else from its
    multiset fingerprint (compared with the fingerprints of those degenerate answers)."""
    if outcome.row_count == 0:
        return None if allow_empty else Rejection.EMPTY
    rows = outcome.rows
    ncols = len(outcome.columns)
    if rows is not None:
        all_null = all(v is None for row in rows for v in row)
    else:
        all_null = outcome.fingerprint == _null_fingerprint(ncols, outcome.row_count)
    if all_null:
        return Rejection.ALL_NULL
    if allow_empty or tree is None or outcome.row_count != 1 or not _aggregate_only(tree):
        return None
    if rows is not None:
        zero = all(v is None or v == 0 for v in rows[0])
    else:
        zero = outcome.fingerprint in _zero_fingerprints(ncols)
    return Rejection.ZERO_COUNT if zero else None


@lru_cache(maxsize=1024)
def _null_fingerprint(ncols: int, row_count: int) -> str:
    return fingerprint_rows([(None,) * ncols] * row_count, ncols)[0]


@lru_cache(maxsize=16)
def _zero_fingerprints(ncols: int) -> frozenset[str]:
    """Fingerprints of every one-row answer made of 0s and NULLs (up to 8 columns)."""
    if ncols > 8:
        return frozenset()
    return frozenset(fingerprint_rows([row], ncols)[0] for row in itertools.product((0, None), repeat=ncols))


# ------------------------------------------------------------------------------------------------
# Ties at ORDER BY … LIMIT k
# ------------------------------------------------------------------------------------------------


@dataclass
class OrderShape:
    """The top-level ORDER BY / LIMIT of a statement, with each order key mapped to an output column."""

    limit: int | None
    offset: int
    order_keys: list[exp.Ordered]
    #: output column index of each key, or None when the key is not an output column
    key_columns: list[int | None]
    compound: bool  # a set operation (UNION/INTERSECT/EXCEPT) at the top
    distinct: bool
    star: bool  # the SELECT list holds a *

    @property
    def limited(self) -> bool:
        return self.limit is not None


def _int_literal(node: exp.Expression | None) -> int | None:
    if isinstance(node, (exp.Limit, exp.Offset)):
        node = node.expression
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return int(node.this)
        except ValueError:
            return None
    return None


def _key_column(key: exp.Expression, projections: list[exp.Expression]) -> int | None:
    lit = _int_literal(key)
    if lit is not None:
        return lit - 1 if 1 <= lit <= len(projections) else None
    if isinstance(key, exp.Column) and not key.table:
        name = key.name.lower()
        for i, p in enumerate(projections):
            if isinstance(p, exp.Alias) and p.alias.lower() == name:
                return i
    text = key.sql("sqlite").lower()
    for i, p in enumerate(projections):
        if p.unalias().sql("sqlite").lower() == text:
            return i
    if isinstance(key, exp.Column) and not key.table:
        same = [
            i for i, p in enumerate(projections)
            if isinstance(p.unalias(), exp.Column) and p.unalias().name.lower() == key.name.lower()
        ]  # fmt: skip
        if len(same) == 1:
            return same[0]
    return None


def order_shape(sql: str | exp.Expression, dialect: str = "sqlite") -> OrderShape:
    """Read the top-level ORDER BY and LIMIT of ``sql`` (raises SQLParseError when it does not parse)."""
    tree = parse_sql(sql, dialect, copy=False) if isinstance(sql, str) else sql
    node = tree
    while isinstance(node, exp.Subquery) and not node.args.get("limit"):
        node = node.this
    select = _top_select(node)
    projections = list(select.expressions) if select is not None else []
    order = node.args.get("order")
    keys = list(order.expressions) if order is not None else []
    limit_node = node.args.get("limit")
    limit = _int_literal(limit_node) if limit_node is not None else None
    if limit_node is not None and limit is None:
        limit = -1  # a non-literal LIMIT: treated as limited with an unknown cut
    offset = _int_literal(node.args.get("offset")) or 0
    return OrderShape(
        limit=limit,
        offset=offset,
        order_keys=keys,
        key_columns=[_key_column(k.this, projections) for k in keys],
        compound=isinstance(node, exp.SetOperation),
        distinct=bool(select is not None and select.args.get("distinct")),
        star=any(isinstance(p, exp.Star) or (isinstance(p, exp.Column) and p.is_star) for p in projections),
    )


@dataclass
class TieProbe:
    """A query that fetches the rows around the LIMIT cut, and where the order key values sit in it."""

    sql: str
    key_columns: list[int]
    #: (row before the cut, row after the cut) index pairs to compare
    boundaries: list[tuple[int, int]]


def tie_probe(sql: str, shape: OrderShape, dialect: str = "sqlite") -> TieProbe | None:
    """The probe for a limited statement: the same query with LIMIT offset+k+1 and no OFFSET, with the
    order keys appended to the SELECT list when they are not output columns. None when no probe can
    tell (no literal LIMIT, or keys that are neither output columns nor appendable)."""
    if shape.limit is None or shape.limit < 0:
        return None
    tree = parse_sql(sql, dialect)
    node = tree
    while isinstance(node, exp.Subquery) and not node.args.get("limit"):
        node = node.this
    key_cols: list[int] = []
    if shape.order_keys:
        missing = [i for i, c in enumerate(shape.key_columns) if c is None]
        if missing:
            if shape.compound or shape.distinct or not isinstance(node, exp.Select):
                return None
            for j, i in enumerate(missing):
                node.select(exp.alias_(shape.order_keys[i].this.copy(), f"__tie_key{j}"), copy=False)
        # appended keys are the last columns (counted from the end: a * hides how many come before)
        extra = iter(range(-len(missing), 0))
        key_cols = [c if c is not None else next(extra) for c in shape.key_columns]
    node.set("limit", exp.Limit(expression=exp.Literal.number(shape.offset + shape.limit + 1)))
    node.set("offset", None)
    cut = shape.offset + shape.limit
    boundaries = [(cut - 1, cut)] if shape.limit > 0 else []
    if shape.offset > 0:
        boundaries.append((shape.offset - 1, shape.offset))
    return TieProbe(sql=tree.sql(dialect), key_columns=key_cols, boundaries=boundaries)


def has_tie(probe_rows: Sequence[tuple], probe: TieProbe) -> bool:
    """Whether rows on both sides of a cut share their order key values (with no ORDER BY every row
    ties, so any row past the cut means the cut is arbitrary)."""
    for before, after in probe.boundaries:
        if after >= len(probe_rows) or before < 0:
            continue
        if not probe.key_columns:
            return True
        a, b = probe_rows[before], probe_rows[after]
        if all(a[i] == b[i] for i in probe.key_columns):
            return True
    return False


def with_tie_breaker(sql: str, shape: OrderShape, ncols: int, dialect: str = "sqlite") -> str | None:
    """``sql`` with every output column appended to its ORDER BY (by alias or column where it has one,
    else by position), so rows that still tie are identical and any cut gives the same answer. None
    when no tie-breaker makes the answer deterministic (DISTINCT ordered by a hidden key)."""
    if shape.distinct and any(c is None for c in shape.key_columns):
        return None
    tree = parse_sql(sql, dialect)
    node = tree
    while isinstance(node, exp.Subquery) and not node.args.get("limit"):
        node = node.this
    select = _top_select(node)
    projections = list(select.expressions) if select is not None else []
    used = {c for c in shape.key_columns if c is not None}
    by_position = shape.compound or shape.star or len(projections) != ncols
    terms: list[exp.Expression] = []
    for i in range(ncols):
        if i in used:
            continue
        p = projections[i] if not by_position else None
        if isinstance(p, exp.Alias):
            terms.append(exp.column(p.alias, quoted=p.args["alias"].args.get("quoted")))
        elif isinstance(p, exp.Column) and not p.is_star:
            terms.append(p.copy())
        else:
            terms.append(exp.Literal.number(i + 1))
    order = node.args.get("order")
    keys = [k.copy() for k in order.expressions] if order is not None else []
    keys.extend(exp.Ordered(this=t, nulls_first=True) for t in terms)
    if not keys:
        return None
    node.set("order", exp.Order(expressions=keys))
    return tree.sql(dialect)


# ------------------------------------------------------------------------------------------------
# A batch through the Executor
# ------------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    """The execution verdict on one statement: ``reason`` is None when it passed every check."""

    sql: str  # the statement as verified (a tie-breaker may have been added)
    outcome: ExecutionOutcome | None
    reason: Rejection | None = None
    tie_broken: bool = False
    detail: str = ""
    #: parsed tree of ``sql`` when it parsed (shared with the parse cache: do not modify)
    tree: exp.Expression | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.reason is None


def verify_batch(
    executor: Executor,
    url: str,
    statements: Sequence[str],
    *,
    dialect: str = "sqlite",
    limits: Limits | None = None,
    allow_empty: bool = False,
    tie_policy: str = "break",
    keep_rows: bool = False,
) -> list[Verdict]:
    """Run ``statements`` on ``url`` and check each: it executes within ``limits``, its answer is not
    degenerate, and a top-level ``ORDER BY … LIMIT k`` does not cut through tied rows (a tie is
    broken by appending the output columns to the ORDER BY and re-verifying, or rejected when
    ``tie_policy`` is ``reject``). Verdicts come back in input order. Answers are judged by
    fingerprint, so rows come back (``keep_rows``) only when the caller wants them; tie probes
    always keep their few rows."""
    verdicts: list[Verdict] = []
    queries: list[Query] = []
    plans: list[tuple[int, int | None, OrderShape | None, TieProbe | None]] = []  # main, probe at
    for sql in statements:
        try:
            tree = parse_sql(sql, dialect, copy=False)  # shared, cached tree: read only
            shape = order_shape(tree, dialect)
            probe = tie_probe(sql, shape, dialect) if shape.limited else None
        except (SQLParseError, SqlglotError) as exc:
            # Still run it: the engine's verdict (usually a syntax error) comes first; a statement the
            # engine runs but sqlglot cannot read is rejected as unparseable (no later step could read it).
            verdicts.append(Verdict(sql, None, Rejection.UNPARSEABLE, detail=str(exc)))
            plans.append((len(queries), None, None, None))
            queries.append(Query(url, sql, limits, keep_rows))
            continue
        verdicts.append(Verdict(sql, None, tree=tree))
        main = len(queries)
        queries.append(Query(url, sql, limits, keep_rows))
        probe_at = None
        if probe is not None:
            probe_at = len(queries)
            queries.append(Query(url, probe.sql, limits))
        plans.append((main, probe_at, shape, probe))
    outcomes = executor.run_batch(queries) if queries else []

    rebreak: list[tuple[int, str]] = []
    for i, (main, probe_at, shape, probe) in enumerate(plans):
        v = verdicts[i]
        v.outcome = outcomes[main]
        if v.tree is None:
            v.reason = status_reason(v.outcome) or Rejection.UNPARSEABLE
            continue
        v.reason = status_reason(v.outcome) or degenerate_reason(v.outcome, allow_empty, v.tree)
        if v.reason is not None or shape is None or not shape.limited:
            continue
        if probe is None:
            # A LIMIT whose cut cannot be probed: deterministic only if no row lies past it.
            if shape.limit is not None and shape.limit >= 0 and v.outcome.row_count < shape.limit:
                continue
            v.reason = Rejection.TIE_AT_LIMIT if shape.order_keys else Rejection.UNORDERED_LIMIT
            continue
        assert probe_at is not None
        probed = outcomes[probe_at]
        if not probed.ok or probed.rows is None:
            v.reason, v.detail = Rejection.TIE_AT_LIMIT, f"tie probe failed: {probed.status.value}"
            continue
        if not has_tie(probed.rows, probe):
            continue
        if not shape.order_keys:
            v.reason = Rejection.UNORDERED_LIMIT
            continue
        broken = (
            with_tie_breaker(v.sql, shape, len(v.outcome.columns), dialect) if tie_policy == "break" else None
        )
        if broken is None:
            v.reason = Rejection.TIE_AT_LIMIT
            continue
        rebreak.append((i, broken))

    if rebreak:
        second = executor.run_batch([Query(url, sql, limits, keep_rows) for _, sql in rebreak])
        for (i, broken), outcome in zip(rebreak, second, strict=True):
            v = verdicts[i]
            try:
                tree = parse_sql(broken, dialect, copy=False)
            except SQLParseError:
                v.reason = Rejection.TIE_AT_LIMIT
                continue
            v.sql, v.outcome, v.tree, v.tie_broken = broken, outcome, tree, True
            v.reason = status_reason(outcome) or degenerate_reason(outcome, allow_empty, tree)
    return verdicts


__all__ = [
    "OrderShape",
    "Rejection",
    "TieProbe",
    "Verdict",
    "degenerate_reason",
    "has_tie",
    "order_shape",
    "status_reason",
    "tie_probe",
    "verify_batch",
    "with_tie_breaker",
]
