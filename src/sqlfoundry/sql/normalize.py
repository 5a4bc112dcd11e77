"""Canonical text forms of SQL: one normalized string per query (cache keys, dedup), a template with
literals replaced by placeholders, and a skeleton that keeps only the query's shape.

All three parse with sqlglot; ``normalize_sql`` falls back to collapsing whitespace outside string
literals and quoted identifiers when sqlglot cannot parse the text, so it never fails.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from ..errors import SQLFoundryError

#: placeholder written for every literal by :func:`sql_template`
VALUE_PLACEHOLDER = "?"


class SQLParseError(SQLFoundryError, ValueError):
    """SQL text that sqlglot cannot parse in the given dialect."""


def parse_sql(sql: str, dialect: str = "sqlite", *, copy: bool = True, cache: bool = True) -> exp.Expression:
    """Parse one statement (a trailing ``;`` is allowed), raising :class:`SQLParseError` when it cannot.

    Parses are cached; ``copy=False`` returns the cached tree itself, for callers that only read it.
    ``cache=False`` parses afresh without remembering (for one-off texts such as generated mutants).
    """
    if not cache:
        return _parse_statement(sql, dialect)
    tree = _parse_cached(sql, dialect)
    return tree.copy() if copy else tree


def clear_parse_cache() -> None:
    """Forget every cached parse (benchmarks use it to measure cold runs)."""
    _parse_cached.cache_clear()


@lru_cache(maxsize=4096)
def _parse_cached(sql: str, dialect: str) -> exp.Expression:
    return _parse_statement(sql, dialect)


def _parse_statement(sql: str, dialect: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as exc:
        raise SQLParseError(f"cannot parse SQL as {dialect}: {_first_line(str(exc))}") from None
    except (RecursionError, ValueError, TypeError) as exc:  # sqlglot raises these on some malformed input
        raise SQLParseError(f"cannot parse SQL as {dialect}: {type(exc).__name__}: {exc}") from None
    if not statements:
        raise SQLParseError("empty SQL: nothing to parse")
    if len(statements) > 1:
        raise SQLParseError(f"expected one SQL statement, found {len(statements)}")
    return statements[0]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def collapse_whitespace(sql: str) -> str:
    """Collapse runs of whitespace to one space outside '...' strings and "..."/`...`/[...] identifiers;
    drop a trailing semicolon. Used when sqlglot cannot parse the text."""
    out: list[str] = []
    i, n = 0, len(sql)
    pending_space = False
    closers = {"'": "'", '"': '"', "`": "`", "[": "]"}
    while i < n:
        ch = sql[i]
        if ch in closers:
            close = closers[ch]
            j = i + 1
            while j < n:
                if sql[j] == close:
                    # a doubled quote inside a quoted token is an escaped quote
                    if close != "]" and j + 1 < n and sql[j + 1] == close:
                        j += 2
                        continue
                    break
                j += 1
            if pending_space and out:
                out.append(" ")
            pending_space = False
            out.append(sql[i : j + 1])
            i = j + 1
            continue
        if ch.isspace():
            pending_space = True
            i += 1
            continue
        if pending_space and out:
            out.append(" ")
        pending_space = False
        out.append(ch)
        i += 1
    text = "".join(out).strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def normalize_sql(sql: str, dialect: str = "sqlite") -> str:
    """One canonical string for a query: sqlglot's generated SQL in ``dialect`` (keywords upper-cased,
    spacing and quoting made uniform, trailing ``;`` dropped). Unparseable text falls back to
    :func:`collapse_whitespace`, so two texts that differ only in layout still agree."""
    try:
        tree = parse_sql(sql, dialect, copy=False)
    except SQLParseError:
        return collapse_whitespace(sql)
    try:
        return tree.sql(dialect=dialect, normalize_functions="upper")
    except SqlglotError:
        return collapse_whitespace(sql)


_VALUE_SLOTS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike, exp.Glob)


def is_quoted_value(node: exp.Expression) -> bool:
    """A bare double-quoted name in a value position (right of a comparison or LIKE, in an IN list,
    a BETWEEN bound): SQLite reads ``name = "France"`` as a string when no column is called France,
    and Spider-style gold SQL relies on it."""
    if not (isinstance(node, exp.Column) and not node.table and node.this.args.get("quoted")):
        return False
    parent = node.parent
    if isinstance(parent, _VALUE_SLOTS):
        return node is parent.expression
    if isinstance(parent, exp.In):
        return node is not parent.this
    if isinstance(parent, exp.Between):
        return node is not parent.this
    return False


def _is_value(node: exp.Expression) -> bool:
    if isinstance(node, exp.Literal):
        return True
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return True
    return is_quoted_value(node)


def _replace_literals(tree: exp.Expression, placeholder: str) -> exp.Expression:
    def swap(node: exp.Expression) -> exp.Expression:
        # LIMIT/OFFSET counts are part of the query's shape, not a value a user asked about
        if isinstance(node, exp.Literal) and isinstance(node.parent, (exp.Limit, exp.Offset, exp.Fetch)):
            return node
        if _is_value(node):
            return exp.Var(this=placeholder)
        return node

    return tree.transform(swap, copy=True)


def sql_template(sql: str, dialect: str = "sqlite", placeholder: str = VALUE_PLACEHOLDER) -> str:
    """The normalized query with every string and number literal (but not LIMIT/OFFSET counts), and
    every double-quoted name in a value position (see :func:`is_quoted_value`), replaced by
    ``placeholder``: queries that differ only in values share a template.
    Raises :class:`SQLParseError` when the SQL does not parse."""
    tree = parse_sql(sql, dialect, copy=False)  # transform copies
    return _replace_literals(tree, placeholder).sql(dialect=dialect, normalize_functions="upper")


def skeleton(sql: str, dialect: str = "sqlite") -> str:
    """The query's shape: keywords, operators and functions kept; tables become ``_tab``, columns
    ``_col``, aliases dropped and literals ``_val`` (LIMIT counts become ``_val`` too), so queries
    that differ only in which schema items and values they use share a skeleton (as in DAIL-SQL's
    skeleton similarity). Raises :class:`SQLParseError` when the SQL does not parse."""
    tree = parse_sql(sql, dialect, copy=False)  # transform copies

    def mask(node: exp.Expression) -> exp.Expression | None:
        if _is_value(node):
            return exp.Var(this="_val")
        if isinstance(node, exp.Column):
            return exp.Var(this="_col")
        if isinstance(node, exp.Table):
            return exp.Var(this="_tab")
        if isinstance(node, exp.Alias):
            return node.this
        if isinstance(node, exp.TableAlias):
            return None
        return node

    masked = tree.transform(mask, copy=True)
    return masked.sql(dialect=dialect, normalize_functions="upper")


__all__ = [
    "SQLParseError",
    "VALUE_PLACEHOLDER",
    "collapse_whitespace",
    "is_quoted_value",
    "normalize_sql",
    "parse_sql",
    "skeleton",
    "sql_template",
]
