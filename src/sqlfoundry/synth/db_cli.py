"""``sqlfoundry synth db``: build a realistic SQLite database from scratch — a built-in domain, the
built-in domain a description matches, a JSON spec file, or a schema an LLM designs from the description."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table as RichTable

from ..errors import SQLFoundryError

app = typer.Typer(
    help="Build a realistic SQLite database from scratch for a domain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command("db")
def db_command(
    domain: str | None = typer.Option(
        None,
        "--domain",
        "-d",
        help="A built-in domain name, or a description such as 'a hospital with patients and doctors'.",
    ),  # fmt: skip
    out: Path | None = typer.Option(None, "-o", "--out", help="The SQLite file to write."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, spec and scale give the same rows."),
    scale: float = typer.Option(1.0, "--scale", min=0.001, help="Multiply every table's row count."),
    spec_file: Path | None = typer.Option(
        None, "--spec", help="Build from a JSON spec file instead (see docs/llm.md)."
    ),
    save_spec: Path | None = typer.Option(
        None, "--save-spec", help="Also write the spec that was built, as JSON."
    ),
    llm_url: str | None = typer.Option(
        None, "--llm-url", help="OpenAI-compatible endpoint (…/v1): an LLM designs the schema for --domain."
    ),  # fmt: skip
    llm_model: str | None = typer.Option(None, "--llm-model", help="Model name served at --llm-url."),
    llm_api_key: str | None = typer.Option(
        None,
        "--llm-api-key",
        envvar="SQLFOUNDRY_LLM_API_KEY",
        help="API key for --llm-url (default: none needed for local servers).",
    ),  # fmt: skip
    llm_timeout: float = typer.Option(
        120.0, "--llm-timeout", min=1.0, help="Seconds to wait for the LLM's answer."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the output file if it exists."),
    list_domains: bool = typer.Option(False, "--list", help="List the built-in domains and exit."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Build a database: tables with keys and foreign keys, thousands of skewed, constraint-respecting
    rows with NULLs where columns are optional; written atomically and checked."""
    from .dbgen import describe_spec, design_schema_with_llm, domain_from_text, generate_database
    from .domains import BUILTIN_DOMAINS, UnknownDomainError, get_domain, spec_from_dict

    if list_domains:
        for spec in BUILTIN_DOMAINS.values():
            console.print(f"[bold]{spec.name}[/]: {spec.description} ({', '.join(t.name for t in spec.tables)})",
                          highlight=False)  # fmt: skip
        return
    if out is None:
        raise _fail("pass the output file with -o/--out, e.g. -o new.sqlite")
    if (domain is None) == (spec_file is None):
        raise _fail("pass exactly one of --domain (a name or a description) and --spec (a JSON spec file)")
    if (llm_url is None) != (llm_model is None):
        raise _fail("--llm-url and --llm-model go together")
    if llm_url and spec_file:
        raise _fail("--llm-url designs a schema from --domain; it cannot be combined with --spec")
    usage = None
    try:
        if spec_file is not None:
            try:
                data = json.loads(spec_file.read_text(encoding="utf-8"))
            except OSError as exc:
                raise _fail(f"cannot read {spec_file}: {exc.strerror}") from None
            except ValueError as exc:
                raise _fail(f"{spec_file} is not valid JSON: {exc}") from None
            spec = spec_from_dict(data, source=str(spec_file))
            how = f"spec file {spec_file}"
        elif llm_url:
            from ..llm.endpoint import EndpointGenerator

            generator = EndpointGenerator(llm_url, llm_model or "", api_key=llm_api_key, timeout=llm_timeout,
                                          max_retries=3, concurrency=1)  # fmt: skip
            spec = design_schema_with_llm(domain or "", generator)
            usage = generator.usage
            how = f"designed by {llm_model} at {llm_url}"
        else:
            assert domain is not None
            try:
                spec = get_domain(domain)
                how = "built-in domain"
            except UnknownDomainError:
                spec = domain_from_text(domain)
                how = f"built-in domain matching {domain!r}"
        report = generate_database(spec, out, seed=seed, scale=scale, overwrite=overwrite)
        if save_spec is not None:
            save_spec.parent.mkdir(parents=True, exist_ok=True)
            save_spec.write_text(
                report.spec.model_dump_json(indent=2, exclude_defaults=True) + "\n", encoding="utf-8"
            )
    except SQLFoundryError as exc:
        raise _fail(str(exc), getattr(exc, "exit_code", 2)) from None

    if as_json:
        summary = {"path": str(report.path), "domain": report.domain, "source": how, "seed": seed, "scale": scale,
                   "rows": report.rows, "total_rows": report.total_rows}  # fmt: skip
        if usage is not None:
            summary["llm_usage"] = usage.to_dict()
        console.print_json(json.dumps(summary))
        return
    console.print(describe_spec(report.spec), highlight=False, soft_wrap=True)
    console.print(f"source: {how}", highlight=False, soft_wrap=True)
    table = RichTable()
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in report.rows.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    if usage is not None:
        console.print(f"LLM: {usage.summary()}", highlight=False)
    console.print(f"{report.total_rows:,} rows in {len(report.rows)} tables (seed {seed}, scale {scale:g}) → "
                  f"{report.path}", highlight=False)  # fmt: skip


__all__ = ["app", "db_command"]
