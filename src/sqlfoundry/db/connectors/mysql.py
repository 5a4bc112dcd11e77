"""MySQL and MariaDB: a read-only session, each statement in ``START TRANSACTION READ ONLY`` rolled
back afterwards, a server-side statement timeout (``KILL QUERY`` from a second connection as the last
resort), one statement per call, and an unbuffered cursor so the row and byte caps stop the transfer."""

from __future__ import annotations

import datetime as _dt
import re
import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar

import pymysql
import pymysql.cursors
from pymysql import converters
from pymysql.constants import FIELD_TYPE

from ...errors import DatabaseUnavailableError
from ..guard import screen_statement, strip_statement
from ..outcome import ExecutionOutcome, Limits, OutcomeStatus
from .base import Connector, DeadlineCursor, DeadlineReached, Stopwatch, TooLarge, fetch_bounded

if TYPE_CHECKING:  # pydantic models: imported where a catalog is built, not in every worker
    from ..schema_model import ForeignKey, Table

#: Functions that touch server files, hold locks beyond the statement, or run shell commands (UDFs).
#: ``INTO OUTFILE``/``DUMPFILE`` never pass the screen (its INTO token is refused).
DENIED_FUNCTIONS = frozenset(
    {
        "load_file", "get_lock", "release_lock", "release_all_locks", "sys_exec", "sys_eval", "sys_get",
        "sys_set", "sys_bineval", "nextval", "setval", "lastval", "master_pos_wait",
        "source_pos_wait", "master_gtid_wait", "wait_for_executed_gtid_set", "wait_until_sql_thread_after_gtids",
    }
)  # fmt: skip

_DEFAULT_PORT = 3306
_CLIENT_GRACE_S = 0.5
_FETCH_BATCH = 1000
_MAX_TIMEOUT_S = 31_536_000  # the largest max_statement_time MariaDB accepts (one year)

_SYNTAX = {1064, 1149}
_TIMEOUT = {1969, 3024, 1317, 1028}
_DENIED = {1792, 1142, 1143, 1227, 1290, 1044, 1045, 1370, 1095, 1211, 1465, 1836, 3685}
_TOO_LARGE = {1104, 1114, 1037, 1038, 1041, 1153, 1117, 1118, 1135, 3170, 4029}
_CONNECTION_LOST = {2006, 2013, 2014, 2055, 0}


# MySQL and MariaDB run the body of /*! ... */ and /*M! ... */ comments, which a tokenizer skips as
# comments; /*+ ... */ optimizer hints can lift limits (MySQL's MAX_EXECUTION_TIME, SET_VAR).
_EXECUTABLE_COMMENT = re.compile(r"/\*\s*(?:m?!|\+)", re.IGNORECASE)


def screen(sql: str) -> str | None:
    """Why ``sql`` must not be sent to MySQL/MariaDB, or None. A statement the tokenizer cannot read
    is left to the server, whose syntax message is the authoritative one."""
    screened = screen_statement(sql, "mysql", DENIED_FUNCTIONS)
    if screened is not None and screened.status is OutcomeStatus.DENIED:
        return screened.message
    if _EXECUTABLE_COMMENT.search(sql):
        return "executable comments (/*! */, /*M! */) and optimizer hints (/*+ */) are not allowed"
    return None


def _time_or_timedelta(raw: Any) -> Any:
    # TIME columns hold durations (negative or over 24 h are legal); a time of day reads as a time so
    # it compares equal to SQLite's 'HH:MM:SS' text and PostgreSQL's TIME.
    value = converters.convert_timedelta(raw)
    if isinstance(value, _dt.timedelta) and _dt.timedelta(0) <= value < _dt.timedelta(days=1):
        return (_dt.datetime.min + value).time()
    return value


_CONVERSIONS = dict(converters.conversions)
_CONVERSIONS[FIELD_TYPE.TIME] = _time_or_timedelta


