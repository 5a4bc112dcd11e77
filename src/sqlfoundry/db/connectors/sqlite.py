"""SQLite, the embedded default: ``mode=ro`` URI, an authorizer that allows reads only, a progress
handler that aborts at the deadline, and length/heap limits against memory bombs."""

from __future__ import annotations

import os
import re
import sqlite3
import time

from ...errors import DatabaseUnavailableError
from ..guard import screen_statement
from ..outcome import ExecutionOutcome, Limits, OutcomeStatus
from .base import Connector, TooLarge, fetch_bounded

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and the pydantic models are not imported in every worker
    from typing import Any, ClassVar

    from ..schema_model import ForeignKey, Table

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE}
_DENIED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "sqlite_dbpage"}
_READ_PRAGMAS = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "collation_list", "function_list", "pragma_list", "compile_options",
}  # fmt: skip
_SYNTAX_MARKERS = ("syntax error", "incomplete input", "unrecognized token", "near \"")
_DENIED_MARKERS = ("not authorized", "authorization denied", "readonly database", "read-only", "prohibited", "access permission")
_TOO_LARGE_MARKERS = ("string or blob too big", "out of memory", "too many columns")


_READ_START = re.compile(r"\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*(?:select\b|with\b|values\b|\()", re.I | re.S)


def _authorizer(action: int, arg1: Any, arg2: Any, dbname: Any, source: Any) -> int:
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if str(arg2).lower() in _DENIED_FUNCTIONS else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        # Read pragmas only; a pragma given a value (PRAGMA x = y) may write.
        name = str(arg1).lower()
        if name in _READ_PRAGMAS:
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_DENY


_URI_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*")


def _uri_path(path: str) -> str:
    """A path quoted for a ``file:`` URI (urllib loaded only for unusual characters)."""
    if _URI_SAFE.fullmatch(path):
        return path
    from urllib.parse import quote

    return quote(path)


def _decode_lossy(b: bytes) -> str:
    return b.decode(errors="ignore")


