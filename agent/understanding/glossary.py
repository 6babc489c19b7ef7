"""Other languages' words for what a model does or is about, with the English words file
names are written with (``prompts/nlu/glossary.yaml``): "il modello delle malattie delle
piante" names ``vision/plant_disease_resnet.onnx`` as "the plant disease model" does.

Example::

    >>> sorted(with_english({"malattie", "piante", "modello"}))
    ['disease', 'malattie', 'modello', 'piante', 'plant']
    >>> unaccented("doenças")
    'doencas'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache

from prompts import load_yaml


def unaccented(text: str) -> str:
    """'malattìe', 'español' -> 'malattie', 'espanol'."""
    split = unicodedata.normalize("NFKD", text)
    return "".join(c for c in split if not unicodedata.combining(c))


def with_english(words: Iterable[str]) -> set[str]:
    """``words`` (lower case, unaccented) with the English words the glossary gives them."""
    said = set(words)
    glossary = _glossary()
    return said | {e for w in said for e in glossary.get(w, ())}


@cache
def _glossary() -> dict[str, tuple[str, ...]]:
    words = load_yaml("nlu/glossary.yaml")["words"]
    assert isinstance(words, dict)
    return {str(k): tuple(str(e) for e in v) for k, v in words.items()}
