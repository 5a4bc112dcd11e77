"""A lexical screen run before a statement reaches a server engine.

It is one layer of several: engines are also opened read-only (SQLite ``mode=ro`` plus an authorizer,
DuckDB ``read_only``, read-only transactions on PostgreSQL and MySQL). The screen catches what a
read-only transaction does not: several statements in one string, ``SELECT … INTO OUTFILE``,
``COPY … TO PROGRAM``, and side-effecting functions such as ``pg_terminate_backend``.
"""

from __future__ import annotations

from collections import namedtuple
from functools import cache

from .outcome import OutcomeStatus

# Token types that never belong in a read-only query (identifiers that collide must be quoted).
_FORBIDDEN_NAMES = (
    "INSERT", "UPDATE", "DELETE", "MERGE", "DROP", "CREATE", "ALTER", "TRUNCATE", "ATTACH", "DETACH",
    "PRAGMA", "GRANT", "COPY", "COMMIT", "ROLLBACK", "COMMAND", "INTO", "SET", "INSTALL", "TEMPORARY",
)  # fmt: skip


@cache
def _sqlglot():
    """sqlglot, imported on first use: worker processes that only run SQLite SELECTs never need it."""
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    read_starts = {TokenType.SELECT, TokenType.WITH, TokenType.VALUES, TokenType.L_PAREN}
    forbidden = {getattr(TokenType, name) for name in _FORBIDDEN_NAMES}
    return Dialect, SqlglotError, TokenType, read_starts, forbidden

# Statement words that are real commands (denied) rather than typos (syntax errors).
_COMMAND_WORDS = {
    "vacuum", "reindex", "analyze", "analyse", "checkpoint", "pragma", "attach", "detach", "begin", "end",
    "start", "savepoint", "release", "explain", "replace", "upsert", "load", "install", "export", "import",
    "show", "describe", "desc", "summarize", "call", "do", "listen", "unlisten", "notify", "discard",
    "prepare", "execute", "deallocate", "cluster", "refresh", "reset", "lock", "unlock", "handler", "kill",
    "flush", "use", "optimize", "repair", "rename", "comment", "security", "set", "table", "from", "pivot",
    "unpivot", "force", "update", "insert", "delete", "create", "drop", "alter", "truncate", "grant",
    "revoke", "copy", "commit", "rollback", "abort", "merge", "reassign", "declare", "fetch", "move",
    "close", "checksum", "purge", "change", "xa", "binlog", "cache", "shutdown", "restart", "signal",
}  # fmt: skip

_SQLGLOT_DIALECT = {"sqlite": "sqlite", "duckdb": "duckdb", "postgres": "postgres", "mysql": "mysql"}


class Screened(namedtuple("Screened", "status message")):
    """Why a statement was refused before execution (``status``, ``message``); a named tuple, not a
    dataclass, for the reason given at :class:`~sqlfoundry.db.outcome.Limits`."""

    __slots__ = ()


def strip_statement(sql: str) -> str:
    """The statement without surrounding whitespace and trailing semicolons."""
    s = sql.strip()
    while s.endswith(";"):
        s = s[:-1].rstrip()
    return s


def screen_statement(sql: str, engine: str, denied_functions: frozenset[str] = frozenset()) -> Screened | None:
    """Return why ``sql`` must not run on ``engine``, or None when it may be sent to the engine."""
    if not sql or not sql.strip():
        return Screened(OutcomeStatus.SYNTAX_ERROR, "empty statement")
    Dialect, SqlglotError, TokenType, _READ_STARTS, _FORBIDDEN = _sqlglot()
    try:
        tokens = Dialect.get_or_raise(_SQLGLOT_DIALECT[engine]).tokenize(sql)
    except SqlglotError as exc:
        return Screened(OutcomeStatus.SYNTAX_ERROR, f"cannot tokenize statement: {str(exc)[:200]}")
    statements: list[list] = [[]]
    for tok in tokens:
        if tok.token_type is TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(tok)
    statements = [s for s in statements if s]
    if not statements:
        return Screened(OutcomeStatus.SYNTAX_ERROR, "empty statement")
    if len(statements) > 1:
        return Screened(OutcomeStatus.DENIED, f"only one statement may run at a time (found {len(statements)})")
    toks = statements[0]
    if toks[0].token_type not in _READ_STARTS:
        first = toks[0]
        if first.token_type in (TokenType.VAR, TokenType.IDENTIFIER) and first.text.lower() not in _COMMAND_WORDS:
            return Screened(OutcomeStatus.SYNTAX_ERROR, f"syntax error: a query cannot start with {first.text!r}")
        return Screened(OutcomeStatus.DENIED, f"only read-only queries may run; {first.text.upper()!r} is not one")
    for i, tok in enumerate(toks):
        if tok.token_type in _FORBIDDEN:
            return Screened(OutcomeStatus.DENIED, f"{tok.text.upper()!r} is not allowed in a read-only query")
        if (
            denied_functions
            and tok.token_type is not TokenType.STRING
            and tok.text.lower() in denied_functions
            and i + 1 < len(toks)
            and toks[i + 1].token_type is TokenType.L_PAREN
        ):
            return Screened(OutcomeStatus.DENIED, f"function {tok.text}() is not allowed in a read-only query")
    return None
