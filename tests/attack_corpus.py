"""The attack corpus: hostile statements that must never change a database nor run unbounded.

Each :class:`Attack` names the engines it applies to and the outcome statuses that are acceptable.
Statements that would change state never list ``ok``; bombs list only bounded outcomes. Every
object or file an attack would create has ``pwn`` in its name, so the test can look for traces.

Placeholders filled in by the test: ``@TMP@`` an empty world-writable directory (targets of
``VACUUM INTO``, ``COPY TO``, ``INTO OUTFILE`` ...), ``@DB@`` the database's name on a server.
The fixture database holds tables ``t(id, name, score, note)`` (300 rows) and
``u(id, t_id, tag)`` (600 rows), a view ``v``, an index ``u_t_id`` and (except on SQLite) a
sequence ``s_seq``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlfoundry.db.outcome import OutcomeStatus

OK = OutcomeStatus.OK
DENIED = OutcomeStatus.DENIED
SYNTAX = OutcomeStatus.SYNTAX_ERROR
RUNTIME = OutcomeStatus.RUNTIME_ERROR
TIMEOUT = OutcomeStatus.TIMEOUT
TOO_LARGE = OutcomeStatus.TOO_LARGE

ENGINES = frozenset({"sqlite", "duckdb", "postgres", "mysql"})

#: Refused before or by the engine: what every state-changing statement must get.
REFUSED = frozenset({DENIED, SYNTAX, RUNTIME})
#: Refused, or run harmlessly: for statements whose hostile part is inert on the engine (a real
#: comment, a string literal). The checksums prove nothing changed either way.
INERT = REFUSED | {OK}
#: Stopped by a bound: what every bomb must get (an error for another reason would test nothing).
BOUNDED = frozenset({TIMEOUT, TOO_LARGE})
#: A bomb wrapped in a construct the screen refuses (DO, optimizer hints, a second statement).
BOUNDED_OR_DENIED = BOUNDED | {DENIED}
#: A bomb whose engine caps the result itself (MariaDB returns NULL or an error past
#: max_allowed_packet, truncates GROUP_CONCAT at group_concat_max_len, stops recursion after
#: max_recursive_iterations): ``ok`` then means "capped"; the time bound is still checked.
CAPPED = BOUNDED | {OK, RUNTIME}


@dataclass(frozen=True)
class Attack:
    """One hostile statement.

    ``expect`` is the set of acceptable statuses; ``xfail_reason`` marks (temporarily) an attack the
    current code does not stop, as ``(variant, reason)`` pairs (variants: the engines plus
    ``postgres-superuser`` and ``mysql-root``, the same engines reached through an administrator URL).
    """

    id: str
    sql: str
    kind: str
    engines: frozenset[str] = ENGINES
    expect: frozenset[OutcomeStatus] = REFUSED
    xfail_reason: tuple[tuple[str, str], ...] = ()

    def applies_to(self, engine: str) -> bool:
        return engine in self.engines

    def xfail_for(self, engine: str) -> str | None:
        return dict(self.xfail_reason).get(engine)

    @property
    def modifies(self) -> bool:
        """Whether this attack's statement would change state if it ran as written."""
        return OK not in self.expect


ATTACKS: list[Attack] = []


def _e(*names: str) -> frozenset[str]:
    unknown = set(names) - ENGINES
    assert not unknown, unknown
    return frozenset(names)


SQLITE, DUCKDB, POSTGRES, MYSQL = _e("sqlite"), _e("duckdb"), _e("postgres"), _e("mysql")
FILES = _e("sqlite", "duckdb")
SERVERS = _e("postgres", "mysql")
NOT_MYSQL = ENGINES - MYSQL
NOT_SQLITE = ENGINES - SQLITE


def add(id: str, sql: str, kind: str, engines: frozenset[str] = ENGINES, expect=REFUSED, xfail=()) -> None:
    ATTACKS.append(Attack(id, sql, kind, frozenset(engines), frozenset(expect), tuple(xfail)))


# ------------------------------------------------------------------------------------------------
# Writes of every kind
# ------------------------------------------------------------------------------------------------
K = "write"
add("insert-values", "INSERT INTO t (id, name) VALUES (100000, 'pwned')", K)
add("insert-values-all-columns", "INSERT INTO t VALUES (100001, 'pwned', 1.0, 'pwn')", K)
add("insert-select", "INSERT INTO t SELECT id + 100000, name, score, note FROM t", K)
add("insert-into-u", "INSERT INTO u (id, t_id, tag) SELECT id + 5000, id, 'pwn' FROM t", K)
add("insert-default-values", "INSERT INTO t DEFAULT VALUES", K)
add("insert-where-not-exists",
    "INSERT INTO t (id, name) SELECT 100002, 'pwned' WHERE NOT EXISTS (SELECT 1 FROM t WHERE id = 100002)", K)  # fmt: skip
add("update-all", "UPDATE t SET name = 'pwned'", K)
add("update-some", "UPDATE t SET score = score * 2 WHERE id < 10", K)
add("update-primary-key", "UPDATE t SET id = id + 1000", K)
add("update-subquery", "UPDATE t SET note = (SELECT max(tag) FROM u) WHERE id = 1", K)
add("update-from", "UPDATE t SET name = 'pwned' FROM u WHERE u.t_id = t.id", K, NOT_MYSQL)
add("update-join", "UPDATE t JOIN u ON u.t_id = t.id SET t.name = 'pwned'", K, MYSQL)
add("delete-all", "DELETE FROM t", K)
add("delete-one", "DELETE FROM t WHERE id = 1", K)
add("delete-subquery", "DELETE FROM u WHERE t_id IN (SELECT id FROM t WHERE id < 50)", K)
add("delete-returning", "DELETE FROM t RETURNING *", K, NOT_MYSQL)
add("delete-join", "DELETE t FROM t JOIN u ON u.t_id = t.id", K, MYSQL)
add("delete-order-limit", "DELETE FROM t ORDER BY id LIMIT 1", K, _e("sqlite", "mysql"))
add("insert-or-replace", "INSERT OR REPLACE INTO t (id, name) VALUES (1, 'pwned')", K, _e("sqlite", "duckdb"))
add(
    "insert-or-ignore",
    "INSERT OR IGNORE INTO t (id, name) VALUES (100003, 'pwned')",
    K,
    _e("sqlite", "duckdb"),
)
add("insert-ignore", "INSERT IGNORE INTO t (id, name) VALUES (100004, 'pwned')", K, MYSQL)
add("replace-into", "REPLACE INTO t (id, name) VALUES (1, 'pwned')", K, _e("sqlite", "mysql"))
add(
    "upsert-do-update",
    "INSERT INTO t (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = 'pwned'",
    K,
    NOT_MYSQL,
)
add("upsert-do-nothing", "INSERT INTO t (id, name) VALUES (100005, 'x') ON CONFLICT DO NOTHING", K, NOT_MYSQL)
add(
    "upsert-duplicate-key",
    "INSERT INTO t (id, name) VALUES (1, 'x') ON DUPLICATE KEY UPDATE name = 'pwned'",
    K,
    MYSQL,
)
add("with-delete", "WITH x AS (SELECT 1) DELETE FROM t", K)
add(
    "with-update",
    "WITH x AS (SELECT id FROM t) UPDATE t SET name = 'pwned' WHERE id IN (SELECT id FROM x)",
    K,
)
add("with-insert", "WITH x AS (SELECT 100006 AS id) INSERT INTO t (id, name) SELECT id, 'pwned' FROM x", K)
add("cte-delete-returning", "WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d", K)
add(
    "cte-insert-returning",
    "WITH i AS (INSERT INTO t (id, name) VALUES (100007, 'pwned') RETURNING id) SELECT * FROM i",
    K,
)
add(
    "cte-update-returning", "WITH up AS (UPDATE t SET name = 'pwned' RETURNING id) SELECT count(*) FROM up", K
)
add(
    "cte-nested-delete",
    "SELECT * FROM (WITH d AS (DELETE FROM u RETURNING id) SELECT id FROM d) AS s",
    K,
    POSTGRES,
)
add("merge", "MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN UPDATE SET name = 'pwned'", K, NOT_MYSQL)
add("merge-insert",
    "MERGE INTO t USING (SELECT 100008 AS id) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, 'pwned')",
    K, NOT_MYSQL)  # fmt: skip
add("truncate", "TRUNCATE TABLE t", K)
add("truncate-short", "TRUNCATE u", K)
add("truncate-cascade", "TRUNCATE t CASCADE", K, POSTGRES)
add("delete-schema-qualified", "DELETE FROM main.t", K, FILES)
add("delete-public", "DELETE FROM public.t", K, POSTGRES)
add("delete-db-qualified", "DELETE FROM @DB@.t", K, MYSQL)
add("select-into-table", "SELECT * INTO pwn_copy FROM t", K)
add("select-into-temp", "SELECT * INTO TEMP pwn_temp_copy FROM t", K, POSTGRES)
add("select-into-unlogged", "SELECT id INTO UNLOGGED TABLE pwn_unlogged FROM t", K, POSTGRES)
add("select-for-update", "SELECT * FROM t WHERE id = 1 FOR UPDATE", "lock", expect=INERT)
add("select-for-share-nowait", "SELECT * FROM t FOR SHARE NOWAIT", "lock", POSTGRES, expect=INERT)
add("update-sqlite-master", "UPDATE sqlite_master SET sql = 'pwned' WHERE name = 't'", K, SQLITE)
add("delete-sqlite-sequence", "DELETE FROM sqlite_sequence", K, SQLITE)
add("insert-sqlite-stat1", "INSERT INTO sqlite_stat1 VALUES ('t', NULL, '300')", K, SQLITE)
add("update-dbpage", "UPDATE sqlite_dbpage SET data = zeroblob(4096) WHERE pgno = 1", K, SQLITE)
add("insert-returning", "INSERT INTO t (id, name) VALUES (100009, 'pwned') RETURNING id", K, NOT_MYSQL)
add("update-view", "UPDATE v SET name = 'pwned'", K)
add("delete-view", "DELETE FROM v", K)
add("insert-catalog-pg", "INSERT INTO pg_catalog.pg_description VALUES (1, 1, 0, 'pwned')", K, POSTGRES)
add("update-mysql-user", "UPDATE mysql.global_priv SET Priv = '{}' WHERE User = 'pwn'", K, MYSQL)
add("insert-duckdb-temp", "INSERT INTO temp.main.pwn_t VALUES (1)", K, DUCKDB)
add("explain-analyze-delete", "EXPLAIN ANALYZE DELETE FROM t", K)
add("explain-delete", "EXPLAIN DELETE FROM t", K)
add("analyze-delete-mariadb", "ANALYZE DELETE FROM t", K, MYSQL)
add("query-function-delete", "SELECT * FROM query('DELETE FROM t RETURNING *')", K, DUCKDB)
add("query-function-insert", "SELECT * FROM query('INSERT INTO t (id, name) VALUES (100010, ''pwned'') RETURNING id')",
    K, DUCKDB)  # fmt: skip
