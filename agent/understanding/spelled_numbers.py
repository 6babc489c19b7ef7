"""Numbers said in words where a figure is meant: "two point five SUI", "ten percent less",
"charge four". Other number words stay words ("the first one", "one more thing").

Example::

    >>> figures_for_words("let's go with two point five")
    "let's go with 2.5"
"""

from __future__ import annotations

import re

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen")  # fmt: skip
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_DIGIT_OF = {w: i for i, w in enumerate(_ONES)}
_TENS_OF = {w: 10 * i for i, w in enumerate(_TENS, 2)}
_SPELLED = rf"(?:(?:{'|'.join(_TENS)})(?:[\s-](?:{'|'.join(_ONES[1:10])}))?|"
_SPELLED += "|".join(sorted(_ONES, key=len, reverse=True)) + ")"
# a spelled number where a figure is meant: before a unit or a percent, with a decimal point
# ("two point five"), or after a word that asks for a price ("charge four", "let's say three")
_DIGIT_WORD = f"(?:{'|'.join(_ONES[:10])})"
_SPELLED_FIGURE = re.compile(
    rf"\b(?P<n>{_SPELLED})(?:\s+point\s+(?P<d>{_DIGIT_WORD}(?:\s+{_DIGIT_WORD})*)\b|"
    r"(?=\s*(?:sui|mist|%|percent|per cent)\b))",
    re.I,
)
_ASKS_A_FIGURE = re.compile(
    r"\b(?:charge|ask|asking|make it|say|about|for|down to|up to|go with|it at|it to|it for)\s+"
    rf"(?P<n>{_SPELLED})\b(?=\s*(?:[,.!?]|$|then\b|instead\b|please\b|pls\b|for (?:it|this)\b))",
    re.I,
)


def _spelled_value(n: str, d: str | None) -> str:
    words = n.lower().replace("-", " ").split()
    value = sum(_TENS_OF.get(w, 0) + _DIGIT_OF.get(w, 0) for w in words)
    if d:
        digits = [_DIGIT_OF.get(w.lower()) for w in d.split()]
        if any(x is None or x > 9 for x in digits):
            return str(value)
        return f"{value}." + "".join(str(x) for x in digits)
    return str(value)


def figures_for_words(text: str) -> str:
    """``text`` with the numbers spelled where a figure is meant written as figures: 'two
    point five' -> '2.5', 'ten percent less' -> '10 percent less', 'charge four' -> 'charge
    4'. Other number words stay ('the first one', 'one more thing')."""
    if not re.search(_SPELLED, text, re.I):
        return text

    def figure(m: re.Match[str]) -> str:
        value = _spelled_value(m.group("n"), m.groupdict().get("d"))
        return m.group(0)[: m.start("n") - m.start()] + value

    out = _SPELLED_FIGURE.sub(figure, text)
    return _ASKS_A_FIGURE.sub(figure, out)
