"""``sqlfoundry synth``: synthesize verified records from a database (``synth URL …``), with room for
sibling verbs (``synth db …``, ``synth coverage …``) that other modules register by name."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table as RichTable
from typer.core import TyperGroup

from ..errors import SQLFoundryError

if TYPE_CHECKING:  # typer vendors its own click; this name is only for annotations
    import click
from ..records import COMPLEXITIES, STYLES

console = Console()
err_console = Console(stderr=True)

#: the command ``synth URL …`` runs (also reachable as ``synth run URL …``)
DEFAULT_COMMAND = "run"
#: sibling verbs: name → (Typer app, or "module:attribute" imported on first use; help text)
_SUBCOMMANDS: dict[str, tuple[typer.Typer | str, str | None]] = {}


def register_synth_subcommand(name: str, typer_app: typer.Typer | str, help: str | None = None) -> None:
    """Make ``sqlfoundry synth NAME …`` dispatch to ``typer_app`` (a Typer, or ``"module:attr"`` naming
    one, imported only when the verb is used). Registering a name again replaces it."""
    if name == DEFAULT_COMMAND or not name or name.startswith("-"):
        raise ValueError(f"cannot register a synth sub-command called {name!r}")
    _SUBCOMMANDS[name] = (typer_app, help)


def _resolve(entry: typer.Typer | str) -> typer.Typer:
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        return getattr(importlib.import_module(module), attr or "app")
    return entry


def _available(entry: typer.Typer | str) -> bool:
    if not isinstance(entry, str):
        return True
    try:
        return importlib.util.find_spec(entry.partition(":")[0]) is not None
    except ModuleNotFoundError:
        return False


class SynthGroup(TyperGroup):
    """A group whose first argument is either a registered verb or, for anything else (a database
    URL, an option), the default ``run`` command, so ``synth URL -n 10`` and ``synth db …`` both work."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in ("--help", "-h") and args[0] not in self.list_commands(ctx):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        own = super().list_commands(ctx)
        return own + sorted(n for n, (entry, _) in _SUBCOMMANDS.items() if n not in own and _available(entry))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _SUBCOMMANDS and _available(_SUBCOMMANDS[cmd_name][0]):
            entry, help_text = _SUBCOMMANDS[cmd_name]
            command = typer.main.get_command(_resolve(entry))
            command.name = cmd_name
            if help_text and not command.help:
                command.help = help_text
            return command
        return super().get_command(ctx, cmd_name)


# The sibling verbs of this package, imported only when used (a build without them just lacks the verb).
register_synth_subcommand(
    "db", "sqlfoundry.synth.db_cli:app", "Build a realistic SQLite database from scratch."
)
register_synth_subcommand(
    "coverage",
    "sqlfoundry.synth.data_cli:coverage_app",
    "Which SQL constructs of a gold set the records cover.",
)

