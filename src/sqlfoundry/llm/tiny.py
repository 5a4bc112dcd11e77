"""The model name ``tiny``: a randomly initialised ~1.4M-parameter Llama-style model with a byte-level BPE
tokenizer (merges inside words) trained locally on a given corpus, saved as a normal transformers checkpoint.

It knows nothing until trained, but it builds in seconds with no download, so tests, the quick start
and CI exercise every training, prediction and serving path with it exactly as with a real model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

MODEL_NAME = "tiny"
#: written last into a built checkpoint: its presence means the build finished
MARKER = "sqlfoundry_model.json"

BOS, EOS, PAD = "<|endoftext|>", "<|im_end|>", "<|pad|>"
IM_START = "<|im_start|>"
SPECIAL_TOKENS = [BOS, IM_START, EOS, PAD]
#: the roles the chat template writes out (trained into the tokenizer as words)
CHAT_ROLES = ("system", "user", "assistant")
#: how text is cut before BPE merges (GPT-2's rule without its letter/digit split): a run of word
#: characters or one punctuation character, each with the space before it, or a run of whitespace. With
#: a large enough vocabulary a word is one token, and a column name or literal copied from the question is
#: the same token in the SQL when both follow a space, or both a quote or other punctuation.
PIECES = r" ?\w+| ?[^\w\s]|\s+(?!\S)|\s+"
#: part of every tiny build's cache key: a build with another tokenizer scheme is a different model
TOKENIZER_SCHEME = "bpe-word-pieces-2"

def chatml_training_template(default_system: str | None = None) -> str:
    """ChatML, as Qwen and SmolLM2 use, with ``{% generation %}`` around assistant text so TRL's
    ``assistant_only_loss`` can mask everything else; ``default_system``: the system turn a conversation
    without one gets (as SmolLM2's own template adds)."""
    first = ""
    if default_system is not None:
        if any(c in default_system for c in "'\\{}%"):
            raise ValueError(f"default system message must be plain text for the template: {default_system!r}")
        first = (
            "{% if loop.first and messages[0]['role'] != 'system' %}"
            f"{{{{ '<|im_start|>system\\n{default_system}<|im_end|>\\n' }}}}"
            "{% endif %}"
        )
    return (
        "{% for message in messages %}"
        + first
        + "{{ '<|im_start|>' + message['role'] + '\n' }}"
        "{% if message['role'] == 'assistant' %}"
        "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
        "{% else %}{{ message['content'] + '<|im_end|>' }}{% endif %}"
        "{{ '\n' }}"
        "{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )


#: the tiny model's chat template (no default system turn)
CHAT_TEMPLATE = chatml_training_template()


@dataclass(frozen=True)
class TinyModelConfig:
    """Size of the tiny model. The defaults give ~1.4M parameters with a full 4096-token vocabulary."""

    vocab_size: int = 4096
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    intermediate: int = 384
    max_positions: int = 8192
    seed: int = 0

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def corpus_digest(texts: Iterable[str], config: TinyModelConfig = TinyModelConfig()) -> str:
    """A short hash of the corpus and the size options: the cache key of a built tiny model."""
    h = hashlib.sha256((TOKENIZER_SCHEME + config.key()).encode())
    for text in texts:
        h.update(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
    return h.hexdigest()[:16]


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096):
    """A byte-level BPE tokenizer (any input encodes, no unknown token) trained on ``texts``, wrapped as
    a transformers fast tokenizer with the ChatML chat template.

    Merges stay inside the :data:`PIECES` of the text (words, punctuation, whitespace): with a vocabulary
    large enough for the corpus's words, every SQL keyword, schema identifier and frequent question word
    is one token, so answers are short and a model learns word-to-column mappings, not spellings.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    # The chat template's role names are not in a corpus of message contents: without them every
    # example spends a dozen tokens spelling "system", "user" and "assistant" letter by letter.
    texts = list(texts) + [f"{role}\n" for role in CHAT_ROLES for _ in range(2)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PIECES), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts or [" "], trainer=trainer, length=len(texts))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        chat_template=CHAT_TEMPLATE,
        model_max_length=8192,
        padding_side="left",
        clean_up_tokenization_spaces=False,
    )


def build_tiny_model(
    texts: Iterable[str],
    out_dir: str | os.PathLike,
    seed: int = 0,
    vocab_size: int = 4096,
    hidden: int = 128,
    layers: int = 4,
    heads: int = 4,
    intermediate: int = 384,
    max_positions: int = 8192,
    overwrite: bool = False,
) -> Path:
    """Build the tiny model into ``out_dir`` (config, safetensors weights, tokenizer, generation
    config) and return the directory. The same texts, options and seed give identical files.

    ``texts`` is the tokenizer's training corpus: e.g. chat-formatted training examples (prompt and
    answer), or schema DDL and SQL. The build is atomic: written beside ``out_dir`` under a temporary
    name and renamed into place when complete. An existing complete build is kept unless ``overwrite``.
    """
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = TinyModelConfig(vocab_size, hidden, layers, heads, intermediate, max_positions, seed)
    texts = [t for t in texts if t]
    target = Path(out_dir)
    if is_built(target) and not overwrite:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; a checkpoint directory is not
    try:
        tokenizer = train_tokenizer(texts, vocab_size)
        model_config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            intermediate_size=intermediate,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            num_key_value_heads=heads,
            max_position_embeddings=max_positions,
            tie_word_embeddings=True,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = LlamaForCausalLM(model_config)
        model.generation_config = GenerationConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        info = {
            "name": MODEL_NAME,
            "options": asdict(config),
            "tokenizer": TOKENIZER_SCHEME,
            "parameters": sum(p.numel() for p in model.parameters()),
            "corpus_texts": len(texts),
            "corpus_digest": corpus_digest(texts, config),
        }
        (tmp / MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        try:
            os.replace(tmp, target)
        except OSError:
            if not is_built(target):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def is_built(path: Path) -> bool:
    return (path / MARKER).is_file() and (path / "config.json").is_file()


__all__ = [
    "CHAT_TEMPLATE",
    "chatml_training_template",
    "MODEL_NAME",
    "TinyModelConfig",
    "build_tiny_model",
    "corpus_digest",
    "is_built",
    "train_tokenizer",
]
