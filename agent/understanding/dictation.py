"""Messages said aloud and typed by a speech recogniser: punctuation said as words ("yes
go ahead period", "tags vision comma edge"), the price's unit heard as another word ("three
sue"), "buy" heard as "by". What is written is read as what was said.

Example::

    >>> as_said("list it for two sue period")
    'list it for two sui.'
    >>> as_said("tags vision comma edge")
    'tags vision, edge'
"""

from __future__ import annotations

import re

# punctuation said as a word: always, where nobody types the word itself
_SAID_MARKS = (
    (re.compile(r"\s+comma\b\s*", re.I), ", "),
    (re.compile(r"\s+question mark\b", re.I), "?"),
    (re.compile(r"\s+exclamation (?:mark|point)\b", re.I), "!"),
    (re.compile(r"\s+full stop\b", re.I), "."),
    (re.compile(r"\s+new (?:line|paragraph)\b\s*", re.I), ". "),
)
# "period" is a word too ("the trial period"): a mark at the end of the message, and then
# between its sentences too when it has no punctuation of its own
_PERIOD_AT_END = re.compile(r"\s+period\s*$", re.I)
_PERIOD_BETWEEN = re.compile(r"\s+period\s+(?=\w)", re.I)
_TYPED_MARKS = re.compile(r"[.,;:!?]")
# the unit heard as another word after a figure: "three sue", "2 swee", "five S U I"
_UNIT_HEARD = re.compile(
    r"(?<=\d|[a-z])(\s+)(?:sue|swee|suey|sooey|s\s?u\s?i)\b(?=\s*[.,!?]?\s*(?:$|\w))", re.I
)
_FIGURE_BEFORE = re.compile(
    r"(?:\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|half|point \w+))\s*$", re.I
)
# "buy" heard as "by" where a sentence starts: "by it", "by the second one"
_BUY_HEARD = re.compile(
    r"(^|[.!?]\s+|\b(?:ok|okay|yes|yeah|then|so)\s+)by(?=\s+(?:it|the|this|that|one)\b)", re.I
)


def as_said(text: str) -> str:
    """``text`` with what a speech recogniser writes for what was said put back."""
    if not re.search(
        r"comma|question mark|exclamation|full stop|new line|new paragraph|period|"
        r"\bsue\b|\bswee|\bsuey\b|\bsooey\b|\bs\s?u\s?i\b|\bby\b",
        text,
        re.I,
    ):
        return text
    out = text
    for pattern, mark in _SAID_MARKS:
        out = pattern.sub(mark, out)
    if _PERIOD_AT_END.search(out):  # said at the end: said between sentences too
        out = _PERIOD_AT_END.sub(".", out)
        if not _TYPED_MARKS.search(text):
            out = _PERIOD_BETWEEN.sub(". ", out)
    out = _UNIT_HEARD.sub(lambda m: _unit(out, m), out)
    return _BUY_HEARD.sub(lambda m: m.group(1) + "buy", out)


def _unit(text: str, m: re.Match[str]) -> str:
    """'sui' for a unit heard after a figure; the words as written anywhere else."""
    before = text[max(0, m.start() - 40) : m.start()]  # the words just before it
    return m.group(1) + "sui" if _FIGURE_BEFORE.search(before) else m.group(0)
