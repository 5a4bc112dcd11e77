"""``sqlfoundry train sft|grpo|dpo``: parse options into a recipe config and run it.

The work is :func:`~.sft.train_sft`, :func:`~.grpo.train_grpo` and :func:`~.dpo.train_dpo`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console

from ..errors import SQLFoundryError

app = typer.Typer(
    help="Train text-to-SQL models: SFT, GRPO with execution rewards, DPO.", no_args_is_help=True
)
console = Console()
err_console = Console(stderr=True)

RECORDS = typer.Option(..., "--records", help="Records JSONL (or a synthesis run folder).")
DB = typer.Option(None, "--db", help="One database URL for every record.")
DB_DIR = typer.Option(None, "--db-dir", help="Databases at <db-dir>/<db_id>/<db_id>.sqlite.")
MODEL = typer.Option("tiny", "--model", "-m", help="tiny, smollm2-135m or a checkpoint directory.")
LORA = typer.Option(False, "--lora/--full", help="Train a LoRA adapter or all weights.")
ACCEL = typer.Option(
    None, "--accelerate-config", help="Print the `accelerate launch` line for this config file."
)


def _run(verb: str, build, accelerate_config: Path | None) -> None:
    if accelerate_config is not None:
        from .sft import accelerate_command

        argv = sys.argv[sys.argv.index(verb) + 1 :] if verb in sys.argv else []
        skip = {"--accelerate-config"}
        args = [a for i, a in enumerate(argv) if a not in skip and (i == 0 or argv[i - 1] not in skip)]
        console.print("Run this on the machine with the accelerators:")
        console.print(accelerate_command(accelerate_config, verb, args), markup=False, soft_wrap=True)
        return
    missing = [m for m in ("torch", "transformers", "trl", "peft") if importlib.util.find_spec(m) is None]
    if missing:
        err_console.print(
            f"[red]error:[/] training needs {', '.join(missing)}: "
            "pip install torch==2.13.0 && pip install 'sqlfoundry\\[train]' (torch pinned: an unpinned one is a CUDA build)"
        )
        raise typer.Exit(2)
    try:
        result = build()
    except ValidationError as exc:
        err_console.print(f"[red]error:[/] {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from None
    except SQLFoundryError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    console.print_json(json.dumps(result.to_json()))


#: ``--recipe`` names: a preset of SFT options (flags given on the command line override it)
def _sft_recipes() -> dict[str, dict]:
    from .sft import SFT_RECIPES

    return SFT_RECIPES


#: CLI parameter → SFTRecipeConfig field, for the options a recipe may set
_SFT_FLAG_FIELDS = {
    "model": "model", "epochs": "epochs", "lr": "learning_rate", "batch_size": "batch_size",
    "max_steps": "max_steps", "eval_limit": "eval_limit", "save_steps": "save_steps", "max_length": "max_length",
    "no_cot": "with_cot", "curriculum": "curriculum", "prompt_samples": "prompt_samples",
    "compact_prompt": "compact_prompt", "prompt_schema": "prompt_schema", "split_by": "split_by", "seed": "seed",
    "lora": "lora", "eval_every": "eval_every",
}  # fmt: skip


def _with_recipe(ctx: typer.Context, recipe: str | None, options: dict) -> dict:
    """``options`` (config fields from the flags) laid over the named recipe: a flag typed on the command
    line wins, a flag left at its default gives way to the recipe."""
    if recipe is None:
        return options
    recipes = _sft_recipes()
    if recipe not in recipes:
        err_console.print(f"[red]error:[/] unknown --recipe {recipe!r}: choose one of {', '.join(recipes)}")
        raise typer.Exit(2)
    merged = dict(recipes[recipe])
    typed = {
        field for flag, field in _SFT_FLAG_FIELDS.items()
        if getattr(ctx.get_parameter_source(flag), "name", "") in ("COMMANDLINE", "ENVIRONMENT")
    }  # fmt: skip
    for field, value in options.items():
        if field not in merged or field in typed:
            merged[field] = value
    return merged


@app.command("sft")
def sft_command(
    ctx: typer.Context,
    records: Path = RECORDS,
    db: str = DB,
    db_dir: Path = DB_DIR,
    model: str = MODEL,
    out: Path = typer.Option(Path("runs/sft"), "--out", "-o", help="Run folder (checkpoints, final model)."),
    lora: bool = LORA,
    epochs: float = typer.Option(3.0, "--epochs"),
    lr: float = typer.Option(2e-4, "--lr"),
    batch_size: int = typer.Option(8, "--batch-size", min=1),
    max_steps: int = typer.Option(
        -1, "--max-steps", help="Stop after N optimizer steps (-1: run the epochs)."
    ),
    eval_every: int = typer.Option(
        0, "--eval-every", min=0, help="Held-out execution accuracy every N steps."
    ),
    eval_limit: int = typer.Option(64, "--eval-limit", min=1, help="Held-out records scored."),
    save_steps: int = typer.Option(200, "--save-steps", min=1),
    max_length: int = typer.Option(1024, "--max-length", min=16),
    no_cot: bool = typer.Option(False, "--no-cot", help="Teach the SQL block alone, without reasoning."),
    curriculum: str = typer.Option("none", "--curriculum", help="none, difficulty or ucb."),
    prompt_samples: bool = typer.Option(
        True, "--prompt-samples/--no-prompt-samples", help="Schema with example values and row counts."
    ),
    compact_prompt: bool = typer.Option(
        False, "--compact-prompt", help="Only the schema and question sections."
    ),
    prompt_schema: bool = typer.Option(
        True, "--prompt-schema/--no-prompt-schema", help="Leave the schema out (a model for one database)."
    ),
    split_by: str = typer.Option("id", "--split-by", help="Hold out by record id, or by gold sql."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint in --out."),
    seed: int = typer.Option(0, "--seed"),
    recipe: str | None = typer.Option(
        None,
        "--recipe",
        help="Start from a named recipe; flags typed here override it. tiny-one-database: the measured CPU "
        "recipe for the tiny model on one database; smollm2-one-database (LoRA), smollm2-one-database-full, "
        "smollm2-schema-full: smollm2-135m on one database, on a GPU (docs/training.md).",
    ),
    accelerate_config: Path = ACCEL,
) -> None:
    """Supervised fine-tuning on the records' chat examples (assistant-only loss). The prompt options
    are saved with the model; ``sqlfoundry predict --model <out>`` prompts the same way."""
    from .sft import SFTRecipeConfig, train_sft

    options = _with_recipe(
        ctx,
        recipe,
        dict(
            records=records, db_url=db, db_dir=db_dir, model=model, output_dir=out, lora=lora,
            epochs=epochs, learning_rate=lr, batch_size=batch_size, max_steps=max_steps,
            eval_every=eval_every, eval_limit=eval_limit, save_steps=save_steps, max_length=max_length,
            with_cot=not no_cot, curriculum=curriculum, resume=resume, seed=seed,
            prompt_samples=prompt_samples, compact_prompt=compact_prompt, prompt_schema=prompt_schema,
            split_by=split_by,
        ),
    )  # fmt: skip
    _run("sft", lambda: train_sft(SFTRecipeConfig(**options)), accelerate_config)


@app.command("grpo")
def grpo_command(
    records: Path = RECORDS,
    db: str = DB,
    db_dir: Path = DB_DIR,
    model: str = typer.Option(..., "--model", "-m", help="Policy to start from: an SFT run folder."),
    out: Path = typer.Option(Path("runs/grpo"), "--out", "-o"),
    lora: bool = LORA,
    epochs: float = typer.Option(1.0, "--epochs"),
    lr: float = typer.Option(1e-5, "--lr"),
    batch_size: int = typer.Option(8, "--batch-size", min=1),
    max_steps: int = typer.Option(-1, "--max-steps"),
    num_generations: int = typer.Option(4, "--num-generations", min=2),
    max_completion_length: int = typer.Option(128, "--max-completion-length", min=1),
    reward_weights: str = typer.Option(
        None, "--reward-weights", help="e.g. execution=3,format=1 (others 0)."
    ),
    curriculum: str = typer.Option("none", "--curriculum", help="none or ucb."),
    eval_every: int = typer.Option(0, "--eval-every", min=0),
    eval_limit: int = typer.Option(64, "--eval-limit", min=1),
    save_steps: int = typer.Option(200, "--save-steps", min=1),
    resume: bool = typer.Option(False, "--resume"),
    seed: int = typer.Option(0, "--seed"),
    accelerate_config: Path = ACCEL,
) -> None:
    """GRPO with execution, syntax, schema-linking, n-gram and format rewards."""
    from .grpo import GRPORecipeConfig, parse_weights, train_grpo

    def build():
        return train_grpo(
            GRPORecipeConfig(
                records=records, db_url=db, db_dir=db_dir, model=model, output_dir=out, lora=lora, epochs=epochs,
                learning_rate=lr, batch_size=batch_size, max_steps=max_steps, num_generations=num_generations,
                max_completion_length=max_completion_length, reward_weights=parse_weights(reward_weights),
                curriculum=curriculum, eval_every=eval_every, eval_limit=eval_limit, save_steps=save_steps,
                resume=resume, seed=seed,
            )
        )  # fmt: skip

    _run("grpo", build, accelerate_config)


@app.command("dpo")
def dpo_command(
    records: Path = RECORDS,
    db: str = DB,
    db_dir: Path = DB_DIR,
    model: str = typer.Option(..., "--model", "-m", help="Policy to sample and train: an SFT run folder."),
    out: Path = typer.Option(Path("runs/dpo"), "--out", "-o"),
    lora: bool = LORA,
    samples: int = typer.Option(4, "--samples", min=1, help="Samples per prompt when building pairs."),
    max_new_tokens: int = typer.Option(128, "--max-new-tokens", min=1),
    epochs: float = typer.Option(1.0, "--epochs"),
    lr: float = typer.Option(5e-6, "--lr"),
    batch_size: int = typer.Option(4, "--batch-size", min=1),
    max_steps: int = typer.Option(-1, "--max-steps"),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N records."),
    resume: bool = typer.Option(False, "--resume"),
    seed: int = typer.Option(0, "--seed"),
    accelerate_config: Path = ACCEL,
) -> None:
    """DPO on pairs built by sampling the model and executing its answers (saved to pairs.jsonl)."""
    from .dpo import DPORecipeConfig, train_dpo

    _run(
        "dpo",
        lambda: train_dpo(
            DPORecipeConfig(
                records=records, db_url=db, db_dir=db_dir, model=model, output_dir=out, lora=lora,
                samples=samples, max_new_tokens=max_new_tokens, epochs=epochs, learning_rate=lr,
                batch_size=batch_size, max_steps=max_steps, limit=limit, resume=resume, seed=seed,
            )
        ),
        accelerate_config,
    )  # fmt: skip
