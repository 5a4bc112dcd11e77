"""The Executor on real SQLite and DuckDB files: typed outcomes, order, caching, real timeouts,
hung-worker replacement, and read-only files left byte-for-byte unchanged."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import sqlite3
import time

import duckdb
import pytest

from sqlfoundry.db.executor import Executor, Query, normalize_for_cache
from sqlfoundry.db.outcome import ExecutionOutcome, Limits, OutcomeStatus, fingerprint_rows


def _make_sqlite(path, n=200):
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE dept (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE emp (id INTEGER PRIMARY KEY, name TEXT, salary REAL, dept_id INTEGER REFERENCES dept(id));
        """
    )
    con.executemany("INSERT INTO dept VALUES (?, ?)", [(i, f"d{i}") for i in range(5)])
    con.executemany(
        "INSERT INTO emp VALUES (?, ?, ?, ?)",
        [(i, f"e{i}", 1000.0 + i * 10.5 if i % 7 else None, i % 5) for i in range(n)],
    )
    con.commit()
    con.close()
    return path


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return _make_sqlite(tmp_path_factory.mktemp("exec") / "company.sqlite")


@pytest.fixture(scope="module")
def url(db):
    return f"sqlite:///{db}"


@pytest.fixture(scope="module")
def ex():
    with Executor(workers=2, grace_s=0.5) as executor:
        yield executor


def test_ok_outcome_has_rows_columns_and_fingerprints(ex, url):
    out = ex.execute(url, "SELECT id, name FROM dept ORDER BY id")
    assert out.status is OutcomeStatus.OK
    assert out.columns == ["id", "name"]
    assert out.rows == [(i, f"d{i}") for i in range(5)]
    assert out.row_count == 5
    assert (out.fingerprint, out.ordered_fingerprint) == fingerprint_rows(out.rows, 2)


@pytest.mark.parametrize(
    ("sql", "status"),
    [
        ("SELEC id FROM dept", OutcomeStatus.SYNTAX_ERROR),
        ("SELECT id FROM dept WHERE", OutcomeStatus.SYNTAX_ERROR),
        ("SELECT nope FROM dept", OutcomeStatus.RUNTIME_ERROR),
        ("SELECT * FROM no_such_table", OutcomeStatus.RUNTIME_ERROR),
        ("DELETE FROM dept", OutcomeStatus.DENIED),
        ("SELECT 1; DROP TABLE dept", OutcomeStatus.DENIED),
        ("ATTACH DATABASE ':memory:' AS x", OutcomeStatus.DENIED),
        ("PRAGMA user_version = 7", OutcomeStatus.DENIED),
        ("SELECT randomblob(500000000)", OutcomeStatus.TOO_LARGE),
        ("SELECT a.id FROM emp a, emp b", OutcomeStatus.TOO_LARGE),
        (
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT max(n) FROM r",
            OutcomeStatus.TIMEOUT,
        ),
    ],
)
def test_typed_outcomes(ex, url, sql, status):
    out = ex.execute(url, sql, Limits(timeout_s=0.5, max_rows=10_000))
    assert out.status is status, out.message
    assert out.message


def test_batch_keeps_input_order_across_databases(ex, url, tmp_path):
    other = _make_sqlite(tmp_path / "other.sqlite", n=10)
    duck = tmp_path / "d.duckdb"
    con = duckdb.connect(str(duck))
    con.execute("CREATE TABLE t AS SELECT range AS x FROM range(7)")
    con.close()
    queries = []
    for i in range(30):
        target = [url, f"sqlite:///{other}", f"duckdb:///{duck}"][i % 3]
        sql = "SELECT count(*) FROM t" if "duckdb" in target else f"SELECT count(*) + {i} FROM emp"
        queries.append(Query(target, sql))
    outs = ex.run_batch(queries)
    for i, out in enumerate(outs):
        assert out.ok, out.message
        expected = 7 if i % 3 == 2 else (200 if i % 3 == 0 else 10) + i
        assert out.rows == [(expected,)]


