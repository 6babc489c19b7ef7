"""The rule-based interpreter: intents and slots from plain messages."""

from __future__ import annotations

import pytest

from agent.understanding.rules import RuleInterpreter, extract_paths, parse_price_mist

R = RuleInterpreter()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I'm new here, how does this work?", "greet"),
        ("upload ./my-model.safetensors", "upload"),
        ("quick upload ./a.gguf", "quick_upload"),
        ("check status", "status"),
        ("show raw data", "raw_data"),
        ("market analysis", "market_analysis"),
        ("refresh my dashboard", "dashboard"),
        ("browse models", "browse"),
        ("buy resnet", "purchase"),
        ("yes", "approve"),
        ("no", "decline"),
        ("make it 2.5 SUI", "set_price"),
        ("retry", "retry"),
        ("support bundle", "support_bundle"),
        ("what is walrus?", "help"),
        ("/mode auto", "set_mode"),
        ("I'm an expert", "set_expertise"),
        ("qwerty uiop", "unknown"),
        ("", "unknown"),
    ],
)
def test_kinds(text: str, kind: str) -> None:
    assert R.interpret(text)["kind"] == kind


def test_slots() -> None:
    assert R.interpret("upload models/x.onnx for 3 epochs")["epochs"] == 3
    assert R.interpret("upload 'my model.safetensors'")["paths"] == ["my model.safetensors"]
    assert R.interpret("I'm new here")["self_description"] == "beginner"
    assert R.interpret("switch to debug mode")["mode"] == "debug"
    assert R.interpret("download 0xabc")["model_ref"] == "0xabc"
    assert R.interpret("what does storage cost?")["topic"] == "storage"


def test_prices_are_exact_integers() -> None:
    assert parse_price_mist("2.5 SUI") == 2_500_000_000
    assert parse_price_mist("0.000000001 sui") == 1
    assert parse_price_mist("1500 mist") == 1500
    assert parse_price_mist("0.5 mist") is None  # no fractional MIST
    assert parse_price_mist("cheap") is None


def test_paths() -> None:
    assert extract_paths("upload ./a.safetensors and /tmp/b.onnx") == [
        "./a.safetensors",
        "/tmp/b.onnx",
    ]
    assert extract_paths("upload model.gguf") == ["model.gguf"]


def test_a_long_sentence_starting_with_ok_is_not_an_approval_outside_a_gate() -> None:
    assert R.interpret("ok so how do I upload a model from my laptop?")["kind"] != "approve"
    assert R.interpret("yes please go ahead and do it now", at_gate=True)["kind"] == "approve"


@pytest.mark.parametrize(
    "text",
    [
        "make it -3 SUI",
        "make it 1e30 SUI",
        "make it 1,000 SUI",
        "make it 0.0000000001 SUI",
        "make it nan SUI",
        "make it 100000000000 SUI",
        "price abc",
        "set the price to abc",
    ],
)
def test_a_price_that_is_not_an_amount_is_refused_with_how_to_write_one(text: str) -> None:
    # "-3 SUI" used to become 3 SUI, "1e30 SUI" 30 SUI and "1,000 SUI" 0 SUI.
    assert parse_price_mist(text) is None
    got = R.interpret(text, at_gate=True)
    assert got["kind"] == "help"
    assert got.get("topic") == "price_format"
    assert "price_mist" not in got


@pytest.mark.parametrize(
    ("text", "mist"),
    [
        ("make it 2 SUI", 2_000_000_000),
        ("make it (2.5 SUI).", 2_500_000_000),
        ("price tiny.onnx 3 SUI", 3_000_000_000),
        ("make it 18446744073 SUI", 18_446_744_073_000_000_000),
    ],
)
def test_valid_prices_still_parse(text: str, mist: int) -> None:
    assert parse_price_mist(text) == mist
    assert R.interpret(text, at_gate=True).get("price_mist") == mist


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("title tiny.onnx: Tiny classifier", {"title": "Tiny classifier"}),
        ("title of tiny.onnx: 'Tiny'", {"title": "Tiny"}),
        ("set the title of tiny.onnx to Tiny Net", {"title": "Tiny Net"}),
        ("rename tiny.onnx to Tiny Net", {"title": "Tiny Net"}),
        ("title tiny.onnx:", {"title": ""}),  # refused by the flow, with why
        ("description for tiny.onnx: costs 2 SUI: cheap", {"description": "costs 2 SUI: cheap"}),
        ("set description of tiny.onnx to Finds cats.", {"description": "Finds cats."}),
        ("add tag vision to tiny.onnx", {"add_tags": ["vision"]}),
        ("add tags vision, small to tiny.onnx.", {"add_tags": ["vision", "small"]}),
        ("add tag v1.0 to tiny.onnx", {"add_tags": ["v1.0"]}),
        ("tags tiny.onnx: vision, small", {"tags": ["vision", "small"]}),
        ("set the tags of tiny.onnx to vision and small", {"tags": ["vision", "small"]}),
        ("remove tag x from tiny.onnx", {"remove_tags": ["x"]}),
        ("drop tags a b from tiny.onnx", {"remove_tags": ["a", "b"]}),
    ],
)
def test_an_edit_naming_a_file_is_for_that_model_of_a_bulk_listing(
    text: str, slots: dict[str, object]
) -> None:
    got = R.interpret(text, at_gate=True)
    assert got["kind"] == "edit_listing"
    assert {k: v for k, v in got.items() if k not in ("kind", "text")} == {
        **slots,
        "paths": ["tiny.onnx"],
    }


@pytest.mark.parametrize(
    ("text", "paths"),
    [
        ("title tiny: X", ["tiny"]),  # a bare name before the colon; the flow resolves it
        ('title "my model.onnx": X', ["my model.onnx"]),
        ("set the title for ./models/tiny.onnx to X", ["./models/tiny.onnx"]),
    ],
)
def test_the_file_of_an_edit_is_kept_as_written(text: str, paths: list[str]) -> None:
    got = R.interpret(text, at_gate=True)
    assert (got["kind"], got.get("title"), got.get("paths")) == ("edit_listing", "X", paths)


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("title: My Model", {"title": "My Model"}),
        ("rename it to Foo", {"title": "Foo"}),
        ("title of it: Foo", None),
        ("set description to runs on m.onnx files", {"description": "runs on m.onnx files"}),
        ("description: uses model.onnx: well", {"description": "uses model.onnx: well"}),
        ("add tag vision", {"add_tags": ["vision"]}),
        ("tags: a, b", {"tags": ["a", "b"]}),
    ],
)
def test_edits_naming_no_file_carry_no_paths(text: str, slots: dict[str, object] | None) -> None:
    got = R.interpret(text, at_gate=True)
    if slots is None:
        assert got["kind"] != "edit_listing"
        return
    assert got["kind"] == "edit_listing"
    assert {k: v for k, v in got.items() if k not in ("kind", "text")} == slots