add("query-to-xml-delete", "SELECT query_to_xml('DELETE FROM t RETURNING id', true, true, '')", K, POSTGRES)
add("ts-stat-delete", "SELECT * FROM ts_stat('DELETE FROM t RETURNING to_tsvector(name)')", K, POSTGRES)
add("prepare-execute-pg", "PREPARE pwn_stmt AS DELETE FROM t", K, POSTGRES)
add("execute-prepared", "EXECUTE pwn_stmt", K, _e("postgres", "mysql"))
add("prepare-from-string", "PREPARE pwn_stmt FROM 'DELETE FROM t'", K, MYSQL)
add("handler-open", "HANDLER t OPEN", K, MYSQL)
add("handler-read", "HANDLER t READ FIRST", K, MYSQL)
add("load-data-infile", "LOAD DATA INFILE '/etc/hostname' INTO TABLE t (name)", K, MYSQL)
add("load-data-local", "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE t (name)", K, MYSQL)
add("load-xml", "LOAD XML INFILE '/etc/hostname' INTO TABLE t", K, MYSQL)
add("copy-from-file", "COPY t FROM '/etc/hostname'", K, _e("duckdb", "postgres"))
add("copy-from-stdin", "COPY t FROM STDIN", K, POSTGRES)
add("copy-from-program", "COPY t (name) FROM PROGRAM 'echo pwned'", K, POSTGRES)
add("import-database", "IMPORT DATABASE '@TMP@'", K, DUCKDB)

# ------------------------------------------------------------------------------------------------
# DDL
# ------------------------------------------------------------------------------------------------
K = "ddl"
add("create-table", "CREATE TABLE pwn_t (x INTEGER)", K)
add("create-table-as", "CREATE TABLE pwn_ctas AS SELECT * FROM t", K)
add("create-table-if-not-exists", "CREATE TABLE IF NOT EXISTS pwn_t3 (x INTEGER)", K)
add("create-or-replace-table", "CREATE OR REPLACE TABLE t AS SELECT 1 AS pwned", K, _e("duckdb", "mysql"))
add("create-table-like", "CREATE TABLE pwn_like LIKE t", K, MYSQL)
add("create-temp-table", "CREATE TEMP TABLE pwn_tmp (x INTEGER)", K)
add("create-temporary-table-as", "CREATE TEMPORARY TABLE pwn_tmp2 AS SELECT * FROM t", K)
add("create-temp-view", "CREATE TEMP VIEW pwn_tv AS SELECT 1 AS x", K, NOT_MYSQL)
add("create-temp-trigger", "CREATE TEMP TRIGGER pwn_tr AFTER INSERT ON t BEGIN DELETE FROM u; END", K, SQLITE)
add("create-trigger", "CREATE TRIGGER pwn_tr2 AFTER UPDATE ON t BEGIN DELETE FROM u; END", K, SQLITE)
add("create-trigger-mysql", "CREATE TRIGGER pwn_tr3 BEFORE DELETE ON t FOR EACH ROW SET @pwn = 1", K, MYSQL)
add("create-virtual-table", "CREATE VIRTUAL TABLE pwn_fts USING fts5(x)", K, SQLITE)
add("create-view", "CREATE VIEW pwn_v AS SELECT * FROM t", K)
add("create-or-replace-view", "CREATE OR REPLACE VIEW v AS SELECT 1 AS pwned", K, NOT_SQLITE)
add("create-materialized-view", "CREATE MATERIALIZED VIEW pwn_mv AS SELECT * FROM t", K, POSTGRES)
add("create-index", "CREATE INDEX pwn_idx ON t (name)", K)
add("create-unique-index", "CREATE UNIQUE INDEX pwn_uidx ON t (id, name)", K)
add("create-index-concurrently", "CREATE INDEX CONCURRENTLY pwn_cidx ON t (name)", K, POSTGRES)
add("drop-table", "DROP TABLE t", K)
add("drop-table-if-exists", "DROP TABLE IF EXISTS u", K)
add("drop-table-cascade", "DROP TABLE t CASCADE", K, _e("duckdb", "postgres"))
add("drop-view", "DROP VIEW v", K)
add("drop-index", "DROP INDEX u_t_id", K, NOT_MYSQL)
add("drop-index-on", "DROP INDEX u_t_id ON u", K, MYSQL)
add("drop-index-concurrently", "DROP INDEX CONCURRENTLY u_t_id", K, POSTGRES)
add("drop-sequence", "DROP SEQUENCE s_seq", K, NOT_SQLITE)
add("alter-add-column", "ALTER TABLE t ADD COLUMN pwn INTEGER", K)
add("alter-rename-table", "ALTER TABLE t RENAME TO pwn_renamed", K)
add("alter-drop-column", "ALTER TABLE t DROP COLUMN note", K)
add("alter-rename-column", "ALTER TABLE t RENAME COLUMN name TO pwn_name", K)
add("alter-column-type", "ALTER TABLE t ALTER COLUMN score TYPE TEXT", K, _e("duckdb", "postgres"))
add("alter-modify-column", "ALTER TABLE t MODIFY score TEXT", K, MYSQL)
add("alter-table-comment", "ALTER TABLE t COMMENT = 'pwned'", K, MYSQL)
add("alter-engine", "ALTER TABLE t ENGINE = MyISAM", K, MYSQL)
add("alter-enable-rls", "ALTER TABLE t ENABLE ROW LEVEL SECURITY", K, POSTGRES)
add("alter-owner", "ALTER TABLE t OWNER TO sqlfoundry_ro", K, POSTGRES)
add("alter-sequence", "ALTER SEQUENCE s_seq RESTART WITH 1000", K, NOT_SQLITE)
add("alter-view", "ALTER VIEW v RENAME TO pwn_v2", K, NOT_SQLITE)
add("rename-table", "RENAME TABLE t TO pwn_renamed2", K, MYSQL)
add("create-schema", "CREATE SCHEMA pwn_schema", K, NOT_SQLITE)
add("drop-schema-public", "DROP SCHEMA public CASCADE", K, POSTGRES)
add("drop-schema-main", "DROP SCHEMA main CASCADE", K, DUCKDB)
add("create-database", "CREATE DATABASE pwn_db", K, SERVERS)
add("drop-database", "DROP DATABASE @DB@", K, SERVERS)
add("drop-database-if-exists", "DROP DATABASE IF EXISTS pwn_nonexistent_db", K, SERVERS)
add("alter-database", "ALTER DATABASE @DB@ SET default_transaction_read_only = off", K, POSTGRES)
add("alter-database-charset", "ALTER DATABASE @DB@ CHARACTER SET latin1", K, MYSQL)
add("create-sequence", "CREATE SEQUENCE pwn_seq", K)
add("create-type", "CREATE TYPE pwn_type AS ENUM ('a', 'b')", K, _e("duckdb", "postgres"))
add("create-domain", "CREATE DOMAIN pwn_domain AS integer CHECK (VALUE > 0)", K, POSTGRES)
add("create-function-sql", "CREATE FUNCTION pwn_f() RETURNS integer LANGUAGE sql AS 'SELECT 1'", K, POSTGRES)
add(
    "create-function-shadow",
    "CREATE OR REPLACE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT 'pwned' $$",
    K,
    POSTGRES,
)
add("create-function-mysql", "CREATE FUNCTION pwn_f() RETURNS INT DETERMINISTIC RETURN 1", K, MYSQL)
add("create-procedure-pg", "CREATE PROCEDURE pwn_p() LANGUAGE sql AS $$ DELETE FROM t $$", K, POSTGRES)
add("create-procedure-mysql", "CREATE PROCEDURE pwn_p() DELETE FROM t", K, MYSQL)
add("create-event", "CREATE EVENT pwn_e ON SCHEDULE EVERY 1 SECOND DO DELETE FROM t", K, MYSQL)
add("create-rule", "CREATE RULE pwn_r AS ON INSERT TO t DO INSTEAD NOTHING", K, POSTGRES)
add("create-policy", "CREATE POLICY pwn_pol ON t USING (false)", K, POSTGRES)
add(
    "create-event-trigger",
    "CREATE EVENT TRIGGER pwn_et ON ddl_command_start EXECUTE FUNCTION pg_catalog.now()",
    K,
    POSTGRES,
)
add("create-macro", "CREATE MACRO pwn_m(a) AS a + 1", K, DUCKDB)
add("create-temp-macro", "CREATE TEMP MACRO pwn_m2(a) AS a", K, DUCKDB)
add("create-table-macro", "CREATE MACRO pwn_tm() AS TABLE SELECT * FROM t", K, DUCKDB)
add("create-secret", "CREATE SECRET pwn_secret (TYPE S3, KEY_ID 'pwn', SECRET 'pwn')", K, DUCKDB)
add(
    "create-persistent-secret",
    "CREATE PERSISTENT SECRET pwn_psecret (TYPE S3, KEY_ID 'pwn', SECRET 'pwn')",
    K,
    DUCKDB,
)
add("drop-macro", "DROP MACRO IF EXISTS pwn_m", K, DUCKDB)
add("comment-on-table", "COMMENT ON TABLE t IS 'pwned'", K, _e("duckdb", "postgres"))
add("comment-on-column", "COMMENT ON COLUMN t.name IS 'pwned'", K, _e("duckdb", "postgres"))
add("security-label", "SECURITY LABEL ON TABLE t IS 'pwned'", K, POSTGRES)
add("create-role", "CREATE ROLE pwn_role SUPERUSER LOGIN", K, POSTGRES)
add("create-user-pg", "CREATE USER pwn_user WITH PASSWORD 'pwn'", K, POSTGRES)
add("create-user-mysql", "CREATE USER 'pwn_user'@'%' IDENTIFIED BY 'pwn'", K, MYSQL)
add("create-role-mysql", "CREATE ROLE pwn_role", K, MYSQL)
add("alter-role-self", "ALTER ROLE CURRENT_USER SET default_transaction_read_only = off", K, POSTGRES)
add("alter-role-superuser", "ALTER ROLE CURRENT_USER SUPERUSER", K, POSTGRES)
add("alter-user-password-mysql", "ALTER USER CURRENT_USER() IDENTIFIED BY 'pwned'", K, MYSQL)
add("set-password-mysql", "SET PASSWORD = PASSWORD('pwned')", K, MYSQL)
add("grant-pg", "GRANT ALL ON t TO PUBLIC", K, POSTGRES)
add("grant-schema-pg", "GRANT CREATE ON SCHEMA public TO PUBLIC", K, POSTGRES)
add("grant-mysql", "GRANT ALL PRIVILEGES ON *.* TO 'pwn_user'@'%'", K, MYSQL)
add("revoke-pg", "REVOKE SELECT ON t FROM PUBLIC", K, POSTGRES)
add("revoke-mysql", "REVOKE SELECT ON @DB@.* FROM 'sqlfoundry_ro'@'%'", K, MYSQL)
add("drop-owned", "DROP OWNED BY CURRENT_USER", K, POSTGRES)
add("reassign-owned", "REASSIGN OWNED BY CURRENT_USER TO postgres", K, POSTGRES)
add("drop-role-if-exists", "DROP ROLE IF EXISTS pwn_nobody", K, SERVERS)
add("drop-user-if-exists", "DROP USER IF EXISTS pwn_nobody", K, SERVERS)
add("alter-system", "ALTER SYSTEM SET work_mem = '1GB'", K, POSTGRES)
add("alter-system-read-only", "ALTER SYSTEM SET default_transaction_read_only = off", K, POSTGRES)
add("create-tablespace", "CREATE TABLESPACE pwn_ts LOCATION '@TMP@'", K, POSTGRES)
add("create-server", "CREATE SERVER pwn_srv FOREIGN DATA WRAPPER postgres_fdw", K, POSTGRES)
add("create-publication", "CREATE PUBLICATION pwn_pub FOR ALL TABLES", K, POSTGRES)
add("create-table-partition", "CREATE TABLE pwn_part PARTITION OF t FOR VALUES FROM (1) TO (2)", K, POSTGRES)

