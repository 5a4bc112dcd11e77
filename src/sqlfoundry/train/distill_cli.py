"""``sqlfoundry distill``: rejection-sample verified solutions from a teacher (and, in self-training
rounds, from the student). Only parses options; the work is :func:`sqlfoundry.train.distill.distill_rounds`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from ..errors import SQLFoundryError
from .distill import DistillConfig, DistillError, DistillReport, distill_rounds

app = typer.Typer(help="Distill verified solutions from a teacher model.", no_args_is_help=True)
err_console = Console(stderr=True)


def endpoint_or_local(url: str | None, model: str | None, local: str | None, what: str) -> Any:
    """A generator for ``--X-url/--X-model`` (OpenAI-compatible endpoint) or ``--X-local`` (path/name)."""
    if url and local:
        raise DistillError(f"give the {what} as an endpoint or as a local model, not both")
    if url:
        if not model:
            raise DistillError(f"the {what} endpoint needs a model name (--{what}-model)")
        from ..llm.base import load_generator

        return load_generator("endpoint", base_url=url, model=model)
    if local:
        from ..llm.local import TransformersGenerator

        return TransformersGenerator(local)
    return None


@app.command("distill")
def distill_command(
    records: Path = typer.Option(..., "--records", help="Questions with gold SQL: a records JSONL file."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Kept records of round 1 (later rounds: <out>.round{r}.jsonl)."
    ),
    db: str = typer.Option(None, "--db", help="One database URL for every question."),
    db_dir: Path = typer.Option(None, "--db-dir", help="Databases at <db-dir>/<db_id>/<db_id>.sqlite."),
    teacher_url: str = typer.Option(None, "--teacher-url", help="Teacher's OpenAI-compatible endpoint."),
    teacher_model: str = typer.Option(None, "--teacher-model", help="Model id served at --teacher-url."),
    teacher_local: str = typer.Option(None, "--teacher-local", help="Teacher as a local model path or name."),
    k: int = typer.Option(8, "--k", min=1, help="Samples per question (pass rate = correct / k)."),
    temperature: float = typer.Option(0.8, "--temperature", min=0.0, help="Sampling temperature."),
    max_tokens: int = typer.Option(1024, "--max-tokens", min=1, help="Tokens per sample at most."),
    rounds: int = typer.Option(1, "--rounds", min=1, help="Rounds in all; rounds >= 2 sample the student."),
    mode: str = typer.Option("offline", "--mode", help="offline: teacher sampled once; online: every round."),
    student: str = typer.Option(
        None, "--student", help="Student for rounds >= 2: local model path or endpoint URL."
    ),
    student_model: str = typer.Option(
        None, "--student-model", help="Model id when --student is an endpoint URL."
    ),
    comparison: str = typer.Option("spider", "--comparison", help="spider, bird or strict result equality."),
    no_dedup: bool = typer.Option(False, "--no-dedup", help="Keep identical correct answers of a question."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed."),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N questions."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds per statement."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Sample k solutions per question, keep those whose result matches the gold result, record the
    pass rate as difficulty. Resumable: questions already in <out stem>.questions.jsonl are skipped."""
    config = DistillConfig(
        k=k, temperature=temperature, max_tokens=max_tokens, rounds=rounds, mode=mode, comparison=comparison,
        dedup=not no_dedup, seed=seed, limit=limit, timeout_s=timeout,
    )  # fmt: skip
    try:
        config.check()
        teacher = endpoint_or_local(teacher_url, teacher_model, teacher_local, "teacher")
        if student and student.startswith(("http://", "https://")):
            student_gen = endpoint_or_local(student, student_model, None, "student")
        else:
            student_gen = endpoint_or_local(None, None, student, "student")
        kwargs = dict(db_url=db, db_dir=db_dir, student=student_gen)
        if quiet:
            report = distill_rounds(records, out, teacher, config, **kwargs)
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            columns = (TextColumn("distill round {task.fields[round]}"), BarColumn(), MofNCompleteColumn(),
                       TimeRemainingColumn())  # fmt: skip
            with Progress(*columns, console=err_console, transient=True) as bar:
                task = bar.add_task("distill", total=None, round=1)

                def progress(round_no: int, done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total, round=round_no)

                report = distill_rounds(records, out, teacher, config, progress=progress, **kwargs)
    except SQLFoundryError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    report_path = out.with_name(f"{out.stem if out.suffix else out.name}.report.json")
    report_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    for line in report_lines(report):
        typer.echo(line)
    typer.echo(f"report written to {report_path}")


def report_lines(report: DistillReport) -> list[str]:
    lines = []
    for rr in report.rounds:
        head = f"round {rr.round}: {rr.questions} questions, {rr.kept} records kept in {rr.records}"
        if rr.resumed:
            head += f" ({rr.resumed} resumed)"
        if rr.gold_errors:
            head += f", {rr.gold_errors} gold queries failed"
        lines.append(head)
        for label, s in rr.sources.items():
            hist = ", ".join(f"{rate}: {n}" for rate, n in s.pass_rate_histogram.items())
            lines.append(
                f"  {label} {s.model}: {s.samples} samples, {s.correct} correct, {s.kept} kept, "
                f"{s.zero_correct} questions with none correct; pass rates {{{hist}}}"
            )
            usage = rr.usage.get(label)
            if usage and usage.get("requests"):
                cost = f", cost {usage['estimated_cost']:.4f}" if "estimated_cost" in usage else ""
                lines.append(
                    f"    usage: {usage['requests']} requests, {usage['total_tokens']:,} tokens{cost}"
                )
    return lines
