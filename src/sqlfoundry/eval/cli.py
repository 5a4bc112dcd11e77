"""``sqlfoundry eval spider|bird``: flags in, :func:`~sqlfoundry.eval.evaluator.evaluate` called,
summary printed, JSON and HTML written. Every behaviour lives in the library."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from ..errors import SQLFoundryError
from .evaluator import EvalConfig, EvalResult, evaluate

app = typer.Typer(
    help="Execution accuracy of predicted SQL (Spider, BIRD, test-suite, TrustSQL reliability score).",
    no_args_is_help=True,
    add_completion=False,
)


class Compat(StrEnum):
    default = "default"
    official = "official"


class Mode(StrEnum):
    spider = "spider"
    bird = "bird"
    strict = "strict"


class GoldErrors(StrEnum):
    skip = "skip"
    wrong = "wrong"


class PredKeys(StrEnum):
    auto = "auto"
    index = "index"
    question_id = "question_id"


def _checkpoint_for(json_out: Path | None, report: Path | None, explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    out = json_out or report
    return out.with_name(out.name + ".checkpoint.jsonl") if out is not None else None


def _run(config: EvalConfig, json_out: Path | None, report: Path | None, quiet: bool) -> EvalResult:
    # rich and the report module are imported where they are used: a quiet run prints one line.
    def err():  # type: ignore[no-untyped-def]
        from rich.console import Console

        return Console(stderr=True)

    try:
        if quiet:
            result = evaluate(config)
        else:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            with Progress(
                TextColumn("[bold]evaluating[/bold] statements"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err(),
                transient=True,
            ) as bar:
                task = bar.add_task("eval", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                result = evaluate(config, progress)
    except KeyboardInterrupt:
        where = f" in {config.checkpoint}" if config.checkpoint else " under the cache dir"
        err().print(
            f"interrupted: the examples finished so far are checkpointed{where}; run the same command with --resume to go on"
        )
        raise typer.Exit(130) from None
    except SQLFoundryError as exc:
        err().print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
        raise typer.Exit(exc.exit_code) from None
    except ValueError as exc:
        err().print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if json_out is not None or report is not None or not quiet:
        from .report import print_summary, write_html, write_json

        if json_out is not None:
            write_json(result, json_out)
        if report is not None:
            write_html(result, report)
        if not quiet:
            print_summary(result)
    else:
        acc = result.accuracy
        typer.echo(f"{result.correct}/{result.n} correct = {'—' if acc is None else f'{100 * acc:.2f}%'}")
    return result


_GOLD = typer.Option(..., "--gold", help="Gold file: the benchmark's JSON list, or 'SQL<TAB>db_id' lines.")
_DB_DIR = typer.Option(..., "--db-dir", help="Databases at <db-dir>/<db_id>/<db_id>.sqlite.")
_COMPAT = typer.Option(
    Compat.default,
    "--compat",
    help="default: quirks fixed; official: the official evaluator's quirks, bug for bug.",
)
_MODE = typer.Option(None, "--mode", help="Comparison mode; default: the format's own (spider or bird).")
_KEEP_DISTINCT = typer.Option(
    None,
    "--keep-distinct/--strip-distinct",
    help="Keep DISTINCT in both queries (default) or strip it (the test-suite default, used by --compat official).",
)
_WORKERS = typer.Option(None, "--workers", "-j", help="Worker processes (default: one per CPU).")
_TIMEOUT = typer.Option(
    None, "--timeout", help="Seconds per statement (default 30; official Spider 60, official BIRD 30)."
)
_MAX_ROWS = typer.Option(
    100_000, "--max-rows", help="Rows fetched per statement before it counts as too_large."
)
_JSON = typer.Option(None, "--json", help="Write every number and per-example outcome as JSON here.")
_REPORT = typer.Option(None, "--report", help="Write a self-contained HTML report here.")
_CACHE_DIR = typer.Option(None, "--cache-dir", help="Result cache (default ~/.cache/sqlfoundry/eval).")
_NO_CACHE = typer.Option(False, "--no-cache", help="Do not read or write the on-disk result and analysis caches.")
_FRESH = typer.Option(
    False, "--fresh-predictions", help="Run every prediction even when the cache holds its outcome (to time it)."
)
_ABSTAIN = typer.Option(
    "null", "--abstain-token", help="A prediction equal to this (any case) abstains (TrustSQL); '' disables."
)
_RESUME = typer.Option(
    False, "--resume", help="Skip examples already in the checkpoint of an interrupted run."
)
_CHECKPOINT = typer.Option(
    None,
    "--checkpoint",
    help="Checkpoint JSONL (default: <--json or --report>.checkpoint.jsonl, else in the cache dir).",
)
_LIMIT = typer.Option(None, "--limit", help="Evaluate only the first N gold examples.")
_GOLD_ERRORS = typer.Option(
    None,
    "--gold-errors",
    help="Examples whose gold query fails: skip (default) or wrong (default with --compat official).",
)
_QUIET = typer.Option(False, "--quiet", "-q", help="No progress bar or tables; one result line.")


@app.command("spider")
def spider(
    gold: Path = _GOLD,
    pred: Path = typer.Option(
        ..., "--pred", help="One predicted SQL per line, aligned with the gold (text after a TAB is dropped)."
    ),
    db_dir: Path = _DB_DIR,
    ts_dir: Path | None = typer.Option(
        None,
        "--ts-dir",
        help="Test-suite databases: correct only if equal on every .sqlite in <ts-dir>/<db_id>/.",
    ),
    compat: Compat = _COMPAT,
    mode: Mode | None = _MODE,
    keep_distinct: bool | None = _KEEP_DISTINCT,
    workers: int | None = _WORKERS,
    timeout: float | None = _TIMEOUT,
    max_rows: int = _MAX_ROWS,
    json_out: Path | None = _JSON,
    report: Path | None = _REPORT,
    cache_dir: Path | None = _CACHE_DIR,
    no_cache: bool = _NO_CACHE,
    fresh_predictions: bool = _FRESH,
    abstain_token: str = _ABSTAIN,
    resume: bool = _RESUME,
    checkpoint: Path | None = _CHECKPOINT,
    limit: int | None = _LIMIT,
    gold_errors: GoldErrors | None = _GOLD_ERRORS,
    quiet: bool = _QUIET,
) -> None:
    """Spider execution accuracy (test-suite semantics), optionally on test-suite databases."""
    config = EvalConfig(
        format="spider", gold=gold, pred=pred, db_dir=db_dir, ts_dir=ts_dir, compat=compat.value,
        mode=mode.value if mode else None, keep_distinct=keep_distinct, workers=workers, timeout_s=timeout,
        max_rows=max_rows, cache_dir=cache_dir, use_cache=not no_cache, fresh_predictions=fresh_predictions,
        abstain_token=abstain_token or None,
        limit=limit, gold_errors=gold_errors.value if gold_errors else None, resume=resume,
        checkpoint=_checkpoint_for(json_out, report, checkpoint),
    )  # fmt: skip
    _run(config, json_out, report, quiet)


@app.command("bird")
def bird(
    gold: Path = _GOLD,
    pred: Path = typer.Option(
        ...,
        "--pred",
        help='BIRD JSON {"0": "SQL\\t----- bird -----\\tdb_id"} matched by key, or one SQL per line.',
    ),
    db_dir: Path = _DB_DIR,
    compat: Compat = _COMPAT,
    mode: Mode | None = _MODE,
    keep_distinct: bool | None = _KEEP_DISTINCT,
    pred_keys: PredKeys = typer.Option(
        PredKeys.auto, "--pred-keys", help="What prediction keys are: gold positions, question_ids, or auto."
    ),
    workers: int | None = _WORKERS,
    timeout: float | None = _TIMEOUT,
    max_rows: int = _MAX_ROWS,
    json_out: Path | None = _JSON,
    report: Path | None = _REPORT,
    cache_dir: Path | None = _CACHE_DIR,
    no_cache: bool = _NO_CACHE,
    fresh_predictions: bool = _FRESH,
    abstain_token: str = _ABSTAIN,
    resume: bool = _RESUME,
    checkpoint: Path | None = _CHECKPOINT,
    limit: int | None = _LIMIT,
    gold_errors: GoldErrors | None = _GOLD_ERRORS,
    quiet: bool = _QUIET,
) -> None:
    """BIRD execution accuracy (set semantics), predictions matched to gold by key."""
    config = EvalConfig(
        format="bird", gold=gold, pred=pred, db_dir=db_dir, compat=compat.value,
        mode=mode.value if mode else None, keep_distinct=keep_distinct, workers=workers, timeout_s=timeout,
        max_rows=max_rows, cache_dir=cache_dir, use_cache=not no_cache, fresh_predictions=fresh_predictions,
        abstain_token=abstain_token or None,
        pred_keys=pred_keys.value, limit=limit, gold_errors=gold_errors.value if gold_errors else None,
        resume=resume, checkpoint=_checkpoint_for(json_out, report, checkpoint),
    )  # fmt: skip
    _run(config, json_out, report, quiet)
