"""The ``sqlfoundry`` command run as a real subprocess: outputs, JSON and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from sqlfoundry.db.example import build_example_db

EXE = [
    shutil.which("sqlfoundry") or sys.executable,
    *([] if shutil.which("sqlfoundry") else ["-m", "sqlfoundry.cli"]),
]


def run(*args: str, stdin: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*EXE, *args], capture_output=True, text=True, input=stdin, timeout=120, cwd=cwd)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return build_example_db(tmp_path_factory.mktemp("cli") / "example.sqlite")


@pytest.mark.parametrize(
    ("sql", "code", "status"),
    [
        ("SELECT count(*) AS n FROM book", 0, "ok"),
        ("SELEC 1", 3, "syntax_error"),
        ("SELECT missing FROM book", 4, "runtime_error"),
        (
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT count(*) FROM r",
            5,
            "timeout",
        ),
        ("DROP TABLE book", 6, "denied"),
        ("SELECT * FROM sale_item", 7, "too_large"),
    ],
)
def test_exec_json_and_exit_codes(example, sql, code, status):
    proc = run("exec", f"sqlite:///{example}", sql, "--json", "--timeout", "0.5", "--max-rows", "1000")
    assert proc.returncode == code, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == status
    if status == "ok":
        assert data["columns"] == ["n"] and data["rows"][0][0] > 0


def test_exec_reads_stdin_and_prints_a_table(example):
    proc = run(
        "exec",
        f"sqlite:///{example}",
        "-",
        stdin="SELECT genre FROM book GROUP BY genre ORDER BY genre LIMIT 2",
    )
    assert proc.returncode == 0
    assert "genre" in proc.stdout and "2 rows" in proc.stdout


def test_exec_missing_database_is_a_clear_error(tmp_path):
    proc = run("exec", f"sqlite:///{tmp_path}/nope.sqlite", "SELECT 1")
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("exec", "oracle://h/db", "SELECT 1")
    assert proc.returncode == 2 and "unsupported database scheme" in proc.stderr


def test_schema_json_and_spider_tables(example, tmp_path):
    out = tmp_path / "tables.json"
    proc = run("schema", f"sqlite:///{example}", "--json", "--spider-tables", str(out))
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    names = {t["name"] for t in schema["tables"]}
    assert {"book", "sale", "customer"} <= names
    book = next(t for t in schema["tables"] if t["name"] == "book")
    assert book["primary_key"] == ["book_id"] and book["row_count"] > 0
    spider = json.loads(out.read_text())
    assert spider[0]["table_names_original"] and spider[0]["foreign_keys"]


def test_example_refuses_to_overwrite(tmp_path):
    target = tmp_path / "ex.sqlite"
    assert run("example", str(target), "--scale", "0.1").returncode == 0
    before = target.read_bytes()
    proc = run("example", str(target))
    assert proc.returncode == 2 and "exists" in proc.stderr
    assert target.read_bytes() == before


def test_quickstart_builds_and_queries(tmp_path):
    proc = run("quickstart", "--path", str(tmp_path / "q.sqlite"))
    assert proc.returncode == 0, proc.stderr
    assert "units_sold" in proc.stdout and "Fiction" in proc.stdout


def test_cli_imports_without_a_separate_click():
    """typer vendors click; the base install has no `click` package, so no module may import it."""
    code = (
        "import sys; sys.modules['click'] = None; import typer.main; "
        "from sqlfoundry.cli import app, _LAZY_COMMANDS; g = typer.main.get_command(app); "
        "print(sum(g.get_command(None, n) is not None for n in _LAZY_COMMANDS), len(_LAZY_COMMANDS))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded, total = map(int, proc.stdout.split())
    assert loaded == total >= 8  # every stage verb loads: synth, eval, testsuite, train, export, ...


def test_cli_loads_only_the_stage_it_runs():
    """A verb imports its own stage only: `exec` must not pay for sqlglot-heavy or training modules."""
    code = (
        "import sys; from typer.testing import CliRunner; from sqlfoundry.cli import app; "
        "r = CliRunner().invoke(app, ['exec', '--help']); assert r.exit_code == 0, r.output; "
        "print(' '.join(m for m in ('sqlfoundry.synth.cli', 'sqlfoundry.eval.cli', 'sqlfoundry.train.cli', "
        "'sqlfoundry.records') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