# ------------------------------------------------------------------------------------------------
# Transaction control and session state
# ------------------------------------------------------------------------------------------------
K = "transaction"
add("begin", "BEGIN", K)
add("begin-transaction", "BEGIN TRANSACTION", K, NOT_MYSQL)
add("begin-immediate", "BEGIN IMMEDIATE", K, SQLITE)
add("begin-exclusive", "BEGIN EXCLUSIVE TRANSACTION", K, SQLITE)
add("commit", "COMMIT", K)
add("rollback", "ROLLBACK", K)
add("end", "END", K, NOT_MYSQL)
add("abort", "ABORT", K, _e("duckdb", "postgres"))
add("savepoint", "SAVEPOINT pwn_sp", K)
add("release-savepoint", "RELEASE SAVEPOINT pwn_sp", K)
add("rollback-to-savepoint", "ROLLBACK TO SAVEPOINT pwn_sp", K)
add("start-read-write", "START TRANSACTION READ WRITE", K, SERVERS)
add("set-transaction-read-write", "SET TRANSACTION READ WRITE", K, SERVERS)
add("set-session-characteristics", "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", K, POSTGRES)
add("set-session-transaction-rw", "SET SESSION TRANSACTION READ WRITE", K, MYSQL)
add("set-tx-read-only-var", "SET @@session.transaction_read_only = 0", K, MYSQL)
add("set-tx-read-only-var2", "SET SESSION tx_read_only = 0", K, MYSQL)
add("set-default-tx-read-only", "SET default_transaction_read_only = off", K, POSTGRES)
add("set-transaction-read-only-off", "SET transaction_read_only = off", K, POSTGRES)
add("commit-and-chain", "COMMIT AND CHAIN", K, SERVERS)
add("prepare-transaction", "PREPARE TRANSACTION 'pwn_xact'", K, POSTGRES)
add("xa-start", "XA START 'pwn_xa'", K, MYSQL)
add("set-autocommit", "SET autocommit = 0", K, MYSQL)
add("lock-table-pg", "LOCK TABLE t IN ACCESS EXCLUSIVE MODE", K, POSTGRES)
add("lock-tables-mysql", "LOCK TABLES t WRITE", K, MYSQL)
add("unlock-tables", "UNLOCK TABLES", K, MYSQL)
add("flush-tables-read-lock", "FLUSH TABLES WITH READ LOCK", K, MYSQL)
# Session-level locks outlive the rolled-back transaction: the connectors deny them.
add("advisory-lock", "SELECT pg_advisory_lock(4242)", "lock", POSTGRES)
add("get-lock", "SELECT GET_LOCK('pwn_lock', 0)", "lock", MYSQL)

K = "session"
add("set-search-path", "SET search_path = pwn_schema, public", K, POSTGRES)
add("set-config-search-path", "SELECT set_config('search_path', 'pwn_schema', false)", K, POSTGRES)
add("set-config-read-only", "SELECT set_config('default_transaction_read_only', 'off', false)", K, POSTGRES)
add("set-config-tx-read-only", "SELECT set_config('transaction_read_only', 'off', true)", K, POSTGRES)
add("set-config-timeout", "SELECT set_config('statement_timeout', '0', false)", K, POSTGRES)
add(
    "set-config-qualified",
    "SELECT pg_catalog.set_config('default_transaction_read_only', 'off', false)",
    K,
    POSTGRES,
)
add(
    "set-config-quoted-name",
    "SELECT \"set_config\"('default_transaction_read_only', 'off', false)",
    K,
    POSTGRES,
)
add(
    "set-config-unicode-escape",
    "SELECT U&\"set_\\0063onfig\"('default_transaction_read_only', 'off', false)",
    K,
    POSTGRES,
)
add(
    "set-config-uescape",
    "SELECT U&\"set_!0063onfig\" UESCAPE '!'('statement_timeout', '0', false)",
    K,
    POSTGRES,
)
add("set-config-in-from", "SELECT * FROM set_config('statement_timeout', '0', false)", K, POSTGRES)
add("set-statement-timeout", "SET statement_timeout = 0", K, POSTGRES)
add("set-local-timeout", "SET LOCAL statement_timeout = 0", K, POSTGRES)
add("set-role", "SET ROLE postgres", K, POSTGRES)
add("set-session-authorization", "SET SESSION AUTHORIZATION postgres", K, POSTGRES)
add("reset-role", "RESET ROLE", K, POSTGRES)
add("reset-all", "RESET ALL", K, _e("duckdb", "postgres"))
add("discard-all", "DISCARD ALL", K, POSTGRES)
add("listen", "LISTEN pwn_channel", K, POSTGRES)
add("notify", "NOTIFY pwn_channel, 'pwned'", K, POSTGRES)
add("pg-notify", "SELECT pg_notify('pwn_channel', 'pwned')", K, POSTGRES)
add("declare-cursor", "DECLARE pwn_cur CURSOR WITH HOLD FOR SELECT * FROM t", K, POSTGRES)
add("set-global-read-only", "SET GLOBAL read_only = OFF", K, MYSQL)
add("set-global-max-connections", "SET GLOBAL max_connections = 1", K, MYSQL)
add("set-global-statement-time", "SET @@global.max_statement_time = 0", K, MYSQL)
add("set-session-statement-time", "SET @@session.max_statement_time = 0", K, MYSQL)
add("set-session-sql-mode", "SET SESSION sql_mode = ''", K, MYSQL)
add("set-session-group-concat", "SET SESSION group_concat_max_len = 4294967295", K, MYSQL)
add("set-statement-for-delete", "SET STATEMENT max_statement_time = 0 FOR DELETE FROM t", K, MYSQL)
add("set-names", "SET NAMES latin1", K, MYSQL)
add("set-user-variable", "SET @pwn = 1", K, MYSQL)
add("select-into-variable", "SELECT id INTO @pwn FROM t LIMIT 1", K, MYSQL)
add("use-database", "USE mysql", K, _e("duckdb", "mysql"))
add("set-memory-limit", "SET memory_limit = '100GB'", K, DUCKDB)
add("set-threads", "SET threads = 64", K, DUCKDB)
add("reset-memory-limit", "RESET memory_limit", K, DUCKDB)
add("set-external-access", "SET enable_external_access = true", K, DUCKDB)
add("set-lock-configuration", "SET lock_configuration = false", K, DUCKDB)
add("set-unsigned-extensions", "SET allow_unsigned_extensions = true", K, DUCKDB)
add("set-global-duckdb", "SET GLOBAL memory_limit = '100GB'", K, DUCKDB)
add("set-variable-duckdb", "SET VARIABLE pwn = 1", K, DUCKDB)
add("set-profiling-output", "SET profiling_output = '@TMP@/pwn_profile.json'", K, DUCKDB)
add("set-s3-secret", "SET s3_secret_access_key = 'pwn'", K, DUCKDB)

