"""The rule-based interpreter: regular expressions and slot extraction, no network.

Over 500 lines: the patterns of every intent kind, in the order they are tried, and the
slots each fills; split, the order would no longer be read in one place.

Example::

    >>> RuleInterpreter().interpret("upload ./my-model.safetensors")["paths"]
    ['./my-model.safetensors']
"""

from __future__ import annotations

import re
import shlex
from decimal import Decimal, InvalidOperation

from agent.understanding.bounds import READ_CHARS, head
from agent.understanding.consent import read_consent
from agent.understanding.listing_text import tag_words
from flows.intents import Expertise, Intent, IntentKind, intent

MIST_PER_SUI = 10**9
_MODEL_EXT = (
    r"(?:safetensors|onnx|pt|pth|bin|ckpt|h5|keras|gguf|pb|zip|pkl|pickle|npz|tflite|joblib)"
)
_PATH = re.compile(
    rf"""(?:"([^"]+)"|(?<!\w)'([^']+)'(?!\w)|(?<![^\s,;])((?:~|\.{{1,2}})?/[^\s,;]+|[^\s,;/]+\.{_MODEL_EXT}\b|[^\s,;]+/[^\s,;]+))""",
    re.I,
)
_PRICE = re.compile(r"(?<!\d)(\d+(?:\.\d+)?)\s*(sui|mist)\b", re.I)
U64_MAX = 2**64 - 1
# A price someone meant to give but that is not a valid amount: "-3 SUI", "1e30 SUI",
# "1,000 SUI", "abc SUI", "price abc". Answered with how to write a price.
_PRICE_ATTEMPT = re.compile(
    r"(?:^|\s)[-+\u2212]?[^\s\d]*\d\S*\s*(?:sui|mist)\b"
    r"|\b(?:nan|inf(?:inity)?)\s*(?:sui|mist)\b"
    r"|^\s*(?:(?:set|change)\s+(?:the\s+)?)?price\s+(?:(?:to|at|it)\s+)?\S+\s*$",
    re.I,
)
_EPOCHS = re.compile(r"(?<!\d)(\d+)\s*epochs?\b", re.I)
_OBJECT_ID = re.compile(r"\b0x[0-9a-fA-F]{1,64}\b")

_BEGINNER = re.compile(
    r"\b(i'?m new|new here|beginner|first time|never (done|used)|newbie|"
    r"(?:i'?m|i am) not (?:very |that |really |at all )?(?:technical|techy|a techie|good with computers))\b",
    re.I,
)
_EXPERT = re.compile(
    r"\b(i'?m an? expert|expert mode|experienced|i know what i'?m doing|power user|"
    r"(?:i'?ve|i have) done this (?:loads|lots|plenty|hundreds|dozens|many|a (?:lot|bunch|million|"
    r"hundred)) (?:of )?times|(?:i'?ve|i have) (?:published|uploaded|sold|listed|shipped) "
    r"(?:dozens|loads|lots|hundreds|plenty|many) of models)\b",
    re.I,
)
_IN_BETWEEN = re.compile(
    r"\bnot (?:a |an )?(?:total |complete |real )?(?:beginner|newbie|noob)\b|"
    r"\b(?:no|not an?) expert\b|\bin between\b|\bintermediate\b",
    re.I,
)
_LEVEL_WORD = re.compile(r"\b(beginner|intermediate|expert)\b", re.I)
_MODE_WORD = re.compile(r"\b(supervised|auto|debug)\b", re.I)
# "bulk upload ...", "upload these 5 models": several files at once.
_BULK = re.compile(r"\bbulk\b|\b(\d+|several|multiple|many|all|these|those) (models|files)\b", re.I)