def test_timeout_aborts_statement_and_batch_goes_on(ex, url):
    bomb = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
    limits = Limits(timeout_s=0.3)
    start = time.monotonic()
    outs = ex.run_batch(
        [Query(url, bomb, limits), Query(url, "SELECT 42"), Query(url, bomb + " -- 2", limits)]
    )
    elapsed = time.monotonic() - start
    assert [o.status for o in outs] == [OutcomeStatus.TIMEOUT, OutcomeStatus.OK, OutcomeStatus.TIMEOUT]
    assert outs[1].rows == [(42,)]
    for o in (outs[0], outs[2]):
        assert 250 <= o.elapsed_ms < 300 + 1000  # aborted by the engine near its limit
    assert elapsed < 5


@contextlib.contextmanager
def _hung_worker(ex):
    """The pool's first worker stops answering (SIGSTOP), as if stuck in a driver call; killed after."""
    pid = ex._workers[0].proc.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_hung_worker_is_killed_and_replaced(url):
    with Executor(workers=1, grace_s=0.3, cache=False) as ex:
        assert ex.execute(url, "SELECT 1").ok  # start the worker
        with _hung_worker(ex) as pid:
            start = time.monotonic()
            outs = ex.run_batch([Query(url, f"SELECT {i}", Limits(timeout_s=0.5)) for i in range(5)])
            elapsed = time.monotonic() - start
        assert outs[0].status is OutcomeStatus.TIMEOUT
        assert "killed" in outs[0].message
        assert [o.rows for o in outs[1:]] == [[(i,)] for i in range(1, 5)]
        assert ex.stats["workers_replaced"] == 1
        assert ex._workers[0].proc.pid != pid
        assert elapsed < 0.5 + 0.3 + 3


def test_cache_hits_dedup_and_keep_rows(tmp_path, url):
    with Executor(workers=1) as ex:
        first = ex.execute(url, "SELECT name FROM dept WHERE id < 3 ORDER BY id")
        again = ex.execute(url, "  SELECT name   FROM dept WHERE id < 3 ORDER BY id ;")
        assert not first.cached and again.cached
        assert again.rows == first.rows
        slim = ex.execute(url, "SELECT name FROM dept WHERE id < 3 ORDER BY id", keep_rows=False)
        assert slim.rows is None and slim.fingerprint == first.fingerprint
        outs = ex.run_batch([Query(url, "SELECT 7"), Query(url, "SELECT 7"), Query(url, "SELECT 7")])
        assert [o.rows for o in outs] == [[(7,)]] * 3
        assert ex.stats["deduplicated"] == 2


def test_disk_cache_persists_and_invalidates_on_change(tmp_path):
    path = _make_sqlite(tmp_path / "c.sqlite", n=3)
    url = f"sqlite:///{path}"
    cache = tmp_path / "cache.sqlite"
    with Executor(workers=1, cache_path=cache) as ex:
        assert not ex.execute(url, "SELECT count(*) FROM emp").cached
    with Executor(workers=1, cache_path=cache) as ex:
        hit = ex.execute(url, "SELECT count(*) FROM emp")
        assert hit.cached and hit.rows == [(3,)]
    con = sqlite3.connect(path)
    con.execute("INSERT INTO emp VALUES (99, 'x', 1.0, 1)")
    con.commit()
    con.close()
    with Executor(workers=1, cache_path=cache) as ex:
        fresh = ex.execute(url, "SELECT count(*) FROM emp")
        assert not fresh.cached and fresh.rows == [(4,)]


def test_fingerprint_is_order_insensitive_multiset(ex, url):
    asc = ex.execute(url, "SELECT dept_id FROM emp ORDER BY id")
    desc = ex.execute(url, "SELECT dept_id FROM emp ORDER BY id DESC")
    distinct = ex.execute(url, "SELECT DISTINCT dept_id FROM emp")
    assert asc.fingerprint == desc.fingerprint
    assert asc.ordered_fingerprint != desc.ordered_fingerprint
    assert asc.fingerprint != distinct.fingerprint  # multiplicities count
    one_int = ex.execute(url, "SELECT 1")
    one_real = ex.execute(url, "SELECT 1.0")
    one_text = ex.execute(url, "SELECT '1'")
    assert one_int.fingerprint == one_real.fingerprint != one_text.fingerprint