# ------------------------------------------------------------------------------------------------
# PRAGMA (SQLite writes every kind of state through it; DuckDB configuration)
# ------------------------------------------------------------------------------------------------
K = "pragma"
for i, p in enumerate([
    "journal_mode = WAL", "journal_mode = DELETE", "journal_mode = OFF", "user_version = 42",
    "application_id = 7", "writable_schema = ON", "writable_schema = RESET", "query_only = 0",
    "query_only = OFF", "foreign_keys = OFF", "recursive_triggers = ON", "schema_version = 1",
    "synchronous = OFF", "locking_mode = EXCLUSIVE", "auto_vacuum = FULL", "page_size = 1024",
    "cache_size = -2000000", "mmap_size = 1073741824", "temp_store = MEMORY", "secure_delete = ON",
    "optimize", "wal_checkpoint(TRUNCATE)", "incremental_vacuum(10)", "integrity_check", "shrink_memory",
    "soft_heap_limit = 0", "hard_heap_limit = 0", "threads = 8", "case_sensitive_like = ON",
    "legacy_alter_table = ON", "ignore_check_constraints = ON", "trusted_schema = ON", "busy_timeout = 0",
    "main.user_version = 43", "encoding = 'UTF-16'", "temp_store_directory = '@TMP@'",
    "cell_size_check = ON", "max_page_count = 1",
]):  # fmt: skip
    add(f"sqlite-pragma-{i:02d}", f"PRAGMA {p}", K, SQLITE)
add("sqlite-pragma-lower", "pragma user_version=44", K, SQLITE)
add("sqlite-pragma-fn-user-version", "SELECT * FROM pragma_user_version(45)", K, SQLITE)
add("sqlite-pragma-fn-journal-mode", "SELECT * FROM pragma_journal_mode('wal')", K, SQLITE)
add("sqlite-pragma-fn-query-only", "SELECT * FROM pragma_query_only(0)", K, SQLITE)
add("sqlite-pragma-fn-heap-limit", "SELECT * FROM pragma_hard_heap_limit(0)", K, SQLITE)
for i, p in enumerate([
    "memory_limit = '100GB'", "threads = 64", "enable_profiling", "profiling_output = '@TMP@/pwn_prof.json'",
    "enable_checkpoint_on_shutdown", "force_checkpoint", "disable_optimizer", "enable_external_access = true",
    "database_size",
]):  # fmt: skip
    add(f"duckdb-pragma-{i:02d}", f"PRAGMA {p}", K, DUCKDB)
add("duckdb-call-pragma", "CALL pragma_version()", K, DUCKDB)

# ------------------------------------------------------------------------------------------------
# ATTACH / DETACH, extensions, VACUUM, maintenance
# ------------------------------------------------------------------------------------------------
K = "attach"
add("attach-file", "ATTACH DATABASE '@TMP@/pwn_attached.db' AS pwn", K, FILES)
add("attach-short", "ATTACH '@TMP@/pwn_attached2.duckdb' AS pwn2", K, FILES)
add("attach-memory", "ATTACH ':memory:' AS pwn_mem", K, FILES)
add("attach-uri-rwc", "ATTACH 'file:@TMP@/pwn_uri.db?mode=rwc' AS pwn_uri", K, SQLITE)
add("attach-typed-sqlite", "ATTACH '@TMP@/pwn_typed.sqlite' AS pwn_s (TYPE sqlite)", K, DUCKDB)
add("attach-postgres", "ATTACH 'dbname=postgres host=127.0.0.1' AS pwn_pg (TYPE postgres)", K, DUCKDB)
add("attach-read-write-self", "ATTACH '@TMP@/pwn_rw.duckdb' AS pwn_rw (READ_WRITE)", K, DUCKDB)
add("detach", "DETACH DATABASE pwn", K, FILES)
add("detach-main", "DETACH main", K, FILES)
add("use-attached", "USE pwn", K, DUCKDB)
add("copy-from-database", "COPY FROM DATABASE main TO pwn", K, DUCKDB)
add("sqlite-scan", "SELECT * FROM sqlite_scan('@TMP@/pwn_scan.db', 't')", K, DUCKDB)

K = "extension"
add("load-extension", "SELECT load_extension('/tmp/pwn.so')", K, SQLITE)
add("load-extension-entry", "SELECT load_extension('@TMP@/pwn', 'sqlite3_pwn_init')", K, SQLITE)
add("load-extension-upper", "SELECT LOAD_EXTENSION('libpwn')", K, SQLITE)
add("fts3-tokenizer", "SELECT fts3_tokenizer('simple')", K, SQLITE)
add("install-httpfs", "INSTALL httpfs", K, DUCKDB)
add("load-httpfs", "LOAD httpfs", K, DUCKDB)
add("install-path", "INSTALL '@TMP@/pwn.duckdb_extension'", K, DUCKDB)
add("load-path", "LOAD '@TMP@/pwn.duckdb_extension'", K, DUCKDB)
add("force-install", "FORCE INSTALL json", K, DUCKDB)
add("install-community", "INSTALL pwn FROM community", K, DUCKDB)
add("update-extensions", "UPDATE EXTENSIONS", K, DUCKDB)
add("create-extension", "CREATE EXTENSION IF NOT EXISTS pgcrypto", K, POSTGRES)
add("create-extension-untrusted", "CREATE EXTENSION plpython3u", K, POSTGRES)
add("load-library-pg", "LOAD 'auto_explain'", K, POSTGRES)
add("load-path-pg", "LOAD '@TMP@/pwn.so'", K, POSTGRES)
add("install-plugin", "INSTALL PLUGIN pwn SONAME 'ha_pwn.so'", K, MYSQL)
add("install-soname", "INSTALL SONAME 'ha_blackhole'", K, MYSQL)
add("uninstall-plugin", "UNINSTALL PLUGIN pwn", K, MYSQL)
add("create-udf", "CREATE FUNCTION pwn_udf RETURNS STRING SONAME 'pwn.so'", K, MYSQL)

K = "vacuum"
add("vacuum", "VACUUM", K, NOT_MYSQL)
add("vacuum-into", "VACUUM INTO '@TMP@/pwn_vacuum.db'", K, SQLITE)
add("vacuum-main-into", "VACUUM main INTO '@TMP@/pwn_vacuum_main.db'", K, SQLITE)
add("vacuum-into-lower", "vacuum into '@TMP@/pwn_vacuum_lower.db'", K, SQLITE)
add("vacuum-into-relative", "VACUUM INTO 'pwn_relative_vacuum.db'", K, SQLITE)
add("vacuum-full", "VACUUM FULL t", K, POSTGRES)
add("vacuum-analyze", "VACUUM ANALYZE", K, _e("duckdb", "postgres"))
add("vacuum-options", "VACUUM (VERBOSE, ANALYZE) t", K, POSTGRES)
add("analyze", "ANALYZE", K, NOT_MYSQL)
add("analyze-table", "ANALYZE t", K, NOT_MYSQL)
add("analyze-table-mysql", "ANALYZE TABLE t", K, MYSQL)
add("optimize-table", "OPTIMIZE TABLE t", K, MYSQL)
add("repair-table", "REPAIR TABLE t", K, MYSQL)
add("checksum-table", "CHECKSUM TABLE t", K, MYSQL)
add("reindex", "REINDEX", K, SQLITE)
add("reindex-table-sqlite", "REINDEX t", K, SQLITE)
add("reindex-table-pg", "REINDEX TABLE t", K, POSTGRES)
add("cluster", "CLUSTER t USING t_pkey", K, POSTGRES)
add("refresh-mv", "REFRESH MATERIALIZED VIEW pwn_mv", K, POSTGRES)
add("checkpoint", "CHECKPOINT", K, _e("duckdb", "postgres"))
add("force-checkpoint", "FORCE CHECKPOINT", K, DUCKDB)
add("call-checkpoint", "CALL checkpoint()", K, DUCKDB)
add("select-checkpoint", "SELECT * FROM checkpoint()", K, DUCKDB)
add("select-force-checkpoint", "SELECT * FROM force_checkpoint()", K, DUCKDB)

