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
_PLACE = (
    r"second[ -](?:to[ -])?last|penultimate|first|second|third|fourth|fifth|last|middle|1st|2nd|"
    r"3rd|4th|5th|"
    r"primer[oa]?|segund[oa]|tercer[oa]?|premi[eè]re?|deuxième|erste[nrs]?|zweite[nrs]?|"
    r"pertama|kedua|ketiga|terakhir|pehla|pehli|doosra|doosri"
)
_POSITION = re.compile(
    rf"(?:\b(?:the|el|la|le|das|den|die|yang)\s+(?P<w1>{_PLACE})\b"
    r"(?:\s+(?:one|listing|model|result|uno|una))?"
    rf"|\b(?P<w2>{_PLACE})\s+(?:one|listing|model|result)\b"
    r"|(?:\bnumber|\bno\.|#|\boption)\s*(?P<num>[1-9]\d?|one|two|three|four|five)\b)"
    r"(?!\s*(?:sui|mist|week|month|year|time|night|day|price)\b)",
    re.I,
)
_POSITION_WORDS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "last": -1, "penultimate": -2,
    "middle": 0,  # the one in the middle of an odd number shown
    # in the other languages people write in
    "primer": 1, "primero": 1, "primera": 1, "premier": 1, "première": 1, "premiere": 1,
    "erste": 1, "ersten": 1, "erster": 1, "erstes": 1, "pertama": 1, "pehla": 1, "pehli": 1,
    "segundo": 2, "segunda": 2, "deuxième": 2, "zweite": 2, "zweiten": 2, "zweiter": 2,
    "zweites": 2, "kedua": 2, "doosra": 2, "doosri": 2,
    "tercer": 3, "tercero": 3, "tercera": 3, "ketiga": 3, "terakhir": -1,
}  # fmt: skip
_ORDINAL_NAMES = ("first", "second", "third", "fourth", "fifth")
_COUNTS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}  # "number three"
# a message that is only a position: "the second", "number 2 please", "first one"
ONLY_POSITION = re.compile(
    r"\s*(?:(?:ok(?:ay)?|and|so|hmm+|then)[,.]?\s+)?(?:i'?ll (?:take|have)\s+|i take\s+|gimme\s+|give me\s+|i want\s+|i'?d like\s+|"
    r"quiero\s+|me llevo\s+|je veux\s+|je prends\s+|ich nehme\s+|saya mau\s+|mau\s+)?"
    r"(?:(?P<alone>" + _PLACE + r")\b|" + _POSITION.pattern + r")"
    r"(?:[,\s]+(?:one|please|pls|then|of (?:them|those|these)|from (?:that|the|your) list))*"
    r"\s*[.!]*\s*",
    re.I,
)


_THAT_ONE = re.compile(r"\b(?:that|this)\s+(?:one|model|listing)\b", re.I)


def position_in(text: str) -> int | None:
    """The place in a shown list the words pick: 1 for "the first one", -1 for "the last"."""
    m = _POSITION.search(text)
    if m is None:
        return None
    if num := m.group("num"):
        return int(num) if num.isdigit() else _COUNTS[num.lower()]
    return _place_of(m.group("w1") or m.group("w2"))


def _place_of(word: str) -> int:
    word = word.lower()
    return -2 if word.startswith("second") and word.endswith("last") else _POSITION_WORDS[word]


def picked_listing(text: str, shown: tuple[str, ...]) -> str | None:
    """The listing id a position picks from the list shown last ("buy the second one")."""
    place = position_in(text)
    if place is None and (m := ONLY_POSITION.fullmatch(text)) and m.group("alone"):
        place = _place_of(m.group("alone"))  # "second please"
    if place is None and len(shown) == 1 and _THAT_ONE.search(text):
        place = 1  # "buy that one" when one listing was shown
    if place is None or not shown:
        return None
    if place == 0:  # "the middle one": of an odd number shown
        return shown[len(shown) // 2] if len(shown) % 2 else None
    index = len(shown) + place if place < 0 else place - 1
    return shown[index] if 0 <= index < len(shown) else None


def position_ref(text: str) -> str | None:
    """A position said, in words, when no list is known: "the second one"."""
    m = _POSITION.search(text)
    if m is None:
        return None
    if m.group("num"):
        return m.group(0).strip()  # "#3", "number 2": as written
    place = _place_of(m.group("w1") or m.group("w2"))
    named = {-1: "last", -2: "second to last", 0: "middle"}
    return f"the {named[place] if place in named else _ORDINAL_NAMES[place - 1]} one"