class MySQLConnector(Connector):
    engine: ClassVar[str] = "mysql"
    dialect: ClassVar[str] = "mysql"

    def __init__(self, url):
        super().__init__(url)
        self.conn: pymysql.connections.Connection | None = None
        self.is_mariadb = True
        self._thread_id: int | None = None
        self._killer: pymysql.connections.Connection | None = None
        self._kill_lock = threading.Lock()  # guards _running/_killed against the deadline timer
        self._killer_lock = threading.Lock()  # one user of the second connection at a time
        self._running = False
        self._killed = False
        self._session_timeout_ms: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def _where(self) -> str:
        return f"{self.url.host}:{self.url.port or _DEFAULT_PORT}/{self.url.database}"

    def _connect(self) -> pymysql.connections.Connection:
        kwargs: dict[str, Any] = {}
        if self.url.option("unix_socket"):
            kwargs["unix_socket"] = self.url.option("unix_socket")
        return pymysql.connect(
            host=self.url.host or "127.0.0.1",
            port=self.url.port or _DEFAULT_PORT,
            user=self.url.user or "",
            password=self.url.password or "",
            database=self.url.database,
            charset=self.url.option("charset", "utf8mb4") or "utf8mb4",
            connect_timeout=float(self.url.option("connect_timeout", "10") or 10),
            autocommit=True,
            conv=_CONVERSIONS,
            **kwargs,
        )  # multi-statements stay off: pymysql does not set CLIENT.MULTI_STATEMENTS by default

    def open(self) -> None:
        try:
            conn = self._connect()
        except pymysql.Error as exc:
            reason = exc.args[-1] if exc.args else type(exc).__name__
            raise DatabaseUnavailableError(
                f"cannot connect to MySQL/MariaDB at {self._where()} as {self.url.user or '(no user)'}: {reason}"
            ) from None
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION READ ONLY")
        except pymysql.Error as exc:
            conn.close()
            raise DatabaseUnavailableError(
                f"cannot set up a read-only session on {self._where()}: {exc}"
            ) from None
        self.is_mariadb = "mariadb" in conn.get_server_info().lower()
        self._thread_id = conn.thread_id()
        self._session_timeout_ms = None
        self.conn = conn

    def close(self) -> None:
        for attr in ("conn", "_killer"):
            conn = getattr(self, attr)
            if conn is not None:
                setattr(self, attr, None)
                try:
                    conn.close()
                except Exception:
                    conn._force_close()

    def _discard(self, cursor: Any = None) -> None:
        """Drop the session without reading what the server still sends (an abandoned big result).

        The server notices the closed socket at its next write, and its statement timeout bounds it
        before then; a ``KILL`` is sent too when the second connection is already open.
        """
        conn, thread_id = self.conn, self._thread_id
        self.conn = None
        result = getattr(cursor, "_result", None)
        if result is not None:
            result.unbuffered_active = False  # or pymysql drains the rest when the cursor is collected
        if conn is not None:
            conn._force_close()
        if thread_id is not None and self._killer is not None:
            self._kill(f"KILL {thread_id}")

    def _ensure_open(self) -> pymysql.connections.Connection:
        if self.conn is None or not self.conn.open:
            self.conn = None
            self.open()
        assert self.conn is not None
        return self.conn

    # -- execution -------------------------------------------------------------------------------
    def execute(self, sql: str, limits: Limits, keep_rows: bool = True) -> ExecutionOutcome:
        watch = Stopwatch()
        refused = screen(sql)
        if refused is not None:
            return ExecutionOutcome(status=OutcomeStatus.DENIED, message=refused, elapsed_ms=watch.ms)
        for attempt in (1, 2):
            conn = self._ensure_open()  # DatabaseUnavailableError: the Executor reports it per statement
            try:
                prefix = self._begin(conn, limits)
                break
            except pymysql.Error as exc:
                # A session the server dropped since the last statement (restart, wait_timeout) is
                # reopened once: the user's statement has not run yet.
                self._discard()
                if attempt == 2:
                    return ExecutionOutcome(
                        status=OutcomeStatus.RUNTIME_ERROR, message=_message(exc), elapsed_ms=watch.ms
                    )
        outcome = self._run(conn, prefix + strip_statement(sql), limits, keep_rows)
        outcome.elapsed_ms = watch.ms
        return outcome

    def _begin(self, conn: pymysql.connections.Connection, limits: Limits) -> str:
        """Start a read-only transaction; return the prefix that bounds the statement on the server."""
        with conn.cursor() as cur:
            if self.is_mariadb:
                cur.execute("START TRANSACTION READ ONLY")
                mem = max(8192, limits.memory_mb * 1024 * 1024)
                seconds = max(0.001, min(limits.timeout_s, _MAX_TIMEOUT_S))
                return f"SET STATEMENT max_statement_time={seconds:.3f}, max_session_mem_used={mem} FOR "
            timeout_ms = max(1, int(min(limits.timeout_s, _MAX_TIMEOUT_S) * 1000))
            if timeout_ms != self._session_timeout_ms:  # MySQL: bounds SELECT statements
                cur.execute(f"SET SESSION max_execution_time = {timeout_ms}")
                self._session_timeout_ms = timeout_ms
            cur.execute("START TRANSACTION READ ONLY")
            return ""

    def _run(
        self, conn: pymysql.connections.Connection, sql: str, limits: Limits, keep_rows: bool
    ) -> ExecutionOutcome:
        deadline = time.monotonic() + limits.timeout_s
        timer = threading.Timer(limits.timeout_s + _CLIENT_GRACE_S, self._kill_running)
        timer.daemon = True
        self._killed = False
        abandon = False
        cur = pymysql.cursors.SSCursor(conn)
        try:
            with self._kill_lock:
                self._running = True
            timer.start()
            cur.execute(sql)
            batch = max(1, min(_FETCH_BATCH, limits.max_rows + 1))
            return fetch_bounded(DeadlineCursor(cur, deadline), limits, keep_rows, batch=batch)
        except TooLarge as exc:
            abandon = True
            return ExecutionOutcome(status=OutcomeStatus.TOO_LARGE, message=str(exc))
        except DeadlineReached:
            abandon = True
            return ExecutionOutcome(
                status=OutcomeStatus.TIMEOUT, message=f"query exceeded {limits.timeout_s}s"
            )
        except pymysql.Error as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
            abandon = code in _CONNECTION_LOST
            if self._killed or code in _TIMEOUT:
                return ExecutionOutcome(
                    status=OutcomeStatus.TIMEOUT, message=f"{_message(exc)} (limit {limits.timeout_s}s)"
                )
            return ExecutionOutcome(status=classify_error(code, _message(exc)), message=_message(exc))
        except (MemoryError, OverflowError) as exc:
            abandon = True
            return ExecutionOutcome(status=OutcomeStatus.TOO_LARGE, message=f"{type(exc).__name__}: {exc}")
        except (ValueError, LookupError) as exc:  # undecodable bytes and other conversion failures
            abandon = True
            return ExecutionOutcome(
                status=OutcomeStatus.RUNTIME_ERROR, message=f"{type(exc).__name__}: {exc}"
            )
        finally:
            with self._kill_lock:
                self._running = False
            timer.cancel()
            if abandon:
                self._discard(cur)
            else:
                self._finish(conn, cur)

    def _finish(self, conn: pymysql.connections.Connection, cur: Any) -> None:
        try:
            cur.close()
            with conn.cursor() as c:
                c.execute("ROLLBACK")
        except pymysql.Error:
            self._discard(cur)

    def _kill(self, statement: str) -> None:
        with self._killer_lock:
            try:
                if self._killer is None or not self._killer.open:
                    self._killer = self._connect()
                with self._killer.cursor() as cur:
                    cur.execute(statement)
            except pymysql.Error:
                # Unknown thread (already finished) or a lost killer connection: nothing left to stop.
                if self._killer is not None and not self._killer.open:
                    self._killer = None

    def _kill_running(self) -> None:
        # Last resort when the server has not aborted by itself (max_statement_time) in time.
        with self._kill_lock:
            if not self._running or self._thread_id is None:
                return
            self._killed = True
            self._kill(f"KILL QUERY {self._thread_id}")

    def run_trusted(self, sql: str) -> tuple[list[str], list[tuple]]:
        cols, rows = self._trusted(sql)
        return cols, rows

    def _trusted(self, sql: str, params: tuple | None = None) -> tuple[list[str], list[tuple]]:
        conn = self._ensure_open()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                cols = [d[0] for d in (cur.description or [])]
                return cols, list(cur.fetchall())
        except pymysql.Error:
            if not conn.open:
                self.conn = None
            raise

    # -- catalog ---------------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def catalog(self) -> list[Table]:
        from ..schema_model import Column, ForeignKey, Table

        db = self.url.database
        _, tables = self._trusted(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
            (db,),
        )
        _, cols = self._trusted(
            "SELECT table_name, column_name, column_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY table_name, ordinal_position",
            (db,),
        )
        _, keys = self._trusted(
            "SELECT table_name, constraint_name, column_name, referenced_table_name, referenced_column_name "
            "FROM information_schema.key_column_usage WHERE table_schema = %s "
            "AND (constraint_name = 'PRIMARY' OR referenced_table_name IS NOT NULL) "
            "ORDER BY table_name, constraint_name, ordinal_position",
            (db,),
        )
        pks: dict[str, list[str]] = {}
        fks: dict[str, dict[str, ForeignKey]] = {}
        for table, cname, column, ref_table, ref_column in keys:
            if cname == "PRIMARY" and ref_table is None:
                pks.setdefault(table, []).append(column)
            else:
                fk = fks.setdefault(table, {}).setdefault(
                    cname, ForeignKey(columns=[], ref_table=ref_table, ref_columns=[])
                )
                fk.columns.append(column)
                fk.ref_columns.append(ref_column)
        by_table: dict[str, list[tuple[str, str, str]]] = {}
        for table, column, ctype, nullable in cols:
            by_table.setdefault(table, []).append((column, ctype, nullable))
        out = []
        for (name,) in tables:
            pk = pks.get(name, [])
            columns = [
                Column(name=c, declared_type=t, nullable=n == "YES", primary_key=c in pk)
                for c, t, n in by_table.get(name, [])
            ]
            out.append(
                Table(
                    name=name, columns=columns, primary_key=pk, foreign_keys=list(fks.get(name, {}).values())
                )
            )
        return out


def _message(exc: BaseException) -> str:
    if isinstance(exc, pymysql.Error) and len(exc.args) >= 2:
        return f"({exc.args[0]}) {exc.args[1]}"
    return str(exc) or type(exc).__name__


def classify_error(code: int, message: str = "") -> OutcomeStatus:
    """Map a MySQL/MariaDB error code onto an outcome status.

    Only 1064/1149 are *syntax* errors: unknown tables and columns (1146, 1054) are runtime errors,
    as SQLite's "no such column" is.
    """
    if code in _SYNTAX:
        return OutcomeStatus.SYNTAX_ERROR
    if code in _TIMEOUT:
        return OutcomeStatus.TIMEOUT
    if code == 1290 and "max-session-mem-used" in message.lower():
        return OutcomeStatus.TOO_LARGE
    if code in _DENIED:
        return OutcomeStatus.DENIED
    if code in _TOO_LARGE:
        return OutcomeStatus.TOO_LARGE
    return OutcomeStatus.RUNTIME_ERROR
