"""The listing text a model starts with: title, description and tags, before the author edits.

Drawn from what is known for real: the file name, the format, the category
(``market.infer_category``), the size, and the enclave's signed inspection
(parameter and tensor counts, security assessment, quality score). Nothing is
invented: a value that is unknown is left out of the text.

Example::

    meta = draft_listing(file_name="resnet50_imagenet.onnx", file_format="onnx",
                         category="computer-vision", size_bytes=97_800_000,
                         quality_score=88, inspection={"performance_metrics":
                         {"parameter_count": 25_557_032}})
    assert meta.title == "Resnet50 Imagenet"
    assert "resnet" in meta.tags and "tee-verified" in meta.tags
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePath

from flows.market.analysis import architecture_words
from integrations.chain.port import ListingMetadata

MAX_TITLE = 80
MAX_TAGS = 8
_TAG = re.compile(r"[^a-z0-9.+-]+")
_SEPARATORS = re.compile(r"[_\-.\s]+")
_ACRONYMS = {"nlp": "NLP", "llm": "LLM"}  # "an NLP model", "an LLM model"


def normalize_tag(tag: str) -> str:
    """Lowercase, words joined by '-': 'Image Classification' -> 'image-classification'."""
    return _TAG.sub("-", tag.strip().lower()).strip("-")


def _title(file_name: str) -> str:
    stem = PurePath(file_name).stem if file_name else "model"
    words = [w for w in _SEPARATORS.split(stem) if w]
    title = " ".join(w if w.isupper() else w[:1].upper() + w[1:] for w in words) or "Model"
    return title[:MAX_TITLE]


def _count(n: int) -> str:
    for unit, size in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return str(n)


def _size(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def _metrics(inspection: Mapping[str, object]) -> Mapping[str, object]:
    metrics = inspection.get("performance_metrics")
    return metrics if isinstance(metrics, Mapping) else {}


def draft_listing(
    *,
    file_name: str,
    file_format: str,
    category: str,
    size_bytes: int,
    quality_score: int | None,
    inspection: Mapping[str, object],
) -> ListingMetadata:
    """Title, description and tags for a verified model (see the module docstring)."""
    params = _metrics(inspection).get("parameter_count")
    tensors = _metrics(inspection).get("tensor_count")
    arch = architecture_words(file_name)
    facts = [file_format or "unknown format", _size(size_bytes)]
    if isinstance(params, int) and params > 0:
        facts.append(f"{_count(params)} parameters")
    if isinstance(tensors, int) and tensors > 0:
        facts.append(f"{tensors} tensor" + ("s" if tensors != 1 else ""))
    kind = category.replace("-", " ") if category and category != "general" else "machine learning"
    kind = _ACRONYMS.get(kind, kind)
    article = "An" if kind[0].lower() in "aeiou" or kind in _ACRONYMS.values() else "A"
    based = f" based on {arch[0].upper() if len(arch[0]) <= 4 else arch[0].title()}" if arch else ""
    sentences = [f"{article} {kind} model{based} ({', '.join(facts)})."]
    verified = "Inspected and signed by a TEE enclave"
    if quality_score is not None:
        verified += f": quality score {quality_score}/100"
    security = inspection.get("security_assessment")
    if isinstance(security, str) and security:
        verified += f", security: {security}"
    sentences.append(verified + ".")
    tags: list[str] = []
    for tag in [category, file_format, *arch, "tee-verified"]:
        t = normalize_tag(tag or "")
        if t and t != "general" and t not in tags:
            tags.append(t)
    return ListingMetadata(
        title=_title(file_name),
        description=" ".join(sentences),
        tags=tuple(tags[:MAX_TAGS]),
    )
