"""Entities in free words: prices (digits, words, relative), expertise, modes (titles and
tags: ``agent.understanding.listing_text``; files that exist: ``agent.understanding.files``). Each extractor returns None when the
words do not give the value: nothing is invented.

Example::

    >>> price_in_words("two and a half SUI")
    2500000000
    >>> relative_price("10% cheaper", 2_000_000_000)
    1800000000

The price extractors share the number words and patterns at the top.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from agent.understanding.rules import MIST_PER_SUI, U64_MAX, parse_price_mist
from agent.understanding.spelled_numbers import figures_for_words
from flows.intents import Expertise, Mode

_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "a": 1,
    "an": 1,
}
_FRACTIONS = {"half": Decimal("0.5"), "quarter": Decimal("0.25")}
_WORD_PRICE = re.compile(
    r"\b(?P<n>[a-z]+)(?:\s+and\s+(?:a\s+)?(?P<f>half|quarter))?\s+(?P<unit>sui|mist)\b", re.I
)
_HALF_ONLY = re.compile(r"\bhalf\s+(?:a\s+)?sui\b", re.I)
# a bare amount: "0.8", "like 0.8", "for 3.25", "3,5" (a decimal comma, as in much of Europe)
_BARE = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d{1,9})?)(?![\w.,%]|\.\d)")
_SUI_SUFFIX = re.compile(r"(?<![\w.])(\d+(?:[.,]\d{1,9})?)\s*(sui|mist)\b", re.I)
# "10%", "10 percent", "10 per cent", "10 pct", "10 pc", and in the languages prices are read in
_PERCENT_WORD = (
    r"(?:%|(?:percent|per\s*cent|pct|pc|prozent|por\s*ciento|pour\s*cent|per\s*cento|"
    r"por\s*cento|persen|procent)\b)"
)
_PERCENT = re.compile(rf"(?<!\d)(\d+(?:\.\d+)?)\s*{_PERCENT_WORD}", re.I)
_CHEAPER = re.compile(
    r"\b(cheaper|lower|less|reduce|drop|cut|decrease|discount|down|off|bajar|baisse|günstiger|billiger|kam)\b",
    re.I,
)
_DEARER = re.compile(
    r"\b(more expensive|pricier|higher|raise|increase|more|up|bump|subir|augmente|teurer|zyada)\b",
    re.I,
)
_UNIT = re.compile(r"\b(sui|mist)\b", re.I)
_BY_AMOUNT = re.compile(
    r"\b(?:by|knock|take|add|plus)\s+(?:off\s+)?(?:\d+(?:[.,]\d+)?|half|a|an|one|two|three)(?:\s+a)?\s*"
    rf"(?:sui|mist)?(?:\s+off)?\b(?!\s*{_PERCENT_WORD})",
    re.I,
)
_DOUBLE = re.compile(r"\b(double|twice)\b", re.I)
_TRIPLE = re.compile(r"\b(triple|three times)\b", re.I)
_HALVE = re.compile(
    r"\b(halve|half the price|half price|half (?:that|it|of (?:that|it|the price)|as much)|"
    r"in half|(?:make|cut|set|drop|bring)\s+(?:it|that|the price)\s+(?:to\s+|by\s+)?half|"
    r"(?:go|do)\s+half)\b(?!\s+(?:a\s+)?(?:sui|mist))",
    re.I,
)


def _mist(amount: Decimal, unit: str = "sui") -> int | None:
    mist = amount * MIST_PER_SUI if unit.lower() == "sui" else amount
    if mist < 0 or mist != mist.to_integral_value() or mist > U64_MAX:
        return None
    return int(mist)


_SCALED = re.compile(
    r"(?<![\w.,])(\d+(?:[.,]\d{1,9})?)\s*(thousand|million|billion|k|m|mn|bn)\s*(sui|mist)\b", re.I
)
_SCALE = {"thousand": 10**3, "k": 10**3, "million": 10**6, "m": 10**6, "mn": 10**6}
_SCALE |= {"billion": 10**9, "bn": 10**9}


# a price as a command line gives it: "--price 2", "--price=2.5", "-p 3 sui"
_FLAG_PRICE = re.compile(
    r"(?<![\w-])--?(?:price|p)(?:=|\s+)(\d+(?:[.,]\d+)?)(?:\s*(sui|mist)\b)?", re.I
)


def flags_as_words(text: str) -> str:
    """A price given as a command-line flag said in words: 'list --price 2.5' -> 'list at
    2.5 SUI' (SUI unless MIST is said)."""
    return _FLAG_PRICE.sub(lambda m: f"at {m.group(1)} {m.group(2) or 'SUI'}", text)


