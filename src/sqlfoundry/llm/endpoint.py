"""An OpenAI-compatible chat-completions endpoint as a :class:`~sqlfoundry.llm.base.Generator`:
vLLM, llama.cpp server, Ollama, or a hosted API, through the official ``openai`` client.

Adds what long synthesis runs need on top of the client: a thread pool, a token-bucket rate limit,
retries with exponential backoff and jitter that honour ``Retry-After``, ``n`` samples with a fallback
for servers that ignore ``n``, usage/cost accounting, and typed errors that say what to fix.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any
from urllib.parse import urlparse

from .base import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
    LLMAuthError,
    LLMConfigError,
    LLMError,
    LLMModelNotFoundError,
    LLMRequestError,
    LLMUnavailableError,
    Message,
    Prompt,
    Usage,
    as_messages,
    register_backend,
)

#: where each common server listens by default (``base_url`` for :class:`EndpointGenerator`)
DEFAULT_BASE_URLS = {
    "vllm": "http://localhost:8000/v1",
    "llamacpp": "http://localhost:8080/v1",
    "ollama": "http://localhost:11434/v1",
    "openai": "https://api.openai.com/v1",
}

#: environment variable read for the API key when none is passed
API_KEY_ENV = "SQLFOUNDRY_LLM_API_KEY"
#: placeholder key for local servers, which accept any key (the client refuses to send none)
LOCAL_API_KEY = "sk-local"

_N_MODES = ("auto", "native", "never")


class TokenBucket:
    """Allow ``rate`` acquisitions per second on average, with bursts of up to ``capacity``.

    Thread-safe; :meth:`acquire` blocks (sleeping outside the lock) until a token is free, or returns
    False early when ``abort`` is set.
    """

    def __init__(self, rate: float, capacity: float = 1.0):
        if rate <= 0:
            raise LLMConfigError(f"rate limit must be positive, got {rate}")
        self.rate = float(rate)
        self.capacity = max(1.0, float(capacity))
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self, abort: threading.Event | None = None) -> bool:
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return True
                wait_s = (1.0 - self._tokens) / self.rate
            if abort is not None:
                if abort.wait(wait_s):
                    return False
            else:
                time.sleep(wait_s)


class _Transient(Exception):
    """A failure worth retrying (429, 5xx, timeout, dropped connection)."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _NUnsupported(Exception):
    """The server rejected ``n`` > 1 as invalid: sample one completion per request instead."""


class _Aborted(Exception):
    """Another request of the same call failed for good; stop quietly."""


