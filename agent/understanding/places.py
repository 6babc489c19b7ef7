"""A listing picked by its place in the list shown last: "buy the first one", "the second",
"number 2", "download the last one you showed".

Example::

    >>> picked_listing("buy the second one", ("0xa", "0xb", "0xc"))
    '0xb'
    >>> position_ref("buy the first one")
    'the first one'
"""

from __future__ import annotations

import re

# "buy the first one", "the second", "number 2", "the last one you showed"
_PLACE = r"first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th"
_POSITION = re.compile(
    rf"(?:\bthe\s+(?P<w1>{_PLACE})\b(?:\s+(?:one|listing|model|result))?"
    rf"|\b(?P<w2>{_PLACE})\s+(?:one|listing|model|result)\b"
    r"|(?:\bnumber|\bno\.|#|\boption)\s*(?P<num>[1-9]\d?)\b)"
    r"(?!\s*(?:sui|mist|week|month|year|time|night|day|price)\b)",
    re.I,
)
_POSITION_WORDS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "last": -1,
}  # fmt: skip
_ORDINAL_NAMES = ("first", "second", "third", "fourth", "fifth")
# a message that is only a position: "the second", "number 2 please", "first one"
ONLY_POSITION = re.compile(
    r"\s*(?:(?:ok(?:ay)?|and|so|hmm+|then)[,.]?\s+)?(?:i'?ll (?:take|have)\s+|gimme\s+|give me\s+)?"
    r"(?:(?P<alone>" + _PLACE + r")\b|" + _POSITION.pattern + r")"
    r"(?:\s+(?:one|please|pls|then|from (?:that|the|your) list))*\s*[.!]*\s*",
    re.I,
)


def position_in(text: str) -> int | None:
    """The place in a shown list the words pick: 1 for "the first one", -1 for "the last"."""
    m = _POSITION.search(text)
    if m is None:
        return None
    if m.group("num"):
        return int(m.group("num"))
    return _POSITION_WORDS[(m.group("w1") or m.group("w2")).lower()]


def picked_listing(text: str, shown: tuple[str, ...]) -> str | None:
    """The listing id a position picks from the list shown last ("buy the second one")."""
    place = position_in(text)
    if place is None and (m := ONLY_POSITION.fullmatch(text)) and m.group("alone"):
        place = _POSITION_WORDS[m.group("alone").lower()]  # "second please"
    if place is None or not shown:
        return None
    index = len(shown) - 1 if place == -1 else place - 1
    return shown[index] if 0 <= index < len(shown) else None


def position_ref(text: str) -> str | None:
    """A position said, in words, when no list is known: "the second one"."""
    m = _POSITION.search(text)
    if m is None:
        return None
    if m.group("num"):
        return m.group(0).strip()  # "#3", "number 2": as written
    place = _POSITION_WORDS[(m.group("w1") or m.group("w2")).lower()]
    return "the last one" if place == -1 else f"the {_ORDINAL_NAMES[place - 1]} one"