def price_in_words(text: str) -> int | None:
    """A price in digits ('2.5 SUI', '2,5 sui', '750 million MIST') or words ('two and a
    half SUI'), in MIST."""
    text = figures_for_words(text)
    if m := _FLAG_PRICE.search(text):  # "upload x.onnx --price 2", "list --price=2.5"
        try:
            return _mist(Decimal(m.group(1).replace(",", ".")), m.group(2) or "sui")
        except InvalidOperation:
            return None
    if m := _SCALED.search(text):
        try:
            amount = Decimal(m.group(1).replace(",", ".")) * _SCALE[m.group(2).lower()]
        except InvalidOperation:
            return None
        return _mist(amount, m.group(3))
    found = parse_price_mist(text)
    if found is not None:
        return found
    if m := _SUI_SUFFIX.search(text):
        try:
            return _mist(Decimal(m.group(1).replace(",", ".")), m.group(2))
        except InvalidOperation:
            return None
    m = _WORD_PRICE.search(text)
    if _HALF_ONLY.search(text) and not (m and m.group("f")):
        return _mist(Decimal("0.5"))
    if m:
        base = _NUMBER_WORDS.get(m.group("n").lower())
        if base is not None:
            amount = Decimal(base) + (_FRACTIONS[m.group("f").lower()] if m.group("f") else 0)
            return _mist(amount, m.group("unit"))
    return None


_AND_A_FRACTION = re.compile(r"\b(?P<n>\d+|[a-z]+)\s+and\s+(?:a\s+)?(?P<f>half|quarter)\b", re.I)


def bare_amount(text: str) -> int | None:
    """A number alone taken as SUI ('like 0.8', 'for 3.25', '1 and a half'): only where a
    price is expected."""
    text = figures_for_words(text)
    if _PERCENT.search(text):
        return None
    if m := _AND_A_FRACTION.search(text):
        n = m.group("n")
        base = int(n) if n.isdigit() else _NUMBER_WORDS.get(n.lower())
        if base is not None:
            return _mist(Decimal(base) + _FRACTIONS[m.group("f").lower()])
    found = list(_BARE.finditer(text))
    if not found:
        return None
    try:  # "2 feels steep, do 1.2": the last figure is the one asked for
        return _mist(Decimal(found[-1].group(1).replace(",", ".")))
    except InvalidOperation:
        return None


_FIGURE = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d{1,9})?)(?![\d%])(?:\s*(sui|mist)\b)?", re.I)
_CORRECTION = re.compile(
    r"\b(too (?:low|high|much|little|cheap|expensive|steep)|instead|rather|do|make it|"
    r"how about|what about|go (?:with|for)|try|change (?:it )?to|maybe|perhaps|say|"
    r"(?:seems?|is|feels?|looks?) (?:a bit |a little |quite |rather |way )?(?:high|low|steep|much|"
    r"cheap|expensive|pricey))\b",
    re.I,
)


def corrected_price(text: str) -> int | None:
    """'2 sui is too low, do 4' -> 4 SUI: of two figures, the one the words ask for instead."""
    text = figures_for_words(text)
    if _PERCENT.search(text) or _SCALED.search(text):
        return None
    figures = list(_FIGURE.finditer(text))
    # the words between the last two figures ask for the last: "2 is too low, do 4"
    if len(figures) < 2 or not _CORRECTION.search(text, figures[-2].end()):
        return None
    last = figures[-1]
    unit = last.group(2) or next((f.group(2) for f in figures if f.group(2)), "sui")
    try:
        return _mist(Decimal(last.group(1).replace(",", ".")), unit)
    except InvalidOperation:
        return None


def relative_price(text: str, current_mist: int | None) -> int | None:
    """'10% cheaper', 'double it', '20 percent more' applied to the current price."""
    text = figures_for_words(text)
    if current_mist is None:
        return None
    current = Decimal(current_mist)
    if m := _BY_AMOUNT.search(text):  # "knock half a sui off", "up by 1 sui", "cheaper by 0.3"
        delta = price_in_words(m.group(0)) if _UNIT.search(m.group(0)) else bare_amount(m.group(0))
        if delta is not None:
            down = bool(_CHEAPER.search(text) or re.search(r"\boff\b", text, re.I))
            value = current - delta if down else current + delta
            return _mist(value, "mist") if value > 0 else None
    if _DOUBLE.search(text):
        return _mist(current * 2, "mist")
    if _TRIPLE.search(text):
        return _mist(current * 3, "mist")
    if _HALVE.search(text):
        return _mist(current / 2, "mist")
    pct = _PERCENT.search(text)
    if pct is None:
        return None
    share = Decimal(pct.group(1)) / 100
    if _CHEAPER.search(text):
        value = current * (1 - share)
    elif _DEARER.search(text):
        value = current * (1 + share)
    else:
        return None
    return _mist(value.quantize(Decimal(1)), "mist")


