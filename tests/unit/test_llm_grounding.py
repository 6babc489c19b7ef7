"""Grounding: a slot the model returns is kept only if the user's words or the conversation hold it."""

from __future__ import annotations

import re

from agent.understanding.dialogue import Dialogue
from agent.understanding.llm import IntentOutput, ground
from flows.intents import intent
from prompts import load_text

NOTHING = intent("unknown")


def test_paths_must_be_written_as_such_or_by_their_file_name() -> None:
    out = IntentOutput(kind="upload", paths=["./models/Tiny.onnx", "tiny.onnx", "a.onnx"])
    got = ground(out, "put TINY.ONNX and data.onnx up", ruled=NOTHING)
    assert got is not None
    # by its file name, case-insensitive; "a.onnx" is only part of "data.onnx"
    assert (got["kind"], got["paths"]) == ("bulk_upload", ["./models/Tiny.onnx", "tiny.onnx"])


def test_the_conversation_grounds_paths_but_not_prices_or_titles() -> None:
    asked = Dialogue(
        gate="listing", price_mist=3_000_000_000, title="Resnet", file_name="resnet.onnx"
    )
    out = IntentOutput(kind="edit_listing", paths=["resnet.onnx"], title="Resnet", tags=["x"])
    assert ground(out, "do it for that one", ruled=NOTHING, context=asked) is None
    priced = IntentOutput(kind="set_price", paths=["resnet.onnx"], price_sui="3")
    assert ground(priced, "same as the draft", ruled=NOTHING, context=asked) is None
    again = Dialogue(recent=("upload ./w/r.onnx", "no"))
    got = ground(
        IntentOutput(kind="quick_upload", paths=["./w/r.onnx"]),
        "quick!",
        ruled=NOTHING,
        context=again,
    )
    assert got is not None and got["paths"] == ["./w/r.onnx"]


def test_a_price_must_be_a_number_the_user_wrote() -> None:
    def price(said: str, sui: str) -> int | None:
        got = ground(IntentOutput(kind="set_price", price_sui=sui), said, ruled=NOTHING)
        return None if got is None else got.get("price_mist")

    assert price("let buyers pay 2.50", "2.5") == 2_500_000_000
    assert price("let buyers pay 2.5.", "2.5") == 2_500_000_000
    assert price("make it two", "2") is None
    assert price("make it -3", "3") is None
    assert price("make it 1,000", "1000") is None and price("make it 1,000", "1") is None
    assert price("make it 1e30", "1") is None
    # a price the rules computed stands, whatever the words
    ruled = intent("set_price", price_mist=1_800_000_000)
    got = ground(IntentOutput(kind="set_price", price_sui="1.8"), "10% off", ruled=ruled)
    assert got is not None and got["price_mist"] == 1_800_000_000


def test_listing_text_and_tags_are_kept_only_as_written() -> None:
    out = IntentOutput(
        kind="edit_listing",
        title="<title>",
        description="A fast image classifier",
        add_tags=["vision", "<tag>", "fast"],
    )
    got = ground(out, "describe it as a fast image classifier, tag it vision", ruled=NOTHING)
    assert got is not None
    assert "title" not in got
    assert got["description"] == "A fast image classifier"
    assert got["add_tags"] == ["vision", "fast"]


def test_a_reading_without_its_main_slot_is_dropped_whole() -> None:
    assert ground(IntentOutput(kind="set_mode", mode="auto"), "just do it", ruled=NOTHING) is None
    got = ground(IntentOutput(kind="set_mode", mode="auto"), "go Auto", ruled=NOTHING)
    assert got is not None and got["mode"] == "auto"
    beginner = intent("unknown", self_description="beginner")
    got = ground(
        IntentOutput(kind="set_expertise", expertise="beginner"), "I'm new", ruled=beginner
    )
    assert got is not None and got["expertise"] == "beginner"


def test_model_names_and_ids_must_be_written() -> None:
    out = IntentOutput(kind="purchase", model_ref="bert-small")
    assert ground(out, "I'd take the BERT-small one", ruled=NOTHING) == intent(
        "purchase", "I'd take the BERT-small one", model_ref="bert-small"
    )
    got = ground(out, "I'd take the distilbert-smaller one", ruled=NOTHING)
    assert got is not None and "model_ref" not in got


def test_the_prompt_examples_are_placeholders() -> None:
    prompt = load_text("system_interpreter.md")
    assert "<file>" in prompt and "<price>" in prompt
    assert not re.search(r"\w\.(onnx|safetensors|gguf|pt|bin)\b", prompt)
    assert not re.search(r"\d\s*SUI", prompt, re.I)
