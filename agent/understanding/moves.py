"""Short replies read in context: a move of the tour ("ok, next one please", "go back a
page"), a change of detail ("shorter please"), and the answers to a checkpoint question
that are not answers ("skip", "skip all", "same as before").

Example::

    >>> tour_move("alright, next one please")
    'next'
"""

from __future__ import annotations

import re
from typing import Literal

_TOUR_NEXT = re.compile(
    r"^(?:next|next (?:step|one|part|bit|page|thing)|continue|go on|ok(?:ay)?|yes|yep|sure|more|"
    r"tell me more|keep going|go ahead|and then|what'?s next|then what|carry on|got it|"
    r"right|cool|nice|great|👍|n|proceed|move on|onwards?|show me more|makes sense|"
    r"weiter|siguiente|suivant|aage|continua|continuar|continue(?: (?:on|please))?)$"
)
_TOUR_BACK = re.compile(
    r"^(?:back|go back|previous|prev|previous (?:step|one|part|bit|page)|back (?:one|a step|please)|"
    r"the one before|step back|b|go back (?:one|a step|a bit|a page)|back up|one back|"
    r"the (?:previous|last) (?:step|one|part|bit|page)(?: again)?|zur[üu]ck|atr[áa]s|retour|peeche)$"
)
_TOUR_SKIP = re.compile(
    r"^(?:skip|skip (?:it|this|that|the (?:rest|tour|intro)|the rest of the tour)|stop|"
    r"skip (?:this|that|the) (?:part|step|bit|section|one|page)|skip ahead|"
    r"enough|no|no thanks|nah|done|end (?:the )?tour|exit|quit the tour|i'?m good|"
    r"that'?s enough|let me (?:just )?start|let'?s (?:just )?start)$"
)
# words around a tour move that do not change it: "ok, continue", "next one please"
_TOUR_LEAD = re.compile(
    r"^(?:(?:ok(?:ay)?|alright|all right|right|sure|cool|so|and|yes|yeah|fine|great)\s+)+"
)
_TOUR_TAIL = re.compile(r"(?:\s+(?:please|pls|thanks|thank you|then|now|again))+$")


def _plain(text: str) -> str:
    text = text.replace("\u2019", "'").lower()
    return " ".join(re.sub(r"[^\w\s'👍?]", " ", text).split()).strip(" ?")


def tour_move(text: str) -> Literal["next", "back", "skip"] | None:
    """What a short reply to a tour step asks: 'next', 'back' or 'skip' (None: something else)."""
    said = _plain(text)
    for form in (said, _TOUR_TAIL.sub("", _TOUR_LEAD.sub("", said)).strip()):
        if _TOUR_NEXT.match(form):
            return "next"
        if _TOUR_BACK.match(form):
            return "back"
        if _TOUR_SKIP.match(form):
            return "skip"
    return None


# the same moves said in more words, looked for in a short reply to a tour step
_SAID_AGAIN = re.compile(r"\b(?:again|repeat|say that|one more time|once more)\b")
_SAID_BACK = re.compile(
    r"\b(?:back|previous|prev|before that|one before|zur[üu]ck|atr[áa]s|retour|peeche|"
    r"indietro|anterior|sebelumnya|geri|terug|wstecz|modotte|modoru)\b"
)
_SAID_SKIP = re.compile(
    r"\b(?:skip|pass|enough|stop|done|end|quit|exit|already know|know (?:this|that)|salta|"
    r"saltar|überspring\w*|passer|lewati|chhodo|geç|pomiń|overslaan)\b"
)
_SAID_NEXT = re.compile(
    r"\b(?:next|continue|go on|keep going|carry on|proceed|onwards?|after (?:this|that)|"
    r"got it|understood|makes sense|weiter|siguiente|suivant|aage|continua|continuar|lanjut|"
    r"avanti|pr[óo]ximo|seguinte|sonraki|devam|dalej|volgende|verder|tiep|tiếp|tsugi|"
    r"continua de onde|weitermachen)\b"
)
_SAID_WORDS = 8  # longer replies to a tour step are read as anything else is
_SAID_NOT = re.compile(r"\b(?:don'?t|do not|not|no|never|nah|nope|forget|drop|cancel)\b")