# Listing edits at the gate: "title: X", "set description to X", "add tag a, b", "remove tag x",
# "tags: a, b".
_EDIT_TITLE = re.compile(
    r"^\s*(?:title\s*[:=]|(?:set|change|rename)\s+(?:the\s+)?(?:title|it|name)\s+(?:to|as)\b)\s*(.+)$",
    re.I | re.S,
)
# the tags said after a title in the same message: "title: X, tags a, b" / "… and tags a, b"
_AND_TAGS = re.compile(r"\s*(?:,|;|\band\b)\s*(?:add\s+)?(?:the\s+)?tags?\s*:?\s+", re.I)
_EDIT_DESCRIPTION = re.compile(
    r"^\s*(?:(?:please\s+|can\s+you\s+|could\s+you\s+)?(?:"
    r"description\s*[:=]|(?:set|change|update|make)\s+(?:the\s+)?description\s+(?:to|as)\b|"
    r"(?:add|write|use|put|give\s+it|update)\s+(?:a\s+|the\s+|this\s+|its\s+)?description"
    r"(?:\s*[:=]|\s+(?:saying|that\s+says|as|to)\b)|"
    r"(?:the\s+|its\s+)?description\s+(?:should|must|needs?\s+to)\s+(?:be|say|read)\b\s*:?|"
    r"describe\s+it\s+as\b))\s*(.+)$",
    re.I | re.S,
)
_EDIT_TAGS = re.compile(
    r"^\s*(add|remove|rm|drop|delete)\s+(?:the\s+)?tags?\s*[:=]?\s*(.+)$", re.I | re.S
)
# "tags: a, b" / "set tags to a, b": the tags replaced by these.
_SET_TAGS = re.compile(
    r"^\s*(?:tags\s*[:=]|(?:set|change)\s+(?:the\s+)?tags\s+to\b)\s*(.+)$", re.I | re.S
)
# The same edits for one model of a bulk listing, named by its file ("title tiny.onnx: …",
# "set description of tiny.onnx to …", "add tag vision to tiny.onnx", "tags tiny.onnx: a, b",
# "remove tag x from tiny.onnx"). Elsewhere a file is quoted or looks like one (a dot or a slash).
# (up to its first dot or slash, then to its last word character: one way to split a word)
_FILE = r"""(?P<file>"[^"]+"|'[^']+'|[^\s"':=,./]*[./][^\s"':=,]*\w)"""
# Before a colon a bare name will do too ("title tiny: …"): the flow says if it is ambiguous.
_NAME = r"""(?P<file>"[^"]+"|'[^']+'|(?!(?:it|this|that|them|all|of|for)\b)[^\s"':=,]+)"""
_OF_FILE = rf"(?:(?:of|for)\s+)?{_NAME}\s*[:=]\s*(?P<value>.*)$"  # empty: refused, with why
_SET_OF_FILE = rf"\s+(?:of|for)\s+{_FILE}\s+(?:to|as)\s+(?P<value>.+)$"
_FILE_EDITS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"^\s*title\s+{_OF_FILE}", re.I | re.S), "title"),
    (
        re.compile(rf"^\s*(?:set|change)\s+(?:the\s+)?(?:title|name){_SET_OF_FILE}", re.I | re.S),
        "title",
    ),
    (re.compile(rf"^\s*rename\s+{_FILE}\s+(?:to|as)\s+(?P<value>.+)$", re.I | re.S), "title"),
    (re.compile(rf"^\s*description\s+{_OF_FILE}", re.I | re.S), "description"),
    (
        re.compile(rf"^\s*(?:set|change)\s+(?:the\s+)?description{_SET_OF_FILE}", re.I | re.S),
        "description",
    ),
    (re.compile(rf"^\s*tags\s+{_OF_FILE}", re.I | re.S), "tags"),
    (re.compile(rf"^\s*(?:set|change)\s+(?:the\s+)?tags{_SET_OF_FILE}", re.I | re.S), "tags"),
    (
        re.compile(
            rf"^\s*add\s+(?:the\s+)?tags?\s*[:=]?\s*(?P<value>.+?)\s+(?:to|on|for)\s+{_FILE}[\s.!]*$",
            re.I | re.S,
        ),
        "add_tags",
    ),
    (
        re.compile(
            rf"^\s*(?:remove|drop|delete)\s+(?:the\s+)?tags?\s*[:=]?\s*(?P<value>.+?)"
            rf"\s+(?:from|of|on)\s+{_FILE}[\s.!]*$",
            re.I | re.S,
        ),
        "remove_tags",
    ),
)


_PRICE_LIKE = re.compile(r"^[$~]?\d+(?:[.,]\d+)?\s*(?:sui|mist)?\b", re.I)


def _text_value(text: str) -> str:
    return text.strip().strip("\"'").strip()


def with_whole_description(edit: dict[str, object], whole: str) -> dict[str, object]:
    """``edit`` read from the head of ``whole``, its description (the one long value) read
    from all of it (the edit patterns are anchored: linear in the text)."""
    if "description" not in edit or len(whole) <= READ_CHARS:
        return edit
    return parse_listing_edit(whole.strip().removeprefix("/")) or edit