def test_fingerprint_types_values_and_one_nan():
    """Type-tagged (1 and '1' differ, 1 and 1.0 do not), count- and column-aware, and every NaN alike."""
    from sqlfoundry.db.outcome import canonical_rows

    def fp(rows, ncols=1):
        return fingerprint_rows(canonical_rows(rows), ncols)

    assert fp([(1,)]) == fp([(1.0,)])
    assert fp([(1,)])[0] != fp([("1",)])[0]
    assert fp([(b"a",)])[0] != fp([("a",)])[0]
    assert fp([(None,)])[0] != fp([(0,)])[0]
    assert fp([(1,), (1,)])[0] != fp([(1,)])[0]
    assert fp([(1, 2)], 2)[0] != fp([(2, 1)], 2)[0]
    assert fp([(1,), (2,)])[0] == fp([(2,), (1,)])[0]
    assert fp([(1,), (2,)])[1] != fp([(2,), (1,)])[1]
    nan = float("nan")
    assert fp([(nan,)]) == fp([(-nan,)]) == fp([(float("inf") - float("inf"),)])
    assert fp([(nan, 1)], 2) == fp([(-nan, 1.0)], 2)
    # However a result is cut into fetch chunks, the fingerprints are those of its rows.
    import sqlite3

    from sqlfoundry.db.connectors.base import fetch_bounded

    con = sqlite3.connect(":memory:")
    sql = (
        "WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 50) "
        "SELECT v, v * 0.5, 'r' || v FROM s"
    )
    whole = fetch_bounded(con.execute(sql), Limits(), True, batch=1024)
    pieces = fetch_bounded(con.execute(sql), Limits(), True, batch=7)
    assert (whole.fingerprint, whole.ordered_fingerprint) == (pieces.fingerprint, pieces.ordered_fingerprint)
    assert (whole.fingerprint, whole.ordered_fingerprint) == fingerprint_rows(canonical_rows(whole.rows), 3)
    assert whole.rows[1] == (2, 1, "r2")


def test_missing_database_is_a_typed_outcome_not_an_exception(ex, tmp_path, url):
    outs = ex.run_batch([Query(f"sqlite:///{tmp_path}/missing.sqlite", "SELECT 1"), Query(url, "SELECT 2")])
    assert outs[0].status is OutcomeStatus.RUNTIME_ERROR and "does not exist" in outs[0].message
    assert outs[1].rows == [(2,)]
    bad = ex.execute("oracle://x/y", "SELECT 1")
    assert bad.status is OutcomeStatus.RUNTIME_ERROR and "unsupported" in bad.message


def test_writes_leave_file_byte_for_byte_unchanged(tmp_path):
    path = _make_sqlite(tmp_path / "w.sqlite")
    before = _sha(path)
    files_before = sorted(os.listdir(tmp_path))
    url = f"sqlite:///{path}"
    attacks = [
        "INSERT INTO dept VALUES (9, 'x')",
        "UPDATE emp SET salary = 0",
        "DROP TABLE emp",
        "CREATE TEMP TABLE t AS SELECT 1",
        f"VACUUM INTO '{tmp_path}/copy.sqlite'",
        "PRAGMA journal_mode = WAL",
        "SELECT load_extension('x')",
        "BEGIN IMMEDIATE",
    ]
    with Executor(workers=1, cache=False) as ex:
        outs = ex.run_batch([Query(url, a) for a in attacks])
    assert all(o.status is OutcomeStatus.DENIED for o in outs), [(o.status, o.message) for o in outs]
    assert _sha(path) == before
    assert sorted(os.listdir(tmp_path)) == files_before


def test_row_and_byte_caps(ex, url):
    assert ex.execute(url, "SELECT * FROM emp", Limits(max_rows=199)).status is OutcomeStatus.TOO_LARGE
    assert ex.execute(url, "SELECT * FROM emp", Limits(max_rows=200)).status is OutcomeStatus.OK
    big = ex.execute(url, "SELECT * FROM emp", Limits(max_bytes=1000))
    assert big.status is OutcomeStatus.TOO_LARGE and "byte" in big.message


