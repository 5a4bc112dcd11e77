"""The OpenAI-compatible endpoint backend against a local scripted stub server: sampling, the n
fallback, retries and Retry-After, rate limits, usage/cost accounting, typed errors, the registry."""

from __future__ import annotations

import time

import pytest

from llm_stub import StubLLMServer, free_port

pytest.importorskip("openai")

from sqlfoundry.errors import SQLFoundryError  # noqa: E402
from sqlfoundry.llm import (  # noqa: E402
    CallableGenerator,
    EndpointGenerator,
    Generator,
    LLMAuthError,
    LLMConfigError,
    LLMModelNotFoundError,
    LLMRequestError,
    LLMUnavailableError,
    Usage,
    backend_names,
    load_generator,
    register_backend,
)

FAST = {"backoff_base": 0.01, "backoff_max": 0.05}


@pytest.fixture
def stub():
    with StubLLMServer() as server:
        yield server


def make(server: StubLLMServer, **kw) -> EndpointGenerator:
    options = {**FAST, **kw}
    return EndpointGenerator(server.base_url, options.pop("model", "stub-model"), **options)


def test_generate_returns_completions_in_prompt_order(stub):
    gen = make(stub)
    out = gen.generate(["first prompt", [{"role": "user", "content": "second prompt"}]], n=1)
    assert [len(x) for x in out] == [1, 1]
    assert out[0][0] == "sample 0: first prompt"
    assert out[1][0] == "sample 0: second prompt"
    assert stub.chat_requests == 2
    assert isinstance(gen, Generator)


def test_n_samples_use_the_n_parameter(stub):
    gen = make(stub)
    out = gen.generate(["p1", "p2"], n=3)
    assert out == [[f"sample {i}: p1" for i in range(3)], [f"sample {i}: p2" for i in range(3)]]
    assert stub.chat_requests == 2
    assert all(r["n"] == 3 for r in stub.requests)
    assert gen.usage.completions == 6


def test_server_ignoring_n_falls_back_to_one_request_per_sample():
    with StubLLMServer(ignore_n=True) as server:
        gen = make(server, concurrency=2)
        out = gen.generate(["p1", "p2"], n=3, seed=100)
        assert [sorted(x) for x in out] == [
            [f"sample {i}: p1" for i in range(3)],
            [f"sample {i}: p2" for i in range(3)],
        ]
        assert server.chat_requests == 6  # 1 (ignored n) + 2 more, per prompt
        # the generator remembers: the next call splits at once and never sends n again
        before = server.chat_requests
        out = gen.generate(["p3"], n=4, seed=7)
        assert len(out[0]) == 4
        new = server.requests[before:]
        assert len(new) == 4 and all("n" not in r for r in new)
        assert sorted(r["seed"] for r in new) == [7, 8, 9, 10]


def test_server_rejecting_n_falls_back():
    with StubLLMServer(reject_n=True) as server:
        gen = make(server)
        out = gen.generate(["p"], n=2)
        assert sorted(out[0]) == ["sample 0: p", "sample 1: p"]
        assert server.chat_requests == 3


def test_429_retry_after_is_honoured(stub):
    stub.fail_next((429, 1))
    gen = make(stub)
    start = time.monotonic()
    out = gen.generate(["p"])
    elapsed = time.monotonic() - start
    assert out == [["sample 0: p"]]
    assert 1.0 <= elapsed < 3.0
    assert stub.chat_requests == 2
    assert gen.usage.retries == 1 and gen.usage.requests == 2


def test_retry_after_ms_and_5xx_are_retried(stub):
    stub.fail_next(("ms", 429, 200), 500, 503)
    gen = make(stub)
    start = time.monotonic()
    assert gen.generate(["p"]) == [["sample 0: p"]]
    assert 0.2 <= time.monotonic() - start < 2.0
    assert stub.chat_requests == 4
    assert gen.usage.retries == 3


def test_retries_give_up_with_a_typed_error(stub):
    stub.fail_next(500, 500, 500, 500)
    gen = make(stub, max_retries=2)
    with pytest.raises(LLMRequestError, match="still failing after 2 retries: HTTP 500"):
        gen.generate(["p"])
    assert stub.chat_requests == 3
    assert gen.usage.failed_requests == 1


def test_timeouts_are_retried(stub):
    stub.fail_next(("delay", 3.0))
    gen = make(stub, timeout=0.4)
    start = time.monotonic()
    assert len(gen.generate(["p"])[0]) == 1
    assert time.monotonic() - start < 2.5  # did not wait for the slow answer
    assert gen.usage.retries == 1


def test_rate_limit_spaces_requests(stub):
    gen = make(stub, concurrency=4, requests_per_minute=600)  # 10 per second, burst 1
    start = time.monotonic()
    gen.generate([f"p{i}" for i in range(6)])
    elapsed = time.monotonic() - start
    assert stub.chat_requests == 6
    assert 0.45 <= elapsed < 4.0
    times = sorted(stub.times)
    assert times[-1] - times[0] >= 0.4  # 5 gaps of 0.1 s, less scheduling noise


