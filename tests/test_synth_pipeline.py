"""The synthesis pipeline end to end on real databases: records valid and re-executable, every style and
level present, accounting that adds up, determinism, resume after SIGKILL, DuckDB re-verification,
clear errors, and the ``synth`` command's dispatch."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sqlfoundry.db.example import build_example_db
from sqlfoundry.db.executor import Executor, Query
from sqlfoundry.errors import DatabaseUnavailableError
from sqlfoundry.records import COMPLEXITIES, STYLES, read_jsonl
from sqlfoundry.synth.config import EmptySchemaError, ResumeMismatchError, SynthConfig, SynthConfigError
from sqlfoundry.synth.dedup import sql_keys
from sqlfoundry.synth.pipeline import MANIFEST_FILE, RECORDS_FILE, record_id, synthesize

N = 300
SEED = 7


@pytest.fixture(scope="module")
def example_db(tmp_path_factory) -> Path:
    return build_example_db(tmp_path_factory.mktemp("synth-db") / "bookshop.sqlite")


@pytest.fixture(scope="module")
def example_url(example_db) -> str:
    return f"sqlite:///{example_db}"


@pytest.fixture(scope="module")
def full_run(example_url, tmp_path_factory):
    """One uninterrupted run that several tests read."""
    out = tmp_path_factory.mktemp("synth-full")
    report = synthesize(example_url, SynthConfig(n=N, seed=SEED, workers=2), out, progress=False)
    return report, out


def cot_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("sqlfoundry.synth.cot") is not None


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- the records -------------------------------------------------------------------------------


def test_records_are_valid_and_cover_every_style_and_level(full_run):
    report, out = full_run
    records = list(read_jsonl(out / RECORDS_FILE))
    assert report.complete and report.records == len(records) == N
    assert len({r.id for r in records}) == N
    feasible = [r for r in records if r.feasible]
    assert {r.style for r in feasible} == set(STYLES)
    assert {r.complexity for r in feasible} == set(COMPLEXITIES)
    by_pair = Counter((r.style, r.complexity) for r in feasible)
    assert all(by_pair[(s, c)] > 0 for s in STYLES for c in COMPLEXITIES), by_pair
    assert sum(r.row_count > 0 for r in feasible) / len(feasible) >= 0.95
    for r in feasible:
        assert r.question.strip() and r.sql and r.verification == "ok" and r.dialect == "sqlite"
        assert r.result_fingerprint and r.provenance.seed == SEED and r.provenance.template
        assert r.id == record_id(r.db_id, r.sql, r.style, SEED, "sqlite")
    if cot_available():
        assert all(r.cot and r.cot.endswith(f"```sql\n{r.sql}\n```") for r in feasible)
    infeasible = [r for r in records if not r.feasible]
    assert infeasible and all(r.sql == "" and r.verification == "infeasible" for r in infeasible)
    assert abs(len(infeasible) / N - 0.05) <= 0.01


def test_every_record_re_executes_to_its_fingerprint(full_run, example_url):
    _, out = full_run
    feasible = [r for r in read_jsonl(out / RECORDS_FILE) if r.feasible]
    with Executor(workers=2, cache=False) as ex:
        outcomes = ex.run_batch([Query(example_url, r.sql, keep_rows=False) for r in feasible])
    for r, o in zip(feasible, outcomes, strict=True):
        assert o.ok and o.fingerprint == r.result_fingerprint and o.row_count == r.row_count, r.sql


def test_no_template_beyond_the_limit_and_no_duplicate_sql(full_run):
    _, out = full_run
    feasible = [r for r in read_jsonl(out / RECORDS_FILE) if r.feasible]
    keys = [sql_keys(r.sql) for r in feasible]
    assert max(Counter(k.template for k in keys).values()) <= SynthConfig().max_per_template
    assert len({k.normalized for k in keys}) == len(feasible)  # one style per SQL by default


def test_manifest_counts_add_up(full_run):
    report, out = full_run
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["status"] == "complete" and manifest["complete"]
    counts = manifest["counts"]
    rejections = manifest["rejections"]
    assert counts["candidates"] == counts["accepted_sql"] + sum(rejections.values())
    assert counts["feasible"] + counts["beyond_n"] == counts["accepted_sql"] - sum(
        manifest["record_rejections"].values()
    )
    assert counts["records"] == counts["feasible"] + counts["infeasible"] == N
    assert (
        sum(counts["by_style"].values()) == N and sum(counts["by_complexity"].values()) == counts["feasible"]
    )
    assert manifest["records_per_s"] > 0 and manifest["timings_s"]["total"] > 0
    assert set(rejections) <= {
        "syntax_error", "runtime_error", "timeout", "denied", "too_large", "empty", "all_null", "zero_count",
        "constant", "tie_at_limit", "unordered_limit", "duplicate_sql", "duplicate_template",
        "duplicate_result", "equivalent_to_simpler", "unparseable", "unsupported_realization",
    }  # fmt: skip
    assert rejections.get("duplicate_sql", 0) > 0  # the sampler repeats itself; dedup catches it
    assert (out / "records.parquet").exists()


def test_same_seed_same_ids_and_n_only_cuts_the_stream(full_run, example_url, tmp_path):
    _, out = full_run
    first = [r["id"] for r in lines(out / RECORDS_FILE)]
    # a smaller n, another batch size and one worker: the same stream, cut earlier
    report = synthesize(
        example_url, SynthConfig(n=120, seed=SEED, batch_size=50, workers=1), tmp_path / "a", progress=False
    )
    again = [r["id"] for r in lines(tmp_path / "a" / RECORDS_FILE)]
    assert report.records == 120 and again == first[:120]
    other = synthesize(example_url, SynthConfig(n=40, seed=SEED + 1), tmp_path / "b", progress=False)
    assert other.records == 40
    assert not set(r["id"] for r in lines(tmp_path / "b" / RECORDS_FILE)) & set(first)


def test_resume_after_sigkill(full_run, example_url, tmp_path):
    """Kill a real run with SIGKILL mid-way, start it again: no lost, duplicated or broken records."""
    _, full_out = full_run
    out = tmp_path / "killed"
    cmd = [
        sys.executable, "-c", "from sqlfoundry.synth.cli import app; app()", example_url,
        "-n", str(N), "-o", str(out), "--seed", str(SEED), "--batch-size", "16", "--workers", "2", "--no-progress",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    records = out / RECORDS_FILE
    deadline = time.monotonic() + 60
    killed_at = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if records.exists():
                killed_at = records.read_bytes().count(b"\n")
                if killed_at >= 40:
                    os.kill(proc.pid, signal.SIGKILL)
                    break
            time.sleep(0.02)
    finally:
        if proc.poll() is None and killed_at < 40:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    assert 40 <= killed_at < N
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["status"] == "running"  # the end was never reached

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = lines(records)  # every line parses
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == N
    assert set(ids) == {r["id"] for r in lines(full_out / RECORDS_FILE)}
    resumed = json.loads((out / MANIFEST_FILE).read_text())
    assert resumed["complete"] and resumed["counts"]["resumed"] >= 40
    assert list(read_jsonl(records))  # and every line is a valid record


def test_rerun_of_a_complete_run_writes_nothing_and_can_extend(full_run, example_url, tmp_path):
    _, full_out = full_run
    out = tmp_path / "extend"
    synthesize(example_url, SynthConfig(n=60, seed=SEED), out, progress=False)
    again = synthesize(example_url, SynthConfig(n=60, seed=SEED), out, progress=False)
    assert again.written == 0 and again.resumed == 60
    more = synthesize(example_url, SynthConfig(n=90, seed=SEED), out, progress=False)
    assert more.written == 30
    expected = [r["id"] for r in lines(full_out / RECORDS_FILE)][:90]
    assert [r["id"] for r in lines(out / RECORDS_FILE)] == expected


def test_several_questions_per_sql_no_cot_and_evidence(example_url, tmp_path):
    config = SynthConfig(
        n=60, seed=5, questions_per_sql=2, with_cot=False, with_evidence=True, infeasible_rate=0
    )
    report = synthesize(example_url, config, tmp_path, progress=False)
    records = list(read_jsonl(tmp_path / RECORDS_FILE))
    assert report.records == 60 and all(r.cot is None for r in records)
    by_sql: dict[str, set[str]] = {}
    for r in records:
        by_sql.setdefault(r.sql, set()).add(r.style)
    # each statement is asked in two different styles (the last one may be cut at n)
    assert sum(len(styles) == 2 for styles in by_sql.values()) >= len(by_sql) - 1
    assert any(r.evidence for r in records)


def test_resume_with_other_options_is_refused(example_url, tmp_path):
    synthesize(example_url, SynthConfig(n=20, seed=1), tmp_path, progress=False)
    with pytest.raises(ResumeMismatchError, match="seed"):
        synthesize(example_url, SynthConfig(n=20, seed=2), tmp_path, progress=False)
    report = synthesize(example_url, SynthConfig(n=20, seed=2, resume=False), tmp_path, progress=False)
    assert report.written == 20 and len(lines(tmp_path / RECORDS_FILE)) == 20


# --- other dialects ------------------------------------------------------------------------------


def copy_to_duckdb(sqlite_path: Path, duckdb_path: Path) -> str:
    """The same tables and rows in a DuckDB file: CREATE TABLE with mapped types, then INSERT."""
    import duckdb
    import pyarrow as pa

    src = sqlite3.connect(sqlite_path)
    dst = duckdb.connect(str(duckdb_path))
    query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    names = [r[0] for r in src.execute(query)]
    for name in names:
        columns = src.execute(f'PRAGMA table_info("{name}")').fetchall()
        types = []
        for _, _, declared, *_ in columns:
            d = (declared or "").upper()
            if "INT" in d:
                types.append(("BIGINT", pa.int64()))
            elif any(k in d for k in ("REAL", "FLOA", "DOUB", "DEC", "NUM")):
                types.append(("DOUBLE", pa.float64()))
            else:
                types.append(("VARCHAR", pa.string()))
        spec = ", ".join(f'"{c[1]}" {t[0]}' for c, t in zip(columns, types, strict=True))
        dst.execute(f'CREATE TABLE "{name}" ({spec})')
        rows = src.execute(f'SELECT * FROM "{name}"').fetchall()
        data = {}
        for i, (c, (_, arrow_type)) in enumerate(zip(columns, types, strict=True)):
            values = [r[i] for r in rows]
            if arrow_type == pa.string():
                values = [None if v is None else str(v) for v in values]
            data[c[1]] = pa.array(values, type=arrow_type)
        dst.register("incoming", pa.table(data))
        dst.execute(f'INSERT INTO "{name}" SELECT * FROM incoming')
        dst.unregister("incoming")
    dst.close()
    src.close()
    return f"duckdb:///{duckdb_path}"


def test_duckdb_records_are_reverified_on_duckdb(example_db, example_url, tmp_path):
    duck_url = copy_to_duckdb(example_db, tmp_path / "bookshop.duckdb")
    config = SynthConfig(
        n=80, seed=3, dialects=["duckdb"], dialect_urls={"duckdb": duck_url}, infeasible_rate=0
    )
    report = synthesize(example_url, config, tmp_path / "out", progress=False)
    records = list(read_jsonl(tmp_path / "out" / RECORDS_FILE))
    assert report.complete and len(records) == 80
    assert {r.dialect for r in records} == {"duckdb"}
    with Executor(workers=2, cache=False) as ex:
        outcomes = ex.run_batch([Query(duck_url, r.sql, keep_rows=False) for r in records])
    for r, o in zip(records, outcomes, strict=True):
        assert o.ok and o.fingerprint == r.result_fingerprint, r.sql
        if cot_available():
            assert r.cot.endswith(f"```sql\n{r.sql}\n```")  # the rationale ends in the DuckDB statement
    # SQLite's integer division, date functions … do not all carry over: counted, never written
    assert set(report.record_rejections) <= {"dialect_mismatch", "transpile_error"}


def test_both_dialects_and_missing_dialect_url(example_db, example_url, tmp_path):
    duck_url = copy_to_duckdb(example_db, tmp_path / "b.duckdb")
    config = SynthConfig(n=40, seed=4, dialects=["sqlite", "duckdb"], dialect_urls={"duckdb": duck_url})
    report = synthesize(example_url, config, tmp_path / "out", progress=False)
    assert set(report.by_dialect) == {"sqlite", "duckdb"}
    with pytest.raises(SynthConfigError, match="--dialect-url duckdb="):
        synthesize(example_url, SynthConfig(n=5, dialects=["duckdb"]), tmp_path / "x", progress=False)
    with pytest.raises(SynthConfigError, match="points at a sqlite database"):
        synthesize(
            example_url, SynthConfig(n=5, dialects=["duckdb"], dialect_urls={"duckdb": example_url}),
            tmp_path / "y", progress=False,
        )  # fmt: skip


# --- databases that are hard to synthesize from --------------------------------------------------


def make_db(path: Path, script: str) -> str:
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def test_missing_unreadable_and_tableless_databases(tmp_path):
    with pytest.raises(DatabaseUnavailableError, match="does not exist"):
        synthesize(f"sqlite:///{tmp_path / 'nope.sqlite'}", SynthConfig(n=5), tmp_path / "o", progress=False)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseUnavailableError):
        synthesize(f"sqlite:///{garbage}", SynthConfig(n=5), tmp_path / "o", progress=False)
    empty = make_db(tmp_path / "empty.sqlite", "PRAGMA user_version = 1;")
    with pytest.raises(EmptySchemaError, match="no tables"):
        synthesize(empty, SynthConfig(n=5), tmp_path / "o", progress=False)
    no_rows = make_db(tmp_path / "norows.sqlite", "CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT);")
    with pytest.raises(EmptySchemaError, match="every table"):
        synthesize(no_rows, SynthConfig(n=5), tmp_path / "o", progress=False)
    assert not (tmp_path / "o" / RECORDS_FILE).exists()


NO_KEYS = """
CREATE TABLE city (name TEXT, country TEXT, population INTEGER, area REAL);
CREATE TABLE unused (a TEXT);
""" + "\n".join(
    f"INSERT INTO city VALUES ('c{i}', '{['fr', 'de', 'it', 'es'][i % 4]}', {1000 + 37 * i * i}, {10.5 + i});"
    for i in range(40)
)


def test_schema_without_keys_skips_empty_tables_and_never_joins(tmp_path):
    url = make_db(tmp_path / "nokeys.sqlite", NO_KEYS)
    report = synthesize(url, SynthConfig(n=30, seed=1), tmp_path / "out", progress=False)
    assert report.records == 30
    assert any("empty table" in w and "unused" in w for w in report.warnings)
    assert any("no foreign keys" in w for w in report.warnings)
    assert all(
        "JOIN" not in r.sql.upper() and "unused" not in r.sql
        for r in read_jsonl(tmp_path / "out" / RECORDS_FILE)
    )


def test_five_hundred_tables(tmp_path):
    script = []
    for i in range(500):
        parent = f", parent_id INTEGER REFERENCES t{i - 1:03d}(id)" if i else ""
        script.append(f"CREATE TABLE t{i:03d} (id INTEGER PRIMARY KEY, label TEXT, amount REAL{parent});")
        for r in range(1, 6):
            script.append(
                f"INSERT INTO t{i:03d} VALUES ({r}, 'item {(i * 7 + r) % 13}', {(i * 31 + r * 17) % 100}.5"
                + (f", {(i + r) % 5 + 1});" if i else ");")
            )
    url = make_db(tmp_path / "wide.sqlite", "\n".join(script))
    t0 = time.perf_counter()
    report = synthesize(url, SynthConfig(n=40, seed=2), tmp_path / "out", progress=False)
    assert report.records == 40 and time.perf_counter() - t0 < 30
    assert len({r.sql for r in read_jsonl(tmp_path / "out" / RECORDS_FILE) if r.feasible}) == report.feasible


# --- the command ---------------------------------------------------------------------------------


def mounted() -> typer.Typer:
    """The synth app mounted the way the top-level ``sqlfoundry`` command mounts it."""
    from sqlfoundry.synth.cli import app

    top = typer.Typer()

    @top.callback()
    def main() -> None:
        """top"""

    top.add_typer(app, name="synth")
    return top


def test_cli_synthesizes_and_prints_a_summary(example_url, tmp_path):
    result = CliRunner().invoke(
        mounted(), ["synth", example_url, "-n", "40", "-o", str(tmp_path), "--seed", "3",
                    "--complexity", "simple=1,moderate=1", "--styles", "formal,concise", "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "records/s" in result.output and "rejected because" in result.output
    records = list(read_jsonl(tmp_path / RECORDS_FILE))
    assert len(records) == 40
    assert {r.complexity for r in records if r.feasible} <= {"simple", "moderate"}
    assert {r.style for r in records} <= {"formal", "concise"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sqlite:///definitely/missing.sqlite", "-n", "5"], "does not exist"),
        (["{url}", "-n", "5", "--styles", "shouty"], "unknown style"),
        (["{url}", "-n", "5", "--complexity", "easy=1"], "bad complexity weight"),
        (["{url}", "-n", "5", "--dialect", "duckdb"], "--dialect-url"),
        (["{url}", "-n", "5", "--dialect-url", "duckdb"], "DIALECT=URL"),
        (["{url}", "-n", "5", "--exclude", "missing.json"], "does not exist"),
    ],
)
def test_cli_errors_are_one_line(example_url, tmp_path, args, message):
    args = [a.replace("{url}", example_url) for a in args]
    result = CliRunner().invoke(mounted(), ["synth", *args, "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) <= 2


def test_synth_dispatches_registered_subcommands(monkeypatch, example_url, tmp_path):
    from sqlfoundry.synth import cli

    calls = []
    fake = typer.Typer()

    @fake.command("make")
    def make(size: int = 1) -> None:
        calls.append(("make", size))

    @fake.command("list")
    def list_() -> None:
        calls.append(("list",))

    monkeypatch.setitem(cli._SUBCOMMANDS, "fakedb", (fake, "A fake verb."))
    runner = CliRunner()
    assert runner.invoke(mounted(), ["synth", "fakedb", "make", "--size", "3"]).exit_code == 0
    assert runner.invoke(mounted(), ["synth", "fakedb", "list"]).exit_code == 0
    assert calls == [("make", 3), ("list",)]
    listing = runner.invoke(mounted(), ["synth", "--help"]).output
    assert "fakedb" in listing and "run" in listing
    # anything else is a database URL for the default command, options first or last
    result = runner.invoke(mounted(), ["synth", "-n", "5", example_url, "-o", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert (
        runner.invoke(mounted(), ["synth", "run", example_url, "-n", "5", "-o", str(tmp_path)]).exit_code == 0
    )
    with pytest.raises(ValueError):
        cli.register_synth_subcommand("run", fake)


def test_register_synth_subcommand_by_import_path(monkeypatch):
    from sqlfoundry.synth import cli

    monkeypatch.setitem(cli._SUBCOMMANDS, "ghost", ("sqlfoundry.synth.no_such_module:app", None))
    runner = CliRunner()
    assert "ghost" not in runner.invoke(mounted(), ["synth", "--help"]).output
    monkeypatch.setattr(cli, "_SUBCOMMANDS", dict(cli._SUBCOMMANDS))
    cli.register_synth_subcommand("dbx", "sqlfoundry.synth.db_cli:app")
    if cli._available("sqlfoundry.synth.db_cli:app"):
        assert runner.invoke(mounted(), ["synth", "dbx", "--help"]).exit_code == 0


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_server_dialects_are_reverified_on_the_server(engine, request, example_db, example_url, tmp_path):
    """Records for PostgreSQL / MariaDB, re-verified on a throwaway server holding the same data."""
    from servers import copy_sqlite_into
    from sqlfoundry.db.url import parse_url

    admin = request.getfixturevalue("pg_server" if engine == "postgres" else "mysql_server")
    copy = copy_sqlite_into(example_db, admin, f"synth_{engine}", fold_case=False)
    config = SynthConfig(n=40, seed=6, dialects=[engine], dialect_urls={engine: copy.url}, infeasible_rate=0)
    report = synthesize(example_url, config, tmp_path, progress=False)
    records = list(read_jsonl(tmp_path / RECORDS_FILE))
    assert report.complete and len(records) == 40 and {r.dialect for r in records} == {engine}
    with Executor(workers=1, cache=False) as ex:
        outcomes = ex.run_batch([Query(copy.url, r.sql, keep_rows=False) for r in records])
    assert all(o.ok and o.fingerprint == r.result_fingerprint for r, o in zip(records, outcomes, strict=True))
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert manifest["config"]["dialect_urls"][engine] == parse_url(copy.url).display  # password masked
    assert set(report.record_rejections) <= {"dialect_mismatch", "transpile_error"}
