"""Which SQL constructs of a gold set synthesized data contains and which it lacks.

Each query is reduced to a set of named constructs (its skills plus finer ones read off the sqlglot
AST: each aggregate and function by name, comparison operators, predicates, join counts and kinds,
subquery positions, set operations, ordering...); coverage compares gold and data construct counts.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError

from ..sql.normalize import SQLParseError, parse_sql
from ..sql.skills import frame_queries, sql_skills

#: construct families, by name prefix, with what each holds (the docs list them too)
CONSTRUCT_FAMILIES: dict[str, str] = {
    "skill": "a SQL skill of sql.skills.sql_skills (filter, join, nested, ...)",
    "agg": "an aggregate function by name (outside windows); agg:count_distinct for COUNT(DISTINCT ...)",
    "func": "a scalar function by its SQLite name (strftime, substr, round, cast, coalesce, ...)",
    "window": "a window function by name, and window:partition_by / window:order_by / window:frame",
    "cmp": "a comparison operator (=, !=, <, <=, >, >=) outside JOIN ... ON conditions",
    "pred": "LIKE, GLOB, IN list / subquery, BETWEEN, IS NULL, EXISTS, each also negated, and a bare NOT",
    "logic": "AND / OR outside JOIN ... ON conditions",
    "arith": "an arithmetic operator (+, -, *, /, %) or string concatenation (||)",
    "join": "tables joined in one SELECT (join:count_1, count_2, count_3+), join kinds (left, right, "
    "full, cross), join:self (one table twice)",
    "subquery": "where a nested query sits (where, from, select, having, order_by, ...) and "
    "subquery:depth_2+",
    "set": "union, union_all, intersect, except",
    "order": "ORDER BY direction (asc, desc), order:multiple_keys, order:by_aggregate",
    "group": "group:multiple_keys",
    "select": "select:star (SELECT *), select:distinct (SELECT DISTINCT)",
    "limit": "limit:offset",
    "cte": "cte:recursive",
}

_CMP = {exp.EQ: "=", exp.NEQ: "!=", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}
_ARITH = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.Mod: "%",
    exp.IntDiv: "/",
    exp.DPipe: "||",
}
_FUNC_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_BARE_NAME = re.compile(r"^[A-Z_]+$")
#: clause of the enclosing SELECT a subquery sits in, by sqlglot arg key
_POSITIONS = {
    "where": "where",
    "from": "from",
    "from_": "from",
    "joins": "from",
    "expressions": "select",
    "having": "having",
    "order": "order_by",
    "group": "group_by",
    "limit": "limit",
}


def sql_constructs(sql: str | exp.Expression, dialect: str = "sqlite") -> set[str]:
    """The construct names (``family:detail``, see :data:`CONSTRUCT_FAMILIES`) a query uses.

    Raises :class:`~sqlfoundry.sql.normalize.SQLParseError` when the SQL does not parse.
    """
    tree = parse_sql(sql, dialect, copy=False) if isinstance(sql, str) else sql
    found = {f"skill:{s}" for s in sql_skills(tree, dialect)}
    frame = frame_queries(tree)
    for node in tree.walk():
        if isinstance(node, exp.Select):
            _select_constructs(node, found, frame)
        elif isinstance(node, exp.Window):
            found.add(f"window:{_function_name(node.this) or 'other'}")
            if node.args.get("partition_by"):
                found.add("window:partition_by")
            if node.args.get("order"):
                found.add("window:order_by")
            if node.args.get("spec"):
                found.add("window:frame")
        elif isinstance(node, exp.SetOperation):
            if isinstance(node, exp.Union):
                found.add("set:union" if node.args.get("distinct", True) else "set:union_all")
            elif isinstance(node, exp.Intersect):
                found.add("set:intersect")
            elif isinstance(node, exp.Except):
                found.add("set:except")
        elif isinstance(node, exp.Ordered):
            if not _in_window(node):
                found.add("order:desc" if node.args.get("desc") else "order:asc")
        elif isinstance(node, exp.With):
            if node.args.get("recursive"):
                found.add("cte:recursive")
        elif type(node) in _CMP:
            if not _in_join_condition(node):
                found.add(f"cmp:{_CMP[type(node)]}")
        elif type(node) in _ARITH:
            found.add(f"arith:{_ARITH[type(node)]}")
        elif isinstance(node, (exp.And, exp.Or)):
            if not _in_join_condition(node):
                found.add("logic:and" if isinstance(node, exp.And) else "logic:or")
        elif isinstance(node, exp.Not):
            inner = node.this
            if not isinstance(
                inner, (exp.Like, exp.ILike, exp.Glob, exp.In, exp.Between, exp.Exists, exp.Is)
            ):
                found.add("pred:not")
        _predicate_constructs(node, found)
        if isinstance(node, exp.Func):
            _function_constructs(node, found)
    return found


def _select_constructs(select: exp.Select, found: set[str], frame: set[int]) -> None:
    joins = select.args.get("joins") or []
    if joins:
        found.add(f"join:count_{len(joins)}" if len(joins) < 3 else "join:count_3+")
        tables = []
        source = select.args.get("from_") or select.args.get("from")
        if source is not None and isinstance(source.this, exp.Table):
            tables.append(source.this.name.lower())
        for join in joins:
            side, kind = (join.args.get("side") or "").lower(), (join.args.get("kind") or "").lower()
            if side in ("left", "right", "full"):
                found.add(f"join:{side}")
            elif kind == "cross" and join.args.get("on") is None:
                found.add("join:cross")
            if isinstance(join.this, exp.Table):
                tables.append(join.this.name.lower())
        if len(tables) != len(set(tables)):
            found.add("join:self")
    if select.args.get("distinct"):
        found.add("select:distinct")
    if any(
        isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
        for e in select.expressions
    ):
        found.add("select:star")
    group = select.args.get("group")
    if group is not None and len(group.expressions) > 1:
        found.add("group:multiple_keys")
    order = select.args.get("order")
    if order is not None:
        if len(order.expressions) > 1:
            found.add("order:multiple_keys")
        if any(o.find(exp.AggFunc) is not None for o in order.expressions):
            found.add("order:by_aggregate")
    if select.args.get("offset") is not None or (
        select.args.get("limit") is not None and select.args["limit"].args.get("offset") is not None
    ):
        found.add("limit:offset")
    if id(select) not in frame:
        found.add(f"subquery:{_position(select)}")
        if _nested_depth(select, frame) >= 2:
            found.add("subquery:depth_2+")


def _predicate_constructs(node: exp.Expression, found: set[str]) -> None:
    negated = isinstance(node.parent, exp.Not) or bool(node.args.get("negate"))
    prefix = "pred:not_" if negated else "pred:"
    if isinstance(node, (exp.Like, exp.ILike)):
        found.add(f"{prefix}like")
    elif isinstance(node, exp.Glob):
        found.add(f"{prefix}glob")
    elif isinstance(node, exp.In):
        found.add(f"{prefix}in_subquery" if node.args.get("query") is not None else f"{prefix}in_list")
    elif isinstance(node, exp.Between):
        found.add(f"{prefix}between")
    elif isinstance(node, exp.Exists):
        found.add(f"{prefix}exists")
    elif isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        found.add("pred:is_not_null" if negated else "pred:is_null")


def _function_constructs(node: exp.Func, found: set[str]) -> None:
    if isinstance(node, (exp.Case, exp.If, exp.Exists, exp.Window)) or isinstance(node, exp.SetOperation):
        return
    if _in_window(node) and isinstance(node.parent, exp.Window):
        return  # named as window:<name>
    name = _function_name(node)
    if name is None:
        return
    if isinstance(node, exp.AggFunc):
        found.add(f"agg:{name}")
        if isinstance(node.this, exp.Distinct):
            found.add(f"agg:{name}_distinct")
    else:
        found.add(f"func:{name}")


def _function_name(node: exp.Expression | None) -> str | None:
    """The function's name as SQLite writes it (``TimeToStr`` → ``strftime``), lower-cased; None for
    internal nodes that print no call."""
    if node is None:
        return None
    try:
        text = node.sql(dialect="sqlite")
    except (SqlglotError, ValueError):
        return None
    match = _FUNC_NAME.match(text)
    if match:
        return match.group(1).lower()
    if _BARE_NAME.match(text):
        return text.lower()  # CURRENT_DATE, CURRENT_TIMESTAMP
    return None


def _in_window(node: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None and not isinstance(parent, (exp.Select, exp.Window)):
        parent = parent.parent
    return isinstance(parent, exp.Window)


def _in_join_condition(node: exp.Expression) -> bool:
    child, parent = node, node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        if isinstance(parent, exp.Join) and child.arg_key == "on":
            return True
        child, parent = parent, parent.parent
    return False




def _position(select: exp.Select) -> str:
    """The clause of the enclosing SELECT that holds a nested SELECT."""
    child, parent = select, select.parent
    while parent is not None:
        if isinstance(parent, exp.Select):
            return _POSITIONS.get(child.arg_key, child.arg_key or "other")
        child, parent = parent, parent.parent
    return "other"


def _nested_depth(select: exp.Select, frame: set[int]) -> int:
    depth, parent = 1, select.parent
    while parent is not None:
        if isinstance(parent, exp.Select) and id(parent) not in frame:
            depth += 1
        parent = parent.parent
    return depth


# ------------------------------------------------------------------------------------------------
# Coverage
# ------------------------------------------------------------------------------------------------


@dataclass
class ConstructCoverage:
    """One construct: gold queries and data records using it, and whether the data covers it."""

    name: str
    gold_count: int
    data_count: int
    covered: bool


@dataclass
class CoverageReport:
    """Gold-against-data construct coverage.

    - ``query_coverage``: share of (parsed) gold queries all of whose constructs the data covers;
    - ``construct_coverage``: share of construct types used by gold that the data covers;
    - ``weighted_coverage``: share of gold construct occurrences (a construct counted once per gold
      query using it) whose construct the data covers.
    A construct is covered when at least ``min_count`` data records use it.
    """

    constructs: list[ConstructCoverage]
    gold_queries: int
    gold_unparsed: int
    data_records: int
    data_unparsed: int
    queries_covered: int
    min_count: int = 1
    #: constructs the data has but gold never uses: name → data records
    data_only: dict[str, int] = field(default_factory=dict)

    @property
    def query_coverage(self) -> float:
        return self.queries_covered / self.gold_queries if self.gold_queries else 0.0

    @property
    def construct_coverage(self) -> float:
        if not self.constructs:
            return 0.0
        return sum(c.covered for c in self.constructs) / len(self.constructs)

    @property
    def weighted_coverage(self) -> float:
        total = sum(c.gold_count for c in self.constructs)
        return sum(c.gold_count for c in self.constructs if c.covered) / total if total else 0.0

    def missing(self) -> list[ConstructCoverage]:
        """Uncovered gold constructs, most used by gold first."""
        return [c for c in self.constructs if not c.covered]

    def to_dict(self) -> dict[str, Any]:
        return {
            "gold_queries": self.gold_queries,
            "gold_unparsed": self.gold_unparsed,
            "data_records": self.data_records,
            "data_unparsed": self.data_unparsed,
            "min_count": self.min_count,
            "queries_covered": self.queries_covered,
            "query_coverage": round(self.query_coverage, 4),
            "construct_types": len(self.constructs),
            "construct_types_covered": sum(c.covered for c in self.constructs),
            "construct_coverage": round(self.construct_coverage, 4),
            "weighted_coverage": round(self.weighted_coverage, 4),
            "constructs": [
                {"name": c.name, "gold": c.gold_count, "data": c.data_count, "covered": c.covered}
                for c in self.constructs
            ],
            "missing": [c.name for c in self.missing()],
            "data_only": self.data_only,
        }


def _count_constructs(sqls: Iterable[tuple[str, str]]) -> tuple[Counter, list[set[str]], int]:
    """(construct → queries using it, construct set per parsed query, unparsed count); each distinct
    (SQL, dialect) is parsed once."""
    counts: Counter = Counter()
    per_query: list[set[str]] = []
    cache: dict[tuple[str, str], set[str] | None] = {}
    unparsed = 0
    for sql, dialect in sqls:
        key = (sql, dialect)
        if key not in cache:
            try:
                cache[key] = sql_constructs(parse_sql(sql, dialect, cache=False), dialect)
            except (SQLParseError, SqlglotError, RecursionError, ValueError):
                cache[key] = None
        constructs = cache[key]
        if constructs is None:
            unparsed += 1
            continue
        counts.update(constructs)
        per_query.append(constructs)
    return counts, per_query, unparsed


def coverage(
    gold_sqls: Iterable[str | tuple[str, str]],
    data_sqls: Iterable[str | tuple[str, str]],
    min_count: int = 1,
    dialect: str = "sqlite",
) -> CoverageReport:
    """Coverage of the gold queries' constructs by the data queries. Items are SQL texts (in
    ``dialect``) or ``(sql, dialect)`` pairs; SQL that does not parse is counted, not used."""

    def pairs(items: Iterable[str | tuple[str, str]]) -> Iterable[tuple[str, str]]:
        for item in items:
            sql, d = (item, dialect) if isinstance(item, str) else item
            if sql and sql.strip():
                yield sql, d

    gold_counts, gold_sets, gold_unparsed = _count_constructs(pairs(gold_sqls))
    data_counts, data_sets, data_unparsed = _count_constructs(pairs(data_sqls))
    covered = {name for name, n in data_counts.items() if n >= min_count}
    rows = [
        ConstructCoverage(
            name=name, gold_count=n, data_count=data_counts.get(name, 0), covered=name in covered
        )
        for name, n in sorted(gold_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return CoverageReport(
        constructs=rows,
        gold_queries=len(gold_sets),
        gold_unparsed=gold_unparsed,
        data_records=len(data_sets),
        data_unparsed=data_unparsed,
        queries_covered=sum(1 for s in gold_sets if s <= covered),
        min_count=min_count,
        data_only={k: v for k, v in sorted(data_counts.items()) if k not in gold_counts},
    )


def coverage_from_files(
    gold_path: str | os.PathLike,
    data_paths: Iterable[str | os.PathLike],
    min_count: int = 1,
    dialect: str = "sqlite",
) -> CoverageReport:
    """Coverage of a gold file (Spider/BIRD JSON, ``SQL<TAB>db_id`` or one-SQL-per-line) by records
    files (JSONL, Parquet or run folders); infeasible records have no SQL and are not counted."""
    from .decontaminate import load_eval_items
    from .export import read_records

    gold = [
        (item.sql, item.dialect) for item in load_eval_items(Path(gold_path), dialect=dialect) if item.sql
    ]

    def data() -> Iterable[tuple[str, str]]:
        for path in data_paths:
            for record in read_records(path):
                if record.feasible and record.sql:
                    yield record.sql, record.dialect

    return coverage(gold, data(), min_count=min_count, dialect=dialect)


__all__ = [
    "CONSTRUCT_FAMILIES",
    "ConstructCoverage",
    "CoverageReport",
    "coverage",
    "coverage_from_files",
    "sql_constructs",
]
