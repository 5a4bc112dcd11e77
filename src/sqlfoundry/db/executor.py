"""The one Executor under every stage: read-only, bounded, parallel, cached.

Statements run in a pool of worker processes that keep connections open. Each statement is aborted
by its engine at its deadline (SQLite progress handler, DuckDB interrupt, server-side timeouts); a
worker that does not answer by deadline + grace is killed and replaced, and the rest of the batch
goes on. Results come back as typed :class:`ExecutionOutcome` objects, never as exceptions.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import gc
import os
import pickle
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SQLFoundryError
from .outcome import FINGERPRINT_VERSION, ExecutionOutcome, Limits, OutcomeStatus
from .url import DatabaseURL, parse_url
from .worker import READY, decode, encode

if TYPE_CHECKING:
    from .connectors.base import Connector

#: Statuses whose outcome depends only on (database, statement, limits): safe to cache.
_CACHEABLE = {
    OutcomeStatus.OK,
    OutcomeStatus.SYNTAX_ERROR,
    OutcomeStatus.RUNTIME_ERROR,
    OutcomeStatus.DENIED,
    OutcomeStatus.TOO_LARGE,
}
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Query:
    """One statement to run on one database."""

    url: str
    sql: str
    limits: Limits | None = None
    keep_rows: bool = True
    #: False to neither read nor write the result cache for this statement (e.g. one-off predictions)
    cache: bool = True
    #: True for statements the caller trusts (a benchmark's gold SQL, never model-written SQL): on a
    #: SQLite file, the pool's own process may run them while it would otherwise wait (see run_batch)
    trusted: bool = False


@functools.lru_cache(maxsize=16384)
def normalize_for_cache(sql: str) -> str:
    """A cheap normal form for cache keys: trimmed, trailing semicolons dropped, and whitespace
    collapsed when the statement holds no quotes and no line comment (so neither a literal nor the
    end of a ``--`` comment is ever altered)."""
    s = sql.strip().rstrip(";").strip()
    if ("  " in s or "\n" in s or "\t" in s or "\r" in s or "\f" in s or "\v" in s) and (
        "--" not in s and not any(q in s for q in "'\"`[")
    ):
        s = _WS.sub(" ", s)
    return s


def statement_key(identity: str, sql: str, limits: Limits) -> tuple:
    """The cache and deduplication key of a statement: database identity (see
    :func:`database_identity`), normalized SQL, and the limits that shape its outcome."""
    return (identity, normalize_for_cache(sql), limits.key())


def database_identity(url: DatabaseURL) -> str:
    """Cache identity of a database: files by path, size and modification time; servers by address
    (both with the fingerprint version, so cached outcomes never mix fingerprint formats)."""
    if url.is_file:
        path = Path(url.path).resolve()  # type: ignore[arg-type]
        try:
            st = path.stat()
            return f"v{FINGERPRINT_VERSION}:{url.engine}:{path}:{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            return f"v{FINGERPRINT_VERSION}:{url.engine}:{path}:missing"
    return f"v{FINGERPRINT_VERSION}:{url.key}"


# ------------------------------------------------------------------------------------------------
# Worker process
# ------------------------------------------------------------------------------------------------

#: How long a new worker may take to start (interpreter + imports) before it counts as hung.
_STARTUP_TIMEOUT_S = 60.0


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while a batch's results arrive (or while a caller reads a
    big file): unpickling them allocates many row tuples, and the collections they trigger would
    cost ~3× the unpickling itself (reading Spider's dev.json: 25 ms paused, 28–86 ms otherwise).

    Re-enabling it would make the next allocation scan every object made meanwhile (~10 ms per
    3000 results, at the end of the batch). Unless the caller froze objects of its own, everything
    young is instead moved to the oldest generation in O(1) (``gc.freeze`` then ``gc.unfreeze``): it
    is examined at the next full collection, so nothing is lost."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


@dataclass
class _Task:
    index: int
    url: str
    sql: str
    limits: Limits
    keep_rows: bool
    db: str  # connection key (worker affinity)
    trusted: bool = False  # may run in the pool's own process (SQLite files only)


def _widen_pipe(fd: int) -> None:
    """Give the results pipe room for a few bursts (Linux; 64 KiB by default), so that a worker
    does not stall on a full pipe while the pool is busy unpickling another worker's results."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


