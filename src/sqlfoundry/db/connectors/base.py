"""The one interface every engine implements; dialect-specific code stays in its module.

A connector opens one read-only connection and runs one statement at a time under :class:`Limits`,
returning an :class:`ExecutionOutcome`. The Executor's worker processes hold connectors open.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

from ..outcome import ExecutionOutcome, Fingerprinter, Limits, OutcomeStatus, canonical_row, canonical_rows
from ..url import DatabaseURL

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and the pydantic models are not imported in every worker
    from typing import Any, ClassVar

    from ..schema_model import Table

_OK = OutcomeStatus.OK


class TooLarge(Exception):
    """Raised while fetching when a row or byte cap is crossed."""


class Connector(ABC):
    engine: ClassVar[str]
    #: sqlglot dialect name used for transpiling and screening
    dialect: ClassVar[str]

    def __init__(self, url: DatabaseURL):
        self.url = url

    # -- lifecycle -------------------------------------------------------------------------------
    @abstractmethod
    def open(self) -> None:
        """Open a read-only connection, raising DatabaseUnavailableError with a helpful message."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Connector:
        self.open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- execution -------------------------------------------------------------------------------
    @abstractmethod
    def execute(self, sql: str, limits: Limits, keep_rows: bool = True) -> ExecutionOutcome:
        """Run one untrusted statement read-only and bounded; never raises for SQL problems."""

    @abstractmethod
    def run_trusted(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Run an internal, trusted read query (introspection); raises on error."""

    # -- catalog ---------------------------------------------------------------------------------
    @abstractmethod
    def catalog(self) -> list[Table]:
        """Tables with columns, declared types, nullability, primary and foreign keys (no stats)."""

    @abstractmethod
    def quote(self, identifier: str) -> str: ...

    def checksum(self) -> str:
        """A digest of every user table's contents and the catalog, to prove nothing changed."""
        from ..outcome import fingerprint_rows

        parts = []
        for table in sorted(self.catalog(), key=lambda t: t.name):
            cols = ",".join(f"{c.name}:{c.declared_type}:{c.nullable}" for c in table.columns)
            _, rows = self.run_trusted(f"SELECT * FROM {self.quote(table.name)}")
            parts.append(f"{table.name}({cols})={fingerprint_rows([canonical_row(r) for r in rows])[0]}")
        return "|".join(parts)


def fetch_bounded(cursor: Any, limits: Limits, keep_rows: bool, batch: int = 1024) -> ExecutionOutcome:
    """Fetch a cursor's rows under the row and byte caps, fingerprinting as it goes.

    Always reads to the end of the result: MariaDB's unbuffered cursor reports a statement aborted
    by ``max_statement_time`` only there."""
    columns = [d[0] for d in (cursor.description or ())]
    fetch = cursor.fetchmany
    max_rows, max_bytes = limits.max_rows, limits.max_bytes
    fp = Fingerprinter()
    rows: list[tuple] | None = [] if keep_rows else None
    nbytes = count = 0
    while chunk := fetch(batch):
        count += len(chunk)
        if count > max_rows:
            raise TooLarge(f"result has more than {max_rows} rows (the row cap)")
        chunk = canonical_rows(chunk)
        nbytes += fp.add_many(chunk)
        if nbytes > max_bytes:
            raise TooLarge(f"result is larger than {max_bytes} bytes (the byte cap)")
        if rows is not None:
            rows += chunk
    multiset, ordered = fp.both(len(columns))
    return ExecutionOutcome(_OK, columns, rows, count, multiset, ordered)


class DeadlineReached(Exception):
    """Raised by :class:`DeadlineCursor` when fetching goes past the statement's deadline."""


class DeadlineCursor:
    """Makes ``fetch_bounded`` stop at the deadline for server engines, whose own timeouts bound each
    fetch rather than the whole transfer."""

    def __init__(self, cursor: Any, deadline: float):
        self._cursor = cursor
        self._deadline = deadline
        self._fetched = False

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchmany(self, size: int) -> list[tuple]:
        # The first fetch is left to the server's own timeout, whose error says more.
        if self._fetched and time.monotonic() > self._deadline:
            raise DeadlineReached()
        self._fetched = True
        return self._cursor.fetchmany(size)


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def ms(self) -> float:
        return (time.perf_counter() - self.start) * 1000.0
