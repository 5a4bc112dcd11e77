"""Throwaway PostgreSQL and MariaDB servers for tests, and loaders that copy a SQLite database into
them (and into DuckDB) so the same data can be queried on all four engines.

Each server lives in its own temporary directory, listens on a free port on 127.0.0.1 only, has a
password-protected admin user and a SELECT-only user ``sqlfoundry_ro``, and is removed by ``stop()``.
"""

from __future__ import annotations

import atexit
import datetime as dt
import decimal
import glob
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote as _urlquote

from sqlfoundry.db.connectors.sqlite import SQLiteConnector
from sqlfoundry.db.schema_model import Table
from sqlfoundry.db.url import DatabaseURL, parse_url

READONLY_USER = "sqlfoundry_ro"
READONLY_PASSWORD = "sqlfoundry-ro-pw"
ADMIN_PASSWORD = "sqlfoundry-admin-pw"
INSTALL_HINT = "run `sudo .ci/install-servers.sh` (Debian/Ubuntu) to install PostgreSQL and MariaDB"


class ServerStartError(RuntimeError):
    """A server binary is present but the server could not be started."""


# ------------------------------------------------------------------------------------------------
# Finding the binaries
# ------------------------------------------------------------------------------------------------


def postgres_bindir() -> Path | None:
    """Where ``initdb``/``pg_ctl`` live: $SQLFOUNDRY_PG_BINDIR, PATH, or Debian's versioned dirs."""
    env = os.environ.get("SQLFOUNDRY_PG_BINDIR")
    if env and (Path(env) / "initdb").exists():
        return Path(env)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb") + glob.glob("/usr/pgsql-*/bin/initdb")
    if not candidates:
        return None

    def version(p: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", p)) or (0,)

    return Path(max(candidates, key=version)).parent


def _which_any(*names: str) -> str | None:
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/usr/local/sbin:/sbin"
    for name in names:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def mariadb_binaries() -> tuple[str, str] | None:
    """(server, install-db) executables, or None when MariaDB/MySQL is not installed."""
    server = _which_any("mariadbd", "mysqld")
    install = _which_any("mariadb-install-db", "mysql_install_db")
    return (server, install) if server and install else None


def missing_binary(engine: str) -> str | None:
    """Name of the first missing executable for ``engine`` ('postgres' or 'mysql'), or None."""
    if engine == "postgres":
        return None if postgres_bindir() else "initdb (PostgreSQL server)"
    if engine == "mysql":
        if not _which_any("mariadbd", "mysqld"):
            return "mariadbd (MariaDB server)"
        if not _which_any("mariadb-install-db", "mysql_install_db"):
            return "mariadb-install-db"
        return None
    raise ValueError(engine)


# ------------------------------------------------------------------------------------------------
# Server processes
# ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _as_user(user: str) -> dict[str, Any]:
    # initdb and postgres refuse to run as root: when we are root, run them as the service account.
    return {"user": user, "group": user, "extra_groups": []} if _is_root() else {}


def _chown_tree(path: Path, user: str) -> None:
    if _is_root():
        shutil.chown(path, user=user)
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                shutil.chown(os.path.join(root, name), user=user)


def _tail(path: Path, n: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _run(cmd: list[str], cwd: Path, what: str, timeout: float = 120, **kwargs: Any) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if proc.returncode != 0:
        raise ServerStartError(
            f"{what} failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
        )


@dataclass
class RunningServer:
    """A started server; ``admin_url`` connects as a superuser, ``readonly_url(db)`` as sqlfoundry_ro."""

    engine: str
    host: str
    port: int
    workdir: Path
    admin_user: str
    admin_database: str
    log_path: Path
    _stopper: Any = field(repr=False, default=None)
    _stopped: bool = field(repr=False, default=False)

    @property
    def scheme(self) -> str:
        return "postgresql" if self.engine == "postgres" else "mysql"

    def url_for(self, database: str, user: str, password: str) -> str:
        return f"{self.scheme}://{_urlquote(user, safe='')}:{_urlquote(password, safe='')}@{self.host}:{self.port}/{_urlquote(database, safe='')}"

    @property
    def admin_url(self) -> str:
        return self.url_for(self.admin_database, self.admin_user, ADMIN_PASSWORD)

    def readonly_url(self, database: str) -> str:
        return self.url_for(database, READONLY_USER, READONLY_PASSWORD)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            if self._stopper is not None:
                self._stopper()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


_RUNNING: list[RunningServer] = []


@atexit.register
def _stop_leftovers() -> None:  # a crashed test session must not leave servers behind
    for server in list(_RUNNING):
        try:
            server.stop()
        except Exception:
            pass


def start_postgres(timeout_s: float = 60.0) -> RunningServer:
    """initdb + postgres on 127.0.0.1 with a private socket directory; returns once it accepts logins.

    Local (socket) logins are trusted; TCP logins need a password (scram-sha-256).
    """
    import psycopg

    bindir = postgres_bindir()
    if bindir is None:
        raise FileNotFoundError(f"PostgreSQL server binaries (initdb) not found; {INSTALL_HINT}")
    work = Path(tempfile.mkdtemp(prefix="sqlfoundry-pg-"))
    os.chmod(work, 0o755)
    data, log = work / "data", work / "postgres.log"
    pwfile = work / "pwfile"
    pwfile.write_text(ADMIN_PASSWORD + "\n")
    _chown_tree(work, "postgres")
    try:
        _run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={pwfile}", "--auth-local=trust",
             "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            work, "initdb", **_as_user("postgres"),
        )  # fmt: skip
        pwfile.unlink()
        proc, port = _start_until_ready(
            lambda port: [
                str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(work),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB",
            ],
            lambda port: psycopg.connect(host=str(work), port=port, user="postgres", dbname="postgres", connect_timeout=2).close(),
            psycopg.Error, work, log, "postgres", timeout_s,
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions and exit.
    server = RunningServer(
        "postgres", "127.0.0.1", port, work, "postgres", "postgres", log, _stopper(proc, signal.SIGINT)
    )
    _RUNNING.append(server)
    try:
        with psycopg.connect(server.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                f"CREATE ROLE {READONLY_USER} LOGIN PASSWORD '{READONLY_PASSWORD}' "
                "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
            )
            conn.execute(f"ALTER ROLE {READONLY_USER} SET default_transaction_read_only = on")
    except BaseException:
        server.stop()
        raise
    return server


def _start_until_ready(
    command: Callable[[int], list[str]],
    probe: Callable[[int], None],
    probe_error: type[BaseException] | tuple[type[BaseException], ...],
    work: Path,
    log: Path,
    user: str | None,
    timeout_s: float,
) -> tuple[subprocess.Popen, int]:
    """Start the server (as ``user`` when given) on a free port (retrying when another process grabs the port first) and poll
    ``probe`` until it connects; raise ServerStartError with the log tail otherwise."""
    deadline = time.monotonic() + timeout_s
    for _attempt in range(3):
        port = free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                command(port), cwd=work, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                **(_as_user(user) if user else {}),
            )  # fmt: skip
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                probe(port)
                return proc, port
            except probe_error:
                time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
            raise ServerStartError(
                f"{command(port)[0]} did not become ready in {timeout_s:.0f}s:\n{_tail(log)}"
            )
        if "already in use" not in _tail(log, 5):
            raise ServerStartError(f"{command(port)[0]} exited with {proc.returncode}:\n{_tail(log)}")
    raise ServerStartError(f"no free port found:\n{_tail(log)}")


def _stopper(proc: subprocess.Popen, sig: int) -> Callable[[], None]:
    def stop() -> None:
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    return stop


def start_mariadb(timeout_s: float = 60.0) -> RunningServer:
    """mariadb-install-db + mariadbd on 127.0.0.1 with a private socket; returns once it is ready.

    Table names are case-insensitive (``lower_case_table_names=1``) as in SQLite.
    """
    import pymysql

    binaries = mariadb_binaries()
    if binaries is None:
        raise FileNotFoundError(f"MariaDB server binaries (mariadbd) not found; {INSTALL_HINT}")
    server_bin, install_bin = binaries
    work = Path(tempfile.mkdtemp(prefix="sqlfoundry-my-"))
    os.chmod(work, 0o755)
    data, log, sock, pid = work / "data", work / "mariadb.log", work / "mysqld.sock", work / "mysqld.pid"
    # A private temporary directory: servers started side by side (pytest-xdist) must not share /tmp,
    # where the bootstrap's temporary tables of one were seen deleted under the other.
    tmp = work / "tmp"
    tmp.mkdir()
    user_args = ["--user=mysql"] if _is_root() else []
    common = ["--lower-case-table-names=1", "--skip-name-resolve", f"--tmpdir={tmp}"]
    _chown_tree(work, "mysql")
    try:
        _run(
            [install_bin, "--no-defaults", *user_args, f"--datadir={data}", "--auth-root-authentication-method=normal",
             "--skip-test-db", *common],
            work, "mariadb-install-db",
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    try:
        proc, port = _start_until_ready(
            lambda port: [
                server_bin, "--no-defaults", *user_args, f"--datadir={data}", f"--port={port}",
                "--bind-address=127.0.0.1", f"--socket={sock}", f"--pid-file={pid}",
                "--skip-log-bin", "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0", "--performance-schema=off", "--max-connections=200", *common,
            ],
            lambda port: pymysql.connect(unix_socket=str(sock), user="root", connect_timeout=2).close(),
            (pymysql.Error, OSError), work, log, None, timeout_s,
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    server = RunningServer(
        "mysql", "127.0.0.1", port, work, "root", "mysql", log, _stopper(proc, signal.SIGTERM)
    )
    _RUNNING.append(server)
    try:
        conn = pymysql.connect(unix_socket=str(sock), user="root", autocommit=True)
        with conn.cursor() as cur:
            # Over TCP only password logins work; the socket stays root's back door for this helper.
            cur.execute(
                "DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost'))"
            )
            cur.execute("FLUSH PRIVILEGES")
            cur.execute("CREATE USER 'root'@'%%' IDENTIFIED BY %s", (ADMIN_PASSWORD,))
            cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION")
            cur.execute(f"CREATE USER '{READONLY_USER}'@'%%' IDENTIFIED BY %s", (READONLY_PASSWORD,))
        conn.close()
    except BaseException:
        server.stop()
        raise
    return server


# ------------------------------------------------------------------------------------------------
# Copying a SQLite database into another engine
# ------------------------------------------------------------------------------------------------

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?")
_TIME_RE = re.compile(r"\d{2}:\d{2}:\d{2}(\.\d{6})?")
_PRECISION_RE = re.compile(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")


@dataclass
class _ColumnStats:
    nulls: int = 0
    values: int = 0
    ints: int = 0
    floats: int = 0
    strs: int = 0
    blobs: int = 0
    dates: int = 0
    datetimes: int = 0
    times: int = 0
    bools: int = 0
    max_len: int = 0
    max_abs: float = 0.0

    def add(self, v: Any) -> None:
        if v is None:
            self.nulls += 1
            return
        self.values += 1
        if isinstance(v, int):
            self.ints += 1
            self.bools += v in (0, 1)
            self.max_abs = max(self.max_abs, abs(float(v)))
        elif isinstance(v, float):
            self.floats += 1
            if v == v and abs(v) != float("inf"):
                self.max_abs = max(self.max_abs, abs(v))
            else:
                self.max_abs = float("inf")
        elif isinstance(v, str):
            self.strs += 1
            self.max_len = max(self.max_len, len(v))
            self.dates += _exact_iso(v, _DATE_RE, dt.date)
            self.datetimes += _exact_iso(v, _DATETIME_RE, dt.datetime)
            self.times += _exact_iso(v, _TIME_RE, dt.time)
        else:
            self.blobs += 1
            self.max_len = max(self.max_len, len(v))


def _exact_iso(v: str, pattern: re.Pattern, kind: type) -> bool:
    """True when ``v`` parses as ``kind`` and prints back identically (so values compare equal)."""
    if not pattern.fullmatch(v):
        return False
    try:
        parsed = kind.fromisoformat(v)  # type: ignore[attr-defined]
    except ValueError:
        return False
    if isinstance(parsed, dt.datetime | dt.date) and parsed.year < 1000:
        return False  # MySQL's DATE/DATETIME start at year 1000
    text = parsed.isoformat(sep=" ") if isinstance(parsed, dt.datetime) else parsed.isoformat()
    return text == v


@dataclass
class _ColumnPlan:
    name: str
    source: str
    kind: str  # integer real decimal text blob date datetime time boolean
    precision: tuple[int, int] | None = None
    not_null: bool = False
    max_len: int = 0


def _plan_column(name: str, declared: str, stats: _ColumnStats, not_null: bool) -> _ColumnPlan:
    """Choose a portable type that holds every stored value and reads back equal to SQLite's."""
    d = declared.upper()
    m = _PRECISION_RE.search(d)
    precision = (int(m.group(1)), int(m.group(2) or 0)) if m else None
    n = stats.values

    def plan(kind: str, prec: tuple[int, int] | None = None) -> _ColumnPlan:
        return _ColumnPlan(name, name, kind, prec, not_null and stats.nulls == 0, stats.max_len)

    if n == 0:  # no values: follow SQLite's type affinity rules
        if "INT" in d:
            return plan("integer")
        if any(t in d for t in ("CHAR", "CLOB", "TEXT")):
            return plan("text")
        if "BLOB" in d:
            return plan("blob")
        if any(t in d for t in ("REAL", "FLOA", "DOUB")):
            return plan("real")
        if "BOOL" in d:
            return plan("boolean")
        if "TIMESTAMP" in d or "DATETIME" in d:
            return plan("datetime")
        if "DATE" in d:
            return plan("date")
        if "TIME" in d:
            return plan("time")
        if ("DEC" in d or "NUMERIC" in d) and precision:
            return plan("decimal", precision)
        return plan("text") if not d else plan("real")
    if stats.blobs == n:
        return plan("blob")
    if stats.strs == n:
        if ("TIMESTAMP" in d or "DATETIME" in d) and stats.datetimes == n:
            return plan("datetime")
        if "DATE" in d and stats.dates == n:
            return plan("date")
        if "TIME" in d and stats.times == n:
            return plan("time")
        return plan("text")
    if stats.ints == n:
        if "BOOL" in d and stats.bools == n:
            return plan("boolean")
        if ("DEC" in d or "NUMERIC" in d) and precision and _fits(stats, precision):
            return plan("decimal", precision)
        return plan("integer")
    if stats.ints + stats.floats == n:
        if ("DEC" in d or "NUMERIC" in d) and precision and _fits(stats, precision):
            return plan("decimal", precision)
        return plan("real")
    return plan("text")  # mixed storage classes: keep the text form


def _fits(stats: _ColumnStats, precision: tuple[int, int]) -> bool:
    p, s = precision
    return 0 < p <= 38 and s <= p and stats.max_abs < 10 ** (p - s)


def _convert(plan: _ColumnPlan, v: Any) -> Any:
    if v is None:
        return None
    k = plan.kind
    if k == "text":
        s = v if isinstance(v, str) else (v.decode(errors="replace") if isinstance(v, bytes) else str(v))
        return s.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    if k == "boolean":
        return bool(v)
    if k == "date":
        return dt.date.fromisoformat(v)
    if k == "datetime":
        return dt.datetime.fromisoformat(v)
    if k == "time":
        return dt.time.fromisoformat(v)
    if k == "decimal":
        return decimal.Decimal(repr(v)) if isinstance(v, float) else decimal.Decimal(v)
    if k == "real":
        return float(v)
    return v


def _pg_type(plan: _ColumnPlan) -> str:
    if plan.kind == "decimal":
        assert plan.precision
        return f"NUMERIC({plan.precision[0]},{plan.precision[1]})"
    return {
        "integer": "BIGINT", "real": "DOUBLE PRECISION", "text": "TEXT", "blob": "BYTEA", "date": "DATE",
        "datetime": "TIMESTAMP", "time": "TIME", "boolean": "BOOLEAN",
    }[plan.kind]  # fmt: skip


def _mysql_type(plan: _ColumnPlan, keyed: bool) -> str:
    if plan.kind == "decimal":
        assert plan.precision
        return f"DECIMAL({plan.precision[0]},{plan.precision[1]})"
    if plan.kind == "text":
        if keyed:  # an index needs a bounded length (InnoDB: 3072 bytes = 768 utf8mb4 chars)
            return f"VARCHAR({min(max(plan.max_len, 191), 768)})"
        return "TEXT" if plan.max_len < 16_000 else "LONGTEXT"
    if plan.kind == "blob":
        return f"VARBINARY({min(max(plan.max_len, 255), 3072)})" if keyed else "LONGBLOB"
    return {
        "integer": "BIGINT", "real": "DOUBLE", "date": "DATE", "datetime": "DATETIME(6)", "time": "TIME(6)",
        "boolean": "BOOLEAN",
    }[plan.kind]  # fmt: skip


def _duckdb_type(plan: _ColumnPlan) -> str:
    if plan.kind == "decimal":
        assert plan.precision
        return f"DECIMAL({plan.precision[0]},{plan.precision[1]})"
    return {
        "integer": "BIGINT", "real": "DOUBLE", "text": "VARCHAR", "blob": "BLOB", "date": "DATE",
        "datetime": "TIMESTAMP", "time": "TIME", "boolean": "BOOLEAN",
    }[plan.kind]  # fmt: skip


@dataclass
class _TablePlan:
    source: Table
    name: str
    columns: list[_ColumnPlan]
    unique: list[list[str]]


@dataclass
class CopiedDatabase:
    """Where a copy lives: ``url`` for the SELECT-only user, ``admin_url`` for the owner; ``notes``
    lists constraints that could not be carried over (e.g. a foreign key to non-unique columns)."""

    url: str
    admin_url: str
    tables: list[str]
    notes: list[str] = field(default_factory=list)


def _open_sqlite(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    conn.text_factory = lambda b: b.decode(errors="replace")
    return conn


def _plan_tables(path: Path, fold_case: bool) -> list[_TablePlan]:
    with SQLiteConnector(parse_url(f"sqlite:///{path.resolve()}")) as src:
        tables = src.catalog()
    conn = _open_sqlite(path)
    try:
        plans = []
        for t in tables:
            stats = [_ColumnStats() for _ in t.columns]
            cols = ", ".join(_q(c.name) for c in t.columns)
            for row in conn.execute(f"SELECT {cols} FROM {_q(t.name)}"):
                for s, v in zip(stats, row, strict=True):
                    s.add(v)
            columns = [
                _plan_column(c.name, c.declared_type, s, not c.nullable)
                for c, s in zip(t.columns, stats, strict=True)
            ]
            unique = []
            for _seq, index, is_unique, origin, *_ in conn.execute(f"PRAGMA index_list({_q(t.name)})"):
                if is_unique and origin == "u":
                    unique.append([r[2] for r in conn.execute(f"PRAGMA index_info({_q(index)})")])
            plans.append(_TablePlan(t, t.name, columns, unique))
    finally:
        conn.close()
    if fold_case:
        seen: set[str] = set()
        for p in plans:
            p.name = p.name.lower()
            if p.name in seen:
                raise ValueError(f"tables differ only by case ({p.name!r}); copy with fold_case=False")
            seen.add(p.name)
            for c in p.columns:
                c.name = c.name.lower()
    return plans


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _bq(ident: str) -> str:
    return "`" + ident.replace("`", "``") + "`"


def _rows(path: Path, plan: _TablePlan, batch: int = 1000) -> Iterator[list[tuple]]:
    conn = _open_sqlite(path)
    try:
        cols = ", ".join(_q(c.source) for c in plan.columns)
        cur = conn.execute(f"SELECT {cols} FROM {_q(plan.source.name)} ORDER BY rowid")
    except sqlite3.OperationalError:  # WITHOUT ROWID tables
        cur = conn.execute(f"SELECT {cols} FROM {_q(plan.source.name)}")
    try:
        while chunk := cur.fetchmany(batch):
            yield [tuple(_convert(c, v) for c, v in zip(plan.columns, r, strict=True)) for r in chunk]
    finally:
        conn.close()


def _column_map(plans: list[_TablePlan]) -> dict[tuple[str, str], str]:
    """(source table, source column) -> target column name."""
    return {(p.source.name.lower(), c.source.lower()): c.name for p in plans for c in p.columns}


def _fk_targets(plans: list[_TablePlan]) -> Iterator[tuple[_TablePlan, list[str], _TablePlan, list[str]]]:
    by_source = {p.source.name.lower(): p for p in plans}
    cmap = _column_map(plans)
    for p in plans:
        for fk in p.source.foreign_keys:
            ref = by_source.get(fk.ref_table.lower())
            if ref is None:
                continue
            try:
                cols = [cmap[(p.source.name.lower(), c.lower())] for c in fk.columns]
                rcols = [cmap[(ref.source.name.lower(), c.lower())] for c in fk.ref_columns]
            except KeyError:
                continue
            yield p, cols, ref, rcols


def copy_sqlite_into(
    sqlite_path: str | os.PathLike[str], server_admin_url: str, dbname: str, *, fold_case: bool = True
) -> CopiedDatabase:
    """Create database ``dbname`` on the server behind ``server_admin_url`` (replacing any database of
    that name) and copy every table of the SQLite file into it; grant SELECT to ``sqlfoundry_ro``.

    Column types are chosen from the declared type *and* the stored values so that every value reads
    back equal to SQLite's after canonicalization (dates become DATE only when every value is an exact
    ISO date, and so on). Primary keys, UNIQUE constraints and foreign keys are added after the load;
    one that the data or the engine rejects is skipped and listed in ``notes``. With ``fold_case``
    names are lower-cased, so that unquoted SQL written against SQLite resolves on PostgreSQL.
    """
    path = Path(sqlite_path)
    url = parse_url(server_admin_url)
    plans = _plan_tables(path, fold_case)
    if url.engine == "postgres":
        notes = _copy_into_postgres(path, url, dbname, plans)
    elif url.engine == "mysql":
        notes = _copy_into_mysql(path, url, dbname, plans)
    else:
        raise ValueError(f"copy_sqlite_into needs a postgres or mysql URL, not {url.engine}")
    scheme = "postgresql" if url.engine == "postgres" else "mysql"
    base = f"{scheme}://{{}}@{url.host}:{url.port}/{_urlquote(dbname, safe='')}"
    admin_auth = _urlquote(url.user or "", safe="") + (
        f":{_urlquote(url.password, safe='')}" if url.password else ""
    )
    return CopiedDatabase(
        url=base.format(f"{READONLY_USER}:{_urlquote(READONLY_PASSWORD, safe='')}"),
        admin_url=base.format(admin_auth),
        tables=[p.name for p in plans],
        notes=notes,
    )


def _pg_connect(url: DatabaseURL, database: str):
    import psycopg

    return psycopg.connect(
        host=url.host, port=url.port, user=url.user, password=url.password, dbname=database, autocommit=True
    )


def _copy_into_postgres(path: Path, url: DatabaseURL, dbname: str, plans: list[_TablePlan]) -> list[str]:
    import psycopg

    notes: list[str] = []
    with _pg_connect(url, url.database or "postgres") as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {_q(dbname)} WITH (FORCE)")
        admin.execute(
            f"CREATE DATABASE {_q(dbname)} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    with _pg_connect(url, dbname) as conn:
        for p in plans:
            cols = ", ".join(
                f"{_q(c.name)} {_pg_type(c)}{' NOT NULL' if c.not_null else ''}" for c in p.columns
            )
            conn.execute(f"CREATE TABLE {_q(p.name)} ({cols})")
            names = ", ".join(_q(c.name) for c in p.columns)
            with conn.cursor() as cur, cur.copy(f"COPY {_q(p.name)} ({names}) FROM STDIN") as copy:
                for chunk in _rows(path, p):
                    for row in chunk:
                        copy.write_row(row)

        def attempt(sql: str, what: str) -> None:
            try:
                conn.execute(sql)
            except psycopg.Error as exc:
                notes.append(f"{what} skipped: {str(exc).strip().splitlines()[0]}")

        cmap = _column_map(plans)
        for p in plans:
            pk = [cmap[(p.source.name.lower(), c.lower())] for c in p.source.primary_key]
            if pk:
                attempt(
                    f"ALTER TABLE {_q(p.name)} ADD PRIMARY KEY ({', '.join(map(_q, pk))})",
                    f"{p.name} primary key",
                )
            for u in p.unique:
                ucols = [cmap[(p.source.name.lower(), c.lower())] for c in u]
                attempt(
                    f"ALTER TABLE {_q(p.name)} ADD UNIQUE ({', '.join(map(_q, ucols))})",
                    f"{p.name} unique {u}",
                )
        for p, cols, ref, rcols in _fk_targets(plans):
            # NOT VALID: keep the declared relationship even where SQLite's data breaks it.
            attempt(
                f"ALTER TABLE {_q(p.name)} ADD FOREIGN KEY ({', '.join(map(_q, cols))}) "
                f"REFERENCES {_q(ref.name)} ({', '.join(map(_q, rcols))}) NOT VALID",
                f"{p.name} foreign key {cols} -> {ref.name}",
            )
        conn.execute(f"REVOKE ALL ON DATABASE {_q(dbname)} FROM PUBLIC")
        conn.execute(f"GRANT CONNECT ON DATABASE {_q(dbname)} TO {READONLY_USER}")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {READONLY_USER}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READONLY_USER}")
        conn.execute("ANALYZE")
    return notes


def _copy_into_mysql(path: Path, url: DatabaseURL, dbname: str, plans: list[_TablePlan]) -> list[str]:
    import pymysql

    notes: list[str] = []
    cmap = _column_map(plans)
    keyed: dict[str, set[str]] = {p.name: set() for p in plans}
    for p in plans:
        for cols in [p.source.primary_key, *p.unique]:
            keyed[p.name].update(cmap[(p.source.name.lower(), c.lower())] for c in cols)
    for p, cols, ref, rcols in _fk_targets(plans):
        keyed[p.name].update(cols)
        keyed[ref.name].update(rcols)
    conn = pymysql.connect(
        host=url.host, port=url.port or 3306, user=url.user, password=url.password or "", autocommit=True,
        charset="utf8mb4",
    )  # fmt: skip
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION foreign_key_checks = 0")
            cur.execute(f"DROP DATABASE IF EXISTS {_bq(dbname)}")
            # Binary no-pad collation: comparisons and keys behave as in SQLite ('a' != 'A', 'a' != 'a ').
            cur.execute(f"CREATE DATABASE {_bq(dbname)} CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin")
            cur.execute(f"USE {_bq(dbname)}")
            for p in plans:
                cols = ", ".join(
                    f"{_bq(c.name)} {_mysql_type(c, c.name in keyed[p.name])}{' NOT NULL' if c.not_null else ''}"
                    for c in p.columns
                )
                cur.execute(f"CREATE TABLE {_bq(p.name)} ({cols}) ENGINE=InnoDB")
                ins = (
                    f"INSERT INTO {_bq(p.name)} ({', '.join(_bq(c.name) for c in p.columns)}) "
                    f"VALUES ({', '.join(['%s'] * len(p.columns))})"
                )
                for chunk in _rows(path, p):
                    cur.executemany(ins, chunk)

            def attempt(sql: str, what: str) -> None:
                try:
                    cur.execute(sql)
                except pymysql.Error as exc:
                    notes.append(f"{what} skipped: {exc.args[-1]}")

            for p in plans:
                pk = [cmap[(p.source.name.lower(), c.lower())] for c in p.source.primary_key]
                if pk:
                    attempt(
                        f"ALTER TABLE {_bq(p.name)} ADD PRIMARY KEY ({', '.join(map(_bq, pk))})",
                        f"{p.name} primary key",
                    )
                for u in p.unique:
                    ucols = [cmap[(p.source.name.lower(), c.lower())] for c in u]
                    attempt(
                        f"ALTER TABLE {_bq(p.name)} ADD UNIQUE ({', '.join(map(_bq, ucols))})",
                        f"{p.name} unique {u}",
                    )
            for p, cols, ref, rcols in _fk_targets(plans):
                attempt(
                    f"ALTER TABLE {_bq(p.name)} ADD FOREIGN KEY ({', '.join(map(_bq, cols))}) "
                    f"REFERENCES {_bq(ref.name)} ({', '.join(map(_bq, rcols))})",
                    f"{p.name} foreign key {cols} -> {ref.name}",
                )
            cur.execute(f"GRANT SELECT ON {_bq(dbname)}.* TO '{READONLY_USER}'@'%'")
    finally:
        conn.close()
    return notes


def copy_sqlite_to_duckdb(sqlite_path: str | os.PathLike[str], duckdb_path: str | os.PathLike[str]) -> str:
    """Write a DuckDB file holding every table of the SQLite file (names kept as they are); returns its URL.

    DuckDB checks keys on insert and cannot add constraints later, so tables are created parents
    first and a primary key, UNIQUE or foreign key is declared only when the data satisfies it.
    """
    import duckdb

    path, target = Path(sqlite_path), Path(duckdb_path)
    if target.exists():
        target.unlink()
    plans = _plan_tables(path, fold_case=False)
    src = _open_sqlite(path)
    declared_unique: dict[str, list[list[str]]] = {}
    valid_fks: dict[str, list[tuple[list[str], str, list[str]]]] = {p.name: [] for p in plans}
    for p in plans:
        keys = [p.source.primary_key] if p.source.primary_key else []
        declared_unique[p.name] = [k for k in keys + p.unique if _is_unique(src, p.source.name, k)]
    for p, cols, ref, rcols in _fk_targets(plans):
        if any(set(rcols) == set(u) for u in declared_unique[ref.name]) and _fk_holds(
            src, p, cols, ref, rcols
        ):
            valid_fks[p.name].append((cols, ref.name, rcols))
    src.close()
    # Parents before children; a foreign key that would close a cycle is dropped.
    order: list[_TablePlan] = []
    done: set[str] = set()
    remaining = list(plans)
    while remaining:
        for p in remaining:
            if all(r in done or r == p.name for _, r, _ in valid_fks[p.name]):
                break
        else:
            p = remaining[0]
            valid_fks[p.name] = [fk for fk in valid_fks[p.name] if fk[1] in done or fk[1] == p.name]
        remaining.remove(p)
        order.append(p)
        done.add(p.name)
    conn = duckdb.connect(str(target))
    try:
        for p in order:
            parts = [f"{_q(c.name)} {_duckdb_type(c)}{' NOT NULL' if c.not_null else ''}" for c in p.columns]
            uniques = declared_unique[p.name]
            pk = p.source.primary_key
            if pk and pk in uniques:
                parts.append(f"PRIMARY KEY ({', '.join(map(_q, pk))})")
            parts += [f"UNIQUE ({', '.join(map(_q, u))})" for u in uniques if u != pk]
            parts += [
                f"FOREIGN KEY ({', '.join(map(_q, c))}) REFERENCES {_q(r)} ({', '.join(map(_q, rc))})"
                for c, r, rc in valid_fks[p.name]
                # DuckDB checks a self-reference against rows already stored, so a batch holding both a
                # manager and the employees referring to it would fail: self-references are left out.
                if r != p.name
            ]
            conn.execute(f"CREATE TABLE {_q(p.name)} ({', '.join(parts)})")
            # Rows as SQL literals, a batch per INSERT: DuckDB's executemany runs one statement per row
            # and binding thousands of parameters is slower than parsing the literals.
            for chunk in _rows(path, p, batch=1000):
                values = ", ".join("(" + ", ".join(map(_duckdb_literal, row)) + ")" for row in chunk)
                conn.execute(f"INSERT INTO {_q(p.name)} VALUES {values}")
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    return f"duckdb:///{target.resolve()}"


def _duckdb_literal(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | decimal.Decimal):
        return str(v)
    if isinstance(v, float):
        return repr(v) if v == v and abs(v) != float("inf") else f"'{v}'::DOUBLE"
    if isinstance(v, bytes):
        return f"from_hex('{v.hex()}')"
    if isinstance(v, dt.datetime):
        return f"TIMESTAMP '{v.isoformat(sep=' ')}'"
    if isinstance(v, dt.date):
        return f"DATE '{v.isoformat()}'"
    if isinstance(v, dt.time):
        return f"TIME '{v.isoformat()}'"
    return "'" + str(v).replace("'", "''") + "'"


def _is_unique(conn: sqlite3.Connection, table: str, cols: list[str]) -> bool:
    if not cols:
        return False
    c = ", ".join(map(_q, cols))
    nonnull = " AND ".join(f"{_q(x)} IS NOT NULL" for x in cols)
    (nulls,) = conn.execute(f"SELECT count(*) FROM {_q(table)} WHERE NOT ({nonnull})").fetchone()
    if nulls:
        return False
    dup = conn.execute(f"SELECT 1 FROM {_q(table)} GROUP BY {c} HAVING count(*) > 1 LIMIT 1").fetchone()
    return dup is None


def _fk_holds(
    conn: sqlite3.Connection, p: _TablePlan, cols: list[str], ref: _TablePlan, rcols: list[str]
) -> bool:
    src_cols = {c.name: c.source for c in p.columns}
    ref_cols = {c.name: c.source for c in ref.columns}
    join = " AND ".join(
        f"r.{_q(ref_cols[rc])} = t.{_q(src_cols[c])}" for c, rc in zip(cols, rcols, strict=True)
    )
    nonnull = " AND ".join(f"t.{_q(src_cols[c])} IS NOT NULL" for c in cols)
    orphan = conn.execute(
        f"SELECT 1 FROM {_q(p.source.name)} t WHERE {nonnull} AND NOT EXISTS "
        f"(SELECT 1 FROM {_q(ref.source.name)} r WHERE {join}) LIMIT 1"
    ).fetchone()
    return orphan is None