def wants_cheaper_or_dearer(text: str) -> bool:
    """'a bit cheaper', 'raise it': a change of price without a figure."""
    return bool(_CHEAPER.search(text) or _DEARER.search(text))


# -- who the user is --------------------------------------------------------------

_INTERMEDIATE = re.compile(
    r"\b(intermediate|in between|in the middle|somewhere between|some experience|"
    r"not (?:a )?(?:total |complete )?(?:beginner|newbie|noob)|not an? expert|no expert|"
    r"a bit of experience|know the basics|done (?:it|this) (?:once|a couple|a few)|middle)\b",
    re.I,
)
_EXPERT_WORDS = re.compile(
    r"\b(expert|experienced|pro\b|professional|veteran|power user|advanced|for years|"
    r"years of experience|(?:don'?t|no) need to explain|skip the basics|"
    r"(?:loads|lots|tons|hundreds|dozens) of times|many times|done this (?:a lot|before|loads)|"
    r"know what i'?m doing|skip the (?:explanations|basics|hand-?holding)|seasoned|"
    r"experto|experta|expert[ea]?|experte|esperto|esperta|profissional|profesional|"
    r"berpengalaman|uzman|dab hand|old hand|been doing this (?:for )?(?:ages|years))",
    re.I,
)
_NEW_TO_PART = re.compile(
    r"\b(?:but|though)\b.*\b(?:new to me|kinda new|new to|nothing about|not much about|"
    r"no idea about|clueless about|never (?:used|touched))\b",
    re.I,
)
_KNOW_SOME = re.compile(r"\b(?:know (?:my way around|a bit|some)|familiar with)\b", re.I)
_BEGINNER_WORDS = re.compile(
    r"\b(beginner|new (?:to|at|here)|newbie|noob|first time|never (?:done|used|tried|touched)|"
    r"no idea|total novice|novice|just starting|explain everything|step by step|"
    r"principiante|débutant|debutant|débutante|anfänger|anfaenger|naya|iniciante|novato|novata|"
    r"novizio|pemula|acemi|yeni başlayan|początkujący|poczatkujacy|beginner|nieuw hier|"
    r"nunca (?:usé|use|usei|mexi|hice|fiz)|jamais (?:utilisé|fait)|noch nie|mai usato|"
    r"belum pernah|hiç kullanmadım)\b",
    re.I,
)


def expertise_in(text: str) -> Expertise | None:
    """The level a user describes in free words."""
    if _INTERMEDIATE.search(text):
        return "intermediate"
    if (_EXPERT_WORDS.search(text) or _KNOW_SOME.search(text)) and _NEW_TO_PART.search(text):
        return "intermediate"  # "I know my way around pytorch but sui is new to me"
    if _EXPERT_WORDS.search(text):
        return "expert"
    if _BEGINNER_WORDS.search(text):
        return "beginner"
    return None


_AUTO = re.compile(
    r"\b(auto(?:matic(?:ally)?)?|autopilot|without (?:asking|questions)|automatique|automático|"
    r"automatico|automatisch|otomatis|otomatik|automatyczny|"
    r"(?:stop|don'?t|no need to|quit) (?:asking|checking with) me|no (?:more )?confirmations?)\b",
    re.I,
)
_SUPERVISED = re.compile(
    r"\b(supervised|approve (?:every|each) (?:step|thing)|ask(?:ing)? me (?:first|before|every time)|"
    r"approve (?:things|it all|everything|each thing) myself|"
    r"check with me|confirm (?:everything|each step) (?:with me|myself)?|"
    r"confirm (?:every|each) (?:single )?(?:step|thing|action)|(?:every|each) (?:single )?step with me|"
    r"(?:ask|check with) me (?:before|at) (?:every|each) (?:single )?(?:step|action)|"
    # the same in the other languages modes are set in
    r"supervisad[oa]|supervis[ée]e?|überwacht|supervisionat[oa]|supervisionad[oa]|terawasi|"
    r"denetimli|nadzorowany|pregúntame antes|pregúntame primero|demande-moi avant|"
    r"frag mich (?:vorher|vor jedem|zuerst|erst)|chiedimi prima|pergunte-me antes|me pergunte antes|"
    r"tanya saya dulu|pehle mujhse pucho)\b",
    re.I,
)
_DEBUG = re.compile(r"\b(debug|step through|node by node|under the hood|breakpoints?)\b", re.I)


