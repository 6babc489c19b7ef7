"""Listing text: what is drafted from the model, and the edits the author makes at the gate."""

from __future__ import annotations

import pytest

from agent.understanding.listing_text import replaced_tags, title_in
from agent.understanding.rules import RuleInterpreter, parse_listing_edit
from flows.intents import Intent, intent
from flows.listing import apply_edits
from flows.market.analysis import architecture_words
from flows.market.listing_text import MAX_TAGS, draft_listing, normalize_tag
from flows.state import ModelContext

INSPECTION: dict[str, object] = {
    "performance_metrics": {"parameter_count": 25_557_032, "tensor_count": 320},
    "security_assessment": "passed",
}


def test_the_draft_comes_from_the_file_the_category_and_the_inspection() -> None:
    meta = draft_listing(
        file_name="resnet50_imagenet.onnx",
        file_format="onnx",
        category="computer-vision",
        size_bytes=97_800_000,
        quality_score=88,
        inspection=INSPECTION,
    )
    assert meta.title == "Resnet50 Imagenet"
    assert meta.description == (
        "A computer vision model based on Resnet (onnx, 97.8 MB, 25.6M parameters, "
        "320 tensors). Inspected and signed by a TEE enclave: quality score 88/100, "
        "security: passed."
    )
    assert meta.tags == ("computer-vision", "onnx", "resnet", "tee-verified")


def test_unknown_facts_are_left_out_not_invented() -> None:
    meta = draft_listing(
        file_name="weights.safetensors",
        file_format="safetensors",
        category="general",
        size_bytes=1234,
        quality_score=None,
        inspection={},
    )
    assert meta.title == "Weights"
    assert meta.description == (
        "A machine learning model (safetensors, 1.2 KB). Inspected and signed by a TEE enclave."
    )
    assert "parameters" not in meta.description and "quality" not in meta.description
    assert meta.tags == ("safetensors", "tee-verified")


def test_architecture_words_and_tags() -> None:
    assert architecture_words("yolov8n-coco.onnx") == ["yolo"]
    assert architecture_words("distilbert-base.safetensors") == ["distilbert"]
    assert normalize_tag("  Image Classification ") == "image-classification"
    assert normalize_tag("#GPU") == "gpu"


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("title: My Model", {"title": "My Model"}),
        ('set the title to "Vision Net"', {"title": "Vision Net"}),
        ("rename it to Foo", {"title": "Foo"}),
        ("set description to Detects cats.", {"description": "Detects cats."}),
        (
            "description: uploads nothing, costs 2 SUI",
            {"description": "uploads nothing, costs 2 SUI"},
        ),
        ("add tag vision", {"add_tags": ["vision"]}),
        ("add tags vision, resnet and imagenet", {"add_tags": ["vision", "resnet", "imagenet"]}),
        ("remove tag onnx", {"remove_tags": ["onnx"]}),
        ("drop tags a b", {"remove_tags": ["a", "b"]}),
    ],
)
def test_rules_read_listing_edits(text: str, slots: dict[str, object]) -> None:
    got = RuleInterpreter().interpret(text, at_gate=True)
    assert got["kind"] == "edit_listing"
    assert {k: v for k, v in got.items() if k not in ("kind", "text")} == slots


def test_price_and_answers_are_not_edits() -> None:
    rules = RuleInterpreter()
    assert rules.interpret("price 2.5 SUI", at_gate=True)["kind"] == "set_price"
    assert rules.interpret("yes", at_gate=True)["kind"] == "approve"
    assert rules.interpret("no", at_gate=True)["kind"] == "decline"


CTX: ModelContext = {
    "title": "Resnet50",
    "description": "drafted",
    "tags": ["computer-vision", "onnx"],
    "price_mist": 1_000,
}


def _edit(**slots: object) -> Intent:
    return intent("edit_listing", "", **slots)


