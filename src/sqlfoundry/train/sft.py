"""Supervised fine-tuning on verified records: :class:`SFTRecipeConfig` (our options, mapped onto TRL's
``SFTConfig``) and :func:`train_sft` (TRL ``SFTTrainer``, assistant-only loss, LoRA or full weights,
execution accuracy on a held-out split, checkpoints and resume, selectable curricula).
"""

from __future__ import annotations

import json
import math
import os
import shlex
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import SQLFoundryError
from ..records import Record
from .curriculum import DifficultySchedule, UCBDistributionScheduler
from .data import SplitKey, load_records, sft_rows, split_records, to_dataset
from .predict import DatabaseCatalog, write_prompt_options

__all__ = [
    "CurriculumName",
    "SFTRecipeConfig",
    "TrainError",
    "TrainResult",
    "accelerate_command",
    "load_policy",
    "nonfinite_gradient_guard",
    "train_sft",
]

CurriculumName = Literal["none", "difficulty", "ucb"]


class TrainError(SQLFoundryError):
    """A training run cannot start or go on; the message says what to change."""


class RecipeBase(BaseModel):
    """Options every recipe shares: data, model, output, optimisation, evaluation, checkpoints."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    #: records JSONL (or a synthesis run folder)
    records: Path
    #: one database URL for every record, or ``db_dir`` (``<dir>/<db_id>/<db_id>.sqlite``)
    db_url: str | None = None
    db_dir: Path | None = None
    #: ``tiny`` (built from the records' corpus), ``smollm2-135m`` or a checkpoint directory
    model: str = "tiny"
    #: options of a named model's builder, e.g. the ``tiny`` model's size: ``{"hidden": 256, "layers": 6}``
    model_options: dict[str, Any] = Field(default_factory=dict)
    output_dir: Path = Path("runs/train")
    #: train a LoRA adapter (saved under ``adapter/``, merged copy at the top) instead of all weights
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: str | list[str] = "all-linear"
    epochs: float = 3.0
    learning_rate: float = 2e-4
    batch_size: int = Field(8, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    #: stop after this many optimizer steps (-1: run the epochs)
    max_steps: int = -1
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    seed: int = 0
    #: keep only these complexities (e.g. simple, moderate) and/or only feasible records
    complexities: list[str] | None = None
    feasible_only: bool = False
    limit: int | None = None
    #: held-out share (by a hash of the record id) when no record is marked dev/test
    eval_fraction: float = 0.1
    #: what the held-out hash is over: the record ``id``, or its gold ``sql`` (no held-out question
    #: shares its query with a training one)
    split_by: SplitKey = "id"
    #: held-out records scored by execution (the rest of the held-out split is unused)
    eval_limit: int | None = 64
    #: execution accuracy on the held-out split every N steps (0: only before and after training)
    eval_every: int = 0
    eval_max_new_tokens: int = 256
    #: held-out prompts decoded together when scoring (larger on a GPU)
    eval_batch_size: int = Field(16, ge=1)
    save_steps: int = 200
    save_total_limit: int | None = 2
    logging_steps: int = 10
    resume: bool = False
    #: print the ``accelerate launch`` line for this config file instead of training here
    accelerate_config: Path | None = None
    #: more TRL config fields, passed through unchanged (e.g. ``{"report_to": "wandb"}``)
    trl_args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_database(self):
        if (self.db_url is None) == (self.db_dir is None):
            raise ValueError("give exactly one of db_url (--db) or db_dir (--db-dir)")
        return self

    def catalog(self) -> DatabaseCatalog:
        return DatabaseCatalog(db_dir=self.db_dir, db_url=self.db_url)

    def common_trl_kwargs(self) -> dict[str, Any]:
        """The transformers ``TrainingArguments`` fields every recipe sets (CPU-safe: no bf16, no
        gradient checkpointing, CPU when no accelerator is present)."""
        import torch

        on_gpu = torch.cuda.is_available()
        kwargs: dict[str, Any] = dict(
            output_dir=str(self.output_dir),
            num_train_epochs=self.epochs,
            max_steps=self.max_steps,
            learning_rate=self.learning_rate,
            per_device_train_batch_size=self.batch_size,
            gradient_accumulation_steps=self.gradient_accumulation_steps,
            warmup_steps=self.warmup_ratio,
            weight_decay=self.weight_decay,
            logging_steps=self.logging_steps,
            save_strategy="steps",
            save_steps=self.save_steps,
            save_total_limit=self.save_total_limit,
            seed=self.seed,
            report_to="none",
            use_cpu=not on_gpu,
            bf16=on_gpu and torch.cuda.is_bf16_supported(),
            gradient_checkpointing=False,
            dataloader_num_workers=0,
            disable_tqdm=True,
        )
        return kwargs

    def lora_config(self):
        if not self.lora:
            return None
        from peft import LoraConfig

        return LoraConfig(
            r=self.lora_r,
            lora_alpha=self.lora_alpha,
            lora_dropout=self.lora_dropout,
            target_modules=self.lora_target_modules,
            task_type="CAUSAL_LM",
        )


class SFTRecipeConfig(RecipeBase):
    """Options of one SFT run; :meth:`to_trl` maps them onto TRL's ``SFTConfig``."""

    output_dir: Path = Path("runs/sft")
    #: teach the record's reasoning before the SQL block (off: the SQL block alone)
    with_cot: bool = True
    #: tokens per example (prompt + answer); longer ones are cut
    max_length: int = 1024
    #: ``none`` (shuffled), ``difficulty`` (easy to hard by pass rate, else complexity), ``ucb``
    curriculum: CurriculumName = "none"
    #: the prompt's short forms for small-context models (see ``build_prompt``): schema without
    #: example values, and/or only the schema and question sections, and/or no schema at all (a model
    #: fine-tuned on one database); saved beside the model, where prediction reads them
    prompt_samples: bool = True
    compact_prompt: bool = False
    prompt_schema: bool = True

    def prompt_options(self) -> dict[str, bool]:
        """``build_prompt``'s keyword options for this recipe's prompts."""
        return {
            "with_samples": self.prompt_samples,
            "compact": self.compact_prompt,
            "with_schema": self.prompt_schema,
        }

    def to_trl(self):
        from trl import SFTConfig

        kwargs = self.common_trl_kwargs()
        kwargs.update(
            max_length=self.max_length,
            assistant_only_loss=True,
            packing=False,
            dataset_num_proc=None,
        )
        kwargs.update(self.trl_args)
        return SFTConfig(**kwargs)


