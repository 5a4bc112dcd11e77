"""The data verbs: ``sqlfoundry export`` (records → Parquet, TRL chat, Spider, BIRD, decontaminated),
``sqlfoundry stats`` (what a records file holds) and ``sqlfoundry synth coverage`` (against gold)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table as RichTable

from ..db.schema_model import Schema
from ..errors import InputFormatError, SQLFoundryError
from ..records import Record

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, help="Export and inspect records.")
coverage_app = typer.Typer(
    pretty_exceptions_enable=False, help="Construct coverage of records against a gold set."
)

console = Console()
err_console = Console(stderr=True)

EXPORT_FORMATS = ("jsonl", "parquet", "trl", "spider", "bird")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


# ------------------------------------------------------------------------------------------------
# Schemas for prompts and tables.json
# ------------------------------------------------------------------------------------------------


def load_schemas(
    db_ids: list[str],
    dbs: list[str] | None = None,
    db_dir: Path | None = None,
    tables: Path | None = None,
    sample_values: int = 5,
) -> dict[str, Schema]:
    """Schemas of the databases ``db_ids`` from, in order of preference: ``dbs`` (database URLs,
    introspected with sample values; ``NAME=URL`` names one, and a single URL serves a single db_id),
    ``db_dir`` (Spider's ``<dir>/<db_id>/<db_id>.sqlite`` or ``<dir>/<db_id>.sqlite``) and ``tables``
    (a Spider/BIRD ``tables.json``, no sample values). Databases found nowhere are left out."""
    from ..db.connectors import connector_for
    from ..db.schema import introspect
    from ..db.spider_tables import read_tables_json

    found: dict[str, Schema] = {}
    wanted = list(dict.fromkeys(db_ids))
    for spec in dbs or []:
        name, url = _named_url(spec)
        with connector_for(url) as connector:
            schema = introspect(connector, sample_values=sample_values, db_id=name)
        if name is None and len(dbs or []) == 1 and len(wanted) == 1:
            schema = schema.model_copy(update={"db_id": wanted[0]})
        found.setdefault(schema.db_id, schema)
    if db_dir is not None:
        for db_id in wanted:
            if db_id in found:
                continue
            for candidate in (db_dir / db_id / f"{db_id}.sqlite", db_dir / f"{db_id}.sqlite"):
                if candidate.is_file():
                    with connector_for(f"sqlite:///{candidate.resolve()}") as connector:
                        found[db_id] = introspect(connector, sample_values=sample_values, db_id=db_id)
                    break
    if tables is not None:
        for schema in read_tables_json(tables):
            found.setdefault(schema.db_id, schema)
    return found


def _named_url(spec: str) -> tuple[str | None, str]:
    name, eq, rest = spec.partition("=")
    if eq and name and not any(ch in name for ch in ":/?@"):
        return name, rest
    return None, spec


# ------------------------------------------------------------------------------------------------
# export
# ------------------------------------------------------------------------------------------------


@app.command("export")
def export_command(
    data: Path = typer.Argument(
        ..., help="Records: a JSONL or Parquet file, or a run folder (its records.jsonl)."
    ),
    fmt: str = typer.Option("parquet", "--format", "-f", help=f"One of {', '.join(EXPORT_FORMATS)}."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output file (jsonl, parquet, trl) or folder (spider, bird)."
    ),
    db: list[str] = typer.Option(
        None, "--db", help="Database URL (or NAME=URL) for prompt schemas; repeatable."
    ),
    db_dir: Path | None = typer.Option(None, "--db-dir", help="Folder of <db_id>/<db_id>.sqlite databases."),
    tables: Path | None = typer.Option(
        None, "--tables", help="Spider/BIRD tables.json for schemas (no values)."
    ),
    exclude: list[Path] = typer.Option(
        None, "--exclude", help="Evaluation file whose items must not leak; repeatable."
    ),
    ngram: int = typer.Option(8, "--ngram", min=1, help="Question n-gram length for --exclude."),
    sql_match: str = typer.Option(
        "template", "--sql-match", help="SQL comparison for --exclude: template, normalized, none."
    ),
    split: str | None = typer.Option(None, "--split", help="Only records of this split."),
    no_cot: bool = typer.Option(False, "--no-cot", help="trl: leave the reasoning out of the answers."),
    include_infeasible: bool = typer.Option(
        False, "--include-infeasible", help="spider/bird: write unanswerable questions with a null SQL."
    ),
    name: str = typer.Option("dev", "--name", help="spider/bird: base name of the files written."),
    sample_values: int = typer.Option(
        5, "--sample-values", min=0, help="Sample values per column in prompt schemas."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Write records as Parquet, TRL chat JSONL, Spider or BIRD files (or JSONL again), optionally
    dropping records that leak evaluation items (--exclude)."""
    from . import export as ex
    from .decontaminate import DecontaminationReport, Decontaminator

    if fmt not in EXPORT_FORMATS:
        raise _fail(f"unknown format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    try:
        decontaminator = (
            Decontaminator.from_files(exclude, ngram=ngram, sql_match=sql_match) if exclude else None
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    except SQLFoundryError as exc:
        raise _fail(str(exc)) from None
    report = DecontaminationReport()

    def records() -> Iterator[Record]:
        stream = ex.read_records(data)
        if split is not None:
            stream = (r for r in stream if r.split == split)
        if decontaminator is not None:
            stream = decontaminator.iter_clean(stream, report)
        return stream

    try:
        if not data.exists():
            raise InputFormatError(
                f"{data} does not exist: give a records file (.jsonl, .parquet) or a run folder"
            )
        schemas: dict[str, Schema] | None = None
        if fmt in ("trl", "spider", "bird") and (db or db_dir or tables or fmt == "trl"):
            db_ids = sorted({r.db_id for r in ex.read_records(data)})
            schemas = load_schemas(db_ids, db, db_dir, tables, sample_values)
            if fmt == "trl":
                missing = [d for d in db_ids if d not in schemas]
                if missing:
                    raise ex.ExportError(
                        f"no schema for database(s) {', '.join(missing)}: the prompt needs each schema; "
                        "give --db URL, --db-dir or --tables"
                    )
        files: list[str]
        skipped: dict[str, int] = {}
        if fmt == "jsonl":
            written, files = ex.write_jsonl(records(), out), [str(out)]
        elif fmt == "parquet":
            written, files = ex.to_parquet(records(), out), [str(out)]
        elif fmt == "trl":
            assert schemas is not None
            written = ex.to_trl_chat(records(), schemas, out, with_cot=not no_cot, columns=("id", "db_id"))
            files = [str(out)]
        else:
            writer = ex.to_spider if fmt == "spider" else ex.to_bird
            summary = writer(
                records(), out, schemas=schemas, name=name, include_infeasible=include_infeasible
            )
            written, files, skipped = summary.written, [str(f) for f in summary.files], summary.skipped
    except SQLFoundryError as exc:
        raise _fail(str(exc)) from None
    result = {"format": fmt, "written": written, "files": files, "skipped": skipped}
    if decontaminator is not None:
        result["decontamination"] = report.to_dict()
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        return
    console.print(f"wrote {written} records ({fmt}) to {', '.join(files)}", highlight=False)
    for reason, n in skipped.items():
        console.print(f"skipped {n} {reason} records (the format cannot express them)", highlight=False)
    if decontaminator is not None:
        reasons = ", ".join(f"{n} by {r}" for r, n in result["decontamination"]["by_reason"].items())
        console.print(
            f"decontamination: dropped {report.dropped} of {report.checked} records ({reasons})",
            highlight=False,
        )


# ------------------------------------------------------------------------------------------------
# stats
# ------------------------------------------------------------------------------------------------


@app.command("stats")
def stats_command(
    data: Path = typer.Argument(..., help="Records: a JSONL or Parquet file, or a run folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
    top: int = typer.Option(25, "--top", min=1, help="Rows per table in the table view."),
) -> None:
    """Counts by skill, reasoning skill, complexity, style, database, dialect, feasibility, verification
    and split, and the run's rejection counts when its manifest is beside the records."""
    from .stats import BREAKDOWNS, stats_for_path

    try:
        stats = stats_for_path(data)
    except SQLFoundryError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(stats.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    console.print(
        f"[bold]{stats.total}[/] records in {stats.source} — {stats.with_cot} with reasoning, "
        f"{stats.with_evidence} with evidence, {stats.empty_results} with an empty result",
        highlight=False,
    )
    for key, title in BREAKDOWNS.items():
        counter = stats.counts[key]
        if counter:
            console.print(_count_table(title, counter, stats.total, top))
    if stats.rejections:
        console.print(
            _count_table("Rejected candidates", stats.rejections, stats.rejected, top, share_of="rejected")
        )


def _count_table(title: str, counts, total: int, top: int, share_of: str = "records") -> RichTable:
    table = RichTable(title=title, title_justify="left")
    table.add_column(title.lower())
    table.add_column("count", justify="right")
    table.add_column(f"% of {share_of}", justify="right")
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    for value, n in rows[:top]:
        table.add_row(str(value), str(n), f"{100 * n / total:.1f}" if total else "-")
    if len(rows) > top:
        table.caption = f"{top} of {len(rows)} shown"
    return table


# ------------------------------------------------------------------------------------------------
# synth coverage
# ------------------------------------------------------------------------------------------------


@coverage_app.callback(invoke_without_command=True, context_settings={"allow_interspersed_args": True})
def coverage_command(
    data: list[Path] = typer.Argument(..., help="Records files (JSONL, Parquet) or run folders."),
    against: Path = typer.Option(
        ..., "--against", help="Gold: Spider/BIRD JSON, SQL<TAB>db_id or one SQL per line."
    ),
    min_count: int = typer.Option(
        1, "--min-count", min=1, help="Records needed for a construct to count as covered."
    ),
    dialect: str = typer.Option("sqlite", "--dialect", help="Dialect of the gold SQL."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    show: int = typer.Option(40, "--show", min=1, help="Constructs to list in the table view."),
) -> None:
    """Which SQL constructs of a gold set the records contain and which they lack, with the share of
    gold queries fully covered and the share of construct types covered."""
    from .coverage import coverage_from_files

    try:
        report = coverage_from_files(against, data, min_count=min_count, dialect=dialect)
    except SQLFoundryError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    table = RichTable(title=f"Gold constructs ({report.gold_queries} queries)", title_justify="left")
    for column, justify in (
        ("construct", "left"),
        ("gold", "right"),
        ("data", "right"),
        ("covered", "center"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    # missing constructs first (most used by gold first), then covered ones
    ordered = report.missing() + [c for c in report.constructs if c.covered]
    for c in ordered[:show]:
        table.add_row(
            c.name, str(c.gold_count), str(c.data_count), "[green]yes[/]" if c.covered else "[red]no[/]"
        )
    if len(ordered) > show:
        table.caption = f"{show} of {len(ordered)} constructs shown (missing first)"
    console.print(table)
    n_types = len(report.constructs)
    n_covered = n_types - len(report.missing())
    console.print(
        f"queries fully covered: {report.queries_covered}/{report.gold_queries} ({100 * report.query_coverage:.1f}%)\n"
        f"construct types covered: {n_covered}/{n_types} ({100 * report.construct_coverage:.1f}%)\n"
        f"gold-weighted construct coverage: {100 * report.weighted_coverage:.1f}%",
        highlight=False,
    )
    if report.gold_unparsed or report.data_unparsed:
        console.print(
            f"[yellow]not parsed:[/] {report.gold_unparsed} gold queries, {report.data_unparsed} records",
            highlight=False,
        )


__all__ = [
    "EXPORT_FORMATS",
    "app",
    "coverage_app",
    "coverage_command",
    "export_command",
    "load_schemas",
    "stats_command",
]
