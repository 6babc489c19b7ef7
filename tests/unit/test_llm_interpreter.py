"""The OpenAI-compatible interpreter, offline: recorded responses through an httpx transport.

Over real loopback HTTP (negotiation, deadline, breaker): ``test_llm_endpoint.py``.
"""

from __future__ import annotations

import json

import httpx
import pytest

from agent.understanding.classifier import IntentClassifier
from agent.understanding.llm import LLMInterpreter
from agent.understanding.pipeline import Understanding


def _completion(content: str | None) -> dict[str, object]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _interpreter(handler: httpx.MockTransport) -> LLMInterpreter:
    client = httpx.AsyncClient(transport=handler)
    return LLMInterpreter(
        api_key="sk-test-not-real",
        base_url="http://llm.test/v1",
        model="test-model",
        system_prompt="classify",
        http_client=client,
    )


async def test_request_carries_the_schema_and_the_answer_becomes_an_intent() -> None:
    seen: list[dict[str, object]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        assert request.url.path == "/v1/chat/completions"
        body = {"kind": "set_price", "price_sui": "2.25"}
        return httpx.Response(200, json=_completion(json.dumps(body)))

    interp = _interpreter(httpx.MockTransport(handle))
    out = await interp.interpret("I'd like buyers to pay 2.25 for it")
    assert out["kind"] == "set_price" and out["price_mist"] == 2_250_000_000
    # A price the user did not write as a number is not taken from the model.
    said = "could you make it two and a quarter sui"
    assert await interp.interpret(said) == interp.rules.interpret(said)
    req = seen[0]
    assert req["model"] == "test-model"
    fmt = req["response_format"]
    assert isinstance(fmt, dict) and fmt["type"] == "json_schema"
    assert "kind" in json.dumps(fmt["json_schema"])
    assert interp.fallbacks == 0


async def test_server_error_falls_back_to_the_rules() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500, json={"error": "boom"})

    interp = _interpreter(httpx.MockTransport(handle))
    out = await interp.interpret("hmm, can you take care of ./m.safetensors")
    assert out == interp.rules.interpret("hmm, can you take care of ./m.safetensors")
    assert interp.fallbacks == 1
    notice = interp.take_notice()
    assert notice is not None and "HTTP 500" in notice and "sk-test-not-real" not in notice
    # A reading the rules are sure of does not wait for the model at all.
    asked = len(seen)
    out = await interp.interpret("upload ./m.safetensors")
    assert out["kind"] == "upload" and out["paths"] == ["./m.safetensors"]
    assert len(seen) == asked and interp.fallbacks == 1
    assert interp.consulted == 1  # what the bench reports: asked once, answered 0 times


async def test_malformed_json_and_unknown_kinds_fall_back() -> None:
    replies = iter(["not json", json.dumps({"kind": "launch_rockets"}), None])

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_completion(next(replies)))

    interp = _interpreter(httpx.MockTransport(handle))
    for _ in range(3):
        assert (await interp.interpret("how is it going over there"))["kind"] == "unknown"
    assert interp.fallbacks == 3
    notice = interp.take_notice()
    assert notice is not None and "not the JSON asked for" in notice
    assert interp.take_notice() is None  # the same reason three times: told once


async def test_the_model_cannot_approve_on_its_own() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_completion(json.dumps({"kind": "approve"})))

    interp = _interpreter(httpx.MockTransport(handle))
    out = await interp.interpret("hmm, what would that cost me?", at_gate=True)
    assert out["kind"] != "approve"
    assert (await interp.interpret("yes", at_gate=True))["kind"] == "approve"


async def test_an_edit_for_one_bulk_model_is_the_same_intent_from_the_model_and_the_rules() -> None:
    body = {"kind": "edit_listing", "paths": ["tiny.onnx"], "title": "Tiny classifier"}

    def handle(request: httpx.Request) -> httpx.Response:
        schema = json.dumps(json.loads(request.content)["response_format"])
        assert all(f'"{slot}"' in schema for slot in ("title", "add_tags", "remove_tags", "tags"))
        return httpx.Response(200, json=_completion(json.dumps(body)))

    interp = _interpreter(httpx.MockTransport(handle))
    # Words the rules do not read as an edit: the model's slots make the intent.
    said = "could you call tiny.onnx Tiny classifier"
    assert interp.rules.interpret(said, at_gate=True)["kind"] != "edit_listing"
    from_model = await interp.interpret(said, at_gate=True)
    from_rules = interp.rules.interpret("title tiny.onnx: Tiny classifier", at_gate=True)
    assert {k: v for k, v in from_model.items() if k != "text"} == {
        k: v for k, v in from_rules.items() if k != "text"
    }
    # Where the rules read the edit, their exact words win over a paraphrase.
    body["title"] = "A tiny classifier"
    got = await interp.interpret("title tiny.onnx: Tiny classifier", at_gate=True)
    assert (got["title"], got["paths"]) == ("Tiny classifier", ["tiny.onnx"])
    assert interp.fallbacks == 0


def _answering(kind: str, embedded: Understanding) -> LLMInterpreter:
    """An interpreter whose model answers ``kind`` to every message (as a small local model
    did: "greet" for questions the classifier had read right)."""

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_completion(json.dumps({"kind": kind})))

    return LLMInterpreter(
        api_key=None,
        base_url="http://llm.test/v1",
        model="test-model",
        system_prompt="classify",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handle)),
        embedded=embedded,
    )


@pytest.fixture(scope="module")
def embedded() -> Understanding:
    return Understanding(IntentClassifier.load(None))


async def test_a_model_guess_never_replaces_a_reading_the_classifier_is_sure_of(
    embedded: Understanding,
) -> None:
    interp = _answering("greet", embedded)
    for said in (
        "how long does the enclave take to check a model?",
        "what happens if my upload fails halfway",
        "can buyers get a refund",
        "what's the weather in Lisbon",
    ):
        assert await interp.interpret(said) == await embedded.interpret(said), said
    assert interp.consulted == 0  # sure readings: the model is not even asked


async def test_an_unsure_reading_takes_the_models_pick_only_among_the_likeliest(
    embedded: Understanding,
) -> None:
    # vague messages: the classifier hesitates on some of them (which ones moves as the
    # examples grow), offering its likeliest readings ("did you mean…?", or nothing fits)
    vague = ("show me what you've got", "what have you got for me", "whatcha got", "hmm what now")
    unsure = [
        (said, r)
        for said in vague
        if (r := await embedded.interpret(said))["kind"] in ("clarify", "unknown")
        and r.get("choices")
    ]
    assert unsure, "the classifier is sure of every vague message"
    said, reading = unsure[0]
    choices = list(reading.get("choices") or ())
    picked = _answering(choices[0], embedded)
    assert (await picked.interpret(said))["kind"] == choices[0]
    assert picked.consulted == 1
    other = next(k for k in ("dashboard", "insights", "support_bundle") if k not in choices)
    invented = _answering(other, embedded)  # not a reading the classifier considered
    assert (await invented.interpret(said))["kind"] == reading["kind"]
    assert invented.consulted == 1
