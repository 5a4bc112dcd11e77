"""Model backends behind one small interface (:class:`Generator`): an OpenAI-compatible HTTP endpoint
(vLLM, llama.cpp server, Ollama, hosted APIs) built in, more added through :func:`register_backend`."""

from .base import (
    CallableGenerator,
    Generator,
    LLMAuthError,
    LLMConfigError,
    LLMError,
    LLMModelNotFoundError,
    LLMRequestError,
    LLMUnavailableError,
    Usage,
    as_messages,
    backend_names,
    load_generator,
    register_backend,
)


def __getattr__(name: str):
    # the endpoint module imports openai: load it only when asked for
    if name in ("EndpointGenerator", "TokenBucket", "DEFAULT_BASE_URLS"):
        from . import endpoint

        return getattr(endpoint, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_BASE_URLS",
    "CallableGenerator",
    "EndpointGenerator",
    "Generator",
    "LLMAuthError",
    "LLMConfigError",
    "LLMError",
    "LLMModelNotFoundError",
    "LLMRequestError",
    "LLMUnavailableError",
    "TokenBucket",
    "Usage",
    "as_messages",
    "backend_names",
    "load_generator",
    "register_backend",
]
