"""``sqlfoundry testsuite``: build distilled test suites from the command line.

Only parses options and reads the gold file; the work is :func:`sqlfoundry.eval.testsuite.build_test_suite`.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from ..errors import InputFormatError, SQLFoundryError
from .testsuite import build_test_suite

app = typer.Typer(
    help="Distilled test suites (Zhong et al. 2020) for any SQLite database.", no_args_is_help=True
)


@app.callback()
def testsuite() -> None:
    """Distilled test suites (Zhong et al. 2020) for any SQLite database."""


def read_gold_sqls(path: str | Path) -> list[tuple[str, str | None]]:
    """(SQL, db_id or None) pairs from a Spider-format JSON list (``query``/``SQL``/``sql`` and
    ``db_id``) or a text file with one SQL per line, optionally followed by a TAB and the db_id."""
    path = Path(path)
    if not path.is_file():
        raise InputFormatError(f"gold file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"{path} is not UTF-8 text: {exc}") from None
    if text.lstrip()[:1] in ("[", "{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFormatError(f"{path} is not valid JSON: {exc}") from None
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            data = data["data"]
        if not isinstance(data, list):
            raise InputFormatError(f"{path}: expected a JSON list of records with 'query' and 'db_id'")
        out: list[tuple[str, str | None]] = []
        for i, rec in enumerate(data):
            sql = next((rec[f] for f in ("query", "SQL", "sql") if isinstance(rec, dict) and f in rec), None)
            if not isinstance(sql, str):
                raise InputFormatError(f"{path}: record {i} has no SQL string in 'query', 'SQL' or 'sql'")
            db_id = rec.get("db_id")
            out.append((sql, str(db_id) if db_id is not None else None))
        return out
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        sql, _tab, db_id = line.rpartition("\t") if "\t" in line else (line, "", "")
        out.append((sql.strip(), db_id.strip() or None))
    return out


def _databases(db: str, db_ids: list[str]) -> list[tuple[str, str]]:
    """(db_id, path or URL) to build for: one database, or every gold db_id under a Spider-style
    ``database/`` folder (``<dir>/<db_id>/<db_id>.sqlite``)."""
    as_path = Path(db)
    if "://" not in db and as_path.is_dir():
        found = []
        for db_id in db_ids:
            candidate = as_path / db_id / f"{db_id}.sqlite"
            if candidate.is_file():
                found.append((db_id, str(candidate)))
        return found
    if "://" in db:
        stem = Path(db.split("://", 1)[1].split("?", 1)[0]).stem
    else:
        stem = as_path.stem
    return [(stem, db)]


@app.command("build")
def build(
    db: str = typer.Option(..., "--db", help="SQLite URL or file, or a folder of <db_id>/<db_id>.sqlite"),
    gold: Path = typer.Option(
        ..., "--gold", help="Spider JSON (query, db_id) or .sql lines 'SQL[<TAB>db_id]'"
    ),
    out: Path = typer.Option(..., "--out", help="Output folder: <out>/<db_id>/*.sqlite and reports"),
    k: int = typer.Option(10, "-k", "--k", help="At most this many fuzzed databases per suite"),
    seed: int = typer.Option(0, "--seed", help="Same seed, same suite"),
    candidates: int = typer.Option(100, "--candidates", help="Candidate databases fuzzed per suite"),
    max_mutants: int = typer.Option(60, "--max-mutants", help="Near misses kept per gold query"),
    reject_ties: bool = typer.Option(
        False, "--reject-ties", help="Drop candidates where an ordered gold answer depends on tie-breaking"
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing suite"),
    workers: int | None = typer.Option(None, "--workers", help="Executor worker processes (default: CPUs)"),
) -> None:
    """Build a distilled test suite for each database the gold queries use."""
    console = Console(stderr=True)
    try:
        pairs = read_gold_sqls(gold)
        db_ids = list(dict.fromkeys(d for _sql, d in pairs if d))
        targets = _databases(db, db_ids)
        if not targets:
            raise InputFormatError(f"none of the gold db_ids {db_ids[:5]} has a database under {db}")
        from ..db.executor import Executor

        with Executor(workers=workers, cache=False) as executor:
            for db_id, location in targets:
                sqls = [sql for sql, d in pairs if d is None or d == db_id]
                if not sqls:
                    console.print(f"[yellow]{db_id}: no gold query names this database; skipped[/]")
                    continue
                report = build_test_suite(
                    location, sqls, out, k=k, seed=seed, n_candidates=candidates, executor=executor,
                    db_id=db_id, max_mutants_per_query=max_mutants, reject_ties=reject_ties,
                    overwrite=overwrite, show_progress=True,
                )  # fmt: skip
                console.print(
                    f"{db_id}: {report.gold_used}/{report.gold_total} gold queries, "
                    f"{report.mutants_total} near misses; told apart by the original: "
                    f"{report.killed_by_original}, by the suite ({1 + len(report.databases)} databases): "
                    f"{report.killed_by_suite}. Report: {report.report_path}"
                )
    except SQLFoundryError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(exc.exit_code) from None
