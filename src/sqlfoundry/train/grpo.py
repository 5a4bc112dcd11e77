"""GRPO with execution rewards: :class:`GRPORecipeConfig` (mapped onto TRL's ``GRPOConfig``) and
:func:`train_grpo` (TRL ``GRPOTrainer`` with :class:`~.rewards.RewardContext`'s reward functions and
weights, per-component reward logs, optional UCB curriculum fed by the group advantages).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from .curriculum import UCBDistributionScheduler
from .data import grpo_rows, to_dataset
from .predict import read_prompt_options
from .rewards import COMPONENTS, DEFAULT_WEIGHTS, RewardContext
from .sft import (
    CurriculumName,
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

__all__ = ["GRPORecipeConfig", "parse_weights", "train_grpo"]


def parse_weights(text: str | None) -> dict[str, float]:
    """``"execution=3,format=1"`` → ``{"execution": 3.0, "format": 1.0}``; components not named get 0."""
    if not text:
        return dict(DEFAULT_WEIGHTS)
    out = dict.fromkeys(COMPONENTS, 0.0)
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in COMPONENTS:
            raise TrainError(f"bad reward weight {part!r}: use NAME=WEIGHT with NAME one of {', '.join(COMPONENTS)}")
        try:
            out[name] = float(value)
        except ValueError:
            raise TrainError(f"bad reward weight {part!r}: {value!r} is not a number") from None
    return out


class GRPORecipeConfig(RecipeBase):
    """Options of one GRPO run (start from an SFT checkpoint: a policy that never earns reward
    learns nothing); :meth:`to_trl` maps them onto TRL's ``GRPOConfig``."""

    output_dir: Path = Path("runs/grpo")
    epochs: float = 1.0
    learning_rate: float = 1e-5
    batch_size: int = Field(8, ge=1)
    num_generations: int = Field(4, ge=2)
    max_completion_length: int = 128
    temperature: float = 1.0
    beta: float = 0.0
    reward_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    #: ``none`` or ``ucb`` (DUMP: distributions by complexity, steered by mean |advantage|)
    curriculum: CurriculumName = "none"
    reward_timeout_s: float = 5.0
    reward_workers: int | None = None
    log_completions: bool = False

    def to_trl(self):
        from trl import GRPOConfig

        kwargs = self.common_trl_kwargs()
        effective = self.batch_size * self.gradient_accumulation_steps
        if effective % self.num_generations:
            raise TrainError(
                f"num_generations ({self.num_generations}) must divide batch_size x gradient_accumulation_steps "
                f"({effective})"
            )
        weights = [float(self.reward_weights.get(c, 0.0)) for c in COMPONENTS]
        weights.append(0.0)  # the combined-reward monitor (and UCB feedback): logged, never trained on
        kwargs.update(
            num_generations=self.num_generations,
            max_completion_length=self.max_completion_length,
            temperature=self.temperature,
            beta=self.beta,
            reward_weights=weights,
            log_completions=self.log_completions,
        )
        kwargs.update(self.trl_args)
        return GRPOConfig(**kwargs)


class CombinedMonitor:
    """A zero-weight reward function: scores each generation batch with the weighted combined reward
    (memoised, so cheap), for :meth:`CombinedReward.pop_metrics` logs and, with a scheduler, as group
    advantages for the UCB curriculum."""

    __name__ = "combined"

    def __init__(
        self, scheduler: UCBDistributionScheduler | None, context: RewardContext, weights: Mapping[str, float], group: int
    ):
        self.scheduler = scheduler
        self.combined = context.combined_reward(weights)
        self.group = group

    def __call__(self, prompts: Any = None, completions: Any = (), record_index: Any = None, **columns: Any):
        rewards = self.combined(prompts, completions, **columns)
        if self.scheduler is not None and record_index is not None and len(rewards) % self.group == 0:
            self.scheduler.update_from_rewards(list(record_index), list(rewards), self.group)
        return [0.0] * len(completions)


