"""GRPO and DPO recipes end to end on the tiny model: real execution rewards and execution-checked
preference pairs, a few steps each, weights change; the CLI verbs run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("trl")

from safetensors.torch import load_file  # noqa: E402

from sqlfoundry.llm.models import CACHE_ENV  # noqa: E402
from sqlfoundry.train.dpo import DPORecipeConfig, train_dpo  # noqa: E402
from sqlfoundry.train.grpo import GRPORecipeConfig, parse_weights, train_grpo  # noqa: E402
from sqlfoundry.train.sft import SFTRecipeConfig, train_sft  # noqa: E402
from test_train_sft import make_train_data  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def sft_model(tmp_path_factory) -> tuple[Path, str, Path]:
    """``(records, db_url, sft checkpoint)``: the tiny model after a few SFT steps."""
    root = tmp_path_factory.mktemp("train-rl")
    os.environ[CACHE_ENV] = str(root / "cache")
    records, url = make_train_data(root, n=60)
    out = root / "sft"
    train_sft(
        SFTRecipeConfig(
            records=records, db_url=url, output_dir=out, with_cot=False, max_steps=120, batch_size=4,
            learning_rate=3e-3, eval_limit=2, eval_max_new_tokens=8, save_steps=100, max_length=768,
        )
    )  # fmt: skip
    return records, url, out


def weights(model_dir: Path) -> dict:
    return load_file(str(model_dir / "model.safetensors"))


def changed(a: dict, b: dict) -> bool:
    return any(not a[k].equal(b[k]) for k in a)


@pytest.mark.parametrize("curriculum", ["none", "ucb"])
def test_grpo_runs_with_execution_rewards_and_changes_weights(sft_model, tmp_path, curriculum):
    records, url, sft = sft_model
    out = tmp_path / "grpo"
    result = train_grpo(
        GRPORecipeConfig(
            # Four samples at a high temperature: a group whose completions all earn the same reward has
            # zero advantage and moves nothing, so the group must differ for the weights to change.
            records=records, db_url=url, model=str(sft), output_dir=out, max_steps=2, batch_size=4,
            num_generations=4, temperature=1.5, max_completion_length=64, learning_rate=5e-3, eval_limit=2,
            eval_max_new_tokens=8, logging_steps=1, save_steps=100, curriculum=curriculum, reward_workers=1,
        )
    )  # fmt: skip
    assert result.global_step == 2
    assert changed(weights(sft), weights(out))
    logged = json.loads((out / "grpo_result.json").read_text())
    assert logged["global_step"] == 2
    if curriculum == "ucb":
        assert sum(v for k, v in result.metrics.items() if k.startswith("curriculum/picks/")) >= 1


def test_grpo_checks_num_generations_divides_batch(sft_model, tmp_path):
    from sqlfoundry.train.sft import TrainError

    records, url, sft = sft_model
    with pytest.raises(TrainError, match="must divide"):
        GRPORecipeConfig(records=records, db_url=url, model=str(sft), batch_size=3, num_generations=2).to_trl()


def test_parse_weights():
    assert parse_weights("execution=3,format=1") == {
        "execution": 3.0, "syntax": 0.0, "schema_linking": 0.0, "ngram": 0.0, "format": 1.0
    }  # fmt: skip


def test_dpo_builds_pairs_by_execution_and_changes_weights(sft_model, tmp_path):
    records, url, sft = sft_model
    out = tmp_path / "dpo"
    result = train_dpo(
        DPORecipeConfig(
            records=records, db_url=url, model=str(sft), output_dir=out, samples=2, max_new_tokens=16,
            max_steps=2, batch_size=2, learning_rate=5e-3, limit=8, eval_limit=2, eval_max_new_tokens=8,
            with_cot=False, save_steps=100,
        )
    )  # fmt: skip
    pairs = [json.loads(x) for x in (out / "pairs.jsonl").read_text().splitlines()]
    assert pairs and result.metrics["pairs"] == len(pairs)
    for p in pairs:
        assert p["chosen"][0]["content"] != p["rejected"][0]["content"]
        assert p["rejected_kind"] in ("wrong", "failed") and p["chosen_source"] in ("sample", "gold")
    assert result.global_step == 2
    assert changed(weights(sft), weights(out))


def test_cli_grpo_and_dpo(sft_model, tmp_path):
    from typer.testing import CliRunner

    from sqlfoundry.train.cli import app

    records, url, sft = sft_model
    runner = CliRunner()
    common = ["--records", str(records), "--db", url, "--model", str(sft), "--max-steps", "1"]
    res = runner.invoke(
        app,
        ["grpo", *common, "-o", str(tmp_path / "g"), "--batch-size", "2", "--num-generations", "2",
         "--max-completion-length", "8", "--eval-limit", "1", "--reward-weights", "execution=3,format=1"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        ["dpo", *common, "-o", str(tmp_path / "d"), "--samples", "2", "--max-new-tokens", "8",
         "--batch-size", "2", "--limit", "4"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output


def test_dpo_and_grpo_prompt_as_their_starting_checkpoint_was_trained(sft_model, tmp_path):
    import shutil

    from sqlfoundry.train.predict import read_prompt_options, write_prompt_options

    records, url, sft = sft_model
    start = tmp_path / "short-sft"
    shutil.copytree(sft, start)
    short = {"with_samples": False, "compact": True, "with_schema": False}
    write_prompt_options(start, short)
    dpo_out = tmp_path / "dpo-short"
    train_dpo(
        DPORecipeConfig(
            records=records, db_url=url, model=str(start), output_dir=dpo_out, samples=2, max_new_tokens=8,
            max_steps=1, batch_size=2, limit=4, eval_limit=1, eval_max_new_tokens=4, with_cot=False, save_steps=100,
        )
    )  # fmt: skip
    pairs = [json.loads(x) for x in (dpo_out / "pairs.jsonl").read_text().splitlines()]
    assert pairs
    for p in pairs:
        user = next(m["content"] for m in p["prompt"] if m["role"] == "user")
        assert "CREATE TABLE" not in user  # the schema-free prompt the checkpoint was trained with
    assert read_prompt_options(dpo_out) == short
    grpo_out = tmp_path / "grpo-short"
    train_grpo(
        GRPORecipeConfig(
            records=records, db_url=url, model=str(start), output_dir=grpo_out, max_steps=1, batch_size=2,
            num_generations=2, max_completion_length=8, eval_limit=1, eval_max_new_tokens=4, save_steps=100,
            reward_workers=1,
        )
    )  # fmt: skip
    assert read_prompt_options(grpo_out) == short
