"""What a gate showed, said back in the answer: the model's name and the amounts on the
screen. "yes, buy Face Finder Pro" at the purchase gate for Face Finder Pro, or "1.5 SUI is
fine, buy it" where 1.5 SUI is the price shown, is the plain yes "yes, buy it" / "that is
fine, buy it". Only what the gate itself showed is replaced; another name or another figure
stays, and the answer then reads as what it is (a price change, a question, another model).

Example::

    >>> said_back("yes, buy Face Finder Pro", ("Face Finder Pro",), ())
    'yes, buy it'
    >>> said_back("1.5 SUI is fine, buy it", (), ((1.5, "sui"),))
    'that is fine, buy it'
    >>> said_back("list it for 3 SUI", (), ((2.0, "sui"),))
    'list it for 3 SUI'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

Amount = tuple[float, str]  # (value, unit): (1.5, "sui"), (0.03, "wal"), (420.0, "mb")

_UNITS = {"sui": "sui", "wal": "wal", "mb": "mb", "gb": "gb", "epoch": "epochs", "epochs": "epochs"}
_FIGURE = re.compile(r"(?:\bthe\s+)?(?<![\w.])(\d+(?:[.,]\d+)?)\s*(sui|wal|mb|gb|epochs?)\b", re.I)
_TOKEN = re.compile(r"[^\W_]+")
_ONE = r"(?:one|model|file|listing)"


def gate_terms(data: Mapping[str, object]) -> tuple[tuple[str, ...], tuple[Amount, ...]]:
    """The names and amounts a gate's request shows (its ``data``): the file and the
    listing's title; the price and the fee in SUI, the storage cost in WAL, the size in MB
    and GB, the epochs."""
    names = tuple(
        str(v) for k in ("file_name", "title") if isinstance(v := data.get(k), str) and v.strip()
    )
    amounts: list[Amount] = []
    for key, unit, scale in (
        ("price_mist", "sui", 1e9),
        ("fee_mist", "sui", 1e9),
        ("cost_frost", "wal", 1e9),
        ("size_bytes", "mb", 1e6),
        ("size_bytes", "gb", 1e9),
        ("epochs", "epochs", 1.0),
    ):
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            amounts.append((value / scale, unit))
    return names, tuple(amounts)


def _same(said: str, shown: float) -> bool:
    """``said`` is ``shown`` rounded to the decimals the user typed, and within 5% of it
    ("0.03" for 0.0312, "420" for 419.7; "2" is not 1.5)."""
    try:
        figure = Decimal(said.replace(",", "."))
    except InvalidOperation:
        return False
    value = Decimal(str(shown))
    places = max(0, -int(figure.as_tuple().exponent))
    return round(value, places) == figure and abs(figure - value) <= value * Decimal("0.05")


def _variants(name: str) -> list[str]:
    """A name as it may be said: whole, without folders, without extension, words spaced."""
    path = PurePath(name)
    out = {name, path.name, path.stem, " ".join(_TOKEN.findall(path.stem))}
    return sorted((v for v in out if len(v) >= 3), key=len, reverse=True)


def said_back(text: str, names: Iterable[str], amounts: Iterable[Amount]) -> str:
    """``text`` with what the gate showed said back replaced: a shown name by "it" (whole,
    or two of its words or more, or "the <its words> one"), a shown amount by "that"."""
    amounts = tuple(amounts)

    def figure(m: re.Match[str]) -> str:
        unit = _UNITS[m.group(2).lower()]
        hit = any(u == unit and _same(m.group(1), v) for v, u in amounts)
        return "that" if hit else m.group(0)

    out = _FIGURE.sub(figure, text) if amounts else text
    out = re.sub(r"\(\s*that\s*\)", " ", out)  # "upload m.onnx (420 MB)": the size said back
    for name in names:
        tokens = {t.lower() for t in _TOKEN.findall(PurePath(name).stem) if len(t) >= 2}
        if tokens:  # "the sentiment bert file": first, before its words are replaced
            word = "(?:" + "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))
            word += ")"
            out = re.sub(rf"\bthe\s+{word}(?:[\s_-]+{word})*\s+{_ONE}\b", "it", out, flags=re.I)
        for variant in _variants(name):
            out = re.sub(rf"(?<![\w.-]){re.escape(variant)}(?![\w-])", "it", out, flags=re.I)
        if tokens:
            out = re.sub(rf"\b{word}(?:[\s_-]+{word})+\b", "it", out, flags=re.I)
    return re.sub(r"[\"'“”‘’]it[\"'“”‘’]", "it", out)  # "list 'Sentiment BERT' at 2 SUI"