# ------------------------------------------------------------------------------------------------
# Files: reading server/host files, writing files
# ------------------------------------------------------------------------------------------------
K = "file"
add("read-csv-passwd", "SELECT * FROM read_csv('/etc/passwd')", K, DUCKDB)
add("read-csv-auto", "SELECT * FROM read_csv_auto('/etc/hostname')", K, DUCKDB)
add("replacement-scan", "SELECT * FROM '/etc/passwd'", K, DUCKDB)
add("read-text", "SELECT * FROM read_text('/etc/passwd')", K, DUCKDB)
add("read-blob", "SELECT * FROM read_blob('/etc/hostname')", K, DUCKDB)
add("glob", "SELECT * FROM glob('/etc/*')", K, DUCKDB)
add("read-json", "SELECT * FROM read_json_auto('/etc/os-release')", K, DUCKDB)
add("read-parquet-http", "SELECT * FROM read_parquet('http://127.0.0.1:9/pwn.parquet')", K, DUCKDB)
add("sniff-csv", "SELECT * FROM sniff_csv('/etc/passwd')", K, DUCKDB)
add("parquet-metadata", "SELECT * FROM parquet_metadata('/etc/passwd')", K, DUCKDB)
add("read-text-traversal", "SELECT content FROM read_text('@TMP@/../../../etc/passwd')", K, DUCKDB)
add("copy-to-file", "COPY t TO '@TMP@/pwn_copy.csv'", K, _e("duckdb", "postgres"))
add("copy-query-to-file", "COPY (SELECT * FROM t) TO '@TMP@/pwn_copy_q.csv' (FORMAT csv)", K, DUCKDB)
add(
    "copy-query-to-file-pg", "COPY (SELECT * FROM t) TO '@TMP@/pwn_copy_q.csv' WITH (FORMAT csv)", K, POSTGRES
)
add("copy-to-relative", "COPY t TO 'pwn_relative_copy.csv'", K, _e("duckdb", "postgres"))
add("copy-to-parquet", "COPY t TO '@TMP@/pwn_copy.parquet' (FORMAT parquet)", K, DUCKDB)
add("copy-to-stdout", "COPY t TO STDOUT", K, POSTGRES)
add("copy-to-program", "COPY (SELECT 1) TO PROGRAM 'touch @TMP@/pwn_program'", K, POSTGRES)
add("copy-to-program-lower", "copy t to program 'touch @TMP@/pwn_program2'", K, POSTGRES)
add("export-database", "EXPORT DATABASE '@TMP@/pwn_export'", K, DUCKDB)
add("export-database-parquet", "EXPORT DATABASE '@TMP@/pwn_export2' (FORMAT parquet)", K, DUCKDB)
add("pg-read-file", "SELECT pg_read_file('/etc/passwd')", K, POSTGRES)
add("pg-read-file-conf", "SELECT pg_read_file('postgresql.conf')", K, POSTGRES)
add("pg-read-binary-file", "SELECT pg_read_binary_file('/etc/hostname')", K, POSTGRES)
add("pg-ls-dir", "SELECT pg_ls_dir('.')", K, POSTGRES)
add("pg-ls-dir-from", "SELECT * FROM pg_ls_dir('/etc')", K, POSTGRES)
add("pg-stat-file", "SELECT pg_stat_file('/etc/passwd')", K, POSTGRES)
add("pg-ls-logdir", "SELECT * FROM pg_ls_logdir()", K, POSTGRES)
add("pg-read-file-qualified", "SELECT pg_catalog.pg_read_file('/etc/passwd')", K, POSTGRES)
add("pg-read-file-quoted", "SELECT \"pg_read_file\"('/etc/passwd')", K, POSTGRES)
add("pg-read-file-unicode", "SELECT U&\"pg_r\\0065ad_file\"('/etc/passwd')", K, POSTGRES)
add("pg-ls-dir-unicode", "SELECT U&\"pg_ls_\\0064ir\"('/')", K, POSTGRES)
# ts_stat() and ts_rewrite() run the SQL text they are given, past the screen's deny list.
add(
    "ts-stat-read-file",
    "SELECT * FROM ts_stat('SELECT to_tsvector(pg_read_file(''/etc/passwd''))')",
    K,
    POSTGRES,
)
add(
    "ts-stat-set-config",
    "SELECT * FROM ts_stat('SELECT to_tsvector(set_config(''statement_timeout'', ''0'', false))')",
    "session",
    POSTGRES,
)
add(
    "ts-rewrite-set-config",
    "SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, "
    "to_tsquery(''simple'', md5(set_config(''statement_timeout'', ''0'', false)))')",
    "session",
    POSTGRES,
)
add(
    "pg-read-file-via-xml",
    "SELECT query_to_xml('SELECT pg_read_file(''/etc/passwd'') AS f', true, true, '')",
    K,
    POSTGRES,
)
add("lo-import", "SELECT lo_import('/etc/passwd')", K, POSTGRES)
add("lo-export", "SELECT lo_export(1, '@TMP@/pwn_lo_export')", K, POSTGRES)
add("lo-from-bytea", "SELECT lo_from_bytea(0, 'pwned')", K, POSTGRES)
add("lo-create", "SELECT lo_create(0)", K, POSTGRES)
add("lo-unlink", "SELECT lo_unlink(1)", K, POSTGRES)
add("dblink-exec", "SELECT dblink_exec('dbname=postgres', 'CREATE TABLE pwn_dblink (x int)')", K, POSTGRES)
add("into-outfile", "SELECT * FROM t INTO OUTFILE '@TMP@/pwn_outfile.txt'", K, MYSQL)
add("into-outfile-front", "SELECT * INTO OUTFILE '@TMP@/pwn_outfile2.txt' FROM t", K, MYSQL)
add(
    "into-outfile-fields",
    "SELECT * FROM t INTO OUTFILE '@TMP@/pwn_outfile3.txt' FIELDS TERMINATED BY ','",
    K,
    MYSQL,
)
add("into-dumpfile", "SELECT 'pwned' INTO DUMPFILE '@TMP@/pwn_dumpfile.bin'", K, MYSQL)
add("into-outfile-relative", "SELECT 1 INTO OUTFILE 'pwn_relative_outfile.txt'", K, MYSQL)
add("load-file", "SELECT LOAD_FILE('/etc/passwd')", K, MYSQL)
add("load-file-hex", "SELECT HEX(LOAD_FILE(0x2f6574632f706173737764))", K, MYSQL)
add("load-file-backtick", "SELECT `load_file`('/etc/passwd')", K, MYSQL)
add("readfile-cli", "SELECT readfile('/etc/passwd')", K, SQLITE)
add("writefile-cli", "SELECT writefile('@TMP@/pwn_writefile', 'pwned')", K, SQLITE)
add("fsdir", "SELECT * FROM fsdir('/etc')", K, SQLITE)
add("read-duckdb-other", "SELECT * FROM read_duckdb('/etc/passwd')", K, DUCKDB)
add("duckdb-secrets", "SELECT * FROM duckdb_secrets()", K, DUCKDB)

# ------------------------------------------------------------------------------------------------
# Administration
# ------------------------------------------------------------------------------------------------
K = "admin"
add("terminate-self", "SELECT pg_terminate_backend(pg_backend_pid())", K, POSTGRES)
add(
    "terminate-others",
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
    K,
    POSTGRES,
)
add(
    "cancel-others",
    "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
    K,
    POSTGRES,
)
add("terminate-unicode-escape", 'SELECT U&"pg_terminate_b\\0061ckend"(pg_backend_pid())', K, POSTGRES)
add(
    "terminate-via-xml",
    "SELECT query_to_xml('SELECT pg_terminate_backend(pg_backend_pid())', true, true, '')",
    K,
    POSTGRES,
)
add("reload-conf", "SELECT pg_reload_conf()", K, POSTGRES)
add("rotate-logfile", "SELECT pg_rotate_logfile()", K, POSTGRES)
add("switch-wal", "SELECT pg_switch_wal()", K, POSTGRES)
add("restore-point", "SELECT pg_create_restore_point('pwn')", K, POSTGRES)
add("stat-reset", "SELECT pg_stat_reset()", K, POSTGRES)
add("replication-slot", "SELECT pg_create_logical_replication_slot('pwn_slot', 'test_decoding')", K, POSTGRES)
add("nextval", "SELECT nextval('s_seq')", K, _e("duckdb", "postgres"))
add("setval", "SELECT setval('s_seq', 1000)", K, POSTGRES)
add("nextval-from", "SELECT * FROM nextval('s_seq')", K, POSTGRES)
add("nextval-mysql", "SELECT NEXTVAL(s_seq)", K, MYSQL)
add("next-value-for", "SELECT NEXT VALUE FOR s_seq", K, MYSQL)
add("setval-mysql", "SELECT SETVAL(s_seq, 1000)", K, MYSQL)
add("do-block", "DO $$ BEGIN DELETE FROM t; END $$", K, POSTGRES)
add("do-execute", "DO LANGUAGE plpgsql $$ BEGIN EXECUTE 'DROP TABLE t'; END $$", K, POSTGRES)
add("call-procedure", "CALL pwn_p()", K, SERVERS)
add("do-sleep-mysql", "DO SLEEP(30)", K, MYSQL)
add("kill-self", "KILL CONNECTION_ID()", K, MYSQL)
add("kill-query", "KILL QUERY 1", K, MYSQL)
add("flush-privileges", "FLUSH PRIVILEGES", K, MYSQL)
add("flush-logs", "FLUSH LOGS", K, MYSQL)
add("flush-hosts", "FLUSH HOSTS", K, MYSQL)
add("reset-master", "RESET MASTER", K, MYSQL)
add("purge-logs", "PURGE BINARY LOGS BEFORE NOW()", K, MYSQL)
add("shutdown", "SHUTDOWN", K, MYSQL)
add("show-grants", "SHOW GRANTS", K, MYSQL)
add("show-processlist", "SHOW PROCESSLIST", K, MYSQL)
add("binlog-event", "BINLOG 'pwn'", K, MYSQL)
add("cache-index", "CACHE INDEX t IN pwn_cache", K, MYSQL)
add("change-master", "CHANGE MASTER TO MASTER_HOST = '127.0.0.1'", K, MYSQL)
add("duckdb-enable-logging", "SELECT * FROM enable_logging()", K, DUCKDB)
add("duckdb-enable-profiling", "SELECT * FROM enable_profiling()", K, DUCKDB)
add("duckdb-grammar-extension", "SELECT * FROM add_grammar_extension('pwn')", K, DUCKDB)
add("duckdb-truncate-logs", "SELECT * FROM truncate_duckdb_logs()", K, DUCKDB)
add(
    "duckdb-serialized-sql",
    "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('DELETE FROM t'))",
    "write",
    DUCKDB,
)
add("release-all-locks", "SELECT RELEASE_ALL_LOCKS()", "lock", MYSQL)