class EndpointGenerator:
    """Chat completions from an OpenAI-compatible server.

    ``base_url`` ends in ``/v1`` (vLLM ``http://HOST:8000/v1``, llama.cpp ``http://HOST:8080/v1``,
    Ollama ``http://HOST:11434/v1``, OpenAI ``https://api.openai.com/v1``). ``api_key`` defaults to
    ``$SQLFOUNDRY_LLM_API_KEY``, then (for api.openai.com only) ``$OPENAI_API_KEY``, then a
    placeholder that local servers accept.

    - ``concurrency``: requests in flight at once (a thread pool per :meth:`generate` call).
    - ``max_retries``: retries per request after a 429, a 5xx, a timeout or a dropped connection, with
      exponential backoff (``backoff_base`` · 2^attempt, capped at ``backoff_max``, equal jitter) or
      the server's ``Retry-After``/``retry-after-ms`` when it sends one (then every thread pauses).
    - ``requests_per_minute``: a token-bucket limit shared by all threads (bursts of ``burst``).
    - ``n_mode``: ``auto`` sends ``n`` and, when the server returns fewer choices (llama.cpp ignores
      ``n``), fetches the rest one request each and remembers to split from then on; ``native``
      trusts ``n``; ``never`` always sends one request per sample.
    - prices per 1000 tokens make :attr:`usage` report an estimated cost.

    A server that cannot be reached on the first request raises :class:`LLMUnavailableError` at
    once (no retries); after a first success, connection errors are treated as transient.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        concurrency: int = 4,
        max_retries: int = 5,
        timeout: float = 60.0,
        requests_per_minute: float | None = None,
        *,
        burst: int = 1,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
        connect_timeout: float = 10.0,
        n_mode: str = "auto",
        system_prompt: str | None = None,
        prompt_price_per_1k: float | None = None,
        completion_price_per_1k: float | None = None,
        token_field: str = "max_tokens",
        extra_body: dict[str, Any] | None = None,
        default_headers: dict[str, str] | None = None,
    ):
        if not base_url or not str(base_url).strip():
            raise LLMConfigError("an endpoint needs a base_url, e.g. http://localhost:8000/v1")
        parsed = urlparse(str(base_url).strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise LLMConfigError(
                f"base_url {base_url!r} is not an http(s) URL, e.g. http://localhost:8000/v1"
            )
        if not model or not str(model).strip():
            raise LLMConfigError(f"an endpoint needs a model name (the id the server at {base_url} serves)")
        if concurrency < 1 or max_retries < 0 or timeout <= 0:
            raise LLMConfigError("concurrency must be >= 1, max_retries >= 0 and timeout > 0")
        if n_mode not in _N_MODES:
            raise LLMConfigError(f"n_mode must be one of {', '.join(_N_MODES)}, got {n_mode!r}")
        if token_field not in ("max_tokens", "max_completion_tokens"):
            raise LLMConfigError("token_field must be 'max_tokens' or 'max_completion_tokens'")
        try:
            import openai
        except ImportError:  # pragma: no cover - depends on the environment
            raise LLMConfigError(
                "the endpoint backend needs the openai package: pip install openai"
            ) from None

        self.base_url = str(base_url).strip().rstrip("/")
        self.model = str(model).strip()
        self.name = f"endpoint:{self.model}"
        self.concurrency = int(concurrency)
        self.max_retries = int(max_retries)
        self.timeout = float(timeout)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.max_retry_after = float(max_retry_after)
        self.n_mode = n_mode
        self.system_prompt = system_prompt
        self.token_field = token_field
        self.extra_body = dict(extra_body or {})
        self.usage = Usage(
            prompt_price_per_1k=prompt_price_per_1k, completion_price_per_1k=completion_price_per_1k
        )
        self._openai = openai
        self._bucket = TokenBucket(requests_per_minute / 60.0, burst) if requests_per_minute else None
        self._reached = False
        #: None until known; False once the server returned fewer choices than asked for
        self._n_native: bool | None = {"auto": None, "native": True, "never": False}[n_mode]
        self._pause_until = 0.0
        self._state_lock = threading.Lock()
        self._jitter = random.Random()
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=_resolve_api_key(api_key, self.base_url),
            timeout=openai.Timeout(self.timeout, connect=min(connect_timeout, self.timeout)),
            max_retries=0,  # retries are ours: they honour Retry-After across threads and count usage
            default_headers=default_headers,
        )

    # -- lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> EndpointGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EndpointGenerator(base_url={self.base_url!r}, model={self.model!r})"

    # -- API --------------------------------------------------------------------------------------
    def served_models(self) -> list[str]:
        """The model ids the server lists at ``/models`` (raises the typed errors on failure)."""
        try:
            page = self._client.models.list()
        except self._openai.APIConnectionError as exc:
            raise self._unreachable(exc) from None
        except self._openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                raise self._auth_error(exc) from None
            if exc.status_code == 404:
                raise LLMUnavailableError(
                    f"no OpenAI-compatible API at {self.base_url}: GET {self.base_url}/models is not found; "
                    "the base URL usually ends in /v1 (vLLM http://HOST:8000/v1, llama.cpp http://HOST:8080/v1, "
                    "Ollama http://HOST:11434/v1)"
                ) from None
            raise LLMRequestError(
                f"GET {self.base_url}/models failed: HTTP {exc.status_code} {_message(exc)}"
            ) from None
        self._reached = True
        return [m.id for m in page.data]

    def check(self, require_model: bool = False) -> list[str]:
        """Fail fast before a long run: the server answers (and, with ``require_model``, lists our model).

        llama.cpp's server ignores the model name and lists its file name, so ``require_model`` is off
        by default; a server that really lacks the model answers the first request with a 404, which
        :meth:`generate` turns into :class:`LLMModelNotFoundError`.
        """
        models = self.served_models()
        if require_model and models and self.model not in models:
            raise LLMModelNotFoundError(self._not_served_message(models))
        return models

    def generate(
        self,
        prompts: Sequence[Prompt],
        n: int = 1,
        temperature: float = DEFAULT_TEMPERATURE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> list[list[str]]:
        """``n`` completions for each prompt, in prompt order; sample ``j`` of a prompt uses ``seed + j``
        when it is requested alone. Raises the first request's typed error for good failures."""
        if n < 1:
            raise LLMConfigError(f"n must be >= 1, got {n}")
        chats = [as_messages(p, self.system_prompt) for p in prompts]
        if not chats:
            return []
        params = {"temperature": temperature, "max_tokens": max_tokens, "stop": stop}
        abort = threading.Event()
        split = n > 1 and self._n_native is False
        tasks = (
            [(i, j, 1) for i in range(len(chats)) for j in range(n)]
            if split
            else [(i, 0, n) for i in range(len(chats))]
        )
        pieces: dict[tuple[int, int], list[str]] = {}

        def run(i: int, offset: int, k: int) -> None:
            s = None if seed is None else seed + offset
            pieces[(i, offset)] = self._sample(chats[i], k, s, params, abort)

        if len(tasks) == 1:
            run(*tasks[0])
        else:
            pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(tasks)), thread_name_prefix="llm")
            try:
                futures = [pool.submit(run, *t) for t in tasks]
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                failed = [f for f in futures if f.done() and f.exception() is not None]
                if failed:
                    abort.set()
                    for f in futures:
                        f.cancel()
                    wait(futures)
                    errors = [
                        f.exception() for f in futures if f.done() and not f.cancelled() and f.exception()
                    ]
                    typed = [e for e in errors if isinstance(e, LLMError)]
                    raise (typed or errors)[0]
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        return [
            [text for (pi, _), texts in sorted(pieces.items()) if pi == i for text in texts]
            for i in range(len(chats))
        ]

    # -- one prompt -------------------------------------------------------------------------------
    def _sample(
        self, messages: list[Message], k: int, seed: int | None, params: dict, abort: threading.Event
    ) -> list[str]:
        if k == 1 or self._n_native is False:
            return [
                text for j in range(k) for text in self._request(messages, 1, _plus(seed, j), params, abort)
            ]
        try:
            texts = self._request(messages, k, seed, params, abort)
        except _NUnsupported:
            texts = []
        if len(texts) >= k:
            with self._state_lock:
                if self._n_native is None:
                    self._n_native = True
            return texts[:k]
        with self._state_lock:
            self._n_native = False  # the server ignores n (llama.cpp): one request per sample from now on
        for j in range(len(texts), k):
            texts.extend(self._request(messages, 1, _plus(seed, j), params, abort))
        return texts

    def _request(
        self, messages: list[Message], n: int, seed: int | None, params: dict, abort: threading.Event
    ) -> list[str]:
        """One chat-completions call (retried); the texts of its choices in choice order."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": params["temperature"],
            self.token_field: params["max_tokens"],
        }
        if n > 1:
            body["n"] = n
        if params["stop"]:
            body["stop"] = list(params["stop"])
        if seed is not None:
            body["seed"] = int(seed)
        if self.extra_body:
            body["extra_body"] = self.extra_body
        attempt = 0
        while True:
            self._wait_turn(abort)
            try:
                response = self._call(body)
            except _Transient as exc:
                attempt += 1
                if attempt > self.max_retries:
                    self.usage.record(failed_requests=1)
                    raise LLMRequestError(
                        f"{self.base_url} (model {self.model!r}) still failing after {self.max_retries} "
                        f"retries: {exc.reason}"
                    ) from None
                self.usage.record(retries=1)
                delay = self._backoff(attempt, exc.retry_after)
                if exc.retry_after is not None:
                    with self._state_lock:  # the server asked everyone to wait, not just this thread
                        self._pause_until = max(self._pause_until, time.monotonic() + delay)
                if abort.wait(delay):
                    raise _Aborted() from None
                continue
            return self._texts(response, messages)

    def _wait_turn(self, abort: threading.Event) -> None:
        if abort.is_set():
            raise _Aborted()
        while True:
            with self._state_lock:
                pause = self._pause_until - time.monotonic()
            if pause <= 0:
                break
            if abort.wait(pause):
                raise _Aborted()
        if self._bucket is not None and not self._bucket.acquire(abort):
            raise _Aborted()

    def _call(self, body: dict[str, Any]) -> Any:
        oa = self._openai
        self.usage.record(requests=1)
        try:
            response = self._client.chat.completions.create(**body)
        except oa.APITimeoutError as exc:
            if not self._reached and "connect" in type(exc.__cause__ or exc.__context__).__name__.lower():
                self.usage.record(failed_requests=1)  # never connected: a wrong address, not a slow model
                raise self._unreachable(exc) from None
            raise _Transient(f"no answer within {self.timeout:g}s (timeout)") from None
        except oa.APIConnectionError as exc:
            if not self._reached:
                self.usage.record(failed_requests=1)
                raise self._unreachable(exc) from None
            raise _Transient(f"connection failed: {_cause(exc)}") from None
        except oa.APIStatusError as exc:
            status = exc.status_code
            if status in (401, 403):
                self.usage.record(failed_requests=1)
                raise self._auth_error(exc) from None
            if status == 404:
                self.usage.record(failed_requests=1)
                raise self._not_found(exc) from None
            if status == 429 or status >= 500 or status == 408:
                raise _Transient(f"HTTP {status} {_message(exc)}".strip(), _retry_after(exc)) from None
            self._reached = True
            if body.get("n", 1) > 1 and _mentions_n(_message(exc)):
                raise _NUnsupported() from None
            self.usage.record(failed_requests=1)
            raise LLMRequestError(
                f"{self.base_url} rejected the request (HTTP {status}): {_message(exc)}"
            ) from None
        self._reached = True
        return response

    def _texts(self, response: Any, messages: list[Message]) -> list[str]:
        choices = sorted(getattr(response, "choices", None) or [], key=lambda c: getattr(c, "index", 0) or 0)
        texts = []
        for choice in choices:
            message = getattr(choice, "message", None)
            texts.append((getattr(message, "content", None) or "") if message is not None else "")
        usage = getattr(response, "usage", None)
        if usage is not None and getattr(usage, "prompt_tokens", None) is not None:
            self.usage.record(
                prompt_tokens=int(usage.prompt_tokens or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                completions=len(texts),
            )
        else:  # some servers send no usage: estimate (4 characters per token) and say so
            self.usage.record(
                prompt_tokens=sum(len(m["content"]) for m in messages) // 4,
                completion_tokens=sum(len(t) for t in texts) // 4,
                completions=len(texts),
                estimated=True,
            )
        return texts

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after) + self._jitter.uniform(
                0, 0.1 * self.backoff_base
            )
        cap = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return self._jitter.uniform(cap / 2, cap)

    # -- errors -----------------------------------------------------------------------------------
    def _unreachable(self, exc: Exception) -> LLMUnavailableError:
        return LLMUnavailableError(
            f"cannot reach the LLM server at {self.base_url} ({_cause(exc)}); is it running? "
            "Start it (e.g. `vllm serve MODEL`, `llama-server -m FILE.gguf`, `ollama serve`) or fix --llm-url"
        )

    def _auth_error(self, exc: Exception) -> LLMAuthError:
        return LLMAuthError(
            f"{self.base_url} rejected the API key (HTTP {getattr(exc, 'status_code', '?')}: {_message(exc)}); "
            f"pass the right key (--llm-api-key or ${API_KEY_ENV})"
        )

    def _not_found(self, exc: Exception) -> LLMError:
        try:
            models = self.served_models()
        except LLMError as listing_error:
            return listing_error
        if self.model not in models:
            return LLMModelNotFoundError(self._not_served_message(models))
        return LLMRequestError(
            f"POST {self.base_url}/chat/completions is not found (HTTP 404: {_message(exc)}); the server "
            "lists the model but has no chat-completions route: does base_url end in /v1?"
        )

    def _not_served_message(self, models: list[str]) -> str:
        listed = ", ".join(models[:20]) + (", ..." if len(models) > 20 else "") if models else "no models"
        return f"{self.base_url} does not serve model {self.model!r}; it serves: {listed}. Pass one of these as the model"


def _plus(seed: int | None, j: int) -> int | None:
    return None if seed is None else seed + j


def _resolve_api_key(api_key: str | None, base_url: str) -> str:
    if api_key:
        return api_key
    if os.environ.get(API_KEY_ENV):
        return os.environ[API_KEY_ENV]
    # the OpenAI key goes to OpenAI only, never to whatever server a URL names
    if urlparse(base_url).hostname == "api.openai.com" and os.environ.get("OPENAI_API_KEY"):
        return os.environ["OPENAI_API_KEY"]
    return LOCAL_API_KEY


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    return str(getattr(exc, "message", "") or exc)


def _cause(exc: Exception) -> str:
    cause = exc.__cause__ or exc.__context__
    return f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)


def _mentions_n(message: str) -> bool:
    m = f" {message.lower()} "
    return any(
        s in m for s in (" n ", "'n'", '"n"', "`n`", " n=", " n:", "parameter n", "n must", "n >", "n should")
    )


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


# ------------------------------------------------------------------------------------------------
# Registry entries: "endpoint" plus one alias per common server with its default address
# ------------------------------------------------------------------------------------------------


def _factory(default_base_url: str | None):
    def build(
        target: str | None = None, base_url: str | None = None, model: str | None = None, **options: Any
    ):
        url = base_url or target or default_base_url
        if not url:
            raise LLMConfigError(
                "the endpoint backend needs base_url, e.g. 'endpoint:http://localhost:8000/v1'"
            )
        if not model:
            raise LLMConfigError(f"the endpoint backend needs model= (the model id served at {url})")
        return EndpointGenerator(url, model, **options)

    return build


register_backend("endpoint", _factory(None), replace=True)
for _name, _url in DEFAULT_BASE_URLS.items():
    register_backend(_name, _factory(_url), replace=True)

__all__ = ["API_KEY_ENV", "DEFAULT_BASE_URLS", "EndpointGenerator", "TokenBucket"]
