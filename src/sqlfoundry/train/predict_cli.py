"""``sqlfoundry predict``: write Spider- or BIRD-format predictions for a gold file with any model.

Only parses options; the work is :func:`sqlfoundry.train.predict.predict`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..errors import SQLFoundryError
from .predict import ABSTAIN_TOKEN, DEFAULT_MIN_AGREEMENT, PredictConfig, predict

app = typer.Typer(help="Predict SQL for a benchmark's questions.", no_args_is_help=True)
err_console = Console(stderr=True)


@app.command("predict")
def predict_command(
    gold: Path = typer.Option(..., "--gold", help="Questions: Spider/BIRD gold JSON, or records JSONL."),
    out: Path = typer.Option(..., "--out", "-o", help="Predictions file (.sql lines or BIRD .json)."),
    model: str = typer.Option(
        None, "--model", "-m", help="tiny, smollm2-135m or a local checkpoint directory."
    ),
    db_dir: Path = typer.Option(None, "--db-dir", help="Databases at <db-dir>/<db_id>/<db_id>.sqlite."),
    db: str = typer.Option(None, "--db", help="One database URL for every question (instead of --db-dir)."),
    n: int = typer.Option(1, "--n", min=1, help="Candidates per question; >1 votes by execution result."),
    temperature: float = typer.Option(0.8, "--temperature", min=0.0, help="0 decodes greedily."),
    max_tokens: int = typer.Option(512, "--max-tokens", min=1, help="Tokens per candidate at most."),
    fmt: str = typer.Option(None, "--format", help="spider or bird (default: bird for a .json output)."),
    abstain: bool = typer.Option(
        False, "--abstain", help=f"Write {ABSTAIN_TOKEN!r} when the vote is unsure."
    ),
    min_agreement: float = typer.Option(
        DEFAULT_MIN_AGREEMENT,
        "--min-agreement",
        min=0.0,
        max=1.0,
        help="With --abstain: share of candidates the winning result group needs.",
    ),  # fmt: skip
    lora: Path = typer.Option(None, "--lora", help="A PEFT LoRA adapter directory for --model."),
    llm_url: str = typer.Option(None, "--llm-url", help="OpenAI-compatible endpoint instead of --model."),
    llm_model: str = typer.Option(None, "--llm-model", help="Model id served at --llm-url."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Sequences decoded together (local)."),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N questions."),
    resume: bool = typer.Option(False, "--resume", help="Skip questions already in <out>.votes.jsonl."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds per candidate execution."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    prompt_samples: bool | None = typer.Option(
        None, "--prompt-samples/--no-prompt-samples", help="Override the checkpoint's saved prompt option."
    ),
    compact_prompt: bool | None = typer.Option(
        None, "--compact-prompt/--full-prompt", help="Override the checkpoint's saved prompt option."
    ),
    prompt_schema: bool | None = typer.Option(
        None, "--prompt-schema/--no-prompt-schema", help="Override the checkpoint's saved prompt option."
    ),
) -> None:
    """Generate candidates with a local model or an endpoint, vote by execution, write predictions."""
    config = PredictConfig(
        gold=gold, out=out, model=model, db_dir=db_dir, db_url=db, n=n, temperature=temperature,
        max_tokens=max_tokens, format=fmt, abstain=abstain, min_agreement=min_agreement, lora=lora,
        llm_url=llm_url, llm_model=llm_model, seed=seed, batch_size=batch_size, limit=limit,
        resume=resume, timeout_s=timeout,
    )  # fmt: skip
    typed = {
        name: value
        for name, value in (("with_samples", prompt_samples), ("compact", compact_prompt), ("with_schema", prompt_schema))
        if value is not None
    }
    if typed:  # the saved options (or the full prompt), with the typed ones on top
        config.prompt_options = {**config.resolved_prompt_options(), **typed}
    try:
        if quiet:
            result = predict(config)
        else:
            columns = (TextColumn("predict"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=err_console, transient=True) as bar:
                task = bar.add_task("predict", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                result = predict(config, progress=progress)
    except SQLFoundryError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    extra = f", {result.n_abstained} abstained" if config.abstain else ""
    extra += f", {result.resumed} resumed" if result.resumed else ""
    extra += f", {result.n_no_sql} without SQL" if result.n_no_sql else ""
    typer.echo(f"{result.n_questions} predictions ({result.format}) written to {result.out}{extra}")