# ------------------------------------------------------------------------------------------------
# Bombs: time
# ------------------------------------------------------------------------------------------------
K = "bomb_time"
RECURSIVE_COUNT = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
RECURSIVE_ROWS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
RECURSIVE_LOWER = "with recursive c(x) as (select 1 union all select x from c) select max(x) from c"
add("recursive-cte-count", RECURSIVE_COUNT, K, NOT_MYSQL, expect=BOUNDED)
add("recursive-cte-rows", RECURSIVE_ROWS, K, NOT_MYSQL, expect=BOUNDED)
add("recursive-cte-lower", RECURSIVE_LOWER, K, NOT_MYSQL, expect=BOUNDED)
# MariaDB stops recursion itself after max_recursive_iterations (1000 by default) and returns the rows.
add("recursive-cte-count-mysql", RECURSIVE_COUNT, K, MYSQL, expect=CAPPED)
add("recursive-cte-rows-mysql", RECURSIVE_ROWS, K, MYSQL, expect=CAPPED)
add("recursive-cte-lower-mysql", RECURSIVE_LOWER, K, MYSQL, expect=CAPPED)
add("cross-join-4", "SELECT count(*) FROM t a, t b, t c, t d", K, expect=BOUNDED)
add("cross-join-5", "SELECT count(*) FROM t a CROSS JOIN t b CROSS JOIN t c CROSS JOIN t d CROSS JOIN u e", K,
    expect=BOUNDED)  # fmt: skip
add("cross-join-theta", "SELECT count(*) FROM t a JOIN t b ON a.id <> b.id JOIN t c ON b.id <> c.id JOIN t d ON 1 = 1",
    K, expect=BOUNDED)  # fmt: skip
add("cross-join-sum", "SELECT sum(a.id * b.id - c.id + d.id) FROM t a, t b, t c, u d", K, expect=BOUNDED)
add("cross-join-order", "SELECT a.name, b.name, c.name FROM t a, t b, t c ORDER BY a.name DESC, b.note, c.score", K,
    expect=BOUNDED)  # fmt: skip
add("cross-join-distinct", "SELECT count(DISTINCT a.id * 1000000 + b.id * 1000 + c.id) FROM t a, t b, u c", K,
    expect=BOUNDED)  # fmt: skip
add(
    "correlated-bomb",
    "SELECT count(*) FROM t a WHERE (SELECT count(*) FROM t b, t c, u d WHERE b.id <> a.id) > 0",
    K,
    expect=BOUNDED,
)
add(
    "sqlite-randomblob-loop",
    "SELECT max(length(randomblob(100000))) FROM t a, t b, t c",
    K,
    SQLITE,
    expect=BOUNDED,
)
add("pg-sleep", "SELECT pg_sleep(30)", K, POSTGRES, expect=BOUNDED)
add("pg-sleep-for", "SELECT pg_sleep_for('30 seconds')", K, POSTGRES, expect=BOUNDED)
add("pg-sleep-rows", "SELECT pg_sleep(1) FROM generate_series(1, 30)", K, POSTGRES, expect=BOUNDED)
add(
    "pg-generate-series",
    "SELECT count(*) FROM generate_series(1, 1000000000000)",
    K,
    POSTGRES,
    expect=BOUNDED,
)
add(
    "pg-generate-series-cross",
    "SELECT count(*) FROM generate_series(1, 100000) a, generate_series(1, 100000) b",
    K,
    POSTGRES,
    expect=BOUNDED,
)
add("pg-generate-series-rows", "SELECT * FROM generate_series(1, 1000000000000)", K, POSTGRES, expect=BOUNDED)
add("pg-sleep-in-do", "DO $$ BEGIN PERFORM pg_sleep(30); END $$", K, POSTGRES, expect=BOUNDED_OR_DENIED)
add("mysql-sleep", "SELECT SLEEP(30)", K, MYSQL, expect=BOUNDED)
add("mysql-sleep-rows", "SELECT SLEEP(1) FROM t", K, MYSQL, expect=BOUNDED)
add("mysql-benchmark", "SELECT BENCHMARK(1000000000000, MD5('x'))", K, MYSQL, expect=BOUNDED)
add("mysql-benchmark-sha", "SELECT BENCHMARK(1e12, SHA2(REPEAT('x', 1000), 512))", K, MYSQL, expect=BOUNDED)
add("mysql-cross-join-schema",
    "SELECT COUNT(*) FROM information_schema.columns a, information_schema.columns b, information_schema.columns c",
    K, MYSQL, expect=BOUNDED)  # fmt: skip
add(
    "mysql-hint-execution-time",
    "SELECT /*+ MAX_EXECUTION_TIME(100000) */ SLEEP(30)",
    K,
    MYSQL,
    expect=BOUNDED_OR_DENIED,
)
add(
    "mysql-hint-set-var",
    "SELECT /*+ SET_VAR(max_statement_time=0) */ COUNT(*) FROM t a, t b, t c, t d",
    K,
    MYSQL,
    expect=BOUNDED_OR_DENIED,
)
add("mysql-regex-backtracking", "SELECT REPEAT('a', 50000) REGEXP '(a+)+b'", K, MYSQL, expect=CAPPED)
add("duckdb-range-count", "SELECT count(*) FROM range(1000000000000)", K, DUCKDB, expect=BOUNDED)
add("duckdb-range-cross", "SELECT count(*) FROM range(100000) a, range(100000) b", K, DUCKDB, expect=BOUNDED)
add("duckdb-range-sum", "SELECT sum(i) FROM range(1e12::BIGINT) r(i)", K, DUCKDB, expect=BOUNDED)
add(
    "duckdb-generate-series-rows",
    "SELECT * FROM generate_series(1, 1000000000000)",
    K,
    DUCKDB,
    expect=BOUNDED,
)
add(
    "duckdb-range-sort",
    "SELECT i FROM range(1000000000) r(i) ORDER BY random() LIMIT 1",
    K,
    DUCKDB,
    expect=BOUNDED,
)

# ------------------------------------------------------------------------------------------------
# Bombs: memory and result size
# ------------------------------------------------------------------------------------------------
K = "bomb_memory"
add("randomblob", "SELECT randomblob(2000000000)", K, SQLITE, expect=BOUNDED)
add("randomblob-float", "SELECT length(randomblob(2e9))", K, SQLITE, expect=BOUNDED)
add("zeroblob", "SELECT zeroblob(2000000000)", K, SQLITE, expect=BOUNDED)
add("zeroblob-length", "SELECT length(zeroblob(2e9))", K, SQLITE, expect=BOUNDED)
add("zeroblob-hex", "SELECT hex(zeroblob(1000000000))", K, SQLITE, expect=BOUNDED)
add("printf-bomb", "SELECT printf('%.*c', 2000000000, 'x')", K, SQLITE, expect=BOUNDED)
add("printf-bomb-float", "SELECT length(printf('%.*c', 2e9, 'x'))", K, SQLITE, expect=BOUNDED)
add("replace-bomb", "SELECT replace(hex(zeroblob(10000000)), '0', '0000000000')", K, SQLITE, expect=BOUNDED)
add("group-concat-bomb", "SELECT length(group_concat(a.name || b.name || c.name)) FROM t a, t b, t c", K,
    _e("sqlite", "duckdb"), expect=BOUNDED)  # fmt: skip
add("group-concat-blob", "SELECT length(group_concat(hex(randomblob(10000)))) FROM t a, t b", K, SQLITE,
    expect=BOUNDED)  # fmt: skip
add("zeroblob-rows", "SELECT zeroblob(1000000) FROM t a, t b", K, SQLITE, expect=BOUNDED)
add("rows-bomb", "SELECT * FROM t a, t b, t c", K, expect=BOUNDED)
add("wide-rows-bomb", "SELECT a.*, b.*, c.* FROM u a, u b, u c", K, expect=BOUNDED)
add("recursive-doubling",
    "WITH RECURSIVE r(s) AS (SELECT 'xx' UNION ALL SELECT s || s FROM r) SELECT length(s) FROM r", K, NOT_MYSQL,
    expect=BOUNDED)  # fmt: skip
add("recursive-doubling-mysql",
    "WITH RECURSIVE r(s) AS (SELECT CAST('xx' AS CHAR(1000000000)) UNION ALL SELECT CONCAT(s, s) FROM r) "
    "SELECT LENGTH(s) FROM r", K, MYSQL, expect=CAPPED)  # fmt: skip
add("pg-repeat", "SELECT repeat('x', 500000000)", K, POSTGRES, expect=BOUNDED)
add(
    "pg-repeat-concat", "SELECT repeat('x', 600000000) || repeat('y', 600000000)", K, POSTGRES, expect=BOUNDED
)
add("pg-repeat-rows", "SELECT repeat('x', 10000000) FROM t", K, POSTGRES, expect=BOUNDED)
add("pg-string-agg", "SELECT length(string_agg(repeat('x', 1000000), ',')) FROM t a, t b", K, POSTGRES,
    expect=BOUNDED)  # fmt: skip
add("pg-array-agg", "SELECT cardinality(array_agg(g)) FROM generate_series(1, 2000000000) g", K, POSTGRES,
    expect=BOUNDED)  # fmt: skip
add("pg-database-to-xml", "SELECT length(database_to_xml(true, true, '')::text) FROM t a, t b", K, POSTGRES,
    expect=BOUNDED)  # fmt: skip
add("duckdb-repeat", "SELECT repeat('x', 1000000000)", K, DUCKDB, expect=BOUNDED)
add("duckdb-repeat-rows", "SELECT repeat('x', 100000000) FROM range(100)", K, DUCKDB, expect=BOUNDED)
add("duckdb-list-bomb", "SELECT length(list(i)) FROM range(2000000000) r(i)", K, DUCKDB, expect=BOUNDED)
add("duckdb-string-agg", "SELECT length(string_agg(repeat('x', 1000000), ',')) FROM range(100000)", K, DUCKDB,
    expect=BOUNDED)  # fmt: skip