def parse_listing_edit(text: str) -> dict[str, object] | None:
    """Slots of a listing edit, or None: 'add tags vision, resnet' -> {'add_tags': [...]}.

    An edit naming a file ("title tiny.onnx: Tiny") carries it in ``paths``: the
    model of a bulk listing it changes.
    """
    for pattern, slot in _FILE_EDITS:
        if m := pattern.match(text):
            value = m.group("value")
            words = tag_words(value) if slot.endswith("tags") else _text_value(value)
            return {slot: words, "paths": [m.group("file").strip("\"'")]}
    if (m := _EDIT_TITLE.match(text)) and not _PRICE_LIKE.match(_text_value(m.group(1))):
        said = _AND_TAGS.split(m.group(1), maxsplit=1)
        if len(said) == 2:  # "title: MobileNet Small, tags vision, mobile"
            return {"title": _text_value(said[0]), "add_tags": tag_words(said[1])}
        return {"title": _text_value(m.group(1))}  # "set it to 1.25 SUI" is a price
    if m := _EDIT_DESCRIPTION.match(text):
        return {"description": _text_value(m.group(1))}
    if m := _SET_TAGS.match(text):
        return {"tags": tag_words(m.group(1))}
    if m := _EDIT_TAGS.match(text):
        key = "add_tags" if m.group(1).lower() == "add" else "remove_tags"
        return {key: tag_words(m.group(2))}
    return None


# Browsing: "nlp models under 2 SUI with quality above 80"; one listing: "show listing 0x…".
_CATEGORY_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(computer[- ]vision|vision|cv)\b", re.I), "computer-vision"),
    (
        re.compile(r"\b(image[- ]generation|text[- ]to[- ]image|diffusion)\b", re.I),
        "image-generation",
    ),
    (re.compile(r"\b(nlp|language)\b", re.I), "nlp"),
    (re.compile(r"\b(llms?)\b", re.I), "llm"),
    (re.compile(r"\b(audio|speech)\b", re.I), "audio"),
    (re.compile(r"\b(tabular)\b", re.I), "tabular"),
)
_MIN_QUALITY = re.compile(
    r"\b(?:with\s+)?(?:a\s+)?quality(?:\s+score)?\s*(?:of\s+)?(?:above|over|at\s+least|>=?|≥|min(?:imum)?)?\s*(\d{1,3})\+?",
    re.I,
)
_LISTING_DETAIL = re.compile(
    r"^\s*(?:show|open|view)\s+(?:me\s+)?(?:the\s+)?listing\s+(.+)$|"
    r"^\s*(?:can|could|may)\s+i\s+(?:see|view|open)\s+(?:the\s+)?listing\s+(?:for|of)\s+(0x[0-9a-f]+)\W*$|"
    r"^\s*(?:details?|info)\s+(?:of|for|about|on)\s+(?:the\s+)?(?:listing\s+)?(.+)$",
    re.I,
)


# How a buyer asks, not what for: "got anything for sentiment analysis?" -> "sentiment analysis"
_REQUEST_WORDS = re.compile(
    r"\b(?:got|have you got|do you have|you have|is there|are there|any(?:thing)?|some(?:thing)?|"
    r"looking for|i(?:'m| am)? (?:need|want|looking for)|need|want|for sale|to buy|"
    r"on the market(?:place)?|out there|around|available|good|cheap|please|for|a|an|the|"
    r"that (?:does|can do|can)|stuff|type|i could buy|i can buy|show me|show|find me|find|me|"
    r"i'?d like|i would like|to buy|buy|get me|get|what'?s hot|what'?s new|hot|trending|"
    r"popular|in|which|what|can|could|should|would|you|recommend|here|i|purchase|"
    r"looking to|that|this)\b",
    re.I,
)


def parse_browse_filters(text: str) -> dict[str, object]:
    """Category, minimum quality and the remaining search words of a browse request."""
    slots: dict[str, object] = {}
    if m := _MIN_QUALITY.search(text):
        slots["min_quality"] = min(int(m.group(1)), 100)
        text = text[: m.start()] + text[m.end() :]
    for pattern, category in _CATEGORY_WORDS:
        if m := pattern.search(text):
            slots["category"] = category
            text = text[: m.start()] + text[m.end() :]
            break
    q = re.sub(r"\b(models?|listings?|with|and)\b", " ", _REQUEST_WORDS.sub(" ", text), flags=re.I)
    q = " ".join(q.split()).strip(" .!?,")
    slots["query"] = q or None
    return slots


