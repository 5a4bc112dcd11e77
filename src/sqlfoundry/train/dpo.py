"""DPO on execution-checked preference pairs: sample the current model n times per prompt, execute
every answer, pair a correct one (or the gold SQL as an answer) against a wrong one, then TRL ``DPOTrainer``.
:class:`DPORecipeConfig` maps our options onto TRL's ``DPOConfig``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from ..records import Record
from .data import answer_text, dpo_row, prompt_messages, to_dataset
from .predict import DatabaseCatalog, read_prompt_options
from .rewards import RewardContext
from .sft import (
    RecipeBase,
    TrainError,
    TrainResult,
    finish,
    last_checkpoint,
    load_policy,
    nonfinite_gradient_guard,
    prepare_split,
    write_result,
)

__all__ = ["DPORecipeConfig", "build_pairs", "train_dpo"]

PAIRS_FILE = "pairs.jsonl"


class DPORecipeConfig(RecipeBase):
    """Options of one DPO run; :meth:`to_trl` maps them onto TRL's ``DPOConfig``."""

    output_dir: Path = Path("runs/dpo")
    epochs: float = 1.0
    learning_rate: float = 5e-6
    batch_size: int = Field(4, ge=1)
    #: samples per prompt drawn from the current model to find a wrong (and a right) answer
    samples: int = Field(4, ge=1)
    temperature: float = 1.0
    max_new_tokens: int = 128
    beta: float = 0.1
    max_length: int = 1024
    #: teach the record's reasoning in the gold-derived chosen answer
    with_cot: bool = True

    def to_trl(self):
        from trl import DPOConfig

        kwargs = self.common_trl_kwargs()
        kwargs.update(beta=self.beta, max_length=self.max_length)
        kwargs.update(self.trl_args)
        return DPOConfig(**kwargs)


def build_pairs(
    model: Any,
    tokenizer: Any,
    records: Sequence[Record],
    catalog: DatabaseCatalog,
    context: RewardContext,
    *,
    samples: int = 4,
    temperature: float = 1.0,
    max_new_tokens: int = 128,
    with_cot: bool = True,
    seed: int = 0,
    prompt_options: dict[str, bool] | None = None,
) -> list[dict[str, Any]]:
    """One preference row per record where a wrong answer turned up: ``chosen`` is the first sample
    whose result matches the gold (else the gold SQL written as an answer), ``rejected`` the first
    sample that executes to a wrong result (else one that fails or has no SQL). Each row also
    carries ``chosen_source`` (``sample``/``gold``) and ``rejected_kind`` (``wrong``/``failed``)."""
    from ..llm.local import TransformersGenerator

    padding_side = tokenizer.padding_side
    was_training = model.training
    try:
        generator = TransformersGenerator(model, tokenizer=tokenizer, device=str(next(model.parameters()).device))
        prompts = [prompt_messages(r, catalog, **(prompt_options or {})) for r in records]
        sampled = generator.generate(prompts, n=samples, temperature=temperature, max_tokens=max_new_tokens, seed=seed)
    finally:
        tokenizer.padding_side = padding_side
        if was_training:
            model.train()
    flat = [(i, text) for i, row in enumerate(sampled) for text in row]
    columns = {
        "gold_sql": [records[i].sql for i, _ in flat],
        "db_url": [catalog.url(records[i].db_id) for i, _ in flat],
        "feasible": [records[i].feasible for i, _ in flat],
        "dialect": [records[i].dialect for i, _ in flat],
    }
    texts = [t for _, t in flat]
    correct = context.execution_reward(None, texts, **columns)
    runs = context.syntax_reward(None, texts, **columns)
    pairs = []
    for i, record in enumerate(records):
        group = [(t, c, s) for (j, t), c, s in zip(flat, correct, runs, strict=True) if j == i]
        right = next((t for t, c, _ in group if c >= 1.0), None)
        wrong = next((t for t, c, s in group if c < 1.0 and s >= 1.0), None)
        kind = "wrong"
        if wrong is None:
            wrong, kind = next((t for t, c, _ in group if c < 1.0), None), "failed"
        if wrong is None:
            continue  # every sample is right: nothing to prefer against
        chosen = right if right is not None else answer_text(record, with_cot)
        row = dpo_row(record, catalog, chosen, wrong, **(prompt_options or {}))
        row.update(chosen_source="sample" if right is not None else "gold", rejected_kind=kind)
        pairs.append(row)
    return pairs


def write_pairs(pairs: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in pairs:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def train_dpo(config: DPORecipeConfig, progress: bool = False) -> TrainResult:
    """Build execution-checked pairs with ``config.model``, save them to ``<output_dir>/pairs.jsonl``,
    then optimise the model with DPO (the frozen starting model as reference) and save it."""
    from trl import DPOTrainer

    from .exec_eval import execution_accuracy

    train, held, catalog = prepare_split(config)
    model, tokenizer = load_policy(config.model)
    prompt_options = read_prompt_options(config.model)  # prompt as the starting checkpoint was trained
    context = RewardContext(workers=1)
    try:
        pairs = build_pairs(
            model, tokenizer, train, catalog, context,
            samples=config.samples, temperature=config.temperature, max_new_tokens=config.max_new_tokens,
            with_cot=config.with_cot, seed=config.seed, prompt_options=prompt_options,
        )  # fmt: skip
        if not pairs:
            raise TrainError("no preference pairs: every sampled answer was right (nothing to learn by DPO)")
        write_pairs(pairs, Path(config.output_dir) / PAIRS_FILE)
        dataset = to_dataset([{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in pairs])
        resume_from = last_checkpoint(config.output_dir) if config.resume else None
        if config.resume and resume_from is None:
            raise TrainError(f"--resume: no checkpoint-* folder in {config.output_dir} to resume from")
        exec_before = None
        if held and not resume_from:
            exec_before = execution_accuracy(
                model, tokenizer, held, catalog, context=context, max_new_tokens=config.eval_max_new_tokens,
                batch_size=config.eval_batch_size,
                **prompt_options,
            ).accuracy
        guard = nonfinite_gradient_guard()
        trainer = DPOTrainer(
            model=model,
            args=config.to_trl(),
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=config.lora_config(),
            callbacks=[guard],
        )
        start = time.perf_counter()
        output = trainer.train(resume_from_checkpoint=resume_from)
        seconds = time.perf_counter() - start
        model_dir = finish(trainer, config, tokenizer, prompt_options or None)
        exec_after = None
        if held:
            exec_after = execution_accuracy(
                trainer.model, tokenizer, held, catalog, context=context, max_new_tokens=config.eval_max_new_tokens,
                batch_size=config.eval_batch_size,
                **prompt_options,
            ).accuracy
    finally:
        context.close()
    metrics = {k: float(v) for k, v in output.metrics.items() if isinstance(v, int | float)}
    metrics["pairs"] = float(len(pairs))
    metrics["nonfinite_gradient_skips"] = float(guard.skipped)
    metrics["pairs_chosen_from_samples"] = float(sum(p["chosen_source"] == "sample" for p in pairs))
    result = TrainResult(config.output_dir, model_dir, trainer.state.global_step, seconds, metrics, exec_before, exec_after)
    write_result(config, result, "dpo")
    return result