add("duckdb-range-rows", "SELECT * FROM range(1e12::BIGINT)", K, DUCKDB, expect=BOUNDED)
add("mysql-repeat", "SELECT REPEAT('x', 1000000000)", K, MYSQL, expect=CAPPED)
add("mysql-lpad", "SELECT LPAD('x', 1000000000, 'y')", K, MYSQL, expect=CAPPED)
add("mysql-space", "SELECT SPACE(1000000000)", K, MYSQL, expect=CAPPED)
add("mysql-repeat-rows", "SELECT REPEAT('x', 10000000) FROM t", K, MYSQL, expect=BOUNDED)
add("mysql-group-concat", "SELECT GROUP_CONCAT(REPEAT('x', 1000000)) FROM t a, t b", K, MYSQL, expect=CAPPED)

# ------------------------------------------------------------------------------------------------
# Several statements in one string
# ------------------------------------------------------------------------------------------------
K = "multi"
for i, s in enumerate([
    "SELECT 1; DROP TABLE t",
    "SELECT 1;DROP TABLE t",
    "SELECT 1;\nDELETE FROM t",
    "SELECT * FROM t; DELETE FROM t;",
    "SELECT 1; -- comment\nDROP TABLE u",
    "SELECT 1 /* c */ ; /* c */ UPDATE t SET name = 'pwned'",
    "SELECT 1; SELECT 2",
    ";DROP TABLE t",
    "; ; DELETE FROM t ; ;",
    "SELECT ';'; DROP TABLE t",
    "SELECT 'a;b'; DELETE FROM t",
    "SELECT 1\n;\nINSERT INTO t (id, name) VALUES (100020, 'pwned')",
    "SELECT 1;\tCREATE TABLE pwn_ms (x INTEGER)",
    "SELECT 1; COMMIT; DELETE FROM t",
    "COMMIT; DELETE FROM t",
    "ROLLBACK; DROP TABLE t",
    "BEGIN; DELETE FROM t; COMMIT",
    "SELECT 1;\r\nDELETE FROM t",
    "SELECT 1 ;;; DELETE FROM t",
    "WITH x AS (SELECT 1) SELECT * FROM x; DROP TABLE t",
    "(SELECT 1); DROP TABLE t",
    "SELECT count(*) FROM t; UPDATE t SET score = 0; SELECT count(*) FROM t",
    "SELECT 1; ANALYZE",
    "DELETE FROM t; SELECT 1",
    "SELECT 1; CREATE VIEW pwn_mv2 AS SELECT 1",
    "SELECT 1 -- x\n; DROP TABLE t",
]):  # fmt: skip
    add(f"multi-{i:02d}", s, K)
add("multi-values", "VALUES (1); DELETE FROM t", K, NOT_MYSQL)
add("multi-end-begin", "END; BEGIN; DELETE FROM t; COMMIT", K, NOT_MYSQL)
add("multi-pragma", "SELECT 1; PRAGMA user_version = 99", K, SQLITE)
add("multi-attach", "SELECT 1; ATTACH '@TMP@/pwn_multi.db' AS pwn_multi", K, FILES)
add("multi-vacuum-into", "SELECT 1; VACUUM INTO '@TMP@/pwn_multi_vacuum.db'", K, SQLITE)
add("multi-export", "SELECT 1; EXPORT DATABASE '@TMP@/pwn_multi_export'", K, DUCKDB)
add("multi-install", "SELECT 1; INSTALL httpfs; LOAD httpfs", K, DUCKDB)
add("multi-copy-program", "SELECT 1; COPY (SELECT 1) TO PROGRAM 'touch @TMP@/pwn_multi_program'", K, POSTGRES)
add(
    "multi-begin-read-write",
    "BEGIN READ WRITE; INSERT INTO t (id, name) VALUES (100021, 'pwned'); COMMIT",
    K,
    POSTGRES,
)
add("multi-set-tx-rw", "SET TRANSACTION READ WRITE; DELETE FROM t", K, SERVERS)
add("multi-set-global", "SELECT 1; SET GLOBAL read_only = 0", K, MYSQL)
add("multi-into-outfile", "SELECT 1; SELECT * FROM t INTO OUTFILE '@TMP@/pwn_multi_outfile.txt'", K, MYSQL)
add("multi-pg-sleep", "SELECT 1; SELECT pg_sleep(30)", K, POSTGRES, expect=BOUNDED_OR_DENIED)
add("multi-dollar-quoted", "SELECT $a$x$a$; DROP TABLE t", K, _e("duckdb", "postgres"))

# ------------------------------------------------------------------------------------------------
# Comments hiding statements (and comment-parsing differences between the screen and the engine)
# ------------------------------------------------------------------------------------------------
K = "comment"
add("block-comment-prefix", "/* comment */ DELETE FROM t", K)
add("line-comment-prefix", "-- comment\nDELETE FROM t", K)
add("comment-semicolon-prefix", "/* ; */ DELETE FROM t", K)
add("comment-between", "SELECT 1 /* ; */ ; DELETE FROM t", K)
add("comment-as-space", "DELETE/**/FROM/**/t", K)
add("comment-as-space-insert", "INSERT/**/INTO/**/t(id,name)VALUES(100040,'pwned')", K)
add("comment-empty-between", "SELECT 1 /**/; /**/ DELETE FROM t", K)
add("comment-line-then-statement", "SELECT 1 -- \n; DROP TABLE t", K)
add("comment-only-block", "/* DROP TABLE t */", K, expect=INERT)
add("comment-only-line", "-- DROP TABLE t", K, expect=INERT)
add("comment-trailing-harmless", "SELECT 1 -- ; DROP TABLE t", K, expect=INERT)
add("comment-block-harmless", "SELECT 1 /* ; DROP TABLE t */", K, expect=INERT)
add("unterminated-comment-delete", "DELETE FROM t /*", K)
add("unterminated-comment-drop", "DROP TABLE t; /*", K)
add("unterminated-comment-multi", "SELECT 1; DELETE FROM t /*", K)
add("unterminated-comment-update", "UPDATE t SET name = 'pwned' /* ", K)
add("unterminated-string-delete", "DELETE FROM t WHERE name <> 'x", K)
add("unterminated-quoted-ident", 'DROP TABLE "t', K)
# PostgreSQL and DuckDB (whose parser derives from PostgreSQL's) nest block comments.
add("nested-comment-pg", "SELECT 1 /* /* */ ; DROP TABLE t */", K, _e("duckdb", "postgres"), expect=INERT)
add("nested-comment-others", "SELECT 1 /* /* */ ; DROP TABLE t */", K, _e("sqlite", "mysql"))
add("nested-comment-unterminated", "SELECT 1 /* /* */ DELETE FROM t; /* */", K)
add("cr-ends-comment", "SELECT 1 --\r; DROP TABLE t", K, expect=INERT)
add("cr-ends-comment-function",
    "SELECT 1 --\r, pg_terminate_backend(pg_backend_pid())", K, POSTGRES)  # fmt: skip
add("cr-ends-comment-read-file", "SELECT 1 --\r, pg_read_file('/etc/passwd')", K, POSTGRES)
add("hash-comment", "SELECT 1 # ; DROP TABLE t", K, expect=INERT)
add("hash-comment-newline", "SELECT 1 # x\n; DROP TABLE t", K)
add("dash-dash-no-space-mysql", "SELECT id --1 INTO OUTFILE '@TMP@/pwn_dashdash.txt' FROM t", K, MYSQL)
add("dash-dash-no-space-load-file", "SELECT 2 --1, LOAD_FILE('/etc/passwd')", K, MYSQL)
add("dash-dash-no-space-lock", "SELECT 2 --1, GET_LOCK('pwn_lock2', 0)", K, MYSQL)
add("exec-comment-drop", "SELECT 1 /*! ; DROP TABLE t */", K, MYSQL)
add("exec-comment-versioned-drop", "SELECT 1 /*!50000 ; DROP TABLE t */", K, MYSQL)
add("exec-comment-only-drop", "/*! DROP TABLE t */", K, MYSQL)
add("exec-comment-only-delete", "/*!50000 DELETE FROM t */", K, MYSQL)
add("exec-comment-outfile", "SELECT * FROM t /*!50000 INTO OUTFILE '@TMP@/pwn_exec_comment.txt' */", K, MYSQL)
add(
    "exec-comment-dumpfile",
    "SELECT name FROM t WHERE id = 1 /*! INTO DUMPFILE '@TMP@/pwn_exec_dump.bin' */",
    K,
    MYSQL,
)
add("exec-comment-load-file", "SELECT 1 /*!, LOAD_FILE('/etc/passwd') */", K, MYSQL)
add("exec-comment-sleep", "SELECT 1 /*M! , SLEEP(30) */", K, MYSQL, expect=BOUNDED_OR_DENIED)
add("exec-comment-mariadb-delete", "SELECT 1 /*M!100000 ; DELETE FROM t */", K, MYSQL)
add("exec-comment-get-lock", "SELECT 1 /*!, GET_LOCK('pwn_lock3', 0) */", K, MYSQL)
add("exec-comment-into-var", "SELECT 1 /*! INTO @pwn */", K, MYSQL)
add("exec-comment-for-update", "SELECT * FROM t /*! FOR UPDATE */", "lock", MYSQL, expect=INERT)
add("exec-comment-other-engines", "SELECT 1 /*! ; DROP TABLE t */", K, ENGINES - MYSQL, expect=INERT)

