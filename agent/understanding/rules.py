"""The rule-based interpreter: regular expressions and slot extraction, no network.

Example::

    >>> RuleInterpreter().interpret("upload ./my-model.safetensors")["paths"]
    ['./my-model.safetensors']
"""

from __future__ import annotations

import re
import shlex
from decimal import Decimal, InvalidOperation

from flows.intents import Expertise, Intent, IntentKind, intent

MIST_PER_SUI = 10**9
_MODEL_EXT = r"(?:safetensors|onnx|pt|pth|bin|ckpt|h5|keras|gguf|pb|zip|pkl|pickle|npz|tflite)"
_PATH = re.compile(
    rf"""(?:"([^"]+)"|'([^']+)'|((?:~|\.{{1,2}})?/[^\s,;]+|[^\s,;/]+\.{_MODEL_EXT}\b|[^\s,;]+/[^\s,;]+))""",
    re.I,
)
_PRICE = re.compile(r"(\d+(?:\.\d+)?)\s*(sui|mist)\b", re.I)
_EPOCHS = re.compile(r"(\d+)\s*epochs?\b", re.I)
_OBJECT_ID = re.compile(r"\b0x[0-9a-fA-F]{1,64}\b")

_APPROVE = re.compile(
    r"^\s*(y|yes|yep|yeah|ok|okay|sure|approve[d]?|go ahead|proceed|confirm(ed)?|do it|"
    r"list it|upload it|buy it|sounds good|lgtm)\b[\s.!]*",
    re.I,
)
_DECLINE = re.compile(r"^\s*(n|no|nope|cancel|stop|decline|abort|not now|don'?t)\b", re.I)
_BEGINNER = re.compile(
    r"\b(i'?m new|new here|beginner|first time|never (done|used)|newbie)\b", re.I
)
_EXPERT = re.compile(
    r"\b(i'?m an? expert|expert mode|experienced|i know what i'?m doing|power user)\b", re.I
)
_LEVEL_WORD = re.compile(r"\b(beginner|intermediate|expert)\b", re.I)
_MODE_WORD = re.compile(r"\b(supervised|auto|debug)\b", re.I)

# (pattern, kind) in priority order; the first match wins.
_RULES: tuple[tuple[re.Pattern[str], IntentKind], ...] = (
    (re.compile(r"\bsupport bundle\b|\bcontact support\b|\bescalate\b", re.I), "support_bundle"),
    (
        re.compile(r"\bconver(sion|t)\b.*\bguide\b|\bhow (do|can) i convert\b", re.I),
        "conversion_guide",
    ),
    (
        re.compile(
            r"^\s*/?(set )?expertise\b|\bset (my )?(level|expertise)\b|\btreat me as\b", re.I
        ),
        "set_expertise",
    ),
    (
        re.compile(
            r"^\s*/?mode\b|\b(switch|change|set) (to )?\w* ?mode\b|\b\w+ mode\b(?=.*\b(on|please)\b)",
            re.I,
        ),
        "set_mode",
    ),
    (re.compile(r"\bquick upload\b", re.I), "quick_upload"),
    (re.compile(r"\b(show )?raw( data)?\b", re.I), "raw_data"),
    (
        re.compile(
            r"\bmarket analysis\b|\banaly[sz]e the market\b|\bmarket (stats|overview)\b", re.I
        ),
        "market_analysis",
    ),
    (re.compile(r"\bdashboard\b", re.I), "dashboard"),
    (
        re.compile(
            r"\b(check )?status\b|\bwhere (are|am) (we|i)\b|\bprogress\b|\bhow'?s it going\b", re.I
        ),
        "status",
    ),
    (re.compile(r"\b(upload|publish|store)\b", re.I), "upload"),
    (re.compile(r"\b(buy|purchase)\b", re.I), "purchase"),
    (re.compile(r"\bdownload\b", re.I), "download"),
    (
        re.compile(
            r"\b(browse|search|find|show|list) (the )?(models|listings|marketplace)\b|^\s*browse\b",
            re.I,
        ),
        "browse",
    ),
    (
        re.compile(r"\b(set|change|make)\b.*\bprice\b|\bprice\b.*\d|\bmake it\b.*\d", re.I),
        "set_price",
    ),
    (re.compile(r"\blist (it|my model|the model)\b|\bcreate (the )?listing\b", re.I), "list"),
    (re.compile(r"^\s*(retry|resume|try again|continue)\b", re.I), "retry"),
    (
        re.compile(
            r"^\s*(hi|hello|hey|good (morning|afternoon|evening)|greetings)\b|\bget started\b|"
            r"\bhow does (this|it) work\b|\bnew here\b|\bonboard",
            re.I,
        ),
        "greet",
    ),
    (
        re.compile(
            r"\bhelp\b|\bwhat (is|are)\b|\bhow (do|does|can|much|long)\b|\bwhy\b|\?\s*$", re.I
        ),
        "help",
    ),
)

