"""PostgreSQL: sessions opened with ``default_transaction_read_only``, every statement in its own
``BEGIN READ ONLY`` transaction with a server-side ``statement_timeout``, always rolled back, and
fetched through a server-side cursor so the row and byte caps stop the transfer early."""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar

import psycopg
from psycopg.types.string import TextLoader

from ...errors import DatabaseUnavailableError
from ..guard import screen_statement, strip_statement
from ..outcome import ExecutionOutcome, Limits, OutcomeStatus
from .base import Connector, DeadlineCursor, DeadlineReached, Stopwatch, TooLarge, fetch_bounded

if TYPE_CHECKING:  # pydantic models: imported where a catalog is built, not in every worker
    from ..schema_model import ForeignKey, Table

#: Functions with side effects outside the transaction, file or network access, or administration.
#: A read-only transaction and a SELECT-only role stop most of them already; the screen stops them all.
DENIED_FUNCTIONS = frozenset(
    {
        # server files and large objects
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir", "pg_ls_waldir",
        "pg_ls_tmpdir", "pg_ls_archive_statusdir", "pg_ls_logicalsnapdir", "pg_ls_logicalmapdir",
        "pg_ls_replslotdir", "pg_current_logfile", "pg_file_write", "pg_file_rename", "pg_file_unlink",
        "pg_file_sync", "pg_logdir_ls", "lo_import", "lo_export", "lo_unlink", "lo_create", "lo_creat",
        "lo_from_bytea", "lo_put", "lo_truncate", "lo_open", "lo_write", "lowrite",
        # other connections and servers
        "dblink", "dblink_connect", "dblink_connect_u", "dblink_disconnect", "dblink_exec", "dblink_open",
        "dblink_fetch", "dblink_close", "dblink_send_query", "dblink_get_result", "dblink_is_busy",
        "dblink_cancel_query", "dblink_error_message", "dblink_get_connections", "dblink_get_notify",
        "dblink_get_pkey", "dblink_build_sql_insert", "dblink_build_sql_update", "dblink_build_sql_delete",
        "pg_terminate_backend", "pg_cancel_backend", "pg_signal_backend", "pg_notify",
        # server administration
        "pg_reload_conf", "pg_rotate_logfile", "pg_switch_wal", "pg_create_restore_point", "pg_promote",
        "pg_logical_emit_message", "pg_backup_start", "pg_backup_stop", "pg_start_backup", "pg_stop_backup",
        "pg_wal_replay_pause", "pg_wal_replay_resume", "pg_create_physical_replication_slot",
        "pg_create_logical_replication_slot", "pg_drop_replication_slot", "pg_copy_physical_replication_slot",
        "pg_copy_logical_replication_slot", "pg_replication_slot_advance", "pg_replication_origin_create",
        "pg_replication_origin_drop", "pg_replication_origin_session_setup",
        "pg_replication_origin_advance", "pg_stat_reset", "pg_stat_reset_shared", "pg_stat_reset_slru",
        "pg_stat_reset_single_table_counters", "pg_stat_reset_single_function_counters",
        "pg_stat_reset_replication_slot", "pg_stat_reset_subscription_stats", "pg_import_system_collations",
        "pg_log_backend_memory_contexts", "pg_sync_replication_slots",
        # session state and sequences (persist beyond the rolled-back transaction)
        "set_config", "nextval", "setval", "txid_current", "pg_current_xact_id",
        "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_unlock", "pg_advisory_unlock_shared",
        "pg_advisory_unlock_all", "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
        "pg_try_advisory_lock", "pg_try_advisory_lock_shared", "pg_try_advisory_xact_lock",
        "pg_try_advisory_xact_lock_shared",
        # run SQL text given as a string, past the screen
        "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml",
        "cursor_to_xmlschema", "ts_stat", "ts_rewrite",
    }
)  # fmt: skip