class _Worker:
    """A worker in its own interpreter (``python -m sqlfoundry.db.worker``), so that starting one
    never re-imports the caller's ``__main__`` and killing one never takes locks down with it."""

    def __init__(self, memory_mb: int):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        _widen_pipe(from_child_w)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sqlfoundry.db.worker", str(to_child_r), str(from_child_w), str(memory_mb)],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            close_fds=True,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.tx = Connection(to_child_w, readable=False)
        self.conn = Connection(from_child_r, writable=False)
        self.inflight: collections.deque[_Task] = collections.deque()
        self.last_event = time.monotonic()
        self.db: str | None = None
        self.ready = False

    def send(self, tasks: list[_Task]) -> None:
        self.tx.send_bytes(encode([(t.index, t.url, t.sql, t.limits.to_wire(), t.keep_rows) for t in tasks]))
        if not self.inflight:
            self.last_event = time.monotonic()
        self.inflight.extend(tasks)
        self.db = tasks[-1].db

    def deadline(self, grace_s: float) -> float:
        if not self.ready:
            return self.last_event + _STARTUP_TIMEOUT_S
        head = self.inflight[0]
        return self.last_event + head.limits.timeout_s + grace_s

    def _close_pipes(self) -> None:
        for c in (self.tx, self.conn):
            try:
                c.close()
            except OSError:
                pass

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        finally:
            self._close_pipes()

    def request_stop(self) -> None:
        try:
            self.tx.send_bytes(encode(None))
        except (BrokenPipeError, OSError):
            pass

    def stop(self) -> None:
        """Wait for a worker asked to stop (request_stop), killing it if it lingers."""
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=2)
        self._close_pipes()


def _wait_for_exits(procs: Sequence[subprocess.Popen], timeout_s: float) -> None:
    """Block until every process has exited or ``timeout_s`` passed, woken by the exits themselves
    (Linux pidfds) rather than by ``Popen.wait``'s polling sleeps (~3 ms at every close); elsewhere
    the callers' own waits do the work."""
    if not hasattr(os, "pidfd_open"):
        return
    import select

    fds = []
    try:
        for proc in procs:
            with contextlib.suppress(OSError):
                fds.append(os.pidfd_open(proc.pid))
        deadline = time.monotonic() + timeout_s
        waiting = list(fds)
        while waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select(waiting, [], [], left)
            waiting = [fd for fd in waiting if fd not in ready]
    finally:
        for fd in fds:
            os.close(fd)


# ------------------------------------------------------------------------------------------------
# Result cache (memory, optionally persisted to a SQLite file)
# ------------------------------------------------------------------------------------------------


def _load_outcome(blob: bytes) -> ExecutionOutcome | None:
    """A stored outcome: its wire tuple (marshal, or pickle when marshal refused a value), or a whole
    pickled ExecutionOutcome as caches written before the wire form hold; None for an entry that
    cannot be read (it only costs a re-execution)."""
    try:
        value = decode(blob)
        return value if isinstance(value, ExecutionOutcome) else ExecutionOutcome.from_wire(value)
    except Exception:
        return None