def tour_move_said(text: str) -> Literal["next", "back", "skip", "resume"] | None:
    """A move of the tour in a short reply that says more than the move: "got it, what's
    after this" (next), "huh? say that part again" (resume: the step again), "I know this
    bit already, skip" (skip), "avanti"; None: no move said, or too long to tell."""
    said = _plain(text)
    if not said or len(said.split()) > _SAID_WORDS:
        return None
    if _SAID_NOT.search(said):  # "I don't want to continue": no move on, at most out
        return "skip" if _SAID_SKIP.search(said) else None
    if _SAID_BACK.search(said):
        return "back"
    if _SAID_AGAIN.search(said):
        return "resume"
    if _SAID_NEXT.search(said):
        return "next"  # "skip to the next part": on to the next step, not out of the tour
    if _SAID_SKIP.search(said):
        return "skip"
    return None


def tour_move_in(text: str) -> Literal["next", "back", "skip", "resume"]:
    """The move a message about the tour asks for ('resume': come back to it)."""
    said = _plain(text)
    if re.search(r"\b(back|previous|before that)\b", said):
        return "back"
    if re.search(r"\b(skip|stop|end|enough|no more|done with)\b", said):
        return "skip"
    if re.search(r"\b(next|continue|go on|keep going|carry on|more)\b", said) and not re.search(
        r"\b(resume|again|where (?:i|we) (?:left|stopped)|back to)\b", said
    ):
        return "next"
    return "resume"


_MORE = re.compile(
    r"\b(more (?:detail|details|info|explanation|context)|in detail|explain (?:more|better|"
    r"it (?:more|again))|(?<!no )(?<!any )longer|elaborate|verbose|slower|go deeper|step by step|more words|"
    r"in full|full (?:detail|explanations?|version)|the long version)\b"
)
_LESS = re.compile(
    r"\b(short(?:er)?|less (?:detail|text|words|chatter|explanation|waffle|fluff|talk(?:ing)?|rambling)|brief(?:er)?|concise|"
    r"terse|tl;?dr|too (?:long|much text|wordy|verbose)|just the (?:facts|essentials)|"
    r"keep it short|fewer words|to the point|(?:so|less|very) (?:verbose|wordy|long-winded)|"
    r"stop rambling|less rambling|no longer than|"
    # shorter, and too much text, in the other languages people ask in
    r"m[áa]s cort[oa]s?|mais curt[oa]s?|plus courte?s?|k[üu]rzer|pi[uù] breve|daha k[ıi]sa|k[ıi]sa yaz|"
    r"lebih pendek|chhota|kr[óo]cej|korter|muito texto|demasiado texto|trop de texte|"
    r"zu viel text|troppo testo|terlalu panjang)\b"
)


# a direction refused: "in full, not the short version", "short answers instead of long ones"
_NOT_THIS = re.compile(r"\b(?:not|no|instead of|rather than)\s+(?:the\s+|a\s+|so\s+)?$")


def detail_direction(text: str) -> Literal["more", "less"] | None:
    """'more detail' -> 'more'; 'shorter please' -> 'less'. Both said: the one asked for
    last ("your answers are a bit short, give me more detail" -> 'more'); one refused asks
    for the other ("in full, not the short version" -> 'more')."""
    said = _plain(text)
    less = [m.span() for m in _LESS.finditer(said)]
    # "so verbose" asks for less: a "verbose" inside it is not a wish for more
    more = [m.span() for m in _MORE.finditer(said) if not any(a <= m.start() < b for a, b in less)]
    said_last = sorted([(a, "less") for a, _ in less] + [(a, "more") for a, _ in more])
    if not said_last:
        return None
    start, direction = said_last[-1]
    complaint = said.startswith(("so ", "very ", "too ", "less "), start)  # "not so verbose"
    if _NOT_THIS.search(said, 0, start) and not complaint:
        return "more" if direction == "less" else "less"
    return "less" if direction == "less" else "more"


