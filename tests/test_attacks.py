"""The attack corpus (``attack_corpus.py``) run through one Executor batch per engine.

For every engine: each hostile statement gets an acceptable status (never ``ok`` for one that would
change state), each finishes within a time bound, the database is unchanged afterwards (file bytes
and connector checksum for files; connector checksum and an admin's view of the catalog, roles,
settings and sequences for servers), and no file an attack aimed to write exists. A control group
of plain SELECTs must return ``ok`` so that a broken engine cannot pass.

The batch runs twice on the same Executor: the second pass replays everything but the bombs on
connections that the first pass may have tampered with (session settings, roles, search paths).
The ``-superuser``/``-root`` variants connect as the server's administrator: the Executor must stay
read-only even when handed such a URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from attack_corpus import ATTACKS, CONTROLS, Attack, counts, distinct_sql
from servers import copy_sqlite_into, copy_sqlite_to_duckdb
from sqlfoundry.db.connectors import connector_for
from sqlfoundry.db.executor import Executor, Query
from sqlfoundry.db.outcome import ExecutionOutcome, Limits, OutcomeStatus

TIMEOUT = OutcomeStatus.TIMEOUT

LIMITS = Limits(timeout_s=1.0, max_rows=10_000, max_bytes=16 * 1024 * 1024, memory_mb=256)
GRACE_S = 1.0
#: Generous per-statement bound (CI machines are loaded); the benchmark checks the real limit.
MAX_ELAPSED_S = LIMITS.timeout_s * 3 + 2.0
MARKER = "pwn"  # every object or file an attack would create has this in its name

N_T, N_U = 300, 600


# ------------------------------------------------------------------------------------------------
# The target database, built the same on every engine
# ------------------------------------------------------------------------------------------------


def build_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, note TEXT);
        CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t (id), tag TEXT);
        """
    )
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?)",
        [
            (i, f"name {i}", i * 1.5 if i % 7 else None, "a;b" if i % 10 == 0 else f"note {i}")
            for i in range(1, N_T + 1)
        ],
    )
    conn.executemany(
        "INSERT INTO u VALUES (?, ?, ?)", [(i, i % N_T + 1, f"tag{i % 13}") for i in range(1, N_U + 1)]
    )
    conn.commit()
    conn.close()
    return path