class ResultCache:
    """Outcomes keyed by (database identity, normalized SQL, limits); persisted when given a path.

    Results larger than ``max_rows_in_memory`` are kept as fingerprints only; a later request that
    needs rows re-executes.
    """

    def __init__(self, path: str | os.PathLike | None = None, max_entries: int = 50_000, max_rows: int = 10_000):
        self.max_entries = max_entries
        self.max_rows = max_rows
        self._mem: collections.OrderedDict[tuple, ExecutionOutcome] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        #: the file held nothing when opened: lookups need not read it (what this cache writes is in
        #: memory too; a run beside it writing the same file only costs re-executions)
        self._disk_empty = True
        if path is not None:
            p = Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._open(p)
            except sqlite3.DatabaseError:
                # A cache file that is damaged (say by a power cut: see _open) only costs its contents.
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{p}{suffix}").unlink(missing_ok=True)
                self._open(p)

    def _open(self, path: Path) -> None:
        if self._db is not None:
            self._db.close()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        # A cache: no fsync at commits or at the checkpoint when the file is closed (~4 ms at the end
        # of every evaluation). An application crash loses nothing; an operating-system crash may
        # damage the file, which is then started afresh.
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, outcome BLOB NOT NULL)")
        self._disk_empty = self._db.execute("SELECT 1 FROM results LIMIT 1").fetchone() is None

    @staticmethod
    def _disk_key(key: tuple) -> str:
        return repr(key)

    def get(self, key: tuple, need_rows: bool) -> ExecutionOutcome | None:
        with self._lock:
            hit = self._mem.get(key)
            if hit is None and self._db is not None and not self._disk_empty:
                row = self._db.execute("SELECT outcome FROM results WHERE key = ?", (self._disk_key(key),)).fetchone()
                if row is not None:
                    hit = _load_outcome(row[0])
                    if hit is not None:
                        self._remember(key, hit)
            return self._served(key, hit, need_rows)

    def _served(self, key: tuple, hit: ExecutionOutcome | None, need_rows: bool) -> ExecutionOutcome | None:
        if hit is None or (need_rows and hit.rows is None and hit.status is OutcomeStatus.OK):
            return None
        self._mem.move_to_end(key)
        # Built directly: dataclasses.replace costs several times more, once per hit.
        rows = None if not need_rows or hit.rows is None else list(hit.rows)
        return ExecutionOutcome(
            hit.status, hit.columns, rows, hit.row_count, hit.fingerprint, hit.ordered_fingerprint,
            hit.message, hit.elapsed_ms, True,
        )  # fmt: skip

    def get_many(self, keys: Sequence[tuple], need_rows: bool) -> list[ExecutionOutcome | None]:
        """:meth:`get` for many keys, reading the disk in a few queries instead of one per key."""
        with self._lock:
            if self._db is not None and not self._disk_empty:
                missing = list({self._disk_key(k): k for k in keys if k not in self._mem}.items())
                for start in range(0, len(missing), 500):
                    part = dict(missing[start : start + 500])
                    marks = ",".join("?" * len(part))
                    for dk, blob in self._db.execute(
                        f"SELECT key, outcome FROM results WHERE key IN ({marks})", list(part)
                    ):
                        outcome = _load_outcome(blob)
                        if outcome is not None:
                            self._remember(part[dk], outcome)
            # What the disk did not hold is a miss: no second query per key.
            mem = self._mem
            return [self._served(k, mem.get(k), need_rows) for k in keys]

    def _remember(self, key: tuple, outcome: ExecutionOutcome) -> None:
        self._mem[key] = outcome
        while len(self._mem) > self.max_entries:
            self._mem.popitem(last=False)
            self._disk_empty = False  # what memory let go of is on disk only

    def put_many(self, items: Iterable[tuple[tuple, ExecutionOutcome]]) -> None:
        rows = []
        with self._lock:
            for key, outcome in items:
                if outcome.status not in _CACHEABLE:
                    continue
                stored = outcome.copy(cached=False)
                if stored.rows is not None and len(stored.rows) > self.max_rows:
                    stored.rows = None
                old = self._mem.get(key)
                if old is not None and old.rows is not None and stored.rows is None:
                    continue
                self._remember(key, stored)
                if self._db is not None:
                    rows.append((self._disk_key(key), encode(stored.to_wire())))
            if rows and self._db is not None:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO results (key, outcome) VALUES (?, ?)", rows)
                self._db.execute("COMMIT")

    def __len__(self) -> int:
        return len(self._mem)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


# ------------------------------------------------------------------------------------------------
# Executor
# ------------------------------------------------------------------------------------------------