#: The measured CPU recipe for the ``tiny`` model fine-tuned on one database (docs/training.md;
#: ``benchmarks/train.py --quality`` and the learning test use it): simple questions, the question
#: alone as prompt (the one database's schema is learned), a 2-layer model, cosine schedule,
#: length-grouped batches, held-out questions split by gold SQL. ~2 minutes on one CPU thread.
TINY_ONE_DATABASE_RECIPE: dict[str, Any] = dict(
    model="tiny", model_options={"layers": 2}, with_cot=False, feasible_only=True, split_by="sql",
    prompt_samples=False, compact_prompt=True, prompt_schema=False, max_steps=900, batch_size=16,
    learning_rate=3e-3, warmup_ratio=0.05, max_length=256, eval_limit=200, eval_max_new_tokens=96,
    save_steps=10_000, logging_steps=100,
    trl_args={"lr_scheduler_type": "cosine", "train_sampling_strategy": "group_by_length", "adam_beta2": 0.95},
)  # fmt: skip


#: ``smollm2-135m`` fine-tuned on one database, on a GPU (bf16 autocast over fp32 weights): the same
#: data and question-only prompt as the tiny recipe, a LoRA adapter (rank 64 on every linear layer) or,
#: in the ``-full`` variant, all weights; the ``-schema`` variant prompts with the compact schema.
#: Measured with ``benchmarks/train.py --quality`` (docs/training.md).
SMOLLM2_ONE_DATABASE_RECIPE: dict[str, Any] = dict(
    model="smollm2-135m", with_cot=False, feasible_only=True, split_by="sql", prompt_samples=False,
    compact_prompt=True, prompt_schema=False, lora=True, lora_r=64, lora_alpha=128, lora_dropout=0.0,
    max_steps=700, batch_size=16, learning_rate=5e-4, warmup_ratio=0.05, max_length=256, eval_limit=200,
    eval_max_new_tokens=96, eval_batch_size=64, save_steps=10_000, logging_steps=50,
    trl_args={"lr_scheduler_type": "cosine"},
)  # fmt: skip
SMOLLM2_ONE_DATABASE_FULL_RECIPE: dict[str, Any] = {
    **SMOLLM2_ONE_DATABASE_RECIPE, "lora": False, "learning_rate": 1e-4,
}  # fmt: skip
SMOLLM2_SCHEMA_FULL_RECIPE: dict[str, Any] = {
    **SMOLLM2_ONE_DATABASE_FULL_RECIPE, "prompt_schema": True, "max_length": 1536, "eval_batch_size": 32,
}  # fmt: skip