# ------------------------------------------------------------------------------------------------
# Unicode tricks
# ------------------------------------------------------------------------------------------------
K = "unicode"
for i, s in enumerate([
    "SELECT 1\uff1bDROP TABLE t",                      # full-width semicolon
    "SELECT * FROM t\uff1b DELETE FROM t",
    "\uff24\uff32\uff2f\uff30 \uff34\uff21\uff22\uff2c\uff25 t",  # full-width DROP TABLE
    "\uff33\uff25\uff2c\uff25\uff23\uff34 1; DELETE FROM t",
    "DR\u041eP TABLE t",                               # Cyrillic O
    "D\u0415LETE FROM t",                              # Cyrillic E
    "SELECT 1; DR\u041eP TABLE t",
    "\u200bDROP TABLE t",                              # zero-width space
    "DROP\u200bTABLE t",
    "SELECT 1;\u200bDROP TABLE t",
    "SELECT 1\u200b;\u200bDELETE FROM t",
    "DEL\u200bETE FROM t",
    "\ufeffDROP TABLE t",                              # byte-order mark
    "\ufeffSELECT 1; DROP TABLE t",
    "\ufeffDELETE FROM t WHERE id = 1",
    "\u202eDROP TABLE t",                              # right-to-left override
    "SELECT '\u202e' ; DELETE FROM t",
    "\u202e;t elbat pord ;1 TCELES",
    "DELETE\u00a0FROM\u00a0t",                         # no-break space
    "SELECT\u00a01;\u00a0DROP\u00a0TABLE\u00a0t",
    "DELETE\u3000FROM t",                              # ideographic space
    "SELECT 1\u2028;DROP TABLE t",                     # line separator
    "SELECT 1\u2029;DELETE FROM t",                    # paragraph separator
    "DROP TABLE t\x00",                                # NUL bytes
    "\x00DROP TABLE t",
    "SELECT 1;\x00DROP TABLE t",
    "SELECT 1\x00; DROP TABLE t",
    "SELECT 1 -- \x00\nDELETE FROM t",
    "SELECT '\x00'; DELETE FROM t",
    "SELECT 1 /* \x00 */; DROP TABLE t",
    "DELETE FROM t WHERE name <> '\x00'",
    "DROP\u0301 TABLE t",                              # combining accent
    "\u0131nsert \u0131nto t (id, name) values (100030, 'pwned')",  # dotless i
    "\u017felect 1; DELETE FROM t",                    # long s
    "\U0001d403\U0001d411\U0001d40e\U0001d40f TABLE t",  # mathematical bold DROP
    "SELECT \uff07;DROP TABLE t\uff07",                # full-width apostrophes
    "SELECT 1;\u00a0\u200b\ufeffDELETE FROM t",
    "DELETE FROM t WHERE name <> '\ud800'",            # lone surrogate
    "SELECT 1\x0b; DELETE FROM t",                     # vertical tab
    "\x0cDELETE FROM t",                               # form feed
    "\x1bDROP TABLE t",                                # escape
]):  # fmt: skip
    add(f"unicode-{i:02d}", s, K)
add("unicode-comment-ls", "SELECT 1 -- x\u2028; DROP TABLE t", K, expect=INERT)
add("unicode-comment-nel", "SELECT 1 -- x\u0085; DROP TABLE t", K, expect=INERT)
add("unicode-comment-rtl", "SELECT 1 -- \u202e; DROP TABLE t", K, expect=INERT)

# ------------------------------------------------------------------------------------------------
# Case and whitespace variants
# ------------------------------------------------------------------------------------------------
K = "variant"
for i, s in enumerate([
    "drop table t",
    "DrOp TaBlE t",
    "Delete From t",
    "\tDELETE\tFROM\tt",
    "\n\n  UPDATE t SET name='pwned'\n",
    "DELETE FROM\"t\"",
    "DELETE FROM t;;;",
    "DELETE\r\nFROM\r\nt",
    "  insert   into   t(id,name)   values(100041,'pwned')  ",
    "SELECT 1\n;\n\nDROP\nTABLE\nt",
    "uPdAtE t sEt NaMe = 'pwned'",
    "cReAtE tAbLe pwn_case (x INTEGER)",
    "(DELETE FROM t)",
    "((SELECT 1)); DELETE FROM t",
]):  # fmt: skip
    add(f"variant-{i:02d}", s, K)
add("variant-pragma-case", "PrAgMa UsEr_VeRsIoN = 46", K, SQLITE)
add("variant-vacuum-case", "VaCuUm", K, NOT_MYSQL)
add("variant-attach-case", "aTtAcH '@TMP@/pwn_case.db' As pwn_case", K, FILES)
add("variant-backtick-table", "DELETE FROM `t`", K, _e("sqlite", "mysql"))
add("variant-bracket-table", "DELETE FROM [t]", K, SQLITE)

# ------------------------------------------------------------------------------------------------
# Quoting confusion between the screen's tokenizer and the engine's
# ------------------------------------------------------------------------------------------------
K = "quoting"
add("backslash-quote-standard", "SELECT 'a\\'; DROP TABLE t; -- '", K, NOT_MYSQL)
add("backslash-quote-mysql", "SELECT 'a\\'; DROP TABLE t; -- '", K, MYSQL, expect=INERT)
add("dollar-tag-confusion", "SELECT $x$';$x$; DROP TABLE t --'", K, _e("duckdb", "postgres"))
add(
    "dollar-tag-confusion-others", "SELECT $x$';$x$; DROP TABLE t --'", K, _e("sqlite", "mysql"), expect=INERT
)
add("e-string-escape", "SELECT E'\\'; DROP TABLE t; --'", K, POSTGRES, expect=INERT)
add("e-string-escape-others", "SELECT E'\\'; DROP TABLE t; --'", K, ENGINES - POSTGRES, expect=INERT)
add("hex-literal-multi", "SELECT X'3B'; DELETE FROM t", K)
add("national-literal-multi", "SELECT N'x'; DROP TABLE t", K)
add("backtick-ident-multi", "SELECT `x;y` FROM t; DELETE FROM t", K, _e("sqlite", "mysql"))
add("double-quote-ident-multi", 'SELECT "a;b" FROM t; DELETE FROM t', K)
add("bracket-ident-keyword", "SELECT [DROP TABLE t] FROM t", K, SQLITE, expect=INERT)
add("doubled-quote-then-statement", "SELECT 'it''s'; DELETE FROM t", K)
add("string-then-unterminated", "SELECT 'x'; DELETE FROM t WHERE name = 'y", K)
add("pg-unicode-string-multi", "SELECT U&'\\0027'; DELETE FROM t", K, POSTGRES)
add("mysql-ansi-quotes-multi", 'SELECT "x""; DELETE FROM t; --"', K, MYSQL, expect=INERT)


# ------------------------------------------------------------------------------------------------
# Decoys: read-only queries that look hostile; they must run (the layers must not over-block)
# ------------------------------------------------------------------------------------------------

#: (id, sql, engines): valid SELECTs that must return ``ok``, so that a broken engine fails the test.
CONTROLS: list[tuple[str, str, frozenset[str]]] = [
    ("count-t", "SELECT count(*) FROM t", ENGINES),
    ("count-u", "SELECT count(*) FROM u", ENGINES),
    (
        "join",
        "SELECT t.name, count(u.id) FROM t JOIN u ON u.t_id = t.id GROUP BY t.name ORDER BY t.name LIMIT 5",
        ENGINES,
    ),  # fmt: skip
    ("view", "SELECT count(*) FROM v", ENGINES),
    (
        "bounded-recursion",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) SELECT count(*) FROM c",
        ENGINES,
    ),  # fmt: skip
    ("small-cross-join", "SELECT count(*) FROM t a, t b WHERE a.id < 10 AND b.id < 10", ENGINES),
    ("trailing-semicolon", "SELECT max(id) FROM t;", ENGINES),
    ("semicolon-in-string", "SELECT 'a;b' AS s", ENGINES),
    ("keywords-in-string", "SELECT 'DROP TABLE t; DELETE FROM t' AS s", ENGINES),
    ("escaped-quote-string", "SELECT 'a'';DROP TABLE t;--' AS s", ENGINES),
    ("keyword-in-comment", "SELECT 1 AS x /* DROP TABLE t */", ENGINES),
    ("keyword-in-line-comment", "SELECT 1 AS x -- DELETE FROM t\n", ENGINES),
    ("keyword-alias", 'SELECT 1 AS "delete"', NOT_MYSQL),
    ("keyword-alias-mysql", "SELECT 1 AS `delete`", MYSQL),
    ("like-semicolon", "SELECT count(*) FROM t WHERE note LIKE '%;%'", ENGINES),
    ("unicode-value", "SELECT '\uff1b\u200b\u202e' AS s", ENGINES),
    ("dollar-quoted", "SELECT $$;DROP TABLE t;$$ AS s", _e("duckdb", "postgres")),
    ("lowercase-select", "select id from t where id = 1", ENGINES),
    ("leading-whitespace", "\n\t  SELECT id FROM t WHERE id = 2", ENGINES),
]


def distinct_sql() -> set[str]:
    return {a.sql for a in ATTACKS}


def counts() -> dict[str, Counter]:
    """Attack counts per engine and per kind (for the docs and the report)."""
    per_engine: Counter = Counter()
    per_kind: Counter = Counter()
    for a in ATTACKS:
        per_kind[a.kind] += 1
        for e in a.engines:
            per_engine[e] += 1
    return {"engine": per_engine, "kind": per_kind}


#: Kinds whose statements change state when they run: ``ok`` is never acceptable for them.
_STATE_CHANGING_KINDS = frozenset(
    {
        "write",
        "ddl",
        "transaction",
        "session",
        "pragma",
        "attach",
        "extension",
        "vacuum",
        "file",
        "admin",
        "multi",
    }
)


def _check() -> None:
    ids = [a.id for a in ATTACKS]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, f"duplicate attack ids: {sorted(dupes)}"
    for a in ATTACKS:
        assert a.engines and a.expect, a.id
        if a.kind in _STATE_CHANGING_KINDS or a.kind.startswith("bomb"):
            assert OK not in a.expect or a.expect == CAPPED, f"{a.id}: a {a.kind} attack must never accept ok"
        if a.kind.startswith("bomb"):
            assert a.expect in (BOUNDED, BOUNDED_OR_DENIED, CAPPED), a.id


_check()
