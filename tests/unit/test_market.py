"""Market functions: comparable pricing, the documented base formula, analysis, categories."""

from __future__ import annotations

import pytest

from flows.market.analysis import (
    GIB,
    base_price_mist,
    infer_category,
    market_analysis,
    suggest_price,
)
from integrations.chain.port import MIST_PER_SUI, ChainObject

ALICE = "0x" + "a1" * 32
BOB = "0x" + "b2" * 32


def listing(n: int, category: str, price: int, quality: int, creator: str = BOB) -> ChainObject:
    return ChainObject(
        object_id=f"0x{n:064x}",
        type="0x1::marketplace::MarketplaceModel",
        owner="shared",
        version=1,
        fields={
            "category": category,
            "price": price,
            "quality_score": quality,
            "creator": creator,
            "title": f"model {n}",
        },
    )


def test_no_comparables_uses_the_base_formula_and_says_so() -> None:
    s = suggest_price(
        [listing(1, "llm", 10 * MIST_PER_SUI, 90)],
        category="nlp",
        size_bytes=GIB + 1,
        quality_score=50,
    )
    # (0.5 + 0.2 * 2 GiB) SUI * (0.5 + 0.5) = 0.9 SUI
    assert s.price_mist == 900_000_000 == base_price_mist(GIB + 1, 50)
    assert (s.low_mist, s.high_mist) == (630_000_000, 1_170_000_000)
    assert s.comparables == 0
    assert "No comparable listings in 'nlp'" in s.explanation
    assert "base formula" in s.explanation and "0.9 SUI" in s.explanation


def test_base_formula_grows_with_quality_and_size() -> None:
    assert base_price_mist(0, 0) == 250_000_000
    assert base_price_mist(0, 100) == 750_000_000
    assert base_price_mist(10 * GIB, 80) > base_price_mist(GIB, 80)


def test_comparables_weighted_by_quality() -> None:
    listings = [
        listing(1, "NLP", 1 * MIST_PER_SUI, 90),
        listing(2, "nlp", 3 * MIST_PER_SUI, 50),
        listing(3, "cv", 100 * MIST_PER_SUI, 90),
    ]
    s = suggest_price(listings, category="nlp", size_bytes=10, quality_score=90)
    # weights 1 and 10/50: (1 + 3/5) / (6/5) = 4/3 SUI, rounded to 0.001 SUI
    assert s.price_mist == 1_333_000_000
    assert s.comparables == 2
    assert s.low_mist <= s.price_mist <= s.high_mist
    assert s.low_mist == MIST_PER_SUI
    assert "2 comparable listings in 'nlp'" in s.explanation
    assert "base formula" not in s.explanation


def test_single_comparable_at_equal_quality_is_its_price() -> None:
    s = suggest_price(
        [listing(1, "cv", 7_000_000, 70)], category="cv", size_bytes=1, quality_score=70
    )
    assert (s.price_mist, s.low_mist, s.high_mist, s.comparables) == (
        7_000_000,
        7_000_000,
        7_000_000,
        1,
    )
    assert "1 comparable listing " in s.explanation


def test_quality_out_of_range() -> None:
    with pytest.raises(ValueError):
        suggest_price([], category="x", size_bytes=1, quality_score=101)


def test_market_analysis() -> None:
    listings = [
        listing(1, "nlp", 100, 95, ALICE),
        listing(2, "nlp", 300, 70),
        listing(3, "nlp", 200, 85),
        listing(4, "cv", 50, 40, ALICE),
    ]
    a = market_analysis(listings, owner=ALICE)
    assert a.total_listings == 4
    cats = {c.category: c for c in a.categories}
    assert (cats["nlp"].count, cats["nlp"].median_price_mist) == (3, 200)
    assert (cats["nlp"].min_price_mist, cats["nlp"].max_price_mist) == (100, 300)
    assert cats["nlp"].median_quality == 85
    assert cats["cv"].median_price_mist == 50
    assert [(b.label, b.count) for b in a.quality_buckets] == [
        ("0-59", 1),
        ("60-69", 0),
        ("70-79", 1),
        ("80-89", 1),
        ("90-100", 1),
    ]
    mine = {p.listing_id: p for p in a.owner_models}
    assert len(mine) == 2
    nlp = mine[listings[0].object_id]
    assert (nlp.cheaper_than_percent, nlp.quality_rank, nlp.category_count) == (100, 1, 3)
    cv = mine[listings[3].object_id]
    assert (cv.cheaper_than_percent, cv.quality_rank, cv.category_count) == (0, 1, 1)


def test_market_analysis_without_owner_or_listings() -> None:
    a = market_analysis([], owner=None)
    assert a.total_listings == 0 and a.categories == () and a.owner_models == ()
    assert all(b.count == 0 for b in a.quality_buckets)


@pytest.mark.parametrize(
    ("name", "metadata", "fmt", "expected"),
    [
        ("anything.gguf", {}, "gguf", "llm"),
        ("resnet50.onnx", {}, "onnx", "computer-vision"),
        ("vit_base_patch16.safetensors", {}, "safetensors", "computer-vision"),
        ("yolov8n.pt", {}, "pytorch", "computer-vision"),
        ("bert-base-uncased.safetensors", {}, "safetensors", "nlp"),
        ("distilbert.onnx", {}, "onnx", "nlp"),
        ("model.safetensors", {"general.architecture": "llama"}, "safetensors", "llm"),
        ("model.onnx", {"pipeline_tag": "image-classification"}, "onnx", "computer-vision"),
        ("whisper-small.onnx", {}, "onnx", "audio"),
        ("model.h5", {}, "keras", "general"),
        ("avitamin.onnx", {}, "onnx", "general"),
    ],
)
def test_infer_category(name: str, metadata: dict[str, str], fmt: str, expected: str) -> None:
    assert infer_category(name, metadata, fmt) == expected