_SKIP_ALL = re.compile(
    r"^(?:skip (?:them |these |the )?(?:all|rest|questions)|skip all (?:of )?(?:them|the questions)|"
    r"skip (?:all )?(?:of )?(?:the )?(?:remaining|rest)(?: ones| questions| of them| of the questions)?|"
    r"skip the (?:rest|questions)|no more questions|stop asking|just draft it|"
    r"skip all of this|i'?ll edit (?:it|them) (?:later|myself)|"
    r"skip (?:all )?(?:of )?(?:these|those|your|the) questions|skip (?:all these|everything)|"
    r"skip (?:all )?(?:of )?(?:the )?(?:rest|remaining)(?: ones)? of (?:them|these|those|it|the questions)|"
    r"(?:don'?t|do not) ask (?:me )?(?:any ?more|more)(?: (?:of these|of them|questions))?|"
    r"no more (?:of these|of them|questions(?: please)?)|enough (?:questions|of these))$"
)
_SKIP_WORDS = (
    r"(?:skip|pass|next|no idea|i don'?t know|don'?t know|dunno|(?:i'?m |im |i am )?not sure|none|"
    r"idk|no clue|not a clue|beats me|pass on (?:it|this|that)(?: one)?|"
    r"n ?a|na|no|"
    r"nope|skip (?:it|this|that)(?: one)?|rather not say|i'?d rather not say|no comment|-)"
)
# one or several of them: "dunno, pass"
_SKIP_ONE = re.compile(rf"^{_SKIP_WORDS}(?:\s*[,.]?\s*{_SKIP_WORDS})*$")
_KEEP = re.compile(
    r"^(?:same|the same|same as (?:last time|before)|as before|keep (?:it|that)|"
    r"same again|like last time|unchanged|(?:use |give )?(?:the )?same (?:answer|one|thing)"
    r"(?: as (?:last time|before))?|(?:use |go with )?what i (?:said|answered|put) "
    r"(?:last time|before)|(?:use |go with )?(?:the|my) (?:answer|one) from (?:last time|before))$"
)
# the words around a reply that do not change it: "can we skip all the remaining ones?",
# "same as last time, mate", "skip this one, I'm not sure what to put"
_REPLY_LEAD = re.compile(
    r"^(?:(?:ok|okay|so|just|please|hmm+|oh|well|um+|er|can we|could we|can you|could you|"
    r"let's|lets|i'd like to|i want to|we can|you can|i'll)\s+)+"
)
_REPLY_TAIL = re.compile(
    r"(?:[,.]?\s+(?:please|pls|mate|thanks|thank you|again|too|for now|for (?:this|that) one|"
    r"tbh|honestly|lol|(?:i'?m |im |i am )?in a (?:hurry|rush)|(?:i'?m |im |i am )?busy|no time|"
    r"(?:i'?m|im|i am) not sure(?: what to (?:put|say|answer))?|no idea|(?:i )?don'?t know|dunno))+$"
)


def answer_to_question(text: str) -> Literal["skip", "skip_all", "keep"] | None:
    """A reply to a checkpoint question that is not itself an answer: skip it, skip all,
    or keep the answer given last time. None: the words are the answer (or an aside)."""
    plain = _plain(text)
    # the reply, else its last clause after a reason ("it's my second model today, so same
    # answer as last time")
    for said in (plain, _AFTER_REASON.split(plain)[-1]):
        said = _REPLY_TAIL.sub("", _REPLY_LEAD.sub("", said)).strip() or said
        if _SKIP_ALL.match(said):
            return "skip_all"
        if _SKIP_ONE.match(said):
            return "skip"
        if _KEEP.match(said):
            return "keep"
    return None


_AFTER_REASON = re.compile(r"\s(?:so|therefore|hence|then)\s")