class UCBRepeatSampler:
    """TRL's ``RepeatSampler`` layout (each prompt ``mini_repeat_count`` times in a row, each chunk
    ``repeat_count`` times) with the chunks drawn by a UCB scheduler instead of a shuffle."""

    def __init__(self, scheduler: UCBDistributionScheduler, n: int, mini_repeat_count: int, batch_size: int, repeat_count: int):
        self.scheduler = scheduler
        self.chunks = max(1, n // batch_size)
        self.mini_repeat_count = mini_repeat_count
        self.batch_size = batch_size
        self.repeat_count = repeat_count

    def __iter__(self):
        for _ in range(self.chunks):
            chunk = self.scheduler.next_batch(self.batch_size)
            for _ in range(self.repeat_count):
                for index in chunk:
                    for _ in range(self.mini_repeat_count):
                        yield index

    def __len__(self) -> int:
        return self.chunks * self.batch_size * self.mini_repeat_count * self.repeat_count


def _grpo_trainer_class(scheduler: UCBDistributionScheduler | None):
    from trl import GRPOTrainer

    class CurriculumGRPOTrainer(GRPOTrainer):
        def _get_train_sampler(self, dataset=None):
            if scheduler is None:
                return super()._get_train_sampler(dataset)
            dataset = dataset if dataset is not None else self.train_dataset
            return UCBRepeatSampler(
                scheduler,
                len(dataset),
                self.num_generations,
                self.args.generation_batch_size // self.num_generations,
                self.num_iterations * self.args.steps_per_generation,
            )

    return CurriculumGRPOTrainer


def _metrics_callback(context: RewardContext, monitor: CombinedMonitor):
    from transformers import TrainerCallback

    class RewardMetricsCallback(TrainerCallback):
        """Adds the combined reward's per-component means (``pop_metrics``) and the reward context's
        execution counters to every log line."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs is not None and "loss" in logs:
                logs.update(monitor.combined.pop_metrics("rewards/combined/"))
                logs["rewards/ctx/gold_executed"] = float(context.stats.get("gold_executed", 0))
                logs["rewards/ctx/predictions_executed"] = float(context.stats.get("predictions_executed", 0))

    return RewardMetricsCallback()


def train_grpo(config: GRPORecipeConfig, progress: bool = False) -> TrainResult:
    """Optimise ``config.model`` (an SFT checkpoint) with GRPO on the records' prompts; save it at
    ``output_dir``."""
    from .exec_eval import ExecAccuracyCallback, execution_accuracy

    train, held, catalog = prepare_split(config)
    # Prompt as the starting checkpoint was trained (its saved options), and save them with the result.
    prompt_options = read_prompt_options(config.model)
    rows = grpo_rows(train, catalog, **prompt_options)
    dataset = to_dataset(rows)
    model, tokenizer = load_policy(config.model)
    tokenizer.padding_side = "left"
    args = config.to_trl()
    context = RewardContext(timeout_s=config.reward_timeout_s, workers=config.reward_workers)
    reward_funcs: list[Any] = context.reward_functions(COMPONENTS)
    scheduler = None
    if config.curriculum == "ucb":
        scheduler = UCBDistributionScheduler([r["complexity"] for r in rows], seed=config.seed)
    elif config.curriculum != "none":
        raise TrainError(f"GRPO supports the curricula none and ucb, not {config.curriculum!r}")
    monitor = CombinedMonitor(scheduler, context, config.reward_weights, config.num_generations)
    reward_funcs.append(monitor)

    resume_from = None
    if config.resume:
        resume_from = last_checkpoint(config.output_dir)
        if resume_from is None:
            raise TrainError(f"--resume: no checkpoint-* folder in {config.output_dir} to resume from")
    try:
        exec_before = None
        if held and config.eval_every >= 0 and not resume_from:
            exec_before = execution_accuracy(
                model, tokenizer, held, catalog, context=context, max_new_tokens=config.eval_max_new_tokens,
                batch_size=config.eval_batch_size,
                **prompt_options,
            ).accuracy
        callback = ExecAccuracyCallback(
            held, catalog, config.eval_every, context=context, max_new_tokens=config.eval_max_new_tokens,
            batch_size=config.eval_batch_size,
            **prompt_options,
        )
        guard = nonfinite_gradient_guard()
        trainer = _grpo_trainer_class(scheduler)(
            model=model,
            reward_funcs=reward_funcs,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=config.lora_config(),
            callbacks=[callback, _metrics_callback(context, monitor), guard],
        )
        callback.trainer = trainer
        start = time.perf_counter()
        output = trainer.train(resume_from_checkpoint=resume_from)
        seconds = time.perf_counter() - start
        model_dir = finish(trainer, config, tokenizer, prompt_options or None)
        exec_after = callback.history[-1]["eval/exec_accuracy"] if callback.history else None
        if held and exec_after is None:
            exec_after = execution_accuracy(
                trainer.model, tokenizer, held, catalog, context=context, max_new_tokens=config.eval_max_new_tokens,
                batch_size=config.eval_batch_size,
                **prompt_options,
            ).accuracy
    finally:
        context.close()
    metrics = {k: float(v) for k, v in output.metrics.items() if isinstance(v, int | float)}
    metrics["nonfinite_gradient_skips"] = float(guard.skipped)
    if scheduler is not None:
        metrics.update({f"curriculum/picks/{d}": float(n) for d, n in scheduler.picks.items()})
    result = TrainResult(
        config.output_dir, model_dir, trainer.state.global_step, seconds, metrics, exec_before, exec_after, callback.history
    )
    write_result(config, result, "grpo")
    return result
