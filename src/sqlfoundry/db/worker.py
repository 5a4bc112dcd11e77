"""The Executor's worker process: ``python -m sqlfoundry.db.worker READ_FD WRITE_FD MEMORY_MB``.

Kept apart from the pool (``executor.py``) so that a worker imports only what running statements
needs: no subprocess, multiprocessing or pickle (a new worker is ready ~40 ms sooner, which every
evaluation and synthesis run pays once per worker). Both directions carry ``marshal`` data framed as
``multiprocessing.connection`` frames it (a big-endian length, then the bytes), so the pool reads
them with its own ``Connection``; marshal never crosses a trust boundary: both ends are this package.
"""

from __future__ import annotations

import gc
import marshal
import os
import sqlite3
import struct
import sys
import time

MAX_OPEN_CONNECTIONS = 8
READY = "ready"
#: A worker answers in bursts at most this far apart (see serve()).
FLUSH_INTERVAL_S = 0.005


def encode(obj) -> bytes:
    """``marshal`` when every value allows it (outcome tuples hold strings, numbers, bytes, None,
    lists and tuples: ~40% cheaper than pickle to write, ~20% to read), else pickle."""
    try:
        return marshal.dumps(obj, 2)
    except ValueError:  # e.g. a driver's str subclass
        import pickle

        return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)


def decode(data: bytes):
    # Pickle protocol 2+ opens with PROTO (0x80); no marshal type code is 0x80.
    if data[:1] == b"\x80":
        import pickle

        return pickle.loads(data)
    return marshal.loads(data)


def write_frame(fd: int, data: bytes) -> None:
    n = len(data)
    header = struct.pack("!i", n) if n <= 0x7FFFFFFF else struct.pack("!iQ", -1, n)
    view = memoryview(header + data) if n <= 16384 else None
    if view is None:
        _write_all(fd, memoryview(header))
        view = memoryview(data)
    _write_all(fd, view)


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


def read_frame(fd: int) -> bytes | None:
    """The next frame's bytes, or None at end of file."""
    head = _read_exact(fd, 4)
    if head is None:
        return None
    (n,) = struct.unpack("!i", head)
    if n == -1:
        big = _read_exact(fd, 8)
        if big is None:
            return None
        (n,) = struct.unpack("!Q", big)
    return _read_exact(fd, n) if n else b""


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def serve(rx: int, tx: int, memory_mb: int) -> None:
    """Serve task lists from ``rx`` until told to stop (``None``) or the pipe closes, answering on
    ``tx``; one open connector per database (least recently used closed first).

    A task is ``(task_id, url, sql, limits, keep_rows)`` with ``limits`` as
    :meth:`Limits.to_wire`; an answer is a list of ``(task_id, outcome.to_wire())``."""
    from ..errors import SQLFoundryError
    from .connectors import connector_for
    from .outcome import ExecutionOutcome, Limits, OutcomeStatus

    try:
        # Process-wide SQLite heap ceiling: a memory bomb fails inside SQLite instead of the machine.
        sqlite3.connect(":memory:").execute(f"PRAGMA hard_heap_limit = {memory_mb * 1024 * 1024}")
    except sqlite3.Error:
        pass
    open_connectors: dict = {}  # insertion order = least recently used first
    limits_of: dict[tuple, Limits] = {}
    # Results allocate many short-lived row tuples: collect cycles rarely, never scanning the imports.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        write_frame(tx, encode(READY))  # imports are done: deadlines start counting from here
    except OSError:
        return
    while True:
        try:
            data = read_frame(rx)
        except (OSError, KeyboardInterrupt):
            break
        if data is None:
            break
        msg = decode(data)
        if msg is None:
            break
        results: list = []
        last_flush = time.monotonic()
        for task_id, url, sql, limits_wire, keep_rows in msg:
            limits = limits_of.get(limits_wire)
            if limits is None:
                limits = limits_of[limits_wire] = Limits(*limits_wire)
            try:
                connector = open_connectors.pop(url, None)
                if connector is None:
                    connector = connector_for(url)
                    if connector.engine == "duckdb":
                        connector.open(limits.memory_mb)  # type: ignore[call-arg]
                    else:
                        connector.open()
                    if len(open_connectors) >= MAX_OPEN_CONNECTIONS:
                        open_connectors.pop(next(iter(open_connectors))).close()
                open_connectors[url] = connector  # (re)inserted last: most recently used
                outcome = connector.execute(sql, limits, keep_rows)
            except SQLFoundryError as exc:
                outcome = ExecutionOutcome(status=OutcomeStatus.RUNTIME_ERROR, message=f"database unavailable: {exc}")
                open_connectors.pop(url, None)
            except Exception as exc:  # a bug or a driver failure must not kill the batch
                outcome = ExecutionOutcome(
                    status=OutcomeStatus.RUNTIME_ERROR, message=f"{type(exc).__name__}: {exc}"
                )
                bad = open_connectors.pop(url, None)
                if bad is not None:
                    try:
                        bad.close()
                    except Exception:
                        pass
            results.append((task_id, outcome.to_wire()))
            now = time.monotonic()
            # Answer in small bursts: one pipe message per fast statement would cost more than the
            # statement, but a result never waits more than a few milliseconds, so the pool's view
            # of when the current statement started stays accurate for its deadline.
            if now - last_flush >= FLUSH_INTERVAL_S:
                try:
                    write_frame(tx, encode(results))
                except OSError:
                    return
                results = []
                last_flush = now
        if results:
            try:
                write_frame(tx, encode(results))
            except OSError:
                return
    for c in open_connectors.values():
        try:
            c.close()
        except Exception:
            pass


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
    # Pipes are done with; skip interpreter teardown (tens of ms) so that the pool closes at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