def test_concurrency_runs_requests_in_parallel():
    with StubLLMServer(delay=0.5) as server:
        gen = make(server, concurrency=4)
        start = time.monotonic()
        gen.generate([f"p{i}" for i in range(4)])
        assert time.monotonic() - start < 1.6  # 4 × 0.5 s one after another


def test_usage_and_cost(stub):
    gen = make(stub, prompt_price_per_1k=2.0, completion_price_per_1k=10.0)
    gen.generate(["one two three", "four five"], n=2)
    u = gen.usage
    assert u.requests == 2 and u.completions == 4 and u.retries == 0
    assert u.prompt_tokens == 5  # the stub counts words
    assert u.completion_tokens == sum(
        len(f"sample {i}: {p}".split()) for p in ("one two three", "four five") for i in range(2)
    )
    assert u.cost == pytest.approx((u.prompt_tokens * 2.0 + u.completion_tokens * 10.0) / 1000)
    d = u.to_dict()
    assert d["estimated_cost"] == pytest.approx(u.cost) and d["total_tokens"] == u.total_tokens
    assert "requests" in u.summary()
    assert Usage().cost is None


def test_usage_is_estimated_when_the_server_sends_none():
    with StubLLMServer(send_usage=False) as server:
        gen = make(server)
        gen.generate(["x" * 400])
        assert gen.usage.estimated_requests == 1
        assert gen.usage.prompt_tokens >= 100


def test_unreachable_server_fails_fast_with_a_clear_error():
    url = f"http://127.0.0.1:{free_port()}/v1"
    gen = EndpointGenerator(url, "any-model", max_retries=5, backoff_base=1.0)
    start = time.monotonic()
    with pytest.raises(LLMUnavailableError, match="cannot reach the LLM server at http://127.0.0.1") as info:
        gen.generate(["p1", "p2", "p3"], n=2)
    assert time.monotonic() - start < 3.0
    assert isinstance(info.value, SQLFoundryError)
    assert "is it running" in str(info.value)


def test_unknown_model_names_the_served_models(stub):
    gen = make(stub, model="gpt-9")
    with pytest.raises(LLMModelNotFoundError, match=r"does not serve model 'gpt-9'; it serves: stub-model"):
        gen.generate(["p"] * 8, n=2)
    assert gen.check() == ["stub-model"]
    with pytest.raises(LLMModelNotFoundError):
        gen.check(require_model=True)


def test_bad_api_key_is_an_auth_error():
    with StubLLMServer(api_key="secret") as server:
        with pytest.raises(LLMAuthError, match="rejected the API key"):
            make(server, api_key="wrong").generate(["p"])
        assert make(server, api_key="secret").generate(["p"]) == [["sample 0: p"]]


def test_base_url_without_v1_says_so(stub):
    gen = EndpointGenerator(stub.base_url.removesuffix("/v1"), "stub-model", **FAST)
    with pytest.raises(LLMUnavailableError, match="usually ends in /v1"):
        gen.generate(["p"])


def test_bad_options_are_config_errors(stub):
    with pytest.raises(LLMConfigError):
        EndpointGenerator("localhost:8000", "m")
    with pytest.raises(LLMConfigError):
        EndpointGenerator(stub.base_url, "")
    with pytest.raises(LLMConfigError):
        make(stub).generate(["p"], n=0)


def test_registry_loads_endpoint_and_user_backends(stub):
    gen = load_generator(f"endpoint:{stub.base_url}", model="stub-model")
    assert isinstance(gen, EndpointGenerator) and gen.generate(["p"]) == [["sample 0: p"]]
    gen = load_generator({"backend": "vllm", "base_url": stub.base_url, "model": "stub-model"})
    assert gen.base_url == stub.base_url
    gen = load_generator(f'{{"backend": "ollama", "base_url": "{stub.base_url}", "model": "stub-model"}}')
    assert isinstance(gen, EndpointGenerator)
    assert load_generator("ollama", model="m").base_url == "http://localhost:11434/v1"

    register_backend(
        "shout", lambda **kw: CallableGenerator(lambda m, n, *a: [m[-1]["content"].upper()] * n), replace=True
    )
    assert "shout" in backend_names()
    assert load_generator("shout").generate(["hi"], n=2) == [["HI", "HI"]]
    with pytest.raises(LLMConfigError, match="unknown LLM backend 'nope'"):
        load_generator("nope")
    with pytest.raises(LLMConfigError, match="needs model"):
        load_generator(f"endpoint:{stub.base_url}")
    with pytest.raises(LLMConfigError, match="bad options"):
        load_generator(f"endpoint:{stub.base_url}", model="m", no_such_option=1)
