"""Execution accuracy of a model on held-out records: greedy answers, executed against the database and
compared with the gold result (the execution reward's rule), during training or after it.

:class:`ExecAccuracyCallback` runs it every N steps inside a transformers/TRL trainer and logs
``eval/exec_accuracy``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..records import Record
from .data import prompt_messages
from .predict import DatabaseCatalog
from .rewards import RewardContext

__all__ = ["ExecAccuracyCallback", "ExecEvalResult", "execution_accuracy"]


@dataclass
class ExecEvalResult:
    """Execution accuracy on ``n`` records, and each answer the model gave."""

    accuracy: float
    n: int
    correct: int
    seconds: float
    completions: list[str] = field(default_factory=list)
    verdicts: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        return {"eval/exec_accuracy": self.accuracy, "eval/exec_n": float(self.n)}


def execution_accuracy(
    model: Any,
    tokenizer: Any,
    records: Sequence[Record],
    catalog: DatabaseCatalog,
    *,
    context: RewardContext | None = None,
    max_new_tokens: int = 256,
    batch_size: int = 16,
    with_samples: bool = True,
    compact: bool = False,
    with_schema: bool = True,
) -> ExecEvalResult:
    """Greedy-decode an answer per record with ``model`` and score it by execution (1 when its result
    matches the gold's, abstention scored on infeasible records). The model's train/eval mode and the
    tokenizer's padding side are restored afterwards, so it is safe inside a training loop.
    ``with_samples``/``compact``/``with_schema``: the prompt options the model was trained with (see
    :func:`~sqlfoundry.train.data.prompt_messages`)."""
    from ..llm.local import TransformersGenerator

    start = time.perf_counter()
    if not records:
        return ExecEvalResult(0.0, 0, 0, 0.0)
    was_training = bool(getattr(model, "training", False))
    padding_side = tokenizer.padding_side
    device = str(next(model.parameters()).device)
    own = context is None
    ctx = context or RewardContext(workers=1)
    try:
        generator = TransformersGenerator(model, tokenizer=tokenizer, device=device, batch_size=batch_size)
        prompts = [
            prompt_messages(r, catalog, with_samples=with_samples, compact=compact, with_schema=with_schema)
            for r in records
        ]
        completions = [
            row[0] for row in generator.generate(prompts, n=1, temperature=0.0, max_tokens=max_new_tokens)
        ]
        verdicts = ctx.execution_reward(
            None,
            completions,
            gold_sql=[r.sql for r in records],
            db_url=[catalog.url(r.db_id) for r in records],
            feasible=[r.feasible for r in records],
            dialect=[r.dialect for r in records],
        )
    finally:
        tokenizer.padding_side = padding_side
        if was_training:
            model.train()
        if own:
            ctx.close()
    correct = int(sum(verdicts))
    return ExecEvalResult(
        correct / len(records),
        len(records),
        correct,
        time.perf_counter() - start,
        completions,
        list(verdicts),
    )


def _trainer_callback_base():
    from transformers import TrainerCallback

    return TrainerCallback


class ExecAccuracyCallback(_trainer_callback_base()):  # type: ignore[misc]
    """Every ``every`` optimizer steps (and at the end of training), measure execution accuracy on
    ``records`` and log it as ``eval/exec_accuracy`` through the trainer (set ``callback.trainer``,
    as our recipes do) and to ``<output_dir>/exec_eval.jsonl``."""

    def __init__(
        self,
        records: Sequence[Record],
        catalog: DatabaseCatalog,
        every: int,
        *,
        context: RewardContext | None = None,
        max_new_tokens: int = 256,
        batch_size: int = 16,
        with_samples: bool = True,
        compact: bool = False,
        with_schema: bool = True,
    ):
        self.records = list(records)
        self.catalog = catalog
        self.every = int(every)
        self.context = context
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.prompt_options = {"with_samples": with_samples, "compact": compact, "with_schema": with_schema}
        self.trainer: Any = None
        self.history: list[dict[str, float]] = []
        self._last_step = -1

    def _run(self, args: Any, state: Any, model: Any, tokenizer: Any) -> None:
        if not self.records or state.global_step == self._last_step or model is None or tokenizer is None:
            return
        self._last_step = state.global_step
        result = execution_accuracy(
            model,
            tokenizer,
            self.records,
            self.catalog,
            context=self.context,
            max_new_tokens=self.max_new_tokens,
            batch_size=self.batch_size,
            **self.prompt_options,
        )
        metrics = {**result.summary(), "eval/exec_seconds": result.seconds}
        self.history.append({"step": float(state.global_step), **metrics})
        if self.trainer is not None:
            self.trainer.log(metrics)
        if state.is_world_process_zero and args.output_dir:
            out = Path(args.output_dir)
            out.mkdir(parents=True, exist_ok=True)
            with (out / "exec_eval.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"step": state.global_step, **metrics}) + "\n")

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if self.every > 0 and state.global_step % self.every == 0:
            self._run(args, state, model, processing_class)

    def on_train_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if self.every > 0:
            self._run(args, state, model, processing_class)
