"""The listing filters of ``Ledger.listings``, shared by every adapter."""

from __future__ import annotations

import re

from integrations.chain.port import ChainObject
from integrations.short_forms import joined_versions, with_short_forms


def listing_matches(
    obj: ChainObject,
    category: str | None,
    max_price_mist: int | None,
    min_quality: int | None,
    text: str | None,
) -> bool:
    """True if a ``MarketplaceModel`` passes every given filter (None means no filter).

    ``category`` matches case-insensitively; ``text`` is a case-insensitive
    substring of the title, the description or a tag, with ``-``, ``_`` and ``.``
    read as spaces (a file name finds the title drafted from it), or its telling
    words in any order, a short form matching its long form ("kws" finds "Keyword
    Spotting Tiny", "keyword spotting" finds "KWS Tiny").
    """
    f = obj.fields
    if category is not None and str(f.get("category", "")).lower() != category.lower():
        return False
    if max_price_mist is not None and int(str(f["price"])) > max_price_mist:
        return False
    if min_quality is not None and int(str(f["quality_score"])) < min_quality:
        return False
    if text is not None:
        needle = _words(text)
        tags = f.get("tags")
        haystack = [str(f.get("title", "")), str(f.get("description", ""))]
        haystack += [str(t) for t in tags] if isinstance(tags, list) else []
        found = " ".join(_words(h) for h in haystack)
        wanted = [w for w in needle.split() if w not in _GENERIC]
        known = with_short_forms(set(found.split()))
        if needle not in found and not (wanted and all(w in known for w in wanted)):
            return False
    return True


# Words of a search that name a kind of task, not a model: "sentiment analysis" finds
# "Sentiment Tiny" by its one telling word.
_GENERIC = frozenset(
    [
        "analysis",
        "detection",
        "classification",
        "classifier",
        "recognition",
        "generation",
        "model",
        "models",
        "stuff",
        "thing",
        "things",
        "something",
        "type",
        "kind",
    ]
)


def _words(text: str) -> str:
    """Lower case, separators as single spaces: 'ResNet-small_v2' -> 'resnet small v2'."""
    return " ".join(re.split(r"[\s\-_.]+", joined_versions(text).lower())).strip()
