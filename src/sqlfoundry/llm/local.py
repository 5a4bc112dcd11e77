"""The local backend: a transformers causal LM (a named model, a checkpoint directory, optionally with a
LoRA adapter) behind the :class:`~.base.Generator` interface, registered as ``transformers`` and ``local``.

Prompts go through the model's own chat template; sampling (temperature, top-p, n samples per prompt)
or greedy decoding when the temperature is 0; stop strings; reproducible seeds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from .base import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
    LLMConfigError,
    Prompt,
    Usage,
    as_messages,
    register_backend,
)


class TransformersGenerator:
    """Generate with a local transformers model.

    ``model`` is anything :func:`~.models.resolve_model` accepts (``"tiny"``, ``"smollm2-135m"``, a
    checkpoint directory) or an already loaded model (then pass ``tokenizer=``). ``batch_size`` is the
    number of sequences decoded together (prompts × n). ``model_options`` go to ``resolve_model``
    (e.g. ``corpus=`` for ``tiny``).
    """

    def __init__(
        self,
        model: Any,
        lora_path: str | os.PathLike | None = None,
        device: str = "cpu",
        dtype: Any = None,
        batch_size: int = 8,
        top_p: float = 1.0,
        top_k: int | None = None,
        tokenizer: Any = None,
        name: str | None = None,
        **model_options: Any,
    ):
        import torch

        from .models import apply_lora, load_model

        if isinstance(model, str | os.PathLike):
            self.model, self.tokenizer = load_model(
                model, lora=lora_path, dtype=dtype, device=device, **model_options
            )
            label = os.fspath(model)
        else:
            if tokenizer is None:
                raise LLMConfigError("a loaded model needs its tokenizer: pass tokenizer=")
            self.model, self.tokenizer = model, tokenizer
            if lora_path is not None:
                self.model = apply_lora(self.model, lora_path)
            self.model.to(device)
            self.model.eval()
            label = type(model).__name__
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "left"
        self.device = device
        self.batch_size = max(1, int(batch_size))
        self.top_p = top_p
        self.top_k = top_k
        self.name = name or f"transformers:{label}" + (f"+{os.fspath(lora_path)}" if lora_path else "")
        self.usage = Usage()
        self._torch = torch
        self._eos_ids = self._stop_token_ids()
        #: mean log-probability of each completion of the last :meth:`generate` call, same shape
        self.last_logprobs: list[list[float]] = []

    def _stop_token_ids(self) -> list[int]:
        ids = []
        for token in (self.tokenizer.eos_token, "<|im_end|>", "<|endoftext|>", "<|eot_id|>"):
            if token is None:
                continue
            tid = self.tokenizer.convert_tokens_to_ids(token)
            if isinstance(tid, int) and tid != self.tokenizer.unk_token_id and tid not in ids:
                ids.append(tid)
        return ids

    def render(self, prompt: Prompt) -> str:
        """The exact text the model sees for ``prompt`` (chat template with the assistant turn opened)."""
        messages = as_messages(prompt)
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "\n\n".join(m["content"] for m in messages) + "\n\n"

    def generate(
        self,
        prompts: Sequence[Prompt],
        n: int = 1,
        temperature: float = DEFAULT_TEMPERATURE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> list[list[str]]:
        scored = self.generate_scored(prompts, n, temperature, max_tokens, stop, seed)
        self.last_logprobs = [[lp for _, lp in row] for row in scored]
        return [[text for text, _ in row] for row in scored]

    def generate_scored(
        self,
        prompts: Sequence[Prompt],
        n: int = 1,
        temperature: float = DEFAULT_TEMPERATURE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> list[list[tuple[str, float]]]:
        """Like :meth:`generate`, with each completion's mean token log-probability under the model
        (before temperature), for tie-breaking among candidates."""
        if n < 1:
            raise LLMConfigError(f"n must be at least 1, got {n}")
        texts = [self.render(p) for p in prompts]
        greedy = temperature is None or temperature <= 0
        # Greedy decoding gives one answer however many are asked for: decode once, repeat it.
        per_prompt = 1 if greedy else n
        chunk = max(1, self.batch_size // per_prompt)
        out: list[list[tuple[str, float]]] = []
        for start in range(0, len(texts), chunk):
            batch = texts[start : start + chunk]
            chunk_seed = None if seed is None else seed + start
            rows = self._generate_batch(batch, per_prompt, temperature, max_tokens, stop, chunk_seed, greedy)
            out.extend(row * n if greedy else row for row in rows)
        return out

    def _generate_batch(
        self,
        texts: list[str],
        per_prompt: int,
        temperature: float,
        max_tokens: int,
        stop: list[str] | None,
        seed: int | None,
        greedy: bool,
    ) -> list[list[tuple[str, float]]]:
        torch = self._torch
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        input_len = enc["input_ids"].shape[1]
        limit = getattr(self.model.config, "max_position_embeddings", None)
        max_new = max_tokens if not limit else max(1, min(max_tokens, limit - input_len))
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new,
            "num_return_sequences": per_prompt,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self._eos_ids or None,
            "return_dict_in_generate": True,
            "output_logits": True,
        }
        if greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=float(temperature), top_p=self.top_p)
            if self.top_k is not None:
                kwargs["top_k"] = self.top_k
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            if seed is not None:
                torch.manual_seed(seed)
            result = self.model.generate(**enc, **kwargs)
        new_tokens = result.sequences[:, input_len:]
        logprobs = self._mean_logprobs(new_tokens, result.logits)
        rows: list[list[tuple[str, float]]] = []
        completion_tokens = 0
        for i in range(len(texts)):
            row = []
            for j in range(per_prompt):
                k = i * per_prompt + j
                ids = self._cut_at_eos(new_tokens[k].tolist())
                completion_tokens += len(ids)
                text = self.tokenizer.decode(ids, skip_special_tokens=True)
                row.append((_cut_at_stop(text, stop), logprobs[k]))
            rows.append(row)
        self.usage.record(
            prompt_tokens=int(enc["attention_mask"].sum().item()),
            completion_tokens=completion_tokens,
            requests=1,
            completions=len(texts) * per_prompt,
        )
        return rows

    def _cut_at_eos(self, ids: list[int]) -> list[int]:
        stops = set(self._eos_ids) | {self.tokenizer.pad_token_id}
        for pos, tid in enumerate(ids):
            if tid in stops:
                return ids[:pos]
        return ids

    def _mean_logprobs(self, new_tokens: Any, logits: Sequence[Any] | None) -> list[float]:
        torch = self._torch
        if not logits:
            return [0.0] * new_tokens.shape[0]
        steps = torch.stack(list(logits), dim=1).float()  # (batch, steps, vocab)
        steps = steps[:, : new_tokens.shape[1]]
        tokens = new_tokens[:, : steps.shape[1]]
        chosen = torch.log_softmax(steps, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
        out = []
        for k in range(tokens.shape[0]):
            length = len(self._cut_at_eos(tokens[k].tolist()))
            # the end-of-turn token is part of the answer's likelihood
            length = min(length + 1, tokens.shape[1])
            out.append(float(chosen[k, :length].mean().item()) if length else 0.0)
        return out


def _cut_at_stop(text: str, stop: list[str] | None) -> str:
    """Text up to (not including) the first stop string, as OpenAI-compatible servers return it."""
    if not stop:
        return text
    cut = min((at for at in (text.find(s) for s in stop if s) if at != -1), default=-1)
    return text if cut == -1 else text[:cut]


def _factory(target: str | None = None, model: Any = None, lora: str | None = None, **options: Any):
    spec = model if model is not None else target
    if spec is None:
        raise LLMConfigError(
            "the transformers backend needs a model: 'transformers:tiny', 'transformers:smollm2-135m' "
            "or 'transformers:/path/to/checkpoint'"
        )
    lora_path = options.pop("lora_path", None) or lora
    return TransformersGenerator(spec, lora_path=lora_path, **options)


register_backend("transformers", _factory, replace=True)
register_backend("local", _factory, replace=True)

__all__ = ["TransformersGenerator"]
