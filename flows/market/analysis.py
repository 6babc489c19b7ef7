"""Market reasoning over listings: price suggestions, market analysis, category inference.

Pure functions over ``MarketplaceModel`` ``ChainObject``s (``fields`` with
``category``, ``price``, ``quality_score``, ``creator``, ``title``). Amounts
are integer MIST; weights use exact fractions, never floats.

Example::

    listings = await ledger.listings()
    s = suggest_price(listings, category="nlp", size_bytes=420_000_000, quality_score=87)
    print(s.price_mist, s.explanation)
    analysis = market_analysis(listings, owner=wallet.address)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from integrations.chain.port import MIST_PER_SUI, ChainObject

BASE_PRICE_MIST = MIST_PER_SUI // 2  # 0.5 SUI for any verified model
PRICE_PER_GIB_MIST = MIST_PER_SUI // 5  # plus 0.2 SUI per started GiB
GIB = 1 << 30
ROUND_TO_MIST = 1_000_000  # suggestions are rounded to 0.001 SUI
QUALITY_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("0-59", 0, 59),
    ("60-69", 60, 69),
    ("70-79", 70, 79),
    ("80-89", 80, 89),
    ("90-100", 90, 100),
)


@dataclass(frozen=True, slots=True)
class PriceSuggestion:
    """A suggested price with a range, how many listings informed it, and why."""

    price_mist: int
    low_mist: int
    high_mist: int
    comparables: int
    explanation: str


@dataclass(frozen=True, slots=True)
class CategoryStats:
    """Prices and quality of the listings of one category."""

    category: str
    count: int
    median_price_mist: int
    min_price_mist: int
    max_price_mist: int
    median_quality: int


@dataclass(frozen=True, slots=True)
class QualityBucket:
    """How many listings have a quality score in ``low..high``."""

    label: str
    low: int
    high: int
    count: int


@dataclass(frozen=True, slots=True)
class OwnerPosition:
    """Where one of the owner's listings sits within its category."""

    listing_id: str
    title: str
    category: str
    price_mist: int
    quality_score: int
    cheaper_than_percent: int  # share of other listings in the category priced higher
    quality_rank: int  # 1 = best quality in the category
    category_count: int


@dataclass(frozen=True, slots=True)
class MarketAnalysis:
    """Per-category prices, the quality distribution, and the owner's models in context."""

    total_listings: int
    categories: tuple[CategoryStats, ...]
    quality_buckets: tuple[QualityBucket, ...]
    owner: str | None
    owner_models: tuple[OwnerPosition, ...]


def _int(obj: ChainObject, key: str) -> int:
    return int(str(obj.fields[key]))


def _category(obj: ChainObject) -> str:
    return str(obj.fields.get("category", "")).strip().lower()