def mode_in(text: str) -> Mode | None:
    """The mode a user describes: 'do everything automatically' -> auto. Several named:
    the last ("it's on some automatic setting, put it back to asking me first" ->
    supervised)."""
    said: list[tuple[int, Mode]] = []
    kinds: tuple[tuple[re.Pattern[str], Mode], ...] = (
        (_DEBUG, "debug"),
        (_SUPERVISED, "supervised"),
        (_AUTO, "auto"),
    )
    for pattern, mode in kinds:
        said.extend((m.start(), mode) for m in pattern.finditer(text))
    return max(said)[1] if said else None


_SKIP_CAPITAL = frozenset(
    [
        "i",
        "i'm",
        "i'll",
        "i'd",
        "i've",
        "can",
        "could",
        "please",
        "ok",
        "okay",
        "hey",
        "hi",
        "yes",
        "yeah",
        "sure",
        "actually",
        "sold",
        "how",
        "what",
        "where",
        "when",
        "why",
        "is",
        "are",
        "do",
        "does",
        "let's",
        "lets",
        "the",
        "a",
        "my",
    ]
)
_REF_TOKEN = re.compile(r"^(?:[A-Z][\w.+-]*|\w*\d\w*|v\d[\w.]*|[A-Z0-9-]{2,})$")


def title_ref(text: str) -> str | None:
    """A marketplace title named in a message: the longest run of Capitalised or numbered
    words ('I'll pay for Review Sentiment v2, add it' -> 'Review Sentiment v2')."""
    words = re.findall(r"[\w.+'-]+|[,;:!?]", text)
    best: list[str] = []
    run: list[str] = []
    for w in [*words, ","]:
        starts = bool(run) or (w[:1].isupper() and w.lower() not in _SKIP_CAPITAL)
        if starts and _REF_TOKEN.match(w) and w.lower() not in _SKIP_CAPITAL:
            run.append(w)
            continue
        if len(run) > len(best):
            best = run
        run = []
    if not best:
        return None
    return " ".join(best).strip(".")


_QUICK = re.compile(
    r"\b(quick(?:ly)?|fast|express|asap|right away|straight away|"
    r"skip (?:all )?(?:the |your )?questions|speed ?run|tl;?dr|no (?:hand[- ]?holding|chatter|"
    r"questions|explanations?)|skip the (?:chatter|explanations?|talk)|minimal (?:talking|chatter)|"
    r"don'?t (?:walk|explain|talk) me|without (?:the )?(?:chatter|explanations?)|"
    r"sin explicaciones|rápido|schnell|vite|as little (?:talking|chat(?:ter)?|explaining) as possible|"
    r"no (?:essays?|lectures?|fluff|small talk|walkthrough)|keep (?:it|the talk) (?:short|brief)|"
    r"(?:i'?ve|i have) done this (?:before|a lot|loads|many times)|just (?:do|ship) it|"
    r"jaldi|explanation nahi|bina (?:explanation|samjhaye)|sin rodeos|ohne erkl[äa]rung(?:en)?|"
    r"sans (?:explications?|blabla))\b",
    re.I,
)


def wants_quick(text: str) -> bool:
    """'just ship it, no hand-holding': an upload with fewer explanations."""
    return bool(_QUICK.search(text))


_SAME_PRICE = re.compile(
    r"\bsame (?:price|amount)(?: as)?(?: (?:last time|before|the last one|my last(?: one| listing)?|"
    r"previously|the previous one))?\b|\b(?:price|charge) (?:it )?like (?:last time|before)\b",
    re.I,
)


def mentions_last_price(text: str) -> bool:
    """'the same price as last time': the words refer to the user's last listing."""
    return bool(_SAME_PRICE.search(text))


def same_price_as_last(text: str, last_mist: int | None) -> int | None:
    """'the same price as last time' -> the price of the user's last listing."""
    return last_mist if last_mist is not None and mentions_last_price(text) else None
