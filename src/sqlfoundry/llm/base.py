"""The one small interface every model backend implements — "generate n completions for these
prompts" — plus token/cost accounting, the typed errors backends raise, and the backend registry.

A backend is anything with a :meth:`Generator.generate` method. Users add their own with
:func:`register_backend` (or the ``sqlfoundry.llm_backends`` entry-point group) and load any of them
by name with :func:`load_generator`, without editing SQLFoundry.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

from ..errors import SQLFoundryError

#: one chat message: ``{"role": "system" | "user" | "assistant", "content": "..."}``
Message = dict[str, str]
#: a prompt is a chat (list of messages) or plain text (sent as one user message)
Prompt = list[Message] | str

DEFAULT_TEMPERATURE = 0.8
DEFAULT_MAX_TOKENS = 1024


# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------


class LLMError(SQLFoundryError):
    """A model backend failed; the message says which server/model and what to do."""


class LLMConfigError(LLMError, ValueError):
    """A backend spec or option that makes no sense (unknown backend, missing model name, ...)."""


class LLMUnavailableError(LLMError):
    """The server cannot be reached at all (nothing listening, DNS failure, refused connection)."""


class LLMModelNotFoundError(LLMError):
    """The server is up but does not serve the requested model."""


class LLMAuthError(LLMError):
    """The server rejected the API key (HTTP 401/403)."""


class LLMRequestError(LLMError):
    """A request failed for good: rejected as invalid (HTTP 400/422) or still failing after every retry."""


# ------------------------------------------------------------------------------------------------
# Usage and cost accounting
# ------------------------------------------------------------------------------------------------


@dataclass
class Usage:
    """Tokens, requests and (optionally) money spent by one generator; safe to update from threads.

    ``prompt_price_per_1k`` / ``completion_price_per_1k`` are prices per 1000 tokens in any currency;
    :attr:`cost` is None unless at least one is set. Token counts come from the server's ``usage``
    field; when a server sends none they are estimated (4 characters per token) and
    ``estimated_requests`` says how many requests were estimated.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    retries: int = 0
    failed_requests: int = 0
    estimated_requests: int = 0
    completions: int = 0
    prompt_price_per_1k: float | None = None
    completion_price_per_1k: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(
        self,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        requests: int = 0,
        retries: int = 0,
        failed_requests: int = 0,
        estimated: bool = False,
        completions: int = 0,
    ) -> None:
        with self._lock:
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            self.requests += requests
            self.retries += retries
            self.failed_requests += failed_requests
            self.estimated_requests += int(estimated)
            self.completions += completions

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost(self) -> float | None:
        if self.prompt_price_per_1k is None and self.completion_price_per_1k is None:
            return None
        return (
            self.prompt_tokens * (self.prompt_price_per_1k or 0.0)
            + self.completion_tokens * (self.completion_price_per_1k or 0.0)
        ) / 1000.0

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            data = {
                "requests": self.requests,
                "retries": self.retries,
                "failed_requests": self.failed_requests,
                "completions": self.completions,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens,
                "estimated_requests": self.estimated_requests,
            }
        cost = self.cost
        if cost is not None:
            data["estimated_cost"] = round(cost, 6)
        return data

    def summary(self) -> str:
        """One line for progress output, e.g. ``12 requests (1 retried), 3,456 tokens, cost 0.0123``."""
        d = self.to_dict()
        text = f"{d['requests']} requests ({d['retries']} retries), {d['total_tokens']:,} tokens"
        if "estimated_cost" in d:
            text += f", cost {d['estimated_cost']:.4f}"
        return text


# ------------------------------------------------------------------------------------------------
# The interface
# ------------------------------------------------------------------------------------------------


