"""DuckDB: ``read_only`` files with external access, extension loading and configuration changes off;
only a single SELECT statement is accepted, and a timer interrupts the running query at the deadline."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import duckdb

from ...errors import DatabaseUnavailableError
from ..guard import screen_statement
from ..outcome import ExecutionOutcome, Limits, OutcomeStatus
from .base import Connector, Stopwatch, TooLarge, fetch_bounded

if TYPE_CHECKING:  # pydantic models: imported where a catalog is built, not in every worker
    from ..schema_model import Table

#: Table and scalar functions that act on the instance rather than read data (a read-only file does
#: not stop them) or that run SQL given as text, which would bypass the statement-type check.
DENIED_FUNCTIONS = frozenset({
    "checkpoint", "force_checkpoint", "truncate_duckdb_logs", "enable_logging", "disable_logging",
    "enable_profiling", "disable_profiling", "add_grammar_extension", "query", "query_table",
    "json_execute_serialized_sql", "getenv", "install_extension", "load_extension",
})  # fmt: skip


class DuckDBConnector(Connector):
    engine: ClassVar[str] = "duckdb"
    dialect: ClassVar[str] = "duckdb"

    def __init__(self, url):
        super().__init__(url)
        self.conn: duckdb.DuckDBPyConnection | None = None

    def open(self, memory_mb: int = 1024) -> None:
        path = Path(self.url.path or "")
        if not path.is_file():
            raise DatabaseUnavailableError(f"DuckDB database {str(path)!r} does not exist (from {self.url.display})")
        config = {
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "memory_limit": f"{memory_mb}MB",
            "threads": 1,
            # No spilling: DuckDB would otherwise create <database>.tmp beside the user's file.
            "temp_directory": "",
            "lock_configuration": True,
        }
        try:
            self.conn = duckdb.connect(str(path), read_only=True, config=config)
        except duckdb.Error as exc:
            raise DatabaseUnavailableError(f"cannot open {str(path)!r} as DuckDB: {exc}") from None
        try:
            self.conn.execute("SET enable_progress_bar = false")  # a local option, allowed when locked
        except duckdb.Error:
            pass

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def execute(self, sql: str, limits: Limits, keep_rows: bool = True) -> ExecutionOutcome:
        watch = Stopwatch()
        if self.conn is None:
            self.open(limits.memory_mb)
        assert self.conn is not None
        screened = screen_statement(sql, "duckdb", DENIED_FUNCTIONS)
        if screened is not None and screened.status is OutcomeStatus.DENIED:
            return ExecutionOutcome(status=screened.status, message=screened.message, elapsed_ms=watch.ms)
        try:
            statements = self.conn.extract_statements(sql)
        except duckdb.Error as exc:
            return ExecutionOutcome(status=OutcomeStatus.SYNTAX_ERROR, message=str(exc), elapsed_ms=watch.ms)
        if len(statements) != 1:
            return ExecutionOutcome(
                status=OutcomeStatus.DENIED if statements else OutcomeStatus.SYNTAX_ERROR,
                message=f"exactly one statement is required (found {len(statements)})",
                elapsed_ms=watch.ms,
            )
        if statements[0].type != duckdb.StatementType.SELECT:
            return ExecutionOutcome(
                status=OutcomeStatus.DENIED,
                message=f"only SELECT may run; this is a {statements[0].type.name} statement",
                elapsed_ms=watch.ms,
            )
        timer = threading.Timer(limits.timeout_s, self.conn.interrupt)
        timer.daemon = True
        timer.start()
        try:
            cur = self.conn.execute(sql)
            outcome = fetch_bounded(cur, limits, keep_rows)
        except TooLarge as exc:
            self.conn.interrupt()
            outcome = ExecutionOutcome(status=OutcomeStatus.TOO_LARGE, message=str(exc))
        except duckdb.InterruptException as exc:
            outcome = ExecutionOutcome(status=OutcomeStatus.TIMEOUT, message=f"{exc} (limit {limits.timeout_s}s)")
        except duckdb.ParserException as exc:
            outcome = ExecutionOutcome(status=OutcomeStatus.SYNTAX_ERROR, message=str(exc))
        except duckdb.PermissionException as exc:
            outcome = ExecutionOutcome(status=OutcomeStatus.DENIED, message=str(exc))
        except duckdb.OutOfMemoryException as exc:
            outcome = ExecutionOutcome(status=OutcomeStatus.TOO_LARGE, message=str(exc))
        except duckdb.Error as exc:
            outcome = ExecutionOutcome(status=OutcomeStatus.RUNTIME_ERROR, message=str(exc))
        except (MemoryError, OverflowError) as exc:
            outcome = ExecutionOutcome(status=OutcomeStatus.TOO_LARGE, message=f"{type(exc).__name__}: {exc}")
        finally:
            timer.cancel()
        outcome.elapsed_ms = watch.ms
        return outcome

    def run_trusted(self, sql: str) -> tuple[list[str], list[tuple]]:
        if self.conn is None:
            self.open()
        assert self.conn is not None
        cur = self.conn.execute(sql)
        cols = [d[0] for d in (cur.description or [])]
        return cols, cur.fetchall()

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def catalog(self) -> list[Table]:
        from ..schema_model import Column, ForeignKey, Table

        _, tables = self.run_trusted(
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND schema_name = 'main' ORDER BY table_oid"
        )
        out = []
        for (name,) in tables:
            _, cols = self.run_trusted(
                "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
                f"WHERE schema_name = 'main' AND table_name = '{name.replace(chr(39), chr(39) * 2)}' "
                "ORDER BY column_index"
            )
            _, cons = self.run_trusted(
                "SELECT constraint_type, constraint_column_names, referenced_table, referenced_column_names "
                f"FROM duckdb_constraints() WHERE schema_name = 'main' AND table_name = '{name.replace(chr(39), chr(39) * 2)}'"
            )
            pk: list[str] = []
            fks = []
            for ctype, ccols, rtable, rcols in cons:
                if ctype == "PRIMARY KEY":
                    pk = list(ccols)
                elif ctype == "FOREIGN KEY":
                    fks.append(ForeignKey(columns=list(ccols), ref_table=rtable, ref_columns=list(rcols)))
            columns = [
                Column(name=c, declared_type=t, nullable=bool(n) and c not in pk, primary_key=c in pk)
                for c, t, n in cols
            ]
            out.append(Table(name=name, columns=columns, primary_key=pk, foreign_keys=fks))
        return out