_DEFAULT_PORT = 5432
#: Extra time the client waits past the deadline for the server's own abort before cancelling.
_CLIENT_GRACE_S = 0.5
_FETCH_BATCH = 2000
_MAX_TIMEOUT_MS = 2_000_000_000  # statement_timeout is a 32-bit count of milliseconds


# PostgreSQL decodes U&"..." identifiers, so U&"pg_r\0065ad_file" would pass a name-based deny list.
_UNICODE_IDENTIFIER = re.compile(r'u&"', re.IGNORECASE)


def screen(sql: str) -> str | None:
    """Why ``sql`` must not be sent to PostgreSQL, or None. A statement the tokenizer cannot read is
    left to the server, whose syntax message is the authoritative one."""
    screened = screen_statement(sql, "postgres", DENIED_FUNCTIONS)
    if screened is not None and screened.status is OutcomeStatus.DENIED:
        return screened.message
    if _UNICODE_IDENTIFIER.search(sql):
        return 'Unicode-escaped identifiers (U&"...") are not allowed: they can hide a function\'s name'
    return None


class PostgresConnector(Connector):
    engine: ClassVar[str] = "postgres"
    dialect: ClassVar[str] = "postgres"

    def __init__(self, url):
        super().__init__(url)
        self.conn: psycopg.Connection | None = None
        self._cancel_lock = threading.Lock()
        self._running = False
        self._cancelled = False

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def schema(self) -> str:
        return self.url.option("schema", "public") or "public"

    def _where(self) -> str:
        return f"{self.url.host}:{self.url.port or _DEFAULT_PORT}/{self.url.database}"

    def open(self) -> None:
        kwargs: dict[str, Any] = {k: v for k, v in self.url.options if k != "schema"}
        kwargs.setdefault("connect_timeout", "10")
        # Defence in depth: even a transaction someone else begins on this session is read-only.
        kwargs["options"] = (kwargs.get("options", "") + " -c default_transaction_read_only=on").strip()
        try:
            conn = psycopg.connect(
                host=self.url.host,
                port=self.url.port or _DEFAULT_PORT,
                user=self.url.user,
                password=self.url.password,
                dbname=self.url.database,
                autocommit=False,
                **kwargs,
            )
        except psycopg.Error as exc:
            reason = " ".join(str(exc).split())
            raise DatabaseUnavailableError(
                f"cannot connect to PostgreSQL at {self._where()} as {self.url.user or '(default user)'}: {reason}"
            ) from None
        conn.read_only = True  # every transaction psycopg begins is BEGIN READ ONLY
        # JSON as its text, not parsed into dicts whose str() would differ from other engines'.
        for name in ("json", "jsonb"):
            conn.adapters.register_loader(name, TextLoader)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_catalog.set_config('search_path', %s, false)", (self._search_path(),))
            conn.commit()
        except psycopg.Error as exc:
            conn.close()
            raise DatabaseUnavailableError(f"cannot set up a session on {self._where()}: {exc}") from None
        self.conn = conn

    def _search_path(self) -> str:
        return self.quote(self.schema) if self.schema == "public" else f"{self.quote(self.schema)}, public"

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None

    def _ensure_open(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed or self.conn.broken:
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
                self._begin(conn, limits)
                break
            except psycopg.Error as exc:
                # A session the server dropped since the last statement (restart, idle timeout) is
                # reopened once: the user's statement has not run yet.
                self._rollback(conn)  # clears self.conn when the session is broken
                if attempt == 2 or self.conn is not None:
                    return ExecutionOutcome(
                        status=OutcomeStatus.RUNTIME_ERROR, message=_describe(exc), elapsed_ms=watch.ms
                    )
        outcome = self._run(conn, strip_statement(sql), limits, keep_rows)
        outcome.elapsed_ms = watch.ms
        return outcome

    @staticmethod
    def _begin(conn: psycopg.Connection, limits: Limits) -> None:
        """Start the statement's transaction (psycopg sends BEGIN READ ONLY) with its server-side limits."""
        timeout_ms = max(1, min(int(limits.timeout_s * 1000), _MAX_TIMEOUT_MS))
        with conn.cursor() as cur:
            cur.execute(
                f"SET LOCAL statement_timeout = {timeout_ms}; "
                f"SET LOCAL idle_in_transaction_session_timeout = {timeout_ms + 60_000}"
            )

    def _run(self, conn: psycopg.Connection, sql: str, limits: Limits, keep_rows: bool) -> ExecutionOutcome:
        deadline = time.monotonic() + limits.timeout_s
        timer = threading.Timer(limits.timeout_s + _CLIENT_GRACE_S, self._cancel_running)
        timer.daemon = True
        self._cancelled = False
        try:
            with self._cancel_lock:
                self._running = True
            timer.start()
            # A named cursor is DECLAREd through the extended protocol: one statement only, SELECT-like
            # only, and rows stream in batches as they are fetched.
            with conn.cursor(name=_CURSOR_NAME, scrollable=False, withhold=False) as cur:
                cur.execute(sql)
                return fetch_bounded(
                    DeadlineCursor(cur, deadline), limits, keep_rows, batch=self._batch(limits)
                )
        except TooLarge as exc:
            return ExecutionOutcome(status=OutcomeStatus.TOO_LARGE, message=str(exc))
        except DeadlineReached:
            return ExecutionOutcome(
                status=OutcomeStatus.TIMEOUT, message=f"query exceeded {limits.timeout_s}s"
            )
        except psycopg.Error as exc:
            return self._outcome_for(exc, limits)
        except (MemoryError, OverflowError) as exc:
            return ExecutionOutcome(status=OutcomeStatus.TOO_LARGE, message=f"{type(exc).__name__}: {exc}")
        finally:
            with self._cancel_lock:
                self._running = False
            timer.cancel()
            self._rollback(conn)

    @staticmethod
    def _batch(limits: Limits) -> int:
        return max(1, min(_FETCH_BATCH, limits.max_rows + 1))

    def _cancel_running(self) -> None:
        # Last resort when the server has not aborted by itself (statement_timeout) in time.
        with self._cancel_lock:
            if not self._running or self.conn is None:
                return
            self._cancelled = True
            try:
                cancel = getattr(self.conn, "cancel_safe", None)
                if cancel is not None:
                    cancel(timeout=5.0)
                else:
                    self.conn.cancel()
            except Exception:  # the connection may already be gone; the query is then over anyway
                pass

    def _rollback(self, conn: psycopg.Connection) -> None:
        try:
            conn.rollback()
        except psycopg.Error:
            # A broken session (server restart, killed backend) is reopened on the next statement.
            try:
                conn.close()
            finally:
                self.conn = None

    def _outcome_for(self, exc: psycopg.Error, limits: Limits) -> ExecutionOutcome:
        state = getattr(exc, "sqlstate", None) or ""
        message = _describe(exc)
        if state == "57014" or (self._cancelled and not state):
            return ExecutionOutcome(
                status=OutcomeStatus.TIMEOUT, message=f"{message} (limit {limits.timeout_s}s)"
            )
        return ExecutionOutcome(status=classify_sqlstate(state), message=message)

    def run_trusted(self, sql: str) -> tuple[list[str], list[tuple]]:
        conn = self._ensure_open()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                cols = [d[0] for d in (cur.description or [])]
                return cols, cur.fetchall()
        finally:
            self._rollback(conn)

    def _trusted_params(self, sql: str, params: tuple) -> list[tuple]:
        conn = self._ensure_open()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            self._rollback(conn)

    # -- catalog ---------------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def catalog(self) -> list[Table]:
        from ..schema_model import Column, ForeignKey, Table

        schema = self.schema
        tables = self._trusted_params(
            """
            SELECT c.oid, c.relname FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            ORDER BY c.oid
            """,
            (schema,),
        )
        if not tables:
            return []
        oids = [oid for oid, _ in tables]
        columns: dict[int, list[tuple[int, str, str, bool]]] = {oid: [] for oid in oids}
        for relid, attnum, name, typ, notnull in self._trusted_params(
            """
            SELECT a.attrelid, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attrelid, a.attnum
            """,
            (oids,),
        ):
            columns[relid].append((attnum, name, typ, notnull))
        names = {oid: {attnum: name for attnum, name, _, _ in cols} for oid, cols in columns.items()}
        table_names = dict(tables)
        pks: dict[int, list[str]] = {}
        fks: dict[int, list[ForeignKey]] = {oid: [] for oid in oids}
        for relid, contype, conkey, refrel, confkey, refname in self._trusted_params(
            """
            SELECT con.conrelid, con.contype, con.conkey, con.confrelid, con.confkey, rc.relname
            FROM pg_catalog.pg_constraint con
            LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
            WHERE con.conrelid = ANY(%s) AND con.contype IN ('p', 'f')
            ORDER BY con.conrelid, con.contype DESC, con.conname
            """,
            (oids,),
        ):
            if contype == "p":
                pks[relid] = [names[relid][k] for k in conkey]
            else:
                ref_names = names.get(refrel)
                if ref_names is None:  # referenced table lives in another schema
                    ref_cols = self._column_names(refrel, confkey)
                else:
                    ref_cols = [ref_names[k] for k in confkey]
                fks[relid].append(
                    ForeignKey(
                        columns=[names[relid][k] for k in conkey],
                        ref_table=table_names.get(refrel, refname),
                        ref_columns=ref_cols,
                    )
                )
        out = []
        for oid, tname in tables:
            pk = pks.get(oid, [])
            cols = [
                Column(name=name, declared_type=typ, nullable=not notnull, primary_key=name in pk)
                for _, name, typ, notnull in columns[oid]
            ]
            out.append(Table(name=tname, columns=cols, primary_key=pk, foreign_keys=fks[oid]))
        return out

    def _column_names(self, relid: int, attnums: list[int]) -> list[str]:
        rows = self._trusted_params(
            "SELECT attnum, attname FROM pg_catalog.pg_attribute WHERE attrelid = %s AND attnum = ANY(%s)",
            (relid, list(attnums)),
        )
        by_num = dict(rows)
        return [by_num[k] for k in attnums]


_CURSOR_NAME = "sqlfoundry_query"
#: What psycopg puts before the user's statement; error positions are reported relative to the user's.
_DECLARE_PREFIX = f'DECLARE "{_CURSOR_NAME}" NO SCROLL CURSOR FOR '


def _describe(exc: psycopg.Error) -> str:
    """The server's message with the position in the user's statement (not in our DECLARE)."""
    diag = getattr(exc, "diag", None)
    primary = diag.message_primary if diag is not None else None
    if not primary:
        return " ".join(str(exc).split()) or type(exc).__name__
    parts = [primary]
    if diag.statement_position:
        pos = int(diag.statement_position) - len(_DECLARE_PREFIX)
        if pos > 0:
            parts.append(f"at character {pos}")
    if diag.message_detail:
        parts.append(f"({diag.message_detail})")
    if diag.message_hint:
        parts.append(f"hint: {diag.message_hint}")
    return " ".join(parts)


def classify_sqlstate(state: str) -> OutcomeStatus:
    """Map a PostgreSQL SQLSTATE onto an outcome status.

    Only 42601 (and the generic 42000) is a *syntax* error: undefined tables, columns and functions
    (42P01, 42703, 42883) are runtime errors, as SQLite's "no such column" is.
    """
    if state in ("42601", "42000"):
        return OutcomeStatus.SYNTAX_ERROR
    if state == "57014":
        return OutcomeStatus.TIMEOUT
    if state in ("25006", "42501") or state.startswith("28"):
        return OutcomeStatus.DENIED
    if state.startswith(("53", "54")):
        return OutcomeStatus.TOO_LARGE
    return OutcomeStatus.RUNTIME_ERROR