def _add_sqlite_extras(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("CREATE INDEX u_t_id ON u (t_id); CREATE VIEW v AS SELECT id, name FROM t;")
    conn.commit()
    conn.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _connector_checksum(url: str) -> str:
    connector = connector_for(url)
    connector.open()
    try:
        return connector.checksum()
    finally:
        connector.close()


def _pwn_files(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            if MARKER in name.lower():
                found.append(os.path.join(dirpath, name))
    return sorted(found)


def _pwn_names(folder: Path) -> list[str]:
    """Entries of ``folder`` itself (where relative paths such as 'pwn_relative_copy.csv' land)."""
    return sorted(str(p) for p in folder.iterdir() if MARKER in p.name.lower())


@dataclass
class Target:
    engine: str  # sqlite / duckdb / postgres / mysql
    url: str
    placeholders: dict[str, str]
    snapshot: Callable[[], dict[str, Any]]
    #: directories where no file named like an attack's target may appear
    watched: list[Path] = field(default_factory=list)


def _file_snapshot(path: Path, url: str) -> Callable[[], dict[str, Any]]:
    def snap() -> dict[str, Any]:
        st = path.stat()
        return {
            "sha256": _sha256(path),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "directory": sorted(os.listdir(path.parent)),
            "checksum": _connector_checksum(url),
        }

    return snap


_PG_ADMIN_QUERIES = {
    "roles": "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls "
    "FROM pg_roles ORDER BY 1",
    "role_settings": "SELECT setrole::regrole::text, setdatabase, setconfig::text FROM pg_db_role_setting ORDER BY 1, 2",
    "databases": "SELECT datname, datallowconn, datconnlimit, datacl::text FROM pg_database ORDER BY 1",
    "relations": "SELECT n.nspname, c.relname, c.relkind, c.relacl::text, c.relrowsecurity FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1, 2",
    "namespaces": "SELECT nspname, nspacl::text FROM pg_namespace ORDER BY 1",
    "functions": "SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
    "types": "SELECT n.nspname, t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1, 2",
    "extensions": "SELECT extname, extversion FROM pg_extension ORDER BY 1",
    "large_objects": "SELECT count(*) FROM pg_largeobject_metadata",
    "sequence": "SELECT last_value, is_called FROM s_seq",
    "auto_conf": "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%auto.conf' ORDER BY 1",
    "prepared_xacts": "SELECT gid FROM pg_prepared_xacts ORDER BY 1",
    "replication_slots": "SELECT slot_name FROM pg_replication_slots ORDER BY 1",
    "policies": "SELECT polname FROM pg_policy ORDER BY 1",
    "rules": "SELECT rulename FROM pg_rules WHERE schemaname NOT IN ('pg_catalog') ORDER BY 1",
    "triggers": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1",
    "event_triggers": "SELECT evtname FROM pg_event_trigger ORDER BY 1",
    "tablespaces": "SELECT spcname FROM pg_tablespace ORDER BY 1",
    "servers": "SELECT srvname FROM pg_foreign_server ORDER BY 1",
    "publications": "SELECT pubname FROM pg_publication ORDER BY 1",
    "comments": "SELECT objoid::regclass::text, objsubid, description FROM pg_description d "
    "JOIN pg_class c ON c.oid = d.objoid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' ORDER BY 1, 2",
    "grants": "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants "
    "WHERE table_schema = 'public' ORDER BY 1, 2, 3",
    "settings": "SELECT name, setting FROM pg_settings WHERE name IN ('default_transaction_read_only', "
    "'statement_timeout', 'work_mem', 'search_path') ORDER BY 1",
}

_MYSQL_ADMIN_QUERIES = {
    "users": "SELECT User, Host, Priv FROM mysql.global_priv ORDER BY 1, 2",
    "db_grants": "SELECT Host, Db, User FROM mysql.db ORDER BY 1, 2, 3",
    "table_grants": "SELECT Host, Db, User, Table_name, Table_priv FROM mysql.tables_priv ORDER BY 1, 2, 3, 4",
    "roles": "SELECT Host, User, Role FROM mysql.roles_mapping ORDER BY 1, 2, 3",
    "databases": "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
    "FROM information_schema.SCHEMATA ORDER BY 1",
    "tables": "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COMMENT FROM information_schema.TABLES "
    "WHERE TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema', 'mysql', 'sys') ORDER BY 1, 2",
    "columns": "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
    "WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1, 2",
    "indexes": "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
    "WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1, 2, 3",
    "routines": "SELECT ROUTINE_SCHEMA, ROUTINE_NAME FROM information_schema.ROUTINES ORDER BY 1, 2",
    "triggers": "SELECT TRIGGER_SCHEMA, TRIGGER_NAME FROM information_schema.TRIGGERS ORDER BY 1, 2",
    "events": "SELECT EVENT_SCHEMA, EVENT_NAME FROM information_schema.EVENTS ORDER BY 1, 2",
    "plugins": "SELECT PLUGIN_NAME, PLUGIN_STATUS FROM information_schema.PLUGINS ORDER BY 1",
    "udfs": "SELECT name FROM mysql.func ORDER BY 1",
    "checksums": "CHECKSUM TABLE t, u EXTENDED",
    "sequence": "SELECT next_not_cached_value FROM s_seq",
    "globals": "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME IN "
    "('READ_ONLY', 'MAX_CONNECTIONS', 'MAX_STATEMENT_TIME', 'SQL_MODE', 'GENERAL_LOG', 'SECURE_FILE_PRIV', "
    "'EVENT_SCHEDULER', 'GROUP_CONCAT_MAX_LEN', 'LOCAL_INFILE') ORDER BY 1",
}


def _pg_admin_snapshot(admin_url: str) -> dict[str, Any]:
    import psycopg

    out: dict[str, Any] = {}
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        for name, sql in _PG_ADMIN_QUERIES.items():
            out[name] = conn.execute(sql).fetchall()
    return out


def _mysql_admin_snapshot(admin_url: str) -> dict[str, Any]:
    import pymysql

    from sqlfoundry.db.url import parse_url

    u = parse_url(admin_url)
    conn = pymysql.connect(
        host=u.host, port=u.port, user=u.user, password=u.password or "", database=u.database, autocommit=True
    )
    out: dict[str, Any] = {}
    try:
        with conn.cursor() as cur:
            for name, sql in _MYSQL_ADMIN_QUERIES.items():
                cur.execute(sql)
                out[name] = list(cur.fetchall())
            # Locks an attack might have left behind (FLUSH TABLES WITH READ LOCK, GET_LOCK).
            cur.execute(
                "SELECT IS_FREE_LOCK('pwn_lock'), IS_FREE_LOCK('pwn_lock2'), IS_FREE_LOCK('pwn_lock3')"
            )
            out["user_locks"] = cur.fetchall()
    finally:
        conn.close()
    return out


def _server_target(
    engine: str, running: Any, server_url: str, sqlite_path: Path, drop: Path, as_admin: bool
) -> Target:
    import psycopg
    import pymysql

    dbname = "sqlfoundry_attacks"
    copied = copy_sqlite_into(sqlite_path, server_url, dbname)
    if engine == "postgres":
        with psycopg.connect(copied.admin_url, autocommit=True) as conn:
            conn.execute("CREATE INDEX u_t_id ON u (t_id)")
            conn.execute("CREATE VIEW v AS SELECT id, name FROM t")
            conn.execute("CREATE SEQUENCE s_seq")
            conn.execute("GRANT SELECT ON v, s_seq TO sqlfoundry_ro")
        admin_snapshot = _pg_admin_snapshot
    else:
        from sqlfoundry.db.url import parse_url

        u = parse_url(copied.admin_url)
        conn = pymysql.connect(
            host=u.host, port=u.port, user=u.user, password=u.password or "", database=dbname
        )
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE INDEX u_t_id ON u (t_id)")
                cur.execute("CREATE VIEW v AS SELECT id, name FROM t")
                cur.execute("CREATE SEQUENCE s_seq")
            conn.commit()
        finally:
            conn.close()
        admin_snapshot = _mysql_admin_snapshot
    url = copied.admin_url if as_admin else copied.url

    def snap() -> dict[str, Any]:
        return {
            "checksum": _connector_checksum(copied.url),
            "admin": admin_snapshot(copied.admin_url),
            "server_files": _pwn_files(running.workdir),
        }

    return Target(engine, url, {"@TMP@": str(drop), "@DB@": dbname}, snap, [running.workdir])


VARIANTS = {
    "sqlite": ("sqlite", False),
    "duckdb": ("duckdb", False),
    "postgres": ("postgres", False),
    "postgres-superuser": ("postgres", True),
    "mysql": ("mysql", False),
    "mysql-root": ("mysql", True),
}


@pytest.fixture
def drop_dir():
    """An empty directory every server process may write to: attacks aim their files here."""
    path = Path(tempfile.mkdtemp(prefix="sqlfoundry-attack-drop-"))
    os.chmod(path, 0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _target(variant: str, request: pytest.FixtureRequest, tmp_path: Path, drop: Path) -> Target:
    engine, as_admin = VARIANTS[variant]
    (tmp_path / "source").mkdir()
    source = build_sqlite(tmp_path / "source" / "attacks.sqlite")
    if engine == "sqlite":
        db_dir = tmp_path / "sqlite"
        db_dir.mkdir()
        path = build_sqlite(db_dir / "attacks.sqlite")
        _add_sqlite_extras(path)
        url = f"sqlite:///{path}"
        return Target(
            "sqlite", url, {"@TMP@": str(drop), "@DB@": "main"}, _file_snapshot(path, url), [db_dir]
        )
    if engine == "duckdb":
        db_dir = tmp_path / "duckdb"
        db_dir.mkdir()
        path = db_dir / "attacks.duckdb"
        copy_sqlite_to_duckdb(source, path)
        conn = duckdb.connect(str(path))
        conn.execute("CREATE INDEX u_t_id ON u (t_id)")
        conn.execute("CREATE VIEW v AS SELECT id, name FROM t")
        conn.execute("CREATE SEQUENCE s_seq")
        conn.execute("CHECKPOINT")
        conn.close()
        url = f"duckdb:///{path}"
        return Target(
            "duckdb", url, {"@TMP@": str(drop), "@DB@": "main"}, _file_snapshot(path, url), [db_dir]
        )
    running = request.getfixturevalue("pg_running" if engine == "postgres" else "mysql_running")
    server_url = request.getfixturevalue("pg_server" if engine == "postgres" else "mysql_server")
    return _server_target(engine, running, server_url, source, drop, as_admin)


def _fill(sql: str, placeholders: dict[str, str]) -> str:
    for key, value in placeholders.items():
        sql = sql.replace(key, value)
    return sql


def _judge(attack: Attack, outcome: ExecutionOutcome) -> str | None:
    """Why ``outcome`` is unacceptable for ``attack``, or None."""
    problems = []
    if outcome.status not in attack.expect:
        problems.append(
            f"status {outcome.status.value} not in {{{', '.join(sorted(s.value for s in attack.expect))}}}"
        )
    if outcome.elapsed_ms > MAX_ELAPSED_S * 1000:
        problems.append(f"took {outcome.elapsed_ms / 1000:.2f}s > {MAX_ELAPSED_S:.1f}s")
    if not problems:
        return None
    return f"{attack.id} [{attack.kind}] {'; '.join(problems)} -- {outcome.message[:160]!r}"


def _diff(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if isinstance(b, dict) and isinstance(a, dict):
            out.extend(_diff(b, a, f"{prefix}{key}."))
        elif b != a:
            out.append(f"{prefix}{key}: before={str(b)[:300]} after={str(a)[:300]}")
    return out


def _write_report(variant, summary, attacks, outcomes, replay_idx, replayed) -> None:
    """With SQLFOUNDRY_ATTACK_REPORT=DIR, write every outcome to DIR/<variant>.json for review."""
    folder = os.environ.get("SQLFOUNDRY_ATTACK_REPORT")
    if not folder:
        return
    second = dict(zip(replay_idx, replayed, strict=False))
    rows = []
    for i, (a, o) in enumerate(zip(attacks, outcomes, strict=False)):
        row = {"id": a.id, "kind": a.kind, "sql": a.sql, "status": o.status.value, "ms": round(o.elapsed_ms, 1),
               "message": o.message[:300]}  # fmt: skip
        if i in second:
            row["replay_status"] = second[i].status.value
        rows.append(row)
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / f"{variant}.json").write_text(
        json.dumps({"summary": summary, "outcomes": rows}, indent=1)
    )


# ------------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------------


def test_corpus_is_large_and_well_formed():
    assert len(distinct_sql()) >= 150, len(distinct_sql())
    per_engine = counts()["engine"]
    for engine in ("sqlite", "duckdb", "postgres", "mysql"):
        assert per_engine[engine] >= 100, (engine, per_engine[engine])
    kinds = counts()["kind"]
    for kind in ("write", "ddl", "attach", "pragma", "extension", "vacuum", "bomb_time", "bomb_memory", "multi",
                 "comment", "unicode", "file", "admin", "transaction", "session"):  # fmt: skip
        assert kinds[kind] >= 5, (kind, kinds[kind])


_PARAMS = [
    pytest.param(v, marks=[pytest.mark.servers] if VARIANTS[v][0] in ("postgres", "mysql") else [], id=v)
    for v in VARIANTS
]


def _warm_up(ex: Executor, url: str) -> None:
    """Start every worker and open its connection under a generous limit, so that starting a worker
    (imports, connecting) is never part of an attack's measured time."""
    ex.run_batch([Query(url, f"SELECT {i} AS warm", LIMITS._replace(timeout_s=120.0)) for i in range(4)])


@pytest.mark.parametrize("variant", _PARAMS)
def test_attack_corpus(variant: str, request: pytest.FixtureRequest, tmp_path: Path, drop_dir: Path):
    target = _target(variant, request, tmp_path, drop_dir)
    engine, as_admin = VARIANTS[variant]
    applicable = [a for a in ATTACKS if a.applies_to(engine)]
    # Through an administrator's URL only privileges differ: the bombs, bounded the same way, run once.
    # Bombs go last, so that a worker killed at a bomb's deadline is replaced behind the other attacks.
    attacks = [a for a in applicable if not a.kind.startswith("bomb")]
    if not as_admin:
        attacks += [a for a in applicable if a.kind.startswith("bomb")]
    controls = [(cid, sql) for cid, sql, engines in CONTROLS if engine in engines]
    # The Executor runs statements that differ only in whitespace once per batch; a row cap that
    # differs by one per statement keeps every variant's own execution.
    attack_queries = [
        Query(
            target.url,
            _fill(a.sql, target.placeholders),
            LIMITS._replace(max_rows=LIMITS.max_rows + i),
            False,
        )
        for i, a in enumerate(attacks)
    ]
    control_queries = [Query(target.url, sql, LIMITS) for _, sql in controls]
    n_plain = sum(not a.kind.startswith("bomb") for a in attacks)
    replay_idx = [i for i, a in enumerate(attacks) if TIMEOUT not in a.expect]
    cwd_before = _pwn_names(Path.cwd())

    before = target.snapshot()
    with Executor(workers=2, limits=LIMITS, cache=False, grace_s=GRACE_S) as ex:
        _warm_up(ex, target.url)
        started = time.monotonic()
        batch = ex.run_batch(attack_queries[:n_plain] + control_queries + attack_queries[n_plain:])
        first_pass_s = time.monotonic() - started
        outcomes = batch[:n_plain] + batch[n_plain + len(controls) :]
        control_outcomes = [
            ("pass 1", cid, o) for (cid, _), o in zip(controls, batch[n_plain:], strict=False)
        ]
        # Replay what is not a bomb on the sessions the first pass may have tampered with.
        _warm_up(ex, target.url)
        replayed = ex.run_batch([attack_queries[i] for i in replay_idx] + control_queries)
        control_outcomes += [
            ("pass 2", cid, o) for (cid, _), o in zip(controls, replayed[len(replay_idx) :], strict=True)
        ]
        stats = dict(ex.stats)
    after = target.snapshot()

    failures: list[str] = []
    expected_failures: list[str] = []
    for label, pairs in (
        ("pass 1", list(zip(attacks, outcomes, strict=True))),
        ("pass 2", list(zip([attacks[i] for i in replay_idx], replayed[: len(replay_idx)], strict=True))),
    ):
        for attack, outcome in pairs:
            problem = _judge(attack, outcome)
            if problem is not None:
                (expected_failures if attack.xfail_for(variant) else failures).append(f"{label}: {problem}")
    for label, cid, outcome in control_outcomes:
        if outcome.status is not OutcomeStatus.OK:
            failures.append(
                f"{label}: control {cid} returned {outcome.status.value}: {outcome.message[:160]}"
            )

    changed = _diff(before, after)
    leftovers = sorted(str(p) for p in drop_dir.iterdir())
    leftovers += sorted(set(_pwn_names(Path.cwd())) - set(cwd_before))
    for watched in target.watched:
        leftovers += _pwn_files(watched)
    # A file written by an attack already known to get through (xfail) is that attack's failure.
    known = [
        f for f in leftovers
        if any(Path(f).name in a.sql and a.xfail_for(variant) for a in attacks)
        and not any(Path(f).name in a.sql and not a.xfail_for(variant) for a in attacks)
    ]  # fmt: skip
    leftovers = [f for f in leftovers if f not in known]
    expected_failures += [f"left file {f}" for f in known]
    summary = (
        f"{variant}: {len(attacks)} attacks + {len(controls)} controls in {first_pass_s:.1f}s "
        f"(replayed {len(replay_idx)}), executor stats {stats}"
    )
    print(summary)
    _write_report(variant, summary, attacks, outcomes, replay_idx, replayed)
    assert not failures, f"{summary}\n{len(failures)} unacceptable outcomes:\n" + "\n".join(failures)
    assert not changed, f"{variant}: the database changed:\n" + "\n".join(changed)
    assert not leftovers, f"{variant}: attacks left files behind: {leftovers}"
    # A whole pass must stay within the bombs' bounds too (generously: CI machines are loaded).
    n_bombs = len(attacks) - n_plain
    assert first_pass_s < n_bombs * (LIMITS.timeout_s + GRACE_S) + 30, summary
    unexpected_passes = [
        a.id
        for a in attacks
        if a.xfail_for(variant) and not any(f" {a.id} [" in f" {line}" for line in expected_failures)
    ]
    assert not unexpected_passes, (
        f"{variant}: marked xfail but now blocked, drop the mark: {unexpected_passes}"
    )
    if expected_failures:
        pytest.xfail(f"{len(expected_failures)} known unblocked attacks:\n" + "\n".join(expected_failures))