_TOPICS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(walrus|storage|blob|store)\b", re.I), "storage"),
    (re.compile(r"\b(verif\w*|tee|nautilus|enclave|attestation)\b", re.I), "verification"),
    (re.compile(r"\b(price|pricing|fee|earn)\w*", re.I), "pricing"),
    (re.compile(r"\b(cost|wal|frost|epoch)\w*", re.I), "cost"),
    (re.compile(r"\b(list|listing|marketplace|sell)\w*", re.I), "marketplace"),
    (re.compile(r"\b(format|safetensors|onnx|gguf|pickle|convert)\w*", re.I), "formats"),
    (re.compile(r"\b(sui|wallet|address|key)\b", re.I), "wallet"),
)


def parse_price_mist(text: str) -> int | None:
    """'2.5 SUI' -> 2_500_000_000; '1500 mist' -> 1500; exact decimal arithmetic, no floats."""
    m = _PRICE.search(text)
    if not m:
        return None
    try:
        amount = Decimal(m.group(1))
    except InvalidOperation:
        return None
    mist = amount * MIST_PER_SUI if m.group(2).lower() == "sui" else amount
    return int(mist) if mist == mist.to_integral_value() else None


def extract_paths(text: str) -> list[str]:
    """Paths mentioned in a message (quoted, ./relative, /absolute, or name.ext)."""
    out = []
    for m in _PATH.finditer(text):
        raw = next(g for g in m.groups() if g)
        if raw.startswith("0x") or raw.startswith("http"):
            continue
        out.append(raw.rstrip(".?!"))
    return out


class RuleInterpreter:
    """Deterministic text -> ``Intent``; never raises on any input."""

    name = "rules"

    def interpret(self, text: str, *, at_gate: bool = False) -> Intent:
        """Interpret one message. ``at_gate`` favours yes/no readings of short answers."""
        stripped = text.strip()
        if stripped.startswith("/"):
            stripped = stripped[1:]
        price = parse_price_mist(stripped)
        if _APPROVE.match(stripped) and (at_gate or len(stripped.split()) <= 4) and price is None:
            return intent("approve", text)
        if _DECLINE.match(stripped) and (at_gate or len(stripped.split()) <= 4):
            return intent("decline", text)
        kind: IntentKind = "unknown"
        for pattern, k in _RULES:
            if pattern.search(stripped):
                kind = k
                break
        self_desc: Expertise | None = None
        if _BEGINNER.search(stripped):
            self_desc = "beginner"
        elif _EXPERT.search(stripped):
            self_desc = "expert"
        if kind == "unknown" and self_desc:
            kind = "set_expertise"
        slots: dict[str, object] = {"self_description": self_desc}
        if kind == "set_expertise":
            word = _LEVEL_WORD.search(stripped)
            slots["expertise"] = word.group(1).lower() if word else self_desc
            if slots["expertise"] is None:
                kind = "help"
        elif kind == "set_mode":
            word = _MODE_WORD.search(stripped)
            if word:
                slots["mode"] = word.group(1).lower()
            else:
                kind = "help"
        if kind in ("upload", "quick_upload"):
            slots["paths"] = extract_paths(stripped) or None
            epochs = _EPOCHS.search(stripped)
            slots["epochs"] = int(epochs.group(1)) if epochs else None
        if kind in ("set_price", "browse") and price is not None:
            slots["price_mist"] = price
        if kind in ("purchase", "download", "raw_data"):
            oid = _OBJECT_ID.search(stripped)
            if oid:
                slots["model_ref"] = oid.group(0)
            elif kind != "raw_data":
                rest = re.sub(
                    r"^.*?\b(buy|purchase|download)\b\s*(the\s+)?(model\s+)?",
                    "",
                    stripped,
                    flags=re.I,
                ).strip(" .!?\"'")
                slots["model_ref"] = rest or None
        if kind == "browse":
            q = re.sub(
                r"^.*?\b(browse|search|find|show|list)\b\s*(the\s+)?(models|listings|marketplace)?"
                r"\s*(for|with|about)?\s*",
                "",
                stripped,
                flags=re.I,
            ).strip(" .!?")
            q = re.sub(
                r"\b(under|below|cheaper than|at most|max)?\s*\d+(\.\d+)?\s*(sui|mist)\b",
                "",
                q,
                flags=re.I,
            ).strip(" .!?")
            slots["query"] = q or None
        if kind in ("help", "greet"):
            topic = next((t for p, t in _TOPICS if p.search(stripped)), None)
            slots["topic"] = topic or ("onboarding" if kind == "greet" else "overview")
        return intent(kind, text, **slots)


def split_command(text: str) -> list[str]:
    """Split a slash command line like a shell would, tolerating bad quotes."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()