# (pattern, kind) in priority order; the first match wins.
# a listing taken down: "delist it", "take my model out of the shop"
_DELIST = re.compile(
    r"\b(delist|unlist)\b|\btake (it|my model|the listing|my listing) (down|off)\b"
    r"|\bremove (it|my model|my listing|the listing) from the (market|marketplace)\b"
    r"|\bremove my listing\b|\bstop selling (it|my model)\b"
    r"|\btake (?:it|my \w+(?: \w+)?|the listing) (?:out of|off) the (?:shop|store|market(?:place)?)\b",
    re.I,
)
_RULES: tuple[tuple[re.Pattern[str], IntentKind], ...] = (
    (_DELIST, "delist"),  # first: "take it out of the store" is no upload
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
            r"\bmarket analysis\b|\banaly[sz]e the market\b|\bmarket (stats|overview)\b|"
            r"\bwhat(?:'s| is| are)? (?:selling|sells|trending|hot)\b|\b(?:best|top)[- ]?sellers?\b",
            re.I,
        ),
        "market_analysis",
    ),
    (
        re.compile(
            r"\bdashboard\b|\b(?:is|are) (?:my|our) (?:\w+ )?(?:models?|listings?) "
            r"(?:selling|doing)\b",
            re.I,
        ),
        "dashboard",
    ),
    # what was bought already: "what did I buy so far", "which models have I purchased"
    (
        re.compile(r"\b(?:what|which \w+) (?:did|have) (?:i|we) (?:buy|bought|purchased?)\b", re.I),
        "dashboard",
    ),
    (
        re.compile(
            r"\binsights?\b|\bwhere do (my |the )?(uploads?|journeys?|models?|steps?) "
            r"(\w+ )?fail|\bslowest steps?\b|\bfailure (rate|points?)\b|\bsuccess rates?\b"
            r"|\bbottlenecks?\b",
            re.I,
        ),
        "insights",
    ),
    (
        re.compile(
            r"\b(check )?status\b|\bwhere (are|am) (we|i)\b|\bprogress\b|\bhow'?s it going\b", re.I
        ),
        "status",
    ),
    # after a bulk upload: "list them", "list all", "list these models"
    (
        re.compile(
            r"^\s*(please\s+)?list (them|all|these|those|both|everything)( of them)?"
            r"(?!\s+(models|listings|marketplace)\b)|^\s*(please\s+)?list (these|those) models\b",
            re.I,
        ),
        "list",
    ),
    (re.compile(r"\b(upload|publish|store)\b", re.I), "upload"),
    (re.compile(r"\b(buy|purchase)\b", re.I), "purchase"),
    (re.compile(r"\bdownload\b", re.I), "download"),
    (
        re.compile(
            r"\b(browse|search|find|show|list) (the )?([\w-]+ )?(models|listings|marketplace)\b"
            r"|^\s*browse\b",
            re.I,
        ),
        "browse",
    ),
    (
        re.compile(
            r"\b(set|change|make)\b.*\bprice\b|\bprice\b.*\d|\b(make|set) (it|them)\b.*\d",
            re.I,
        ),
        "set_price",
    ),
    (re.compile(r"^\s*(undo|go back|take (that|it) back|revert)\b", re.I), "undo"),
    (
        re.compile(
            r"\b(show|see) (me )?(the |my )?(journey )?history\b|^\s*history\s*$"
            r"|\bwhat (have we|has happened|happened) so far\b",
            re.I,
        ),
        "history",
    ),
    (re.compile(r"\blist (it|my model|the model)\b|\bcreate (the )?listing\b", re.I), "list"),
    (re.compile(r"^\s*(retry|resume|try again|continue)\b", re.I), "retry"),
    (
        re.compile(
            r"^\s*(ok,? |fine,? )?(just )?(wait|keep waiting|wait (a bit )?longer|let it (run|finish)"
            r"|i('ll| will) wait|give it (some )?more time|leave it running)\s*[.!]*\s*$",
            re.I,
        ),
        "wait",
    ),
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
    # ("wal" is the token, whole: "walk me through it" is no question of cost)
    (re.compile(r"\b(?:cost\w*|wal|frost|epochs?|pay\w*|paid|spend\w*)\b", re.I), "cost"),
    (re.compile(r"\b(list|listing|marketplace|sell)\w*", re.I), "marketplace"),
    (re.compile(r"\b(format|safetensors|onnx|gguf|pickle|convert)\w*", re.I), "formats"),
    (re.compile(r"\b(sui|wallet|address|key)\b", re.I), "wallet"),
)