app = typer.Typer(
    cls=SynthGroup,
    help="Synthesize verified text-to-SQL records from a database: `sqlfoundry synth URL -n 2000 -o out/`.",
    epilog="`synth URL …` is `synth run URL …`: e.g. sqlfoundry synth sqlite:///example.sqlite -n 2000 -o out/",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(x) for x in first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    return f"invalid option {where}: {msg}" if where else f"invalid options: {msg}"


@app.command(DEFAULT_COMMAND)
def run_command(
    url: str = typer.Argument(..., help="Database URL, e.g. sqlite:///example.sqlite"),
    n: int = typer.Option(2000, "-n", "--n", min=1, help="Records to write (feasible and infeasible)."),
    out: Path = typer.Option(
        Path("out"), "-o", "--out", help="Output folder (records.jsonl, manifest.json, records.parquet)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed and options, same records."),
    styles: list[str] = typer.Option(
        None, "--styles", help=f"Question styles (repeat or comma-separate): {', '.join(STYLES)}."
    ),
    complexity: str | None = typer.Option(
        None, "--complexity", help="Complexity weights, e.g. simple=1,moderate=1,complex=1,highly_complex=1."
    ),
    questions_per_sql: int = typer.Option(
        1, "--questions-per-sql", min=1, help="Questions (each another style) per SQL."
    ),
    infeasible_rate: float = typer.Option(
        0.05, "--infeasible-rate", min=0.0, max=0.99, help="Share of unanswerable questions."
    ),
    allow_empty: bool = typer.Option(False, "--allow-empty", help="Keep SQL whose result is empty."),
    exclude: list[Path] = typer.Option(
        None, "--exclude", help="Benchmark file whose questions/SQL must not leak (repeatable)."
    ),
    dialect: list[str] = typer.Option(
        None, "--dialect", help="Write records in this dialect: sqlite, duckdb, postgres, mysql (repeatable)."
    ),
    dialect_url: list[str] = typer.Option(
        None, "--dialect-url", help="DIALECT=URL of the same data in that engine (repeatable)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Executor worker processes (default: CPU count)."
    ),
    timeout: float = typer.Option(5.0, "--timeout", min=0.001, help="Per-statement time limit in seconds."),
    with_evidence: bool = typer.Option(False, "--evidence/--no-evidence", help="Add BIRD-style evidence."),
    cot: bool = typer.Option(True, "--cot/--no-cot", help="Add a chain-of-thought rationale to each record."),
    max_per_template: int = typer.Option(
        3, "--max-per-template", min=1, help="Kept SQL per template (literals abstracted)."
    ),
    batch_size: int = typer.Option(256, "--batch-size", min=1, help="SQL verified per Executor batch."),
    resume: bool = typer.Option(
        True, "--resume/--no-resume", help="Continue a run in the same folder, or start over."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    db_id: str | None = typer.Option(
        None, "--db-id", help="Database name in records (default: from the URL)."
    ),
    llm_url: str | None = typer.Option(
        None, "--llm-url", help="OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama, hosted) for questions and CoT."
    ),
    llm_model: str | None = typer.Option(None, "--llm-model", help="Model name served at --llm-url."),
    llm_api_key: str | None = typer.Option(
        None, "--llm-api-key", envvar="OPENAI_API_KEY", help="API key for --llm-url (default: $OPENAI_API_KEY)."
    ),
    llm_samples: int = typer.Option(3, "--llm-samples", min=1, help="Questions sampled per style (consistency)."),
    cot_samples: int = typer.Option(5, "--cot-samples", min=1, help="CoT solutions sampled per question (majority)."),
    llm_concurrency: int = typer.Option(4, "--llm-concurrency", min=1, help="Requests in flight at once."),
) -> None:
    """Sample SQL over the schema, verify it by execution, phrase questions, and write records.

    With --llm-url/--llm-model, an LLM writes the questions (OmniSQL's nine styles, several samples,
    consistency selection) and rationales kept only when a majority of sampled solutions agree with
    the SQL by execution."""
    from .config import SynthConfig, parse_weights
    from .pipeline import synthesize

    try:
        options: dict = {}
        if complexity:
            options["complexity_weights"] = parse_weights(complexity, COMPLEXITIES, "complexity")
        urls = {}
        for item in dialect_url or []:
            name, eq, target = item.partition("=")
            if not eq or not target:
                raise _fail(
                    f"bad --dialect-url {item!r}: expected DIALECT=URL, e.g. duckdb=duckdb:///copy.duckdb"
                )
            urls[name.strip()] = target.strip()
        if _split(styles):
            options["styles"] = _split(styles)
        if (llm_url is None) != (llm_model is None):
            raise _fail("--llm-url and --llm-model go together")
        config = SynthConfig(
            llm_model=llm_model,
            n=n, seed=seed, questions_per_sql=questions_per_sql, infeasible_rate=infeasible_rate,
            allow_empty=allow_empty, exclude=[str(p) for p in exclude or []], dialects=_split(dialect),
            dialect_urls=urls, workers=workers, timeout=timeout, with_evidence=with_evidence, with_cot=cot,
            max_per_template=max_per_template, batch_size=batch_size, resume=resume, db_id=db_id, **options,
        )  # fmt: skip
        missing = [str(p) for p in exclude or [] if not p.is_file()]
        if missing:
            raise _fail(f"--exclude file {missing[0]!r} does not exist")
        llm = None
        steps = None
        if llm_url is not None:
            llm, steps = _llm_steps(url, config, llm_url, llm_model, llm_api_key, llm_samples, cot_samples,
                                    llm_concurrency)  # fmt: skip
        try:
            report = synthesize(url, config, out, progress=progress and sys.stderr.isatty(), steps=steps)
        finally:
            if llm is not None:
                llm.executor.close()
    except ValidationError as exc:
        raise _fail(_validation_message(exc)) from None
    except SQLFoundryError as exc:
        raise _fail(str(exc), getattr(exc, "exit_code", 2)) from None
    print_summary(report)
    if llm is not None:
        usage = llm.usage
        console.print(f"LLM {llm_model}: {usage}; {dict(llm.stats)}", highlight=False, soft_wrap=True)
    if not report.complete:
        raise typer.Exit(1)


def _llm_steps(url, config, llm_url, llm_model, api_key, samples, cot_samples, concurrency):
    """The pipeline's realize and rationale steps backed by an OpenAI-compatible endpoint."""
    from ..db.connectors import connector_for
    from ..db.executor import Executor
    from ..db.schema import introspect
    from ..llm.endpoint import EndpointGenerator
    from .llm_synth import LLMSynthesizer
    from .pipeline import SynthSteps

    generator = EndpointGenerator(llm_url, llm_model, api_key=api_key, concurrency=concurrency)
    with connector_for(url) as connector:
        schema = introspect(connector, sample_values=3)
    executor = Executor(workers=config.workers, cache=True)
    synth = LLMSynthesizer(
        generator, executor, url, schema, styles=config.styles, samples=samples, cot_samples=cot_samples,
        seed=config.seed,
    )  # fmt: skip
    steps = synth.pipeline_steps(SynthSteps.default())
    if not config.with_cot:
        steps.rationale = None
    return synth, steps


def print_summary(report) -> None:
    """Records by style and complexity, rejections by reason, and the rate."""
    for w in report.warnings:
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    table = RichTable(title=f"{report.db_id}: {report.records} records", title_justify="left")
    levels = [c for c in COMPLEXITIES if report.by_complexity.get(c)]
    table.add_column("style")
    for level in levels:
        table.add_column(level, justify="right")
    table.add_column("infeasible", justify="right")
    table.add_column("records", justify="right")
    for style in sorted(report.by_style):
        cells = [report.style_complexity.get((style, lv), 0) for lv in levels]
        infeasible = report.by_style[style] - sum(cells)
        table.add_row(style, *map(str, cells), str(infeasible), str(report.by_style[style]))
    table.add_row(
        "[bold]all[/]", *[str(report.by_complexity[lv]) for lv in levels], str(report.infeasible),
        f"[bold]{report.records}[/]",
    )  # fmt: skip
    console.print(table)
    rejections = RichTable(
        title=f"{report.candidates} SQL sampled, {report.accepted_sql} kept", title_justify="left"
    )
    rejections.add_column("rejected because")
    rejections.add_column("SQL", justify="right")
    rejections.add_column("share", justify="right")
    for reason, count in report.rejections.most_common():
        rejections.add_row(reason, str(count), f"{count / max(report.candidates, 1):.1%}")
    for reason, count in report.record_rejections.most_common():
        rejections.add_row(f"{reason} (records)", str(count), "")
    console.print(rejections)
    console.print(
        f"{report.records} records ({report.feasible} feasible, {report.infeasible} infeasible, "
        f"{report.non_empty_rate:.1%} non-empty), {report.written} written now, {report.resumed} resumed; "
        f"{report.records_per_s:.1f} records/s in {report.elapsed_s:.1f} s → {report.records_path}",
        highlight=False,
    )


__all__ = ["SynthGroup", "app", "print_summary", "register_synth_subcommand"]
