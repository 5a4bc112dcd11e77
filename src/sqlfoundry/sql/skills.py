"""What a query exercises: the SQL skills it uses (read off its sqlglot AST) and a four-level
complexity (simple, moderate, complex, highly_complex) in the spirit of OmniSQL's synthesis levels.

Skills drive curriculum sampling, per-skill evaluation breakdowns and synthesis coverage; complexity
is the coarse bucket shown in reports.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlglot import exp

from .normalize import parse_sql

#: every skill name :func:`sql_skills` can return, with what makes a query have it
SKILLS: dict[str, str] = {
    "aggregation": "an aggregate function (COUNT, SUM, AVG, MIN, MAX, GROUP_CONCAT, ...) outside a window",
    "arithmetic": "+, -, *, /, % on values (a negative number literal is not arithmetic)",
    "between": "BETWEEN ... AND ...",
    "case": "CASE or IIF",
    "cte": "a WITH clause",
    "date_time": "a date/time function (date, datetime, julianday, strftime, CURRENT_DATE, ...)",
    "distinct": "SELECT DISTINCT or an aggregate over DISTINCT values",
    "filter": "a WHERE clause",
    "group_by": "a GROUP BY clause",
    "having": "a HAVING clause",
    "in": "IN (list) or IN (subquery)",
    "is_null": "IS NULL or IS NOT NULL",
    "join": "more than one table in a FROM clause (JOIN or comma)",
    "like": "LIKE, ILIKE or GLOB pattern matching",
    "limit": "LIMIT (or FETCH FIRST)",
    "negation": "NOT (NOT IN, NOT LIKE, NOT BETWEEN, NOT EXISTS, IS NOT NULL, NOT cond)",
    "nested": "a subquery anywhere except as a set operation's operand or a CTE's own body",
    "order_by": "an ORDER BY clause of a query (not one inside a window specification)",
    "projection": "a SELECT list (every query has it)",
    "set_operation": "UNION, INTERSECT or EXCEPT",
    "string_function": "a string function (substr, instr, replace, upper, lower, length, trim, ||, ...)",
    "window": "a window function (... OVER (...))",
}

_DATE_TIME_CLASSES = tuple(
    getattr(exp, name)
    for name in (
        "Date", "Datetime", "Time", "TimeToStr", "StrToTime", "StrToDate", "TsOrDsToTimestamp",
        "TsOrDsToDate", "CurrentDate", "CurrentDatetime", "CurrentTime", "CurrentTimestamp", "DateAdd",
        "DateSub", "DateDiff", "DateTrunc", "DatetimeAdd", "DatetimeSub", "DatetimeDiff", "TimestampAdd",
        "TimestampDiff", "TimeAdd", "TimeSub", "TimeDiff", "Year", "Month", "Day", "Quarter", "Week",
        "DayOfWeek", "DayOfMonth", "DayOfYear", "Extract", "UnixToTime", "TimeToUnix", "TimeStrToTime",
        "TimeStrToDate", "DateStrToDate", "DateToDateStr", "LastDay", "UnixSeconds",
    )
    if hasattr(exp, name)
)  # fmt: skip
_DATE_TIME_NAMES = {
    "date", "time", "datetime", "julianday", "strftime", "unixepoch", "timediff", "now", "current_date",
    "current_time", "current_timestamp", "year", "month", "day", "hour", "minute", "second", "dayofweek",
    "date_part", "datepart", "date_trunc", "to_date", "to_timestamp", "age", "makedate", "str_to_date",
}  # fmt: skip

_STRING_CLASSES = tuple(
    getattr(exp, name)
    for name in (
        "Lower", "Upper", "Length", "Substring", "StrPosition", "DPipe", "Concat", "ConcatWs", "Replace",
        "Trim", "Initcap", "Left", "Right", "Pad", "Reverse", "RegexpReplace", "RegexpExtract", "Unicode",
        "Chr", "Repeat", "SplitPart", "Split", "Format", "Soundex", "Levenshtein", "Hex",
    )
    if hasattr(exp, name)
)  # fmt: skip
_STRING_NAMES = {
    "substr", "substring", "instr", "replace", "upper", "lower", "length", "trim", "ltrim", "rtrim",
    "printf", "format", "char", "unicode", "soundex", "concat", "concat_ws", "left", "right", "lpad",
    "rpad", "reverse", "repeat", "split_part", "position", "locate", "initcap", "quote", "hex",
}  # fmt: skip

_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv)


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return ""


def frame_queries(tree: exp.Expression) -> set[int]:
    """ids of the queries that are a statement's own body: the root, set-operation operands and CTE
    bodies (with the Subquery wrappers around them); any other query is a nested subquery."""
    frame: set[int] = set()

    def mark(node: exp.Expression | None) -> None:
        if node is None:
            return
        frame.add(id(node))
        if isinstance(node, exp.Subquery):
            mark(node.this)
        elif isinstance(node, exp.SetOperation):
            mark(node.this)
            mark(node.expression)
        with_ = node.args.get("with_") or node.args.get("with")
        if with_ is not None:
            for cte in with_.expressions:
                mark(cte.this)

    mark(tree)
    return frame


def _nested_queries(tree: exp.Expression) -> list[exp.Expression]:
    frame = frame_queries(tree)
    nested = []
    for node in tree.walk():
        if isinstance(node, exp.Select) and id(node) not in frame:
            nested.append(node)
    return nested


def _nesting_depth(node: exp.Expression, frame: set[int]) -> int:
    depth = 0
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Select) and id(parent) not in frame:
            depth += 1
        parent = parent.parent
    return depth + 1


def _in_window(node: exp.Expression) -> bool:
    return isinstance(node.parent, exp.Window) or (
        isinstance(node.parent, exp.Filter) and isinstance(node.parent.parent, exp.Window)
    )


#: The node classes that give a skill, in the order they are tried: a node takes the first that fits.
#: ``select``, ``order``, ``is`` and ``neg`` depend on the node itself (see :func:`sql_skills`).
_BRANCHES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (exp.Select, "select"),
    (exp.Where, "filter"),
    (exp.Group, "group_by"),
    (exp.Having, "having"),
    (exp.Order, "order"),
    ((exp.Limit, exp.Fetch), "limit"),
    (exp.SetOperation, "set_operation"),
    (exp.Distinct, "distinct"),
    ((exp.Case, exp.If), "case"),
    (exp.With, "cte"),
    (exp.Window, "window"),
    ((exp.Like, exp.ILike, exp.Glob), "like"),
    (exp.In, "in"),
    (exp.Between, "between"),
    (exp.Is, "is"),
    (exp.Not, "negation"),
    (_ARITHMETIC, "arithmetic"),
    (exp.Neg, "neg"),
)


@functools.cache
def _node_kind(cls: type) -> tuple[str | None, bool, bool, bool, bool, bool]:
    """What a node class can contribute, worked out once per class instead of ~20 isinstance tests
    per node: (branch, aggregate, date/time class, string class, anonymous function, predicate)."""
    branch = next((name for types, name in _BRANCHES if issubclass(cls, types)), None)
    return (
        branch,
        issubclass(cls, exp.AggFunc),
        issubclass(cls, _DATE_TIME_CLASSES),
        issubclass(cls, _STRING_CLASSES),
        issubclass(cls, exp.Anonymous),
        issubclass(cls, exp.Predicate),
    )


def sql_skills(sql: str | exp.Expression, dialect: str = "sqlite") -> list[str]:
    """The sorted names (see :data:`SKILLS`) of the SQL skills a query uses.

    Raises :class:`~sqlfoundry.sql.normalize.SQLParseError` when the SQL does not parse.
    """
    tree = parse_sql(sql, dialect, copy=False) if isinstance(sql, str) else sql
    found: set[str] = set()
    for node in tree.walk():
        branch, aggregate, date_time, string, anonymous, predicate = _node_kind(type(node))
        if branch is not None:
            if branch == "select":
                found.add("projection")
                if node.args.get("distinct"):
                    found.add("distinct")
                if node.args.get("joins"):
                    found.add("join")
            elif branch == "order":
                if not isinstance(node.parent, exp.Window):
                    found.add("order_by")
            elif branch == "is":
                if isinstance(node.expression, exp.Null):
                    found.add("is_null")
            elif branch == "neg":
                if not isinstance(node.this, exp.Literal):
                    found.add("arithmetic")
            else:
                found.add(branch)
        if aggregate and not _in_window(node):
            found.add("aggregation")
        if anonymous:
            name = _function_name(node)
            if name in _DATE_TIME_NAMES:
                found.add("date_time")
            if name in _STRING_NAMES:
                found.add("string_function")
        if date_time:
            found.add("date_time")
        if string:
            found.add("string_function")
        if predicate and node.args.get("negate"):
            found.add("negation")
    if _nested_queries(tree):
        found.add("nested")
    return sorted(found)


# ---------------------------------------------------------------------------------------------------
# complexity

COMPLEXITY_LEVELS = ("simple", "moderate", "complex", "highly_complex")


@dataclass(frozen=True)
class ComplexityCounts:
    """The counts :func:`sql_complexity` decides on."""

    joins: int  # tables beyond the first, summed over every FROM
    subqueries: int  # nested queries (see SKILLS["nested"])
    nesting_depth: int  # 0 without subqueries, 1 for a subquery, 2 for a subquery inside one, ...
    set_operations: int
    aggregations: int
    where_conditions: int  # predicates joined by AND/OR, summed over every WHERE
    ctes: int
    windows: int
    has_group_by: bool
    has_having: bool
    has_case: bool


def complexity_counts(sql: str | exp.Expression, dialect: str = "sqlite") -> ComplexityCounts:
    tree = parse_sql(sql, dialect, copy=False) if isinstance(sql, str) else sql
    frame = frame_queries(tree)
    nested = _nested_queries(tree)
    where_conditions = 0
    for where in tree.find_all(exp.Where):
        where_conditions += 1 + sum(1 for n in where.this.walk() if isinstance(n, exp.Connector))
    return ComplexityCounts(
        joins=sum(len(s.args.get("joins") or []) for s in tree.find_all(exp.Select)),
        subqueries=len(nested),
        nesting_depth=max((_nesting_depth(s, frame) for s in nested), default=0),
        set_operations=sum(1 for _ in tree.find_all(exp.SetOperation)),
        aggregations=sum(1 for n in tree.find_all(exp.AggFunc) if not _in_window(n)),
        where_conditions=where_conditions,
        ctes=sum(1 for _ in tree.find_all(exp.CTE)),
        windows=sum(1 for _ in tree.find_all(exp.Window)),
        has_group_by=tree.find(exp.Group) is not None,
        has_having=tree.find(exp.Having) is not None,
        has_case=tree.find(exp.Case, exp.If) is not None,
    )


def complexity_from_counts(c: ComplexityCounts) -> str:
    """The documented rule (first match wins):

    - ``highly_complex``: a CTE or a window function; or subqueries nested two deep; or three or more
      subqueries and set operations together; or a subquery/set operation in a query that also joins
      three or more tables.
    - ``complex``: a subquery or a set operation; or three or more tables joined; or a join together
      with GROUP BY; or HAVING.
    - ``moderate``: a join; or an aggregate, GROUP BY or CASE; or three or more WHERE conditions.
    - ``simple``: everything else (one table, projection, filters, ORDER BY, LIMIT).
    """
    nesting = c.subqueries + c.set_operations
    if c.ctes or c.windows or c.nesting_depth >= 2 or nesting >= 3 or (nesting and c.joins >= 2):
        return "highly_complex"
    if nesting or c.joins >= 2 or (c.joins and c.has_group_by) or c.has_having:
        return "complex"
    if c.joins or c.aggregations or c.has_group_by or c.has_case or c.where_conditions >= 3:
        return "moderate"
    return "simple"


def sql_complexity(sql: str | exp.Expression, dialect: str = "sqlite") -> str:
    """simple, moderate, complex or highly_complex (see :func:`complexity_from_counts` for the rule)."""
    return complexity_from_counts(complexity_counts(sql, dialect))


__all__ = [
    "COMPLEXITY_LEVELS",
    "SKILLS",
    "ComplexityCounts",
    "complexity_counts",
    "complexity_from_counts",
    "sql_complexity",
    "sql_skills",
]