def test_invalid_utf8_is_decoded_lossily(tmp_path):
    path = tmp_path / "latin.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (s TEXT)")
    con.execute("INSERT INTO t VALUES (CAST(X'41E942' AS TEXT))")
    con.commit()
    con.close()
    with Executor(workers=1) as ex:
        out = ex.execute(f"sqlite:///{path}", "SELECT s FROM t")
    assert out.ok and out.rows == [("AB",)]


def test_outcome_json_round_trip(ex, url):
    out = ex.execute(url, "SELECT id, salary, NULL AS n FROM emp WHERE id < 3")
    back = ExecutionOutcome.from_json(out.to_json())
    assert back.rows == out.rows and back.status is out.status and back.fingerprint == out.fingerprint


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("SELECT  1 ;", "SELECT 1"),
        ("select\n a\tfrom t", "select a from t"),
        ("SELECT 'a  b'", "SELECT 'a  b'"),
        ("SELECT 1 AS a -- note\n, 2 AS b", "SELECT 1 AS a -- note\n, 2 AS b"),
    ],
)
def test_normalize_for_cache(raw, norm):
    assert normalize_for_cache(raw) == norm


def test_batches_leave_the_callers_garbage_collector_as_it_was(ex, url):
    """The pool pauses the cyclic GC while results arrive and then moves what is young to the oldest
    generation; the caller's settings, frozen objects and garbage cycles are not affected."""
    import gc
    import weakref

    class Node:
        pass

    refs = []

    def make_cycle(_i, _out):
        a, b = Node(), Node()
        a.other, b.other = b, a  # unreachable once this returns: only the cyclic GC frees it
        refs.append(weakref.ref(a))

    assert gc.isenabled() and gc.get_freeze_count() == 0
    outs = ex.run_batch([Query(url, f"SELECT {i}, name FROM dept") for i in range(50)], progress=make_cycle)
    assert all(o.ok for o in outs)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert len(refs) == 50
    gc.collect()
    assert all(r() is None for r in refs)

    gc.disable()
    try:
        ex.run_batch([Query(url, "SELECT 1 -- gc off")])
        assert not gc.isenabled()
    finally:
        gc.enable()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        ex.run_batch([Query(url, "SELECT 1 -- caller froze objects")])
        assert gc.get_freeze_count() == frozen > 0
    finally:
        gc.unfreeze()


class _Text(str):
    """A driver's str subclass: marshal refuses it (canonical rows never hold one)."""


def test_worker_frames_and_encoding(tmp_path):
    """The worker's pipe protocol: multiprocessing.connection framing (small, large and empty
    frames), marshal payloads, and pickle for values marshal refuses."""
    import threading
    from multiprocessing.connection import Connection

    from sqlfoundry.db import worker

    Text = _Text
    payloads = [[], [(1, ("ok", ["a"], [(1, "x", None, 2.5, b"\x00")], 1, "f", "o", "", 0.1))], "ready", None,
                [(2, ("ok", ["t"], [(Text("subclass"),)], 1, None, None, "", 0.0))], "x" * 3_000_000]  # fmt: skip
    r, w = os.pipe()
    writer = threading.Thread(target=lambda: [worker.write_frame(w, worker.encode(p)) for p in payloads])
    writer.start()
    reader = Connection(r, writable=False)  # the pool's side of the pipe
    got = []
    for _ in payloads:
        assert reader.poll(30), "the writer thread failed"
        got.append(worker.decode(reader.recv_bytes()))
    writer.join()
    assert got == payloads
    assert type(got[4][0][1][2][0][0]) is Text  # came through pickle, not marshal
    # And the other direction: frames the pool writes, read by the worker; end of file is None.
    r2, w2 = os.pipe()
    pool_side = Connection(w2, readable=False)
    feeder = threading.Thread(target=lambda: ([pool_side.send_bytes(worker.encode(p)) for p in payloads], pool_side.close()))
    feeder.start()
    assert [worker.decode(worker.read_frame(r2)) for _ in payloads] == payloads
    assert worker.read_frame(r2) is None
    feeder.join()
    os.close(r2)
    reader.close()
    os.close(w)