#: the named presets of ``sqlfoundry train sft --recipe`` (flags typed on the command line override them)
SFT_RECIPES: dict[str, dict[str, Any]] = {
    "tiny-one-database": TINY_ONE_DATABASE_RECIPE,
    "smollm2-one-database": SMOLLM2_ONE_DATABASE_RECIPE,
    "smollm2-one-database-full": SMOLLM2_ONE_DATABASE_FULL_RECIPE,
    "smollm2-schema-full": SMOLLM2_SCHEMA_FULL_RECIPE,
}


@dataclass
class TrainResult:
    """Where the trained model is and what happened."""

    output_dir: Path
    model_dir: Path
    global_step: int
    train_seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    exec_before: float | None = None
    exec_after: float | None = None
    exec_history: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "output_dir": str(self.output_dir),
            "model_dir": str(self.model_dir),
            "global_step": self.global_step,
            "train_seconds": self.train_seconds,
            "steps_per_second": self.global_step / self.train_seconds if self.train_seconds else None,
            "metrics": self.metrics,
            "exec_accuracy_before": self.exec_before,
            "exec_accuracy_after": self.exec_after,
            "exec_history": self.exec_history,
        }


def accelerate_command(config_file: Path, verb: str, argv: list[str]) -> str:
    """The command line that runs this training verb under ``accelerate launch`` (multi-GPU, DeepSpeed
    or FSDP as the accelerate config file says)."""
    rest = [a for a in argv if a]
    return shlex.join(
        ["accelerate", "launch", "--config_file", str(config_file), "-m", "sqlfoundry", "train", verb, *rest]
    )