class Executor:
    """Run statements read-only and bounded in a pool of worker processes.

    ``workers`` defaults to the number of CPUs. ``grace_s`` is how long past a statement's own limit
    the pool waits before killing the worker as a last resort. ``prestart`` starts the workers at once
    (in the background) rather than at the first batch. ``share_with_caller``: the calling process
    counts as one of the ``workers`` CPUs, since it runs trusted statements itself while it waits
    (see :meth:`run_batch`); the pool then starts one worker fewer (and at most
    :attr:`START_WORKERS`), and adds one when untrusted statements queue up with nothing left for
    the caller to run, or whenever the queued statements would keep the running workers busy for
    over :attr:`KEPT_BACK_START_S` at the mean time of those answered so far. Use as a context
    manager, or call :meth:`close`.
    """

    #: seconds a trusted statement may run in the pool's own process before it is left to a worker
    INLINE_BUDGET_S = 0.01
    #: connections the pool's own process keeps open for trusted statements
    _INLINE_CONNECTIONS = 8
    #: with ``share_with_caller``: at most this many workers start at once, and one more starts
    #: whenever the queued statements would keep the running ones busy for over KEPT_BACK_START_S
    #: (each costs ~43 ms of CPU to start, and a short evaluation is over before 15 of them are useful)
    START_WORKERS = 4
    KEPT_BACK_START_S = 0.1

    def __init__(
        self,
        workers: int | None = None,
        limits: Limits = Limits(),
        cache: bool = True,
        cache_path: str | os.PathLike | None = None,
        grace_s: float = 1.0,
        chunk_size: int = 64,
        prestart: bool = True,
        share_with_caller: bool = False,
    ):
        self.n_workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.share_with_caller = share_with_caller
        self.limits = limits
        self.grace_s = grace_s
        self.chunk_size = max(1, chunk_size)
        self.cache = ResultCache(cache_path) if (cache or cache_path is not None) else None
        self._workers: list[_Worker] = []
        self._urls: dict[str, DatabaseURL] = {}
        self._inline: collections.OrderedDict[str, Connector] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.stats = collections.Counter()
        if prestart:
            # Workers start in the background (interpreter + imports) while the caller prepares work.
            self._ensure_workers(self._first_workers(self.n_workers))

    def _first_workers(self, n_max: int) -> int:
        """Workers a batch that may use ``n_max`` starts with (see ``share_with_caller``)."""
        return min(max(1, n_max - 1), self.START_WORKERS) if self.share_with_caller else n_max

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for w in self._workers:
            w.request_stop()
        _wait_for_exits([w.proc for w in self._workers], timeout_s=2.0)
        for w in self._workers:
            w.stop()
        self._workers = []
        for connector in self._inline.values():
            with contextlib.suppress(Exception):
                connector.close()
        self._inline.clear()
        if self.cache is not None:
            self.cache.close()

    def __del__(self) -> None:
        try:
            for w in self._workers:
                if w.proc.poll() is None:
                    w.proc.kill()
        except Exception:
            pass

    def _ensure_workers(self, n: int) -> None:
        while len(self._workers) < n:
            self._workers.append(_Worker(self.limits.memory_mb))

    # -- API --------------------------------------------------------------------------------------
    def execute(
        self, url: str, sql: str, limits: Limits | None = None, keep_rows: bool = True
    ) -> ExecutionOutcome:
        """Run one statement; see :meth:`run_batch`."""
        return self.run_batch([Query(url, sql, limits, keep_rows)])[0]

    def run_batch(
        self,
        queries: Sequence[Query],
        progress: Callable[[int, ExecutionOutcome], None] | None = None,
        idle: Callable[[], bool] | None = None,
        more: Callable[[], Sequence[Query] | None] | None = None,
    ) -> list[ExecutionOutcome]:
        """Run every query and return outcomes in input order.

        Identical (database, statement) pairs run once; cached outcomes return at once; the rest are
        grouped by database across the workers. ``progress(i, outcome)`` is called as each finishes.
        ``idle()`` is called whenever the pool would otherwise wait for a worker: work of the
        caller's that fills the wait (a millisecond or so per call: answers wait meanwhile); it
        returns False when it has nothing left, and is called again only once more answers came in.
        ``more()`` streams a long batch: called whenever the workers are about to run out of work, it
        returns the next queries of this batch (numbered on from the ones before), or None once there
        are no more; the workers start on the first queries while the caller prepares the rest.

        A ``trusted`` query on a SQLite file may be run by this process itself while it waits (work
        taken from the back of the queue, under a budget of :attr:`INLINE_BUDGET_S`; one that needs
        longer is stopped and left to a worker): on 2 cores one worker and this process then share
        the work that two workers and this process would contend for.
        """
        with self._lock, gc_paused():
            return self._run_batch(list(queries), progress, idle, more)

    def _parse(self, url: str) -> DatabaseURL | None:
        parsed = self._urls.get(url)
        if parsed is None:
            try:
                parsed = parse_url(url)
            except SQLFoundryError:
                return None
            self._urls[url] = parsed
        return parsed

    def _run_batch(
        self,
        first: Sequence[Query],
        progress: Callable[[int, ExecutionOutcome], None] | None,
        idle: Callable[[], bool] | None = None,
        more: Callable[[], Sequence[Query] | None] | None = None,
    ) -> list[ExecutionOutcome]:
        queries: list[Query] = []  # the batch so far: ``first``, then what ``more`` hands over
        results: list[ExecutionOutcome | None] = []
        keys: dict[int, tuple] = {}
        first_of: dict[tuple, int] = {}
        followers: dict[int, list[int]] = {}
        refetch: list[int] = []
        pending: dict[str, collections.deque[_Task]] = collections.defaultdict(collections.deque)
        identities: dict[str, str] = {}

        def finish(i: int, outcome: ExecutionOutcome) -> None:
            results[i] = outcome
            if progress is not None:
                progress(i, outcome)
            # Identical statements are answered with the first one's outcome as soon as it is known.
            for j in followers.pop(i, ()):
                follow(i, j, outcome)

        def follow(lead: int, j: int, src: ExecutionOutcome) -> None:
            out = src.copy()
            if not queries[j].keep_rows:
                out.rows = None
            elif out.rows is None and queries[lead].keep_rows is False:
                refetch.append(j)  # the lead asked for fingerprints only; fetched for this one below
                return
            finish(j, out)

        def take(new: Sequence[Query]) -> int:
            """Number the new queries on, answer what needs no worker, queue the rest."""
            start = len(queries)
            queries.extend(new)
            results.extend([None] * len(new))
            n_pending = 0
            for i in range(start, len(queries)):
                q = queries[i]
                parsed = self._parse(q.url)
                if parsed is None:
                    try:
                        parse_url(q.url)
                    except SQLFoundryError as exc:
                        finish(i, ExecutionOutcome(status=OutcomeStatus.RUNTIME_ERROR, message=str(exc)))
                    continue
                limits = q.limits or self.limits
                ident = identities.get(q.url)
                if ident is None:
                    ident = identities[q.url] = database_identity(parsed)
                key = statement_key(ident, q.sql, limits)
                lead = first_of.get(key)
                if lead is not None:
                    self.stats["deduplicated"] += 1
                    if results[lead] is not None:
                        follow(lead, i, results[lead])
                    else:
                        followers.setdefault(lead, []).append(i)
                    continue
                if self.cache is not None and q.cache:
                    hit = self.cache.get(key, q.keep_rows)
                    if hit is not None:
                        self.stats["cache_hits"] += 1
                        finish(i, hit)
                        continue
                first_of[key] = i
                if q.cache:
                    keys[i] = key
                sql = q.sql if type(q.sql) is str else str.__str__(q.sql)  # a subclass would not reach a worker
                trusted = q.trusted and parsed.engine == "sqlite"
                pending[parsed.key].append(_Task(i, parsed.raw, sql, limits, q.keep_rows, parsed.key, trusted))
                n_pending += 1
            return n_pending

        def take_more() -> int | None:
            new = more() if more is not None else None
            return None if new is None else take(list(new))

        n_pending = take(first)
        if n_pending or more is not None:
            self._dispatch(pending, n_pending, finish, idle, take_more if more is not None else None)
            if self.cache is not None:
                self.cache.put_many((keys[i], results[i]) for i in keys if results[i] is not None)
        for j in refetch:
            finish(j, self._run_batch([queries[j]], None)[0])
        return results  # type: ignore[return-value]

    def _run_inline(self, task: _Task) -> ExecutionOutcome | None:
        """A trusted task run in this process under the inline budget, or None to leave it to a worker
        (over the budget, or its database cannot be opened here)."""
        limits = task.limits
        budget = min(limits.timeout_s, self.INLINE_BUDGET_S)
        try:
            connector = self._inline.pop(task.url, None)
            if connector is None:
                from .connectors import connector_for

                connector = connector_for(task.url)
                connector.open()
                while len(self._inline) >= self._INLINE_CONNECTIONS:
                    self._inline.popitem(last=False)[1].close()
            self._inline[task.url] = connector
            out = connector.execute(
                task.sql, Limits(budget, limits.max_rows, limits.max_bytes, limits.memory_mb), task.keep_rows
            )
        except Exception:
            return None
        if out.status is OutcomeStatus.TIMEOUT and budget < limits.timeout_s:
            return None
        return out

    def _dispatch(
        self,
        pending: dict[str, collections.deque[_Task]],
        n_pending: int,
        finish: Callable[[int, ExecutionOutcome], None],
        idle: Callable[[], bool] | None = None,
        more: Callable[[], int | None] | None = None,
    ) -> None:
        """Run the queued tasks across the workers; ``more()`` queues further ones (their number, or
        None when there are no more) and is asked whenever fewer than two chunks per worker wait."""
        n_max = self.n_workers if more is not None else min(self.n_workers, n_pending)
        n_workers = self._first_workers(n_max)
        # Started at the first task: a streamed batch whose answers all come from the cache needs none.
        workers: list[_Worker] = []
        remaining = n_pending
        low_water = 4 * self.chunk_size * n_max
        from_wire = ExecutionOutcome.from_wire

        def refill(w: _Worker) -> None:
            # Topped up to two chunks' worth: one database's queue may be a handful of statements, and
            # a worker that runs dry waits a round trip for its next message.
            while len(w.inflight) < 2 * self.chunk_size and send_chunk(w):
                pass

        def send_chunk(w: _Worker) -> bool:
            db = w.db if w.db in pending and pending[w.db] else None
            if db is None:
                busy = {x.db for x in workers if x is not w and x.inflight}
                candidates = [d for d, q in pending.items() if q]
                if not candidates:
                    return False
                free = [d for d in candidates if d not in busy] or candidates
                db = max(free, key=lambda d: len(pending[d]))
            q = pending[db]
            if len(pending) >= len(workers):
                # Databases enough to go round: each stays with one worker (one connection to open).
                share = min(self.chunk_size, len(q))
            else:
                share = max(1, min(self.chunk_size, -(-len(q) // max(1, len(workers)))))
            chunk = [q.popleft() for _ in range(min(share, len(q)))]
            if not q:
                del pending[db]
            w.send(chunk)
            return True

        def replace_worker(w: _Worker) -> _Worker:
            w.kill()
            self.stats["workers_replaced"] += 1
            nw = _Worker(self.limits.memory_mb)
            idx = self._workers.index(w)
            self._workers[idx] = nw
            workers[workers.index(w)] = nw
            return nw

        def requeue(tasks: Iterable[_Task]) -> None:
            for t in reversed(list(tasks)):
                pending.setdefault(t.db, collections.deque()).appendleft(t)

        def steal() -> bool:
            """Run one trusted task from the back of the longest queue here; False if there is none."""
            nonlocal remaining
            for db in sorted(pending, key=lambda d: -len(pending[d])):
                q = pending[db]
                at = next((k for k in range(1, len(q) + 1) if q[-k].trusted), None)
                if at is None:
                    continue
                task = q[-at]
                del q[-at]
                if not q:
                    del pending[db]
                out = self._run_inline(task)
                if out is None:  # over the budget (or no connection here): a worker runs it
                    task.trusted = False
                    pending.setdefault(db, collections.deque()).append(task)
                    self.stats["inline_handed_back"] += 1
                else:
                    self.stats["inline"] += 1
                    finish(task.index, out)
                    remaining -= 1
                return True
            return False

        def add_worker() -> None:
            self._ensure_workers(len(workers) + 1)
            workers[:] = self._workers[: len(workers) + 1]
            self.stats["workers_added"] += 1
            refill(workers[-1])

        def long_queue() -> bool:
            """Whether the queued statements would keep the running workers busy for longer than
            KEPT_BACK_START_S, at the mean time of those answered so far."""
            if worker_n < 64:
                return False
            waiting = sum(map(len, pending.values()))
            return waiting * (worker_ms / worker_n) / 1000.0 > self.KEPT_BACK_START_S * len(workers)

        worker_ms, worker_n = 0.0, 0
        idle_armed = idle is not None
        while True:
            if more is not None and sum(map(len, pending.values())) < low_water:
                added = more()
                if added is None:
                    more = None
                else:
                    remaining += added
            if not remaining:
                if more is None:
                    break
                continue
            if not workers:
                self._ensure_workers(n_workers)
                workers[:] = self._workers[:n_workers]
            for w in workers:
                refill(w)
            active = [w for w in workers if w.inflight]
            if not active:
                for w in workers:
                    refill(w)
                continue
            now = time.monotonic()
            next_deadline = min(w.deadline(self.grace_s) for w in active)
            conns = [w.conn for w in active]
            ready = wait(conns, timeout=0)
            if not ready:
                worked = idle_armed and idle()  # type: ignore[misc]
                if not worked:
                    idle_armed = False  # the caller has nothing to do until more answers come in
                    worked = steal()
                if not worked and len(workers) < n_max and sum(map(len, pending.values())) >= 2 * self.chunk_size:
                    # Nothing here for this process to run, and statements queue up: the worker kept
                    # back for it starts after all.
                    add_worker()
                    worked = True
                if not worked:
                    ready = wait(conns, timeout=max(0.0, next_deadline - now))
                # After work done here, answers and deadlines are looked at before any more of it.
            if ready and idle is not None:
                idle_armed = True
            by_conn = {w.conn: w for w in active}
            for c in ready:
                w = by_conn[c]
                try:
                    while w.conn.poll():
                        msg = decode(w.conn.recv_bytes())
                        if msg == READY:
                            w.ready = True
                            w.last_event = time.monotonic()
                            continue
                        w.last_event = time.monotonic()
                        for task_id, wire in msg:
                            head = w.inflight.popleft()
                            assert head.index == task_id
                            out = from_wire(wire)
                            worker_ms += out.elapsed_ms
                            worker_n += 1
                            finish(task_id, out)
                            remaining -= 1
                        if not w.inflight:
                            break
                except (EOFError, OSError, ValueError, TypeError, pickle.UnpicklingError) as exc:
                    # The worker died (crash, out-of-memory kill): fail its current task, retry the rest.
                    head = w.inflight.popleft() if w.inflight else None
                    rest = list(w.inflight)
                    w.inflight.clear()
                    nw = replace_worker(w)
                    if head is not None:
                        finish(
                            head.index,
                            ExecutionOutcome(
                                status=OutcomeStatus.RUNTIME_ERROR,
                                message=f"worker process died while running this statement ({type(exc).__name__})",
                            ),
                        )
                        remaining -= 1
                    requeue(rest)
                    w = nw
                refill(w)
            if ready and len(workers) < n_max and long_queue():
                add_worker()  # long statements queue up: one more worker starts
            now = time.monotonic()
            for w in list(workers):
                if w.inflight and now > w.deadline(self.grace_s) and not w.conn.poll():
                    head = w.inflight.popleft()
                    rest = list(w.inflight)
                    w.inflight.clear()
                    nw = replace_worker(w)
                    self.stats["killed"] += 1
                    finish(
                        head.index,
                        ExecutionOutcome(
                            status=OutcomeStatus.TIMEOUT,
                            message=f"no answer within {head.limits.timeout_s}s + {self.grace_s}s grace; "
                            "the worker was killed and replaced",
                            elapsed_ms=(now - w.last_event) * 1000.0,
                        ),
                    )
                    remaining -= 1
                    requeue(rest)
                    refill(nw)