def test_worker_imports_only_what_running_statements_needs(url):
    """A worker's start-up is paid once per worker in every run: it must not import the pool's
    machinery (subprocess, multiprocessing, pickle), any stage's libraries, or standard modules it
    does not need (dataclasses with inspect under it, typing, pathlib, urllib, decimal: ~25 ms)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import sqlfoundry.db.worker\n"
        "from sqlfoundry.db.connectors import connector_for\n"
        "from sqlfoundry.db.outcome import Limits\n"
        f"c = connector_for({url!r}); c.open(); assert c.execute('SELECT 1', Limits(), True).rows == [(1,)]\n"
        "print(sorted(m for m in ('subprocess', 'multiprocessing', 'pickle', 'sqlglot', 'pydantic', 'uuid', "
        "'dataclasses', 'inspect', 'typing', 'pathlib', 'urllib.parse', 'decimal') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_canonical_values_are_plain_builtins():
    """Canonical rows hold only plain int/float/str/bytes/None (what the worker's marshal carries),
    whatever subclass or type a driver returns."""
    import decimal
    import enum
    import marshal
    import uuid

    from sqlfoundry.db.outcome import canonical_value

    class Level(enum.IntEnum):
        HIGH = 3

    class Money(float):
        pass

    values = [True, Level.HIGH, Money(2.5), Money(4.0), _Text("t"), decimal.Decimal("1.50"),
              uuid.UUID(int=1), bytearray(b"ab"), memoryview(b"cd")]  # fmt: skip
    got = [canonical_value(v) for v in values]
    assert got == [1, 3, 2.5, 4, "t", 1.5, "00000000-0000-0000-0000-000000000001", b"ab", b"cd"]
    assert [type(v) for v in got] == [int, int, float, int, str, float, str, bytes, bytes]
    marshal.dumps(got, 2)  # no subclass left for marshal to refuse


def test_result_cache_reads_outcomes_stored_whole_by_earlier_versions(tmp_path, url):
    """Outcomes are stored as their wire tuple; a cache file written with whole pickled outcomes (the
    earlier format) is still served."""
    import dataclasses
    import pickle

    import sqlfoundry.db.outcome as outcome_module
    from sqlfoundry.db.executor import ResultCache

    # The earlier format: a whole pickled ExecutionOutcome, when it was a dataclass (state as a dict).
    @dataclasses.dataclass
    class ExecutionOutcome_v1:  # noqa: N801
        status: OutcomeStatus
        columns: list
        rows: list | None = None
        row_count: int = 0
        fingerprint: str | None = None
        ordered_fingerprint: str | None = None
        message: str = ""
        elapsed_ms: float = 0.0
        cached: bool = False

    ExecutionOutcome_v1.__module__, ExecutionOutcome_v1.__qualname__ = outcome_module.__name__, "ExecutionOutcome"
    current = outcome_module.ExecutionOutcome
    outcome_module.ExecutionOutcome = ExecutionOutcome_v1  # type: ignore[misc]
    try:
        old_blob = pickle.dumps(ExecutionOutcome_v1(OutcomeStatus.OK, ["b"], [(2.5,)], 1, "fp2", "ofp2", "", 2.0), 5)
    finally:
        outcome_module.ExecutionOutcome = current  # type: ignore[misc]

    path = tmp_path / "results.sqlite"
    cache = ResultCache(path)
    new = ExecutionOutcome(OutcomeStatus.OK, ["a"], [(1, "x", None)], 1, "fp", "ofp", "", 1.5)
    cache.put_many([(("db", "SELECT a", (1,)), new)])
    cache._db.execute("INSERT INTO results VALUES (?, ?)", (repr(("db", "SELECT b", (1,))), old_blob))
    cache._db.execute("INSERT INTO results VALUES (?, ?)", (repr(("db", "SELECT c", (1,))), b"\x80garbage"))
    cache.close()
    again = ResultCache(path)
    got_new, got_old, got_bad = again.get_many(
        [("db", "SELECT a", (1,)), ("db", "SELECT b", (1,)), ("db", "SELECT c", (1,))], need_rows=True
    )
    again.close()
    assert (got_new.rows, got_new.fingerprint, got_new.cached) == ([(1, "x", None)], "fp", True)
    assert isinstance(got_old, ExecutionOutcome)
    assert (got_old.columns, got_old.rows, got_old.elapsed_ms, got_old.cached) == (["b"], [(2.5,)], 2.0, True)
    assert got_bad is None  # an entry that cannot be read is a miss, not an error
    # Pickling the current class round-trips too.
    assert pickle.loads(pickle.dumps(new)) == new


def test_statements_given_as_str_subclasses_still_run(ex, url):
    """A statement given as a str subclass (whose class a worker could not import) is sent as its
    plain text."""
    out = ex.run_batch([Query(url, _Text("SELECT count(*) FROM dept -- subclass"))])[0]
    assert out.ok and out.rows == [(5,)]


def test_idle_hook_fills_waits_without_delaying_answers_or_deadlines(url):
    """``idle`` runs while the pool waits; once it says it is done it is not called again until more
    answers come in (at most once per answer burst, never while a slow statement runs); and while
    it keeps working, a hung worker is still killed at its deadline and the batch finishes."""
    calls = []

    def idle_until(n):
        def idle():
            calls.append(time.monotonic())
            time.sleep(0.001)
            return len(calls) < n

        return idle

    with Executor(workers=1, grace_s=0.3, cache=False) as ex:
        assert ex.execute(url, "SELECT 1").ok
        slow = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 300000) SELECT count(*) FROM r"
        outs = ex.run_batch([Query(url, slow), Query(url, "SELECT 2")], idle=idle_until(3))
        assert [o.rows for o in outs] == [[(300000,)], [(2,)]]
        # Done at the third call; asked again only after the slow statement's answer (one per burst).
        assert 3 <= len(calls) <= 5, calls
        assert all(b - a > 0.02 for a, b in zip(calls[2:], calls[3:], strict=False)), calls

        calls.clear()
        with _hung_worker(ex):
            start = time.monotonic()
            outs = ex.run_batch([Query(url, f"SELECT {i}", Limits(timeout_s=0.5)) for i in range(3)],
                                idle=idle_until(10**9))  # fmt: skip
            elapsed = time.monotonic() - start
        assert outs[0].status is OutcomeStatus.TIMEOUT and "killed" in outs[0].message
        assert [o.rows for o in outs[1:]] == [[(1,)], [(2,)]]
        assert len(calls) > 50 and elapsed < 0.5 + 0.3 + 3


def test_streamed_batch_feeds_more_queries_while_the_workers_run(url, tmp_path):
    """``more`` hands a batch its queries in blocks: outcomes keep their place in the whole batch,
    an identical statement in a later block is answered from the earlier one, an empty block and
    the end are both handled, and a stream served wholly from the cache starts no worker."""
    blocks = [
        [Query(url, "SELECT count(*) FROM dept"), Query(url, "SELECT 1")],
        [],
        [Query(url, "SELECT count(*)   FROM dept"), Query(url, "SELECT 2"), Query(url, "SELECT nope FROM dept")],
        [Query(url, "SELECT 3")],
    ]
    fed = []
    seen = {}

    def more():
        if len(fed) + 1 >= len(blocks):
            return None
        fed.append(len(fed) + 1)
        return blocks[len(fed)]

    cache = tmp_path / "cache.sqlite"
    with Executor(workers=2, cache_path=cache, prestart=False) as ex:
        outs = ex.run_batch(blocks[0], progress=lambda i, o: seen.setdefault(i, o), more=more)
        assert [o.rows for o in outs] == [[(5,)], [(1,)], [(5,)], [(2,)], None, [(3,)]]
        assert outs[4].status is OutcomeStatus.RUNTIME_ERROR
        assert sorted(seen) == list(range(6)) and all(seen[i] is outs[i] for i in range(6))
        assert ex.stats["deduplicated"] == 1
    fed.clear()
    with Executor(workers=2, cache_path=cache, prestart=False) as again:
        outs = again.run_batch(blocks[0], more=more)
        assert [o.rows for o in outs][:4] == [[(5,)], [(1,)], [(5,)], [(2,)]]
        assert all(o.cached for o in outs)
        assert not again._workers  # every answer came from the cache: no worker was started


def test_trusted_statements_run_in_the_pools_own_process_while_it_waits(url, tmp_path):
    """Trusted statements (a benchmark's gold) on a SQLite file may be run by the pool's own process
    while it waits; one that needs longer than the inline budget is handed back and run by a worker
    under its own limits; untrusted ones never run there."""
    slow = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 2000000) SELECT count(*) FROM r"
    many = [Query(url, f"SELECT count(*) + {i} FROM emp", trusted=True) for i in range(300)]
    with Executor(workers=1, cache=False) as ex:
        outs = ex.run_batch([*many, Query(url, slow, trusted=True)])
        assert [o.rows for o in outs[:300]] == [[(200 + i,)] for i in range(300)]
        assert outs[300].rows == [(2000000,)]  # not cut short by the inline budget
        assert ex.stats["inline"] > 0
        inline_before = ex.stats["inline"]
        untrusted = ex.run_batch([Query(url, f"SELECT count(*) - {i} FROM emp") for i in range(300)])
        assert [o.rows for o in untrusted] == [[(200 - i,)] for i in range(300)]
        assert ex.stats["inline"] == inline_before  # nothing untrusted ran in this process
    with Executor(workers=1, cache=False, chunk_size=4) as ex:
        # The worker holds 8 statements at a time; this process takes from the back of the queue, so
        # the slow one first: past the budget it is handed back, and a worker runs it to the end.
        out = ex.run_batch([Query(url, f"SELECT {i}", trusted=True) for i in range(40)] + [Query(url, slow, trusted=True)])
        assert [o.rows for o in out] == [[(i,)] for i in range(40)] + [[(2000000,)]]
        assert ex.stats["inline_handed_back"] == 1 and ex.stats["inline"] > 0


def test_pool_shared_with_the_caller_keeps_a_worker_back_until_statements_queue_up(url):
    with Executor(workers=2, cache=False, share_with_caller=True) as ex:
        assert len(ex._workers) == 1  # the calling process is the second CPU
        outs = ex.run_batch([Query(url, f"SELECT id + {i} FROM emp ORDER BY id LIMIT 1") for i in range(600)])
        assert [o.rows for o in outs] == [[(i,)] for i in range(600)]
        # Nothing trusted for this process to run, and hundreds of statements waiting: it started.
        assert ex.stats["workers_added"] == 1 and len(ex._workers) == 2


def test_result_cache_file_that_is_damaged_is_started_afresh(tmp_path, url):
    path = tmp_path / "results.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with Executor(workers=1, cache_path=path) as ex:
        assert ex.execute(url, "SELECT count(*) FROM dept").rows == [(5,)]
    with Executor(workers=1, cache_path=path, prestart=False) as again:
        assert again.execute(url, "SELECT count(*) FROM dept").cached


def test_pool_shared_with_the_caller_starts_few_workers_and_grows_while_work_queues(url):
    with Executor(workers=8, cache=False, share_with_caller=True) as ex:
        assert len(ex._workers) == Executor.START_WORKERS  # not 7: a short batch is over before they help
        quick = ex.run_batch([Query(url, f"SELECT {i}", trusted=True) for i in range(200)])
        assert [o.rows for o in quick] == [[(i,)] for i in range(200)]
        assert len(ex._workers) == Executor.START_WORKERS  # nothing queued long enough to add one
        slow = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 20000 + {}) SELECT count(*) FROM r"
        # More than the running workers hold at once (2 chunks of 64 each): the rest waits in the queue,
        # ~1.5 ms a statement, so one more worker is worth starting.
        outs = ex.run_batch([Query(url, slow.format(i)) for i in range(900)])
        assert [o.rows for o in outs] == [[(20000 + i,)] for i in range(900)]
        assert len(ex._workers) > Executor.START_WORKERS and ex.stats["workers_added"] >= 1