@runtime_checkable
class Generator(Protocol):
    """Anything that turns prompts into sampled completions.

    ``generate`` returns one list per prompt, in prompt order, each with ``n`` completions (fewer only
    when a backend documents it). ``seed`` asks for reproducible sampling where the backend supports it.
    """

    #: a short name for provenance records, e.g. ``"endpoint:qwen2.5-coder-7b"``
    name: str
    usage: Usage

    def generate(
        self,
        prompts: Sequence[Prompt],
        n: int = 1,
        temperature: float = DEFAULT_TEMPERATURE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> list[list[str]]: ...


def as_messages(prompt: Prompt, system: str | None = None) -> list[Message]:
    """A prompt as chat messages: plain text becomes one user message (after ``system``, if given)."""
    if isinstance(prompt, str):
        messages = [{"role": "user", "content": prompt}]
        return ([{"role": "system", "content": system}] if system else []) + messages
    if not isinstance(prompt, list) or not all(
        isinstance(m, Mapping) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in prompt
    ):
        raise LLMConfigError("a prompt must be a string or a list of {'role': str, 'content': str} messages")
    return [{"role": m["role"], "content": m["content"]} for m in prompt]


class CallableGenerator:
    """A generator around a plain function ``fn(messages, n, temperature, max_tokens, stop, seed) ->
    list[str]`` — for tests, notebooks and quick adapters to other libraries."""

    def __init__(self, fn: Callable[..., list[str]], name: str = "callable"):
        self.fn = fn
        self.name = name
        self.usage = Usage()

    def generate(
        self,
        prompts: Sequence[Prompt],
        n: int = 1,
        temperature: float = DEFAULT_TEMPERATURE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> list[list[str]]:
        out = []
        for prompt in prompts:
            texts = list(self.fn(as_messages(prompt), n, temperature, max_tokens, stop, seed))
            self.usage.record(requests=1, completions=len(texts), estimated=True,
                              prompt_tokens=_estimate_tokens(as_messages(prompt)),
                              completion_tokens=sum(len(t) for t in texts) // 4)  # fmt: skip
            out.append(texts)
        return out


def _estimate_tokens(messages: list[Message]) -> int:
    return sum(len(m["content"]) for m in messages) // 4 + 4 * len(messages)


# ------------------------------------------------------------------------------------------------
# Registry
# ------------------------------------------------------------------------------------------------

#: a factory builds a generator from keyword options (``target`` holds what followed ``name:`` in a spec)
BackendFactory = Callable[..., Generator]

_BACKENDS: dict[str, BackendFactory] = {}
_ENTRY_POINT_GROUP = "sqlfoundry.llm_backends"


def register_backend(name: str, factory: BackendFactory, *, replace: bool = False) -> None:
    """Make ``load_generator(name...)`` build generators with ``factory(**options)``.

    Third-party packages can instead declare an entry point in the ``sqlfoundry.llm_backends`` group
    (``name = "package.module:factory"``); it is loaded the first time the name is asked for.
    """
    key = name.strip().lower()
    if not key or ":" in key:
        raise LLMConfigError(f"backend name {name!r} must be non-empty and contain no ':'")
    if key in _BACKENDS and not replace and _BACKENDS[key] is not factory:
        raise LLMConfigError(f"a backend named {key!r} is already registered (pass replace=True)")
    _BACKENDS[key] = factory


def backend_names() -> list[str]:
    """Registered backends plus those declared by installed packages' entry points."""
    _ensure_builtin_backends()
    names = set(_BACKENDS)
    try:
        names.update(ep.name.lower() for ep in metadata.entry_points(group=_ENTRY_POINT_GROUP))
    except Exception:  # a broken distribution's metadata must not break listing
        pass
    return sorted(names)


def load_generator(spec: str | Mapping[str, Any], **options: Any) -> Generator:
    """Build a generator from a spec.

    ``spec`` is a backend name (``"endpoint"``), a name with a target (``"endpoint:http://localhost:8000/v1"``
    — the target is passed as ``target=``), a JSON object text, or a mapping with a ``"backend"`` key;
    other keys and ``options`` are passed to the backend's factory. Examples::

        load_generator("endpoint:http://localhost:8000/v1", model="Qwen/Qwen2.5-Coder-7B-Instruct")
        load_generator({"backend": "endpoint", "base_url": "http://localhost:11434/v1", "model": "qwen2.5-coder"})
    """
    if isinstance(spec, str):
        text = spec.strip()
        if text.startswith("{"):
            try:
                spec = json.loads(text)
            except ValueError as exc:
                raise LLMConfigError(f"generator spec is not valid JSON: {exc}") from None
        else:
            name, sep, target = text.partition(":")
            params: dict[str, Any] = {"target": target} if sep and target else {}
            return _build(name, {**params, **options})
    if not isinstance(spec, Mapping) or "backend" not in spec:
        raise LLMConfigError(
            "a generator spec mapping needs a 'backend' key, e.g. {'backend': 'endpoint', ...}"
        )
    params = {k: v for k, v in spec.items() if k != "backend"}
    return _build(str(spec["backend"]), {**params, **options})


def _build(name: str, options: dict[str, Any]) -> Generator:
    _ensure_builtin_backends()
    key = name.strip().lower()
    factory = _BACKENDS.get(key) or _from_entry_point(key)
    if factory is None:
        raise LLMConfigError(f"unknown LLM backend {name!r}: known backends are {', '.join(backend_names())}")
    try:
        return factory(**options)
    except TypeError as exc:
        raise LLMConfigError(f"bad options for LLM backend {key!r}: {exc}") from None


def _from_entry_point(key: str) -> BackendFactory | None:
    try:
        eps = metadata.entry_points(group=_ENTRY_POINT_GROUP)
    except Exception:
        return None
    for ep in eps:
        if ep.name.lower() == key:
            factory = ep.load()
            register_backend(key, factory, replace=True)
            return factory
    return None


def _ensure_builtin_backends() -> None:
    if "endpoint" not in _BACKENDS:
        from . import endpoint  # noqa: F401  (registers "endpoint" and its aliases)
    if "transformers" not in _BACKENDS:
        from . import local  # noqa: F401  (registers "transformers"/"local"; imports torch lazily)


__all__ = [
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_TEMPERATURE",
    "CallableGenerator",
    "Generator",
    "LLMAuthError",
    "LLMConfigError",
    "LLMError",
    "LLMModelNotFoundError",
    "LLMRequestError",
    "LLMUnavailableError",
    "Message",
    "Prompt",
    "Usage",
    "as_messages",
    "backend_names",
    "load_generator",
    "register_backend",
]
