"""The ``sqlfoundry`` command: small verbs over the library; each verb only parses options and calls
library functions, and turns typed errors into one clear line and a non-zero exit."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
import typer.main
from typer.core import TyperGroup

from . import __version__
from .errors import SQLFoundryError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table as RichTable

#: Verbs that live beside their stage, imported only when used (a stage's imports — sqlglot,
#: pydantic, the training stack — would otherwise slow every command down): name → (module, help);
#: a help of None marks a top-level verb defined in that module rather than a group of verbs.
_LAZY_COMMANDS: dict[str, tuple[str, str | None]] = {
    "synth": ("sqlfoundry.synth.cli", "Synthesize verified text-to-SQL records from a database."),
    "eval": ("sqlfoundry.eval.cli", "Execution accuracy under Spider and BIRD rules, test-suite, reliability."),
    "testsuite": ("sqlfoundry.eval.testsuite_cli", "Build distilled test suites for any database."),
    "train": ("sqlfoundry.train.cli", "Train a model on records: SFT, DPO and GRPO with execution rewards."),
    "export": ("sqlfoundry.synth.data_cli", None),
    "stats": ("sqlfoundry.synth.data_cli", None),
    "predict": ("sqlfoundry.train.predict_cli", None),
    "distill": ("sqlfoundry.train.distill_cli", None),
}


class _LazyGroup(TyperGroup):
    """The top-level group: stage verbs are loaded from their module on first use."""

    def list_commands(self, ctx):  # type: ignore[no-untyped-def]
        names = list(super().list_commands(ctx))
        return names + [n for n in _LAZY_COMMANDS if n not in names and self._load(n) is not None]

    def get_command(self, ctx, cmd_name):  # type: ignore[no-untyped-def]
        return super().get_command(ctx, cmd_name) or self._load(cmd_name)

    def _load(self, name: str):  # type: ignore[no-untyped-def]
        import importlib

        if name not in _LAZY_COMMANDS:
            return None
        module, help_text = _LAZY_COMMANDS[name]
        try:
            sub = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("sqlfoundry"):
                return None  # a stage missing from this installation
            raise
        command = typer.main.get_command(sub.app)
        if help_text is None and hasattr(command, "commands"):
            command = command.commands.get(name)  # one verb of a module that defines several
        elif help_text is not None:
            command.help = help_text
        if command is not None:
            command.name = name
            self.add_command(command, name)
        return command


app = typer.Typer(
    cls=_LazyGroup,
    help="SQLFoundry: verified text-to-SQL data, training and evaluation for any database.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@functools.cache
def _console(stderr: bool = False) -> Console:
    """The stdout (or stderr) console, made at first use: importing rich costs every command ~30 ms,
    and a quiet evaluation never prints through it."""
    from rich.console import Console

    return Console(stderr=stderr)


def _fail(message: str, code: int = 2) -> typer.Exit:
    _console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        _console().print(f"sqlfoundry {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """SQLFoundry command line."""


def _render_rows(columns: list[str], rows: list[tuple], limit: int = 50, title: str | None = None) -> RichTable:
    from rich.table import Table as RichTable

    table = RichTable(title=title, show_lines=False)
    for c in columns:
        table.add_column(str(c), overflow="fold")
    for row in rows[:limit]:
        table.add_row(*["NULL" if v is None else str(v) for v in row])
    if len(rows) > limit:
        table.caption = f"{limit} of {len(rows)} rows shown"
    return table


# ------------------------------------------------------------------------------------------------
# exec
# ------------------------------------------------------------------------------------------------


@app.command("exec")
def exec_command(
    url: str = typer.Argument(..., help="Database URL, e.g. sqlite:///example.sqlite"),
    sql: str = typer.Argument(..., help="One SQL statement ('-' reads it from standard input)."),
    timeout: float = typer.Option(10.0, "--timeout", min=0.001, help="Wall-clock limit in seconds."),
    max_rows: int = typer.Option(100_000, "--max-rows", min=1, help="Refuse results with more rows."),
    max_bytes: int = typer.Option(64 * 1024 * 1024, "--max-bytes", min=1, help="Refuse larger results."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
    show: int = typer.Option(50, "--show", help="Rows to print in the table view."),
) -> None:
    """Run one statement read-only and bounded; exit code says how it ended (0 ok, 3 syntax error,
    4 runtime error, 5 timeout, 6 denied, 7 too large)."""
    from .db.connectors import connector_for
    from .db.executor import Executor
    from .db.outcome import EXIT_CODES, Limits

    if sql == "-":
        sql = sys.stdin.read()
    try:
        connector = connector_for(url)
        connector.open()  # fail fast, in-process, with a clear message when the database is unusable
        connector.close()
    except SQLFoundryError as exc:
        raise _fail(str(exc)) from None
    limits = Limits(timeout_s=timeout, max_rows=max_rows, max_bytes=max_bytes)
    with Executor(workers=1, limits=limits, cache=False) as ex:
        outcome = ex.execute(url, sql)
    if as_json:
        sys.stdout.write(json.dumps(outcome.to_json(), ensure_ascii=False, default=str) + "\n")
    elif outcome.ok:
        _console().print(_render_rows(outcome.columns, outcome.rows or [], limit=show))
        _console().print(f"[dim]{outcome.row_count} rows in {outcome.elapsed_ms:.1f} ms[/]")
    else:
        _console(stderr=True).print(f"[bold red]{outcome.status.value}:[/] {outcome.message}", highlight=False)
    raise typer.Exit(EXIT_CODES[outcome.status])


# ------------------------------------------------------------------------------------------------
# schema
# ------------------------------------------------------------------------------------------------


@app.command("schema")
def schema_command(
    url: str = typer.Argument(..., help="Database URL."),
    as_json: bool = typer.Option(False, "--json", help="Print the schema (with statistics) as JSON."),
    spider_tables: Path | None = typer.Option(None, "--spider-tables", help="Also write Spider tables.json here."),
    samples: int = typer.Option(5, "--samples", min=0, help="Distinct sample values per column."),
    no_stats: bool = typer.Option(False, "--no-stats", help="Catalog only: skip counts, samples and ranges."),
    db_id: str | None = typer.Option(None, "--db-id", help="Name for the schema (default: from the URL)."),
) -> None:
    """Introspect a database: tables, columns, types, keys, row counts, value samples and ranges."""
    from .db.connectors import connector_for
    from .db.schema import introspect

    try:
        with connector_for(url) as connector:
            schema = introspect(connector, sample_values=samples, stats=not no_stats, db_id=db_id)
    except SQLFoundryError as exc:
        raise _fail(str(exc)) from None
    if spider_tables is not None:
        from .db.spider_tables import write_tables_json

        write_tables_json([schema], spider_tables)
    if as_json:
        sys.stdout.write(schema.model_dump_json(indent=2) + "\n")
        return
    _print_schema(schema)


def _print_schema(schema) -> None:
    from rich.table import Table as RichTable

    _console().print(f"[bold]{schema.db_id}[/] ({schema.engine}, {len(schema.tables)} tables)")
    for t in schema.tables:
        table = RichTable(title=f"{t.name}  [dim]{t.row_count if t.row_count is not None else '?'} rows[/]",
                          title_justify="left")
        for col in ("column", "type", "key", "null", "distinct", "range / samples"):
            table.add_column(col, overflow="fold")
        fk_of = {c: fk for fk in t.foreign_keys for c in fk.columns}
        for c in t.columns:
            key = "PK" if c.primary_key else ""
            if c.name in fk_of:
                fk = fk_of[c.name]
                key = (key + " " if key else "") + f"→ {fk.ref_table}.{','.join(fk.ref_columns)}"
            if c.min is not None or c.max is not None:
                extra = f"{c.min} … {c.max}"
            else:
                extra = ", ".join(repr(v) for v in c.samples[:3])
            table.add_row(
                c.name,
                f"{c.declared_type or '-'} ({c.inferred_type})",
                key,
                "yes" if c.nullable else "no",
                "" if c.distinct_count is None else str(c.distinct_count),
                extra,
            )
        _console().print(table)


# ------------------------------------------------------------------------------------------------
# example / quickstart
# ------------------------------------------------------------------------------------------------


@app.command("example")
def example_command(
    path: Path = typer.Argument(Path("example.sqlite"), help="Where to write the example SQLite database."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same data)."),
    scale: float = typer.Option(1.0, "--scale", min=0.01, help="Row-count multiplier."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
) -> None:
    """Build the bundled example database, reproducibly, from code."""
    from .db.example import build_example_db

    try:
        out = build_example_db(path, seed=seed, scale=scale, overwrite=overwrite)
    except (SQLFoundryError, FileExistsError) as exc:
        raise _fail(str(exc)) from None
    _console().print(f"wrote {out}")


@app.command("quickstart")
def quickstart_command(
    path: Path = typer.Option(Path("example.sqlite"), "--path", help="Example database file."),
) -> None:
    """Build the example database (if missing), print its schema and run a query on it."""
    from .db.connectors import connector_for
    from .db.example import QUICKSTART_SQL, build_example_db
    from .db.executor import Executor
    from .db.schema import introspect

    if not path.exists():
        build_example_db(path)
        _console().print(f"built example database {path}")
    url = f"sqlite:///{path}"
    try:
        with connector_for(url) as connector:
            schema = introspect(connector, sample_values=3)
    except SQLFoundryError as exc:
        raise _fail(str(exc)) from None
    _print_schema(schema)
    with Executor(workers=1) as ex:
        outcome = ex.execute(url, QUICKSTART_SQL)
    _console().print(f"\n[bold]query[/] {' '.join(QUICKSTART_SQL.split())}")
    if not outcome.ok:
        raise _fail(f"{outcome.status.value}: {outcome.message}")
    _console().print(_render_rows(outcome.columns, outcome.rows or []))


if __name__ == "__main__":
    app()