def test_edits_apply_and_say_what_changed() -> None:
    ctx, changes, problem = apply_edits(
        CTX, _edit(title=" Vision Pro ", add_tags=["Vision", "onnx"], remove_tags=["onnx"])
    )
    assert problem is None
    assert ctx["title"] == "Vision Pro" and ctx["tags"] == ["computer-vision", "vision"]
    assert changes == ['title "Vision Pro"', "tag vision added", "tag onnx removed"]
    assert CTX["tags"] == ["computer-vision", "onnx"]  # the input is not changed
    priced, changes, _ = apply_edits(CTX, intent("set_price", "", price_mist=2_500_000_000))
    assert priced["price_mist"] == 2_500_000_000 and changes == ["price 2500000000 MIST"]


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (_edit(title="  "), "needs a title"),
        (_edit(title="x" * 81), "at most 80"),
        (_edit(description=""), "description is empty"),
        (_edit(remove_tags=["gpu"]), "no tag 'gpu'"),
        (_edit(add_tags=[f"t{i}" for i in range(MAX_TAGS)]), f"at most {MAX_TAGS} tags"),
        (_edit(), "Say what to change"),
    ],
)
def test_bad_edits_change_nothing_and_say_why(edit: Intent, problem: str) -> None:
    ctx, changes, said = apply_edits(CTX, edit)
    assert ctx == CTX and changes == []
    assert said is not None and problem in said


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("browse nlp models under 2 SUI", {"category": "nlp", "price_mist": 2_000_000_000}),
        ("search listings for bert with quality above 80", {"min_quality": 80, "query": "bert"}),
        (
            "browse vision models with quality 90+",
            {"category": "computer-vision", "min_quality": 90},
        ),
        ("find llm models", {"category": "llm"}),
        ("show listing 0xabc", {"model_ref": "0xabc"}),
        ("details of the listing sentiment", {"model_ref": "sentiment"}),
        ("browse models", {}),
    ],
)
def test_rules_read_browse_filters_and_listing_details(text: str, slots: dict[str, object]) -> None:
    got = RuleInterpreter().interpret(text)
    assert got["kind"] == "browse"
    assert {k: v for k, v in got.items() if k not in ("kind", "text")} == slots


def test_tags_can_be_replaced_all_at_once() -> None:
    ctx, changes, problem = apply_edits(CTX, _edit(tags=["Vision", "#small", "vision"]))
    assert problem is None
    assert ctx["tags"] == ["vision", "small"] and changes == ["tags set to vision, small"]
    too_many = [f"t{i}" for i in range(MAX_TAGS + 1)]
    for tags, why in (([], "Say which tags"), (too_many, f"at most {MAX_TAGS} tags")):
        same, changes, said = apply_edits(CTX, _edit(tags=tags))
        assert same == CTX and changes == [] and said is not None and why in said


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "Could you change the name on it to Margaret's Picture Sorter?",
            "Margaret's Picture Sorter",
        ),
        ("I'd like it to be titled Grain Counter rather than what you proposed", "Grain Counter"),
        ("epoch_10 should be titled ViT-S Early Checkpoint", "ViT-S Early Checkpoint"),
        ("can it be named Harbour Watch instead of that?", "Harbour Watch"),
        ("name it 'Bob's Model'", "Bob's Model"),
    ],
)
def test_titles_said_in_passing(text: str, title: str) -> None:
    """A title after 'be titled', 'be named', ending before 'rather than'; an apostrophe
    inside a word stays in it."""
    assert title_in(text) == title


def test_tags_said_as_what_they_should_be() -> None:
    text = "tags for checkpoints/epoch_30.pt should be exactly: vision, vit, imagenet"
    assert replaced_tags(text) == ["vision", "vit", "imagenet"]
    assert replaced_tags("the tags should just be nlp, audio") == ["nlp", "audio"]


@pytest.mark.parametrize(
    ("text", "description"),
    [
        (
            "add a description: sorts reviews into happy and unhappy",
            "sorts reviews into happy and unhappy",
        ),
        ("please write a description saying it spots spam in emails", "it spots spam in emails"),
        ("the description should be: a tiny keyword spotter", "a tiny keyword spotter"),
        ("describe it as a fast face matcher for phones", "a fast face matcher for phones"),
        (
            "could you update the description to 'trained on 10k receipts'",
            "trained on 10k receipts",
        ),
    ],
)
def test_a_description_said_in_free_words(text: str, description: str) -> None:
    """A description asked for as people say it, not only 'set description to …'."""
    assert parse_listing_edit(text) == {"description": description}


def test_a_description_of_something_asked_about_is_no_new_description() -> None:
    assert parse_listing_edit("add a description of the training data") is None
    assert parse_listing_edit("what should the description say?") is None


def test_a_title_said_as_what_it_should_say() -> None:
    assert title_in("the title should say Sentiment BERT Small") == "Sentiment BERT Small"
    assert title_in("the name should read Harbour Watch Pro") == "Harbour Watch Pro"
