"""Slips in the words that name what to do: "uplaod", "verfy", "purchse", "delsit", "whats
the progres". Such a word is read as the command word it is one slip away from (a letter
left out, added, changed, or two swapped), so the rules and the classifier see what was
meant.

Only the product's own command words are corrected (``prompts/nlu/spelling.yaml``:
``commands``), and never a word that is a word already: a word of English or of the other
languages people write in, one slip away from a command word ("marked" is not "market",
"cancer" not "cancel", "markt" is German: ``real_words``, listed from dictionaries by
``refresh_real_words``). Paths, quoted text and short words are left
as typed, and so is anything at a gate: an answer to a gate is read as written.

Example::

    >>> respelled("whats the progres on my uplaod")
    'whats the progress on my upload'
    >>> respelled("my model is marked as verified")
    'my model is marked as verified'
"""

from __future__ import annotations

import re
from functools import lru_cache
from string import ascii_lowercase

from agent.understanding.listing_text import QUOTED
from prompts import load_yaml

SPELLING = "nlu/spelling.yaml"
_SHORTEST = 5  # shorter words are too close to other words to guess at
# a word as typed: letters only, not part of a path, a file name or a quoted title
_WORD = re.compile(rf"(?<![\w./\\'\"-])([A-Za-z]{{{_SHORTEST},}})(?![\w./\\-])")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+)\W*$")


def slips(word: str) -> set[str]:
    """Every string one slip away from ``word``: a letter dropped, swapped with the next,
    changed or added."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    dropped = {a + b[1:] for a, b in splits if b}
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changed = {a + c + b[1:] for a, b in splits if b for c in ascii_lowercase}
    added = {a + c + b for a, b in splits for c in ascii_lowercase}
    return (dropped | swapped | changed | added) - {word}


def _words(key: str) -> list[str]:
    """A word list of ``prompts/nlu/spelling.yaml``, lowercase."""
    words = load_yaml(SPELLING)[key]
    if not isinstance(words, list):
        raise ValueError(f"{SPELLING}: {key} must be a list of words")
    return [str(w).lower() for w in words]


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    """slip -> the command word it is one slip away from (slips of two commands are left out)."""
    commands = _words("commands")
    known = set(commands) | set(_words("real_words"))
    # slip -> the commands it is a slip of; of two, one of its length (two letters swapped
    # or one changed: "stauts" is "status", not "stats" with a letter added)
    meant: dict[str, set[str]] = {}
    for command in commands:
        for slip in slips(command):
            if slip not in known and len(slip) >= _SHORTEST:
                meant.setdefault(slip, set()).add(command)
    table: dict[str, str] = {}
    for slip, options in meant.items():
        if len(options) > 1:
            options = {c for c in options if len(c) == len(slip)}
        if len(options) == 1:
            table[slip] = options.pop()
    return table


def respelled(text: str) -> str:
    """``text`` with each command word typed one slip off written as meant; the rest as
    typed. A capitalised word is corrected only where a sentence starts."""
    table = _table()
    quoted = [m.span() for m in QUOTED.finditer(text)]

    def fix(m: re.Match[str]) -> str:
        word = m.group(1)
        meant = table.get(word.lower())
        if meant is None or any(a <= m.start() < b for a, b in quoted):
            return word
        if word[0].isupper():  # a capital inside a sentence starts a name: "call it Pirce Tool"
            return meant.capitalize() if _SENTENCE_START.search(text[: m.start()]) else word
        return meant

    return _WORD.sub(fix, text)


def refresh_real_words() -> list[str]:
    """The words one slip away from a command word that are words of a language people
    write to the agent in (its dictionary counts them at least ``_COMMON`` times): what
    ``real_words`` must hold. Needs the ``pyspellchecker`` package (a development
    dependency), whose dictionaries are read here and nowhere else."""
    from spellchecker import SpellChecker

    commands = _words("commands")
    near = {s for c in commands for s in slips(c) if len(s) >= _SHORTEST} - set(commands)
    words: set[str] = set()
    for language in _LANGUAGES:
        counts = SpellChecker(language=language, distance=1).word_frequency.dictionary
        words |= {w for w in near if counts.get(w, 0) >= _COMMON}
    return sorted(words)


_COMMON = 50
_LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl")