class SQLiteConnector(Connector):
    engine: ClassVar[str] = "sqlite"
    dialect: ClassVar[str] = "sqlite"

    def __init__(self, url):
        super().__init__(url)
        self.conn: sqlite3.Connection | None = None
        self._deadline = float("inf")
        self._length_limit = -1

    def open(self) -> None:
        path = self.url.path or ""
        if not os.path.isfile(path):
            raise DatabaseUnavailableError(f"SQLite database {path!r} does not exist (from {self.url.display})")
        if not os.access(path, os.R_OK):
            raise DatabaseUnavailableError(f"SQLite database {path!r} is not readable")
        uri = f"file:{_uri_path(os.path.realpath(path))}?mode=ro"
        if self.url.option("immutable") in ("1", "true"):
            uri += "&immutable=1"
        try:
            # No prepared-statement cache: the Executor's own cache and in-batch deduplication keep
            # repeated statements from reaching the connection, and evicting from a full cache on
            # every new statement costs ~2%.
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, cached_statements=0)
            conn.execute("PRAGMA query_only = 1")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnavailableError(f"cannot open {str(path)!r} as SQLite: {exc}") from None
        conn.set_authorizer(_authorizer)
        self._length_limit = -1
        # Every few thousand virtual-machine instructions (well under a millisecond): the deadline
        # check costs a Python call, so not every thousand.
        conn.set_progress_handler(self._progress, 4000)
        self.conn = conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _progress(self) -> int:
        return 1 if time.monotonic() > self._deadline else 0

    def _apply_limits(self, limits: Limits) -> None:
        assert self.conn is not None
        # One value may not exceed the byte cap (randomblob/zeroblob/printf bombs fail fast).
        length = max(1000, min(limits.max_bytes, 1_000_000_000))
        if length != self._length_limit:
            self.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, length)
            self._length_limit = length

    def execute(self, sql: str, limits: Limits, keep_rows: bool = True) -> ExecutionOutcome:
        started = time.perf_counter()
        if self.conn is None:
            self.open()
        assert self.conn is not None
        if not _READ_START.match(sql):
            # The authorizer and sqlite3's one-statement rule are what enforce read-only; the screen
            # only gives statements that are not queries a clear verdict. A tokenizer failure is left
            # to SQLite, which gives the authoritative syntax message.
            screened = screen_statement(sql, "sqlite")
            if screened is not None and screened.status is OutcomeStatus.DENIED:
                return ExecutionOutcome(
                    status=screened.status, message=screened.message, elapsed_ms=(time.perf_counter() - started) * 1e3
                )
        self._apply_limits(limits)
        outcome = self._run(sql, limits, keep_rows)
        if outcome.status is OutcomeStatus.RUNTIME_ERROR and "decode" in outcome.message.lower():
            # Some real databases (Spider's among them) hold invalid UTF-8: decode it lossily, as the
            # official evaluators do, only when the fast path fails.
            self.conn.text_factory = _decode_lossy
            try:
                outcome = self._run(sql, limits, keep_rows)
            finally:
                self.conn.text_factory = str
        outcome.elapsed_ms = (time.perf_counter() - started) * 1e3
        return outcome

    def _run(self, sql: str, limits: Limits, keep_rows: bool) -> ExecutionOutcome:
        assert self.conn is not None
        self._deadline = time.monotonic() + limits.timeout_s
        cur = self.conn.cursor()
        try:
            cur.execute(sql)
            return fetch_bounded(cur, limits, keep_rows)
        except TooLarge as exc:
            return ExecutionOutcome(status=OutcomeStatus.TOO_LARGE, message=str(exc))
        except (sqlite3.Error, sqlite3.Warning) as exc:
            return ExecutionOutcome(status=self._classify(exc), message=str(exc))
        except (MemoryError, OverflowError) as exc:
            return ExecutionOutcome(status=OutcomeStatus.TOO_LARGE, message=f"{type(exc).__name__}: {exc}")
        finally:
            self._deadline = float("inf")
            cur.close()
            if self.conn.in_transaction:
                self.conn.rollback()

    def _classify(self, exc: BaseException) -> OutcomeStatus:
        msg = str(exc).lower()
        if "interrupted" in msg:
            return OutcomeStatus.TIMEOUT
        if "one statement at a time" in msg:
            return OutcomeStatus.DENIED
        if any(m in msg for m in _DENIED_MARKERS):
            return OutcomeStatus.DENIED
        if any(m in msg for m in _TOO_LARGE_MARKERS):
            return OutcomeStatus.TOO_LARGE
        if any(m in msg for m in _SYNTAX_MARKERS):
            return OutcomeStatus.SYNTAX_ERROR
        return OutcomeStatus.RUNTIME_ERROR

    def run_trusted(self, sql: str) -> tuple[list[str], list[tuple]]:
        if self.conn is None:
            self.open()
        assert self.conn is not None
        self.conn.text_factory = _decode_lossy
        try:
            cur = self.conn.execute(sql)
            cols = [d[0] for d in (cur.description or [])]
            return cols, cur.fetchall()
        finally:
            self.conn.text_factory = str

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def catalog(self) -> list[Table]:
        from ..schema_model import Column, ForeignKey, Table

        _, names = self.run_trusted(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )
        tables = []
        for (name,) in names:
            _, info = self.run_trusted(f"PRAGMA table_info({self.quote(name)})")
            pk_cols = sorted((r[5], r[1]) for r in info if r[5])
            columns = [
                Column(name=r[1], declared_type=r[2] or "", nullable=not r[3] and not r[5], primary_key=bool(r[5]))
                for r in info
            ]
            _, fk_rows = self.run_trusted(f"PRAGMA foreign_key_list({self.quote(name)})")
            fks: dict[int, ForeignKey] = {}
            for fid, _seq, ref_table, from_col, to_col, *_ in fk_rows:
                fk = fks.setdefault(fid, ForeignKey(columns=[], ref_table=ref_table, ref_columns=[]))
                fk.columns.append(from_col)
                fk.ref_columns.append(to_col or "")
            for fk in fks.values():
                if not any(fk.ref_columns):
                    # REFERENCES t without columns means t's primary key.
                    _, ref_info = self.run_trusted(f"PRAGMA table_info({self.quote(fk.ref_table)})")
                    fk.ref_columns = [r[1] for r in sorted(ref_info, key=lambda r: r[5]) if r[5]]
            tables.append(
                Table(name=name, columns=columns, primary_key=[c for _, c in pk_cols], foreign_keys=list(fks.values()))
            )
        return tables