def load_policy(spec: str, corpus: Any = None, **options: Any) -> tuple[Any, Any]:
    """``(model, tokenizer)`` to train: ``spec`` resolved like everywhere else (``tiny`` gets its
    tokenizer trained on ``corpus``: the rendered training examples, so the prompt's fixed text
    becomes a few tokens), weights in fp32 everywhere: on a GPU the trainer computes in bf16 autocast
    (``bf16=True``) over fp32 weights, since AdamW updates to bf16 weights round away at small learning
    rates. ``options`` go to the named model's builder (e.g. the ``tiny`` model's ``hidden``/``layers``)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..llm.models import resolve_model

    if spec.strip().lower() == "tiny" and corpus is not None:
        options = {"corpus": corpus, **options}
    path = resolve_model(spec, **options)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, local_files_only=True)
    return model, tokenizer


# ------------------------------------------------------------------------------------------------
# Curricula as samplers
# ------------------------------------------------------------------------------------------------


class DifficultyOrderSampler:
    """All epochs of a :class:`DifficultySchedule` in one pass (the trainer then runs one epoch):
    epoch ``e`` covers buckets ``0..e``, easiest first. Pass rates are the records' measured
    ``difficulty``, else a stand-in from their complexity (nothing is dropped)."""

    def __init__(self, rows: list[dict[str, Any]], epochs: int, seed: int = 0):
        schedule = DifficultySchedule(drop_solved=False, drop_unsolvable=False, seed=seed)
        self.order: list[int] = []
        for epoch in range(max(1, epochs)):
            self.order.extend(schedule.epoch_indices(rows, epoch))

    def __iter__(self):
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)


class UCBSFTSampler:
    """Batches drawn by a :class:`UCBDistributionScheduler` over record complexity. SFT has no
    advantages, so the signal is each batch's training loss (a distribution with a high loss still
    has something to teach); the trainer reports it through :meth:`report`."""

    def __init__(self, rows: list[dict[str, Any]], batch_size: int, epochs: int, seed: int = 0):
        self.scheduler = UCBDistributionScheduler([r["complexity"] for r in rows], seed=seed)
        self.batch_size = batch_size
        self.steps = max(1, epochs) * max(1, len(rows) // batch_size)
        self.pending: deque[list[int]] = deque()

    def __iter__(self):
        for _ in range(self.steps):
            batch = self.scheduler.next_batch(self.batch_size)
            self.pending.append(batch)
            yield from batch

    def __len__(self) -> int:
        return self.steps * self.batch_size

    def report(self, loss: float) -> None:
        if self.pending:
            batch = self.pending.popleft()
            self.scheduler.update(batch, [loss] * len(batch))


def answer_token_loss(
    model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None
) -> tuple[Any, dict[str, Any]]:
    """The SFT loss (mean negative log-likelihood of the labelled tokens, as TRL's) with the LM head
    applied to the labelled positions alone, and TRL's ``entropy``/``mean_token_accuracy`` metrics.

    TRL's fused LM head scores every position (prompt and padding too) in chunks unless Triton is
    available; on a CPU that is ~40% of a small model's step, since an answer is a fraction of the
    example. Returns ``(loss, {"entropy": sum, "correct": n, "valid": n})``.
    """
    import torch
    import torch.nn.functional as F

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    labels = inputs["labels"][:, 1:]
    hidden = base.get_decoder()(
        input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"), use_cache=False
    ).last_hidden_state[:, :-1]
    mask = labels != -100
    logits = base.get_output_embeddings()(hidden[mask]).float()
    targets = labels[mask]
    total = F.cross_entropy(logits, targets, reduction="sum")
    n = torch.as_tensor(num_items_in_batch if num_items_in_batch is not None else mask.sum())
    loss = total / n.to(total.device).clamp(min=1)
    with torch.no_grad():
        logp = torch.log_softmax(logits, dim=-1)
        stats = {
            "entropy": float(-(logp.exp() * logp).sum()),
            "correct": int((logits.argmax(-1) == targets).sum()),
            "valid": int(mask.sum()),
        }
    return loss, stats


def _prompt_options_callback(options: dict[str, bool]):
    """A trainer callback that records the prompt options in every ``checkpoint-N`` it saves, so a
    checkpoint predicts (``sqlfoundry predict --model <out>/checkpoint-N``) as the final model does."""
    from transformers import TrainerCallback

    class PromptOptionsCallback(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if state.is_world_process_zero and checkpoint.is_dir():
                write_prompt_options(checkpoint, options)

    return PromptOptionsCallback()


def nonfinite_gradient_guard():
    """A trainer callback that skips every optimizer update whose gradients are not finite (the
    update's gradients are dropped; the schedule still advances) and counts them in ``skipped``.

    Seen on an H200 (docs/training.md): GRPO over a weak SFT checkpoint in bf16 autocast got a NaN
    gradient within ten steps; the NaN weights then stopped the run in sampling ("probability tensor
    contains either inf, nan or element < 0"). Skipping the one bad update keeps the weights usable."""
    import logging

    import torch
    from transformers import TrainerCallback

    log = logging.getLogger("sqlfoundry.train")

    class NonFiniteGradientGuard(TrainerCallback):
        def __init__(self):
            self.skipped = 0
            self._hooked: set[int] = set()

        def check(self, optimizer: Any, *_: Any) -> None:
            grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
            norms = torch._foreach_norm(grads)  # one sync per device, not one per parameter
            devices = {n.device for n in norms}
            if all(bool(torch.stack([n for n in norms if n.device == d]).isfinite().all()) for d in devices):
                return
            for group in optimizer.param_groups:
                for param in group["params"]:
                    param.grad = None  # AdamW (and every torch optimizer) leaves such a parameter alone
            self.skipped += 1
            log.warning("non-finite gradient: optimizer update skipped (%d so far)", self.skipped)

        def on_train_begin(self, args, state, control, optimizer=None, **kwargs):
            inner = getattr(optimizer, "optimizer", optimizer)  # accelerate wraps the torch optimizer
            if inner is not None and id(inner) not in self._hooked:
                inner.register_step_pre_hook(self.check)
                self._hooked.add(id(inner))

    return NonFiniteGradientGuard()


def _sft_trainer_class(sampler: Any):
    from trl import SFTTrainer

    class CurriculumSFTTrainer(SFTTrainer):
        def _get_train_sampler(self, train_dataset=None):
            return sampler if sampler is not None else super()._get_train_sampler(train_dataset)

        def _answer_token_loss_applies(self, model: Any, return_outputs: bool) -> bool:
            """Whether :func:`answer_token_loss` computes exactly what TRL would: one CPU process, plain
            NLL, no label smoothing, custom loss or MoE auxiliary loss, outputs not wanted."""
            args = self.args
            return (
                not return_outputs
                and next(model.parameters()).device.type == "cpu"
                and self.accelerator.num_processes == 1
                and getattr(args, "loss_type", "nll") == "nll"
                and self.label_smoother is None
                and self.compute_loss_func is None
                and not getattr(self, "aux_loss_enabled", False)
            )

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if self._answer_token_loss_applies(model, return_outputs):
                loss, stats = answer_token_loss(model, inputs, num_items_in_batch)
                mode = "train" if model.training else "eval"
                valid = max(1, stats["valid"])
                self._metrics[mode]["entropy"].append(stats["entropy"] / valid)
                self._metrics[mode]["mean_token_accuracy"].append(stats["correct"] / valid)
                if mode == "train" and "attention_mask" in inputs:
                    self._total_train_tokens += int(inputs["attention_mask"].sum())
                self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
                out = loss
            else:
                out = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            if isinstance(sampler, UCBSFTSampler) and model.training:
                loss = out[0] if return_outputs else out
                sampler.report(float(loss.detach()))
            return out

    return CurriculumSFTTrainer


# ------------------------------------------------------------------------------------------------
# The recipe
# ------------------------------------------------------------------------------------------------


def prepare_split(config: RecipeBase) -> tuple[list[Record], list[Record], DatabaseCatalog]:
    records = load_records(
        config.records,
        complexities=config.complexities,
        feasible_only=config.feasible_only,
        limit=config.limit,
    )
    train, held = split_records(
        records, config.eval_fraction, config.seed, config.eval_limit, config.split_by
    )
    return train, held, config.catalog()


def last_checkpoint(output_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None


def finish(
    trainer: Any, config: RecipeBase, tokenizer: Any, prompt_options: dict[str, bool] | None = None
) -> Path:
    """Save the trained model at ``output_dir`` (a LoRA run: the adapter under ``adapter/`` and the
    merged model at the top), so ``output_dir`` is a checkpoint every other command loads; with
    ``prompt_options``, the ``build_prompt`` options it was trained with beside it (prediction reads them)."""
    out = Path(config.output_dir)
    model = trainer.model
    if config.lora and hasattr(model, "merge_and_unload"):
        model.save_pretrained(out / "adapter")
        model = model.merge_and_unload()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    if prompt_options is not None:
        write_prompt_options(out, prompt_options)
        if (out / "adapter").is_dir():
            write_prompt_options(out / "adapter", prompt_options)
    return out


def corpus_of(rows: list[dict[str, Any]], column: str) -> list[str]:
    """The texts of chat rows (every message's content), for a ``tiny`` model's tokenizer."""
    texts = []
    for row in rows:
        for key in (column, "chosen", "rejected"):
            texts.extend(m["content"] for m in row.get(key) or [] if isinstance(m, dict))
    return texts


def train_sft(config: SFTRecipeConfig, progress: bool = False) -> TrainResult:
    """Fine-tune ``config.model`` on the records' chat examples and save it at ``output_dir``."""
    import time

    from .exec_eval import ExecAccuracyCallback, execution_accuracy

    train, held, catalog = prepare_split(config)
    prompt_options = config.prompt_options()
    rows = sft_rows(train, catalog, config.with_cot, **prompt_options)
    dataset = to_dataset(rows)
    model, tokenizer = load_policy(config.model, corpus_of(rows, "messages"), **config.model_options)
    args = config.to_trl()
    if not progress:
        args.disable_tqdm = True

    sampler: Any = None
    epochs = max(1, math.ceil(config.epochs))
    if config.curriculum == "difficulty":
        sampler = DifficultyOrderSampler(rows, epochs, config.seed)
        args.num_train_epochs = 1
    elif config.curriculum == "ucb":
        sampler = UCBSFTSampler(rows, config.batch_size, epochs, config.seed)
        args.num_train_epochs = 1

    resume_from = None
    if config.resume:
        resume_from = last_checkpoint(config.output_dir)
        if resume_from is None:
            raise TrainError(f"--resume: no checkpoint-* folder in {config.output_dir} to resume from")

    exec_before = None
    if held and not resume_from:
        exec_before = execution_accuracy(
            model,
            tokenizer,
            held,
            catalog,
            max_new_tokens=config.eval_max_new_tokens,
            batch_size=config.eval_batch_size,
            **prompt_options,
        ).accuracy
    callback = ExecAccuracyCallback(
        held,
        catalog,
        config.eval_every,
        max_new_tokens=config.eval_max_new_tokens,
        batch_size=config.eval_batch_size,
        **prompt_options,
    )
    trainer_cls = _sft_trainer_class(sampler)
    guard = nonfinite_gradient_guard()
    trainer = trainer_cls(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=config.lora_config(),
        callbacks=[callback, _prompt_options_callback(prompt_options), guard],
    )
    callback.trainer = trainer
    start = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - start
    model_dir = finish(trainer, config, tokenizer, prompt_options)
    exec_after = callback.history[-1]["eval/exec_accuracy"] if callback.history else None
    if held and exec_after is None:
        exec_after = execution_accuracy(
            trainer.model,
            tokenizer,
            held,
            catalog,
            max_new_tokens=config.eval_max_new_tokens,
            batch_size=config.eval_batch_size,
            **prompt_options,
        ).accuracy
    result = TrainResult(
        Path(config.output_dir),
        model_dir,
        trainer.state.global_step,
        seconds,
        {k: float(v) for k, v in output.metrics.items() if isinstance(v, int | float)}
        | {"nonfinite_gradient_skips": float(guard.skipped)},
        exec_before,
        exec_after,
        callback.history,
    )
    write_result(config, result, "sft")
    return result


def write_result(config: RecipeBase, result: TrainResult, verb: str) -> None:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{verb}_recipe.json").write_text(config.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (out / f"{verb}_result.json").write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")


os.environ.setdefault("HF_HUB_OFFLINE", "1")