def parse_price_mist(text: str) -> int | None:
    """'2.5 SUI' -> 2_500_000_000; '1500 mist' -> 1500; exact decimal arithmetic, no floats."""
    m = _PRICE.search(text)
    if not m:
        return None
    if m.start() > 0 and not (text[m.start() - 1].isspace() or text[m.start() - 1] in "(\"':=~$"):
        return None  # part of "-3", "1e30", "1,000" or "2.5.3": not an amount on its own
    try:
        amount = Decimal(m.group(1))
    except InvalidOperation:
        return None
    mist = amount * MIST_PER_SUI if m.group(2).lower() == "sui" else amount
    if mist != mist.to_integral_value() or mist > U64_MAX:
        return None
    return int(mist)


def extract_paths(text: str) -> list[str]:
    """Paths mentioned in a message (quoted, ./relative, /absolute, or name.ext)."""
    out = []
    for m in _PATH.finditer(text):
        raw = next(g for g in m.groups() if g)
        if raw.startswith("0x") or raw.startswith("http"):
            continue
        out.append(_unbracketed(raw.rstrip(".?!")))
    return out


def _unbracketed(raw: str) -> str:
    """'(exports/model.pkl)' -> 'exports/model.pkl'; 'model (1).onnx' keeps its brackets."""
    for opening, closing in ("()", "[]", "{}", "<>"):
        if raw.startswith(opening) and closing not in raw[:-1]:
            raw = raw[1:]
        if raw.endswith(closing) and opening not in raw:
            raw = raw[:-1]
    return raw.rstrip(".?!,;:")


_UPLOAD_KINDS = ("upload", "quick_upload", "bulk_upload")


class RuleInterpreter:
    """Deterministic text -> ``Intent``; never raises on any input."""

    name = "rules"

    def interpret(self, text: str, *, at_gate: bool = False, gate: str | None = None) -> Intent:
        """Interpret one message. Only a plain yes approves (see ``consent``); ``gate``
        names the gate waiting, whose own action words ("list it") approve it. A long
        message is read by its first ``READ_CHARS`` characters, a description it sets whole."""
        whole, text = text, head(text)
        stripped = text.strip()
        if stripped.startswith("/"):
            stripped = stripped[1:]
        edit = parse_listing_edit(stripped)
        if edit is not None:
            return intent("edit_listing", text, **with_whole_description(edit, whole))
        if detail := _LISTING_DETAIL.match(stripped):
            ref = next(g for g in detail.groups() if g).strip(" .!?\"'")
            return intent("browse", text, model_ref=ref)
        price = parse_price_mist(stripped)
        if price is None and _PRICE_ATTEMPT.search(stripped):
            return intent("help", text, topic="price_format")
        # outside a gate "list it" is a request, not an approval
        consent = read_consent(stripped, gate if gate else (None if at_gate else ""))
        if consent == "approve" and price is None:
            return intent("approve", text)
        if (
            consent == "decline"
            and price is None
            and (gate or at_gate or not _DELIST.search(stripped))
        ):
            return intent("decline", text)  # (no gate waits: "…, I've changed my mind" delists)
        kind: IntentKind = "unknown"
        for pattern, k in _RULES:
            if pattern.search(stripped):
                kind = k
                break
        self_desc: Expertise | None = None
        if _IN_BETWEEN.search(stripped):  # "not a total beginner but no expert either"
            self_desc = "intermediate"
        elif _BEGINNER.search(stripped):
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
            paths = extract_paths(stripped)
            slots["paths"] = paths or None
            epochs = _EPOCHS.search(stripped)
            slots["epochs"] = int(epochs.group(1)) if epochs else None
            if len(paths) > 1 or any(set(p) & set("*?[") for p in paths) or _BULK.search(stripped):
                kind = "bulk_upload"
        if kind in ("set_price", "browse", *_UPLOAD_KINDS) and price is not None:
            slots["price_mist"] = price
        if kind == "set_price":  # "price tiny.onnx 3 SUI": one model of a bulk listing
            slots["paths"] = extract_paths(stripped) or None
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
                rest = re.sub(r"\s+(?:one|model)$", "", rest, flags=re.I)  # "the whisper one"
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
            slots.update(parse_browse_filters(q))
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
