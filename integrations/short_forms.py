"""Short forms people write for what a model does ("kws" for keyword spotting, "sst-2"
for the SST-2 sentiment set, "asr" for speech recognition): the file names and listings
a message names are matched with both forms.

Example::

    >>> sorted(with_short_forms({"kws", "tiny"}))
    ['keyword', 'kws', 'spotting', 'tiny']
    >>> joined_versions("SST-2 sentiment")
    'SST2 sentiment'
"""

from __future__ import annotations

import re

# short form -> the words of its long form
SHORT_FORMS: dict[str, tuple[str, ...]] = {
    "kws": ("keyword", "spotting"),
    "sst2": ("sentiment",),
    "sst": ("sentiment",),
    "asr": ("speech", "recognition"),
    "stt": ("speech", "recognition"),
    "tts": ("speech", "synthesis"),
    "ocr": ("character", "recognition"),
    "llm": ("language",),
    "nlp": ("language",),
    "cv": ("vision",),
    "ner": ("entity", "recognition"),
}
# long forms of one word that stand for the short one ("sentiment" for sst2)
_LONG_ALONE = frozenset({"sentiment", "language", "vision"})
_VERSIONED = re.compile(r"\b(sst|gpt|t5|yolo|llama|qwen)[-_ ]v?(\d)\b", re.I)


def joined_versions(text: str) -> str:
    """Names with a version written apart, joined: "sst-2" and "yolo v8" as "sst2", "yolo8"."""
    return _VERSIONED.sub(r"\1\2", text)


def with_short_forms(words: set[str]) -> set[str]:
    """``words`` (lower case) with each short form's long words and each long form's short one."""
    out = set(words)
    for short, long in SHORT_FORMS.items():
        if short in words:
            out.update(long)
        if all(w in words for w in long) and (len(long) > 1 or long[0] in _LONG_ALONE):
            out.add(short)
    return out