def _sui(mist: int) -> str:
    whole, milli = divmod(round(Fraction(mist, MIST_PER_SUI // 1000)), 1000)
    return f"{whole}.{milli:03d}".rstrip("0").rstrip(".") + " SUI"


def _round_mist(value: Fraction) -> int:
    """Round to the nearest 0.001 SUI (but never to zero for a positive value)."""
    rounded = round(value / ROUND_TO_MIST) * ROUND_TO_MIST
    return rounded if rounded > 0 or value <= 0 else max(1, round(value))


def _weighted_quantile(points: list[tuple[int, Fraction]], q: Fraction) -> int:
    """The smallest value whose cumulative weight reaches ``q`` of the total."""
    ordered = sorted(points)
    total = sum((w for _, w in ordered), Fraction(0))
    running = Fraction(0)
    for value, weight in ordered:
        running += weight
        if running >= q * total:
            return value
    return ordered[-1][0]


def _median(values: Sequence[int]) -> int:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) // 2


def base_price_mist(size_bytes: int, quality_score: int | None) -> int:
    """The documented fallback: (0.5 SUI + 0.2 SUI per started GiB) × (0.5 + quality/100).

    Without a quality score (before verification) the factor is 1.
    """
    gib = -(-max(size_bytes, 0) // GIB)
    base = BASE_PRICE_MIST + PRICE_PER_GIB_MIST * gib
    factor = Fraction(1) if quality_score is None else Fraction(1, 2) + Fraction(quality_score, 100)
    return _round_mist(base * factor)


def suggest_price(
    listings: Sequence[ChainObject],
    *,
    category: str,
    size_bytes: int,
    quality_score: int | None,
    why_no_comparables: str | None = None,
) -> PriceSuggestion:
    """A price from comparable listings, or from the base formula when there are none.

    Comparables are listings of the same category (case-insensitive); each
    weighs ``1 / (1 + |quality difference| / 10)``, so models of similar
    quality count most. The price is the weighted mean, the range the weighted
    25th-75th percentiles (widened to include the price). Without comparables
    the price is ``base_price_mist`` and the range ±30 %.

    ``quality_score=None`` (a model not verified yet) weighs every comparable
    the same and uses the base formula's factor 1. ``why_no_comparables``
    replaces the explanation's "no comparable listings yet" when the listings
    could not be read at all.

    Example::

        s = suggest_price([], category="llm", size_bytes=2 * GIB, quality_score=80)
        assert s.comparables == 0 and "base formula" in s.explanation
    """
    if quality_score is not None and not 0 <= quality_score <= 100:
        raise ValueError("quality_score must be within 0-100")
    wanted = category.strip().lower()
    points = [
        (
            _int(o, "price"),
            Fraction(1)
            if quality_score is None
            else Fraction(10, 10 + abs(_int(o, "quality_score") - quality_score)),
        )
        for o in listings
        if _category(o) == wanted
    ]
    if not points:
        price = base_price_mist(size_bytes, quality_score)
        gib = -(-max(size_bytes, 0) // GIB)
        factor = (
            "1 (no quality score before verification)"
            if quality_score is None
            else f"(0.5 + quality {quality_score}/100)"
        )
        why = why_no_comparables or f"No comparable listings in '{wanted}' yet"
        return PriceSuggestion(
            price_mist=price,
            low_mist=_round_mist(Fraction(price * 7, 10)),
            high_mist=_round_mist(Fraction(price * 13, 10)),
            comparables=0,
            explanation=(
                f"{why}, so this uses the base formula: "
                f"(0.5 SUI + 0.2 SUI per started GiB, here {gib}) × {factor} = {_sui(price)}."
            ),
        )
    total = sum((w for _, w in points), Fraction(0))
    price = _round_mist(sum((p * w for p, w in points), Fraction(0)) / total)
    low = min(price, _weighted_quantile(points, Fraction(1, 4)))
    high = max(price, _weighted_quantile(points, Fraction(3, 4)))
    n = len(points)
    weighting = (
        "each weighing the same (no quality score before verification)"
        if quality_score is None
        else f"weighted towards quality close to {quality_score}"
    )
    return PriceSuggestion(
        price_mist=price,
        low_mist=low,
        high_mist=high,
        comparables=n,
        explanation=(
            f"Based on {n} comparable listing{'s' if n != 1 else ''} in '{wanted}', "
            f"{weighting}: {_sui(price)} (typical range {_sui(low)} - {_sui(high)})."
        ),
    )


def market_analysis(listings: Sequence[ChainObject], *, owner: str | None) -> MarketAnalysis:
    """Per-category price statistics, quality buckets, and the owner's listings in context.

    Example::

        a = market_analysis(await ledger.listings(), owner=wallet.address)
        for c in a.categories:
            print(c.category, c.count, c.median_price_mist)
    """
    by_category: dict[str, list[ChainObject]] = {}
    for obj in listings:
        by_category.setdefault(_category(obj), []).append(obj)
    categories = tuple(
        CategoryStats(
            category=name,
            count=len(objs),
            median_price_mist=_median([_int(o, "price") for o in objs]),
            min_price_mist=min(_int(o, "price") for o in objs),
            max_price_mist=max(_int(o, "price") for o in objs),
            median_quality=_median([_int(o, "quality_score") for o in objs]),
        )
        for name, objs in sorted(by_category.items())
    )
    buckets = tuple(
        QualityBucket(
            label,
            low,
            high,
            sum(1 for o in listings if low <= _int(o, "quality_score") <= high),
        )
        for label, low, high in QUALITY_BUCKETS
    )
    positions: list[OwnerPosition] = []
    if owner is not None:
        for obj in listings:
            if str(obj.fields.get("creator", "")).lower() != owner.lower():
                continue
            peers = by_category[_category(obj)]
            others = [p for p in peers if p.object_id != obj.object_id]
            price, quality = _int(obj, "price"), _int(obj, "quality_score")
            pricier = sum(1 for p in others if _int(p, "price") > price)
            positions.append(
                OwnerPosition(
                    listing_id=obj.object_id,
                    title=str(obj.fields.get("title", "")),
                    category=_category(obj),
                    price_mist=price,
                    quality_score=quality,
                    cheaper_than_percent=100 * pricier // len(others) if others else 0,
                    quality_rank=1 + sum(1 for p in others if _int(p, "quality_score") > quality),
                    category_count=len(peers),
                )
            )
    return MarketAnalysis(
        total_listings=len(listings),
        categories=categories,
        quality_buckets=buckets,
        owner=owner,
        owner_models=tuple(positions),
    )


_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "llm",
        ("llama", "mistral", "mixtral", "gpt", "qwen", "gemma", "phi", "falcon", "deepseek"),
    ),
    (
        "computer-vision",
        (
            "resnet",
            "vit",
            "yolo",
            "efficientnet",
            "mobilenet",
            "convnext",
            "detr",
            "unet",
            "segformer",
            "swin",
            "inception",
            "vgg",
        ),
    ),
    (
        "nlp",
        (
            "bert",
            "roberta",
            "distilbert",
            "albert",
            "electra",
            "xlnet",
            "t5",
            "bart",
            "minilm",
            "sentence",
        ),
    ),
    ("audio", ("whisper", "wav2vec", "hubert", "speech", "audio", "tts")),
    ("image-generation", ("diffusion", "stable-diffusion", "sdxl", "vae", "gan")),
    ("tabular", ("xgboost", "lightgbm", "catboost", "sklearn", "tabular")),
)
_TASKS: Mapping[str, str] = {
    "text-generation": "llm",
    "text2text-generation": "nlp",
    "fill-mask": "nlp",
    "text-classification": "nlp",
    "token-classification": "nlp",
    "question-answering": "nlp",
    "feature-extraction": "nlp",
    "image-classification": "computer-vision",
    "object-detection": "computer-vision",
    "image-segmentation": "computer-vision",
    "automatic-speech-recognition": "audio",
    "text-to-image": "image-generation",
}


def _mentions(text: str, word: str) -> bool:
    """``word`` starts a token of ``text``: ``yolov8`` mentions ``yolo``, ``avit`` not ``vit``."""
    return re.search(rf"(?<![a-z]){re.escape(word)}", text) is not None


def infer_category(file_name: str, metadata: Mapping[str, str], format: str) -> str:
    """A marketplace category from the file name, its metadata and its format.

    GGUF/GGML files are ``llm``; a task in the metadata (``pipeline_tag``,
    ``task``) decides next; then architecture words in the metadata values and
    the file name (``resnet``, ``vit``, ``yolo`` -> ``computer-vision``; ``bert``
    -> ``nlp``; ...). Anything else is ``general``.

    Example::

        assert infer_category("yolov8n.onnx", {}, "onnx") == "computer-vision"
        assert infer_category("model.gguf", {}, "gguf") == "llm"
    """
    if format.strip().lower() in {"gguf", "ggml"}:
        return "llm"
    for key in ("pipeline_tag", "task"):
        task = metadata.get(key, "").strip().lower()
        if task in _TASKS:
            return _TASKS[task]
    texts = [v.lower() for k, v in sorted(metadata.items()) if "arch" in k.lower() or "name" in k]
    texts += [v.lower() for v in metadata.values()]
    texts.append(file_name.lower())
    for text in texts:
        for category, words in _RULES:
            if any(_mentions(text, w) for w in words):
                return category
    return "general"


def architecture_words(text: str) -> list[str]:
    """The architecture words of the category rules that ``text`` mentions, in rule order.

    Example::

        assert architecture_words("resnet50-imagenet.onnx") == ["resnet"]
    """
    lowered = text.lower()
    return [w for _, words in _RULES for w in words if _mentions(lowered, w)]


# What an author says about their model, in their words -> a category (first match wins:
# "image generation" before "image", "language model" before "language").
_SAID: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "image-generation",
        re.compile(
            r"\b(diffusion|text[- ]to[- ]image|image generat\w*|generat\w* (?:images?|pictures?|art)"
            r"|gan)\b"
        ),
    ),
    (
        "llm",
        re.compile(
            r"\b(llms?|large language|language models?|chat ?bots?|chat|text generat\w*|gpt|"
            r"llama|mistral|assistant|instruct)\b"
        ),
    ),
    (
        "audio",
        re.compile(r"\b(audio|speech|voice|sound|music|transcri\w*|asr|tts|speaker)\b"),
    ),
    (
        "computer-vision",
        re.compile(
            r"\b(image|images|vision|photos?|pictures?|detect\w*|segment\w*|objects?|faces?|"
            r"ocr|video|camera|x-?rays?|scans?|cv)\b"
        ),
    ),
    (
        "nlp",
        re.compile(
            r"\b(text|texts|sentiment|nlp|language|reviews?|tweets?|emails?|documents?|"
            r"ner|entit\w*|translat\w*|summari\w*|questions?|bert|tokens?|spam|toxic\w*|intent)\b"
        ),
    ),
    (
        "tabular",
        re.compile(
            r"\b(tabular|tables?|csv|fraud|churn|forecast\w*|regression|time[- ]series|credit|"
            r"xgboost|tree|trees)\b"
        ),
    ),
)
_TASK_TAGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bsentiment\b"), "sentiment-analysis"),
    (re.compile(r"\bclassif\w*"), "classification"),
    (re.compile(r"\bdetect\w*"), "detection"),
    (re.compile(r"\bsegment\w*"), "segmentation"),
    (re.compile(r"\btranslat\w*"), "translation"),
    (re.compile(r"\bsummari\w*"), "summarization"),
    (re.compile(r"\btranscri\w*|\bspeech recognition\b"), "speech-recognition"),
    (re.compile(r"\bquestion[- ]answering\b|\banswer\w* questions\b"), "question-answering"),
    (re.compile(r"\bgenerat\w*"), "generation"),
    (re.compile(r"\bforecast\w*"), "forecasting"),
    (re.compile(r"\bfraud\b"), "fraud-detection"),
    (re.compile(r"\bspam\b"), "spam-filtering"),
    (re.compile(r"\breviews?\b"), "reviews"),
    (re.compile(r"\bembedd\w*"), "embeddings"),
)


def category_from_words(text: str) -> str | None:
    """The category an author's own description names, or None.

    Example::

        assert category_from_words("a sentiment classifier for product reviews") == "nlp"
        assert category_from_words("it finds cracks in x-ray images") == "computer-vision"
    """
    lowered = text.lower()
    for category, pattern in _SAID:
        if pattern.search(lowered):
            return category
    return None


def task_tags(text: str) -> list[str]:
    """Tags for the task an author describes: 'sentiment analysis of reviews' ->
    ['sentiment-analysis', 'reviews']."""
    lowered = text.lower()
    return [tag for pattern, tag in _TASK_TAGS if pattern.search(lowered)]
