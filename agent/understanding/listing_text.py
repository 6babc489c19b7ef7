"""The words of a listing said in free words: its title ("call it Face Finder", "use X as
the title"), its tags ("add the tags vision and edge", "tags: nlp, no: nlp, chatbot"), tags
taken off. Each extractor returns None when the words do not give the value.

Example::

    >>> title_in("call it Sentiment Classifier Tiny and add tag nlp")
    'Sentiment Classifier Tiny'
    >>> tags_in("add the tag spam and also the tag email")
    ['spam', 'email']
"""

from __future__ import annotations

import re

# words in quotes ("the listing 'OCR Pro'"): a title as written; an apostrophe inside a word
# ("it's") opens none
QUOTED = re.compile(r"[\"“‘](.+?)[\"”’]|(?<!\w)'(.+?)'(?!\w)")
_TAGS_END = re.compile(r"\s+(?:to|on|for|from)\s+(?:my|the|it|this|that|its)\b", re.I)


# words said around tags that are no tags: "add the tag nlp and also the tag audio"
_TAG_FILLER = frozenset({
    "and", "tag", "tags", "too", "also", "first", "as", "well", "please", "pls", "then", "now",
    "it", "to", "the", "for", "called", "named",
})  # fmt: skip
# the list said again: "speech, audio, no: speech, emotion, audio", "agri, wait, make it agri"
_TAGS_AGAIN = re.compile(
    r"(?:^|[,;:.]|\s)\s*(?:no|wait|sorry|i mean|er|actually|make (?:it|that|them))(?![\w-])\s*[:,]?",
    re.I,
)


# where the next edit of the same message starts: "remove tag resnet, add food101"
_NEXT_EDIT = re.compile(
    r"\s*(?:[,;]\s*(?:and\s+|then\s+)?|\s(?:and|then)\s+)"
    r"(?=(?:add|remove|rm|drop|delete|plus|call|rename|set|make|change|price)\b)",
    re.I,
)


def tag_words(text: str) -> list[str]:
    """The tags in ``text`` as said ('nlp and audio'); said again, the last list ('a, no: b')."""
    text = _TAGS_END.split(text, maxsplit=1)[0]  # "… to my yolo listing": not a tag
    text = _NEXT_EDIT.split(text, maxsplit=1)[0]  # "resnet, add food101": the next edit
    text = _TAGS_AGAIN.split(text)[-1]
    tags = [t.strip(" .\"'#:") for t in re.split(r"[,\s]+(?:and\s+)?", text)]
    return [t for t in tags if t and t.lower() not in _TAG_FILLER]


# where a title ends: before another edit, or at the end of the message (a closing
# "instead", "please" or question mark is not part of it)
_TITLE_END = (
    r"(?=\s+and\s+(?:add|tag|set|make|remove)\b|,?\s+(?:rather than|instead of)\b|"
    r",?\s*(?:instead|please|pls|thanks|thank you)?\s*[.!?]?\s*$)"
)
# a title's words: quotes end it, an apostrophe inside a word does not ("Margaret's Sorter")
_WORDS = r"(?:[^\"'\n]|(?<=\w)'(?=\w))+?"
_OBJECT = r"(?:it|the\s+model|the\s+listing|this)"
_TITLE = re.compile(
    # "title" and "name" are nouns too: as verbs they take an object or a colon
    rf"\b(?:(?:call|rename|retitle)\b\s*{_OBJECT}?|(?:name|title)\s+{_OBJECT}|(?:name|title)(?=\s*:)|"
    r"(?:make|set)\s+the\s+(?:title|name)|(?:like|want|need)\s+it\s+(?:to\s+be\s+)?called|"
    r"(?:it\s+)?should\s+be\s+called|\bbe\s+(?:re)?(?:titled|entitled|named|called))"
    rf"\s*(?:to|as|:)?\s*[\"']?(?P<title>{_WORDS})[\"']?" + _TITLE_END,
    re.I,
)
_ADD_TAG = re.compile(
    r"\b(?:add|with|plus|put|include|attach|apply)\s+(?:the\s+|a\s+|an\s+)?tags?\s*:?\s*"
    r"(?P<tags>[\w\s,#'\"-]+?)\s*(?:[.!?]|\s+(?:to|on|for)\s+(?:my|the|it|this|that)\b.*|$)",
    re.I,
)
# "put 'fast' in the tags", "stick edge into the tags too"
_INTO_TAGS = re.compile(
    r"\b(?:put|stick|throw|pop|include)\s+[\"']?(?P<tags>[\w\s,#'\"-]+?)[\"']?\s+"
    r"(?:in|into|among|to)\s+(?:the\s+)?tags\b",
    re.I,
)
_TAG_IT = re.compile(
    r"\b(?:tag|label)\s+it\s+(?:with\s+|as\s+)?(?P<tags>[\w\s,#'\"-]+?)\s*(?:[.!?]|$)", re.I
)


# "use Face Finder as the title", "go with X for the name"
_AS_TITLE = re.compile(
    r"\b(?:use|go with|have|pick|choose)\s+[\"']?(?P<title>[^\"'\n]+?)[\"']?\s+(?:as|for)\s+(?:the|its|a)\s+"
    r"(?:title|name)\b",
    re.I,
)
# "the title is wrong, it should be X": what it should be, not what is wrong with it
_TITLE_SHOULD = re.compile(
    r"\b(?:title|name)\b[^.?!]{0,40}?\b(?:should|must|needs? to|ought to)\s+(?:just\s+)?(?:be|say|read)\s+"
    rf"[\"']?(?P<title>{_WORDS})[\"']?" + _TITLE_END,
    re.I,
)
_TITLE_TO = re.compile(
    r"\b(?:title|name)\b.{0,40}?\b(?:to be|should be|must be|to|be|as|is)\s+"
    rf"[\"']?(?P<title>{_WORDS})[\"']?" + _TITLE_END,
    re.I,
)


# "call it" and "add the tag" in the other languages people write in
_TITLE_ELSEWHERE = re.compile(
    r"\b(?:ll[áa]malo|ll[áa]mala|n[óo]mbralo|ponle(?:\s+(?:de|como|el)\s+(?:nombre|t[íi]tulo))?|appelle[- ]l[ea]|nomme[- ]l[ea]|"
    r"nenn(?:e)? (?:es|ihn|sie)|chame(?:-o)?(?: de)?|chama(?:-o)? de|iska naam|naam rakho|"
    r"muda o t[íi]tulo (?:pra|para)|mude o t[íi]tulo (?:pra|para)|que se llame|que se chame|"
    r"cambia el t[íi]tulo a|change le titre (?:en|pour)|[äa]ndere den titel (?:zu|in)|"
    r"cambia il titolo in|ganti judul(?:nya)? (?:jadi|menjadi)|judulnya)\s+"
    r"[\"']?(?P<title>[^\"'\n]+?)[\"']?\s*[.!]?$",
    re.I,
)
_TAG_ELSEWHERE = re.compile(
    r"\b(?:ajoute[rz]?|rajoute[rz]?|añade|agrega|füg(?:e)?|adiciona|jodo|tambah(?:kan|in)?|"
    r"aggiungi)\s+(?:le |la |les |l'|el |la |"
    r"das |die |den |o |a |il |i |gli )?(?:tags?|étiquettes?|etiquetas?|hashtags?|etichett[ae])\s+(?P<tags>[\w\s,#-]+?)"
    r"(?:\s+hinzu)?\s*(?:[.!]|$)",
    re.I,
)


def title_in(text: str) -> str | None:
    """'call it Sentiment Classifier Tiny and add tag nlp' -> 'Sentiment Classifier Tiny'."""
    m = (
        _TITLE.search(text)
        or _AS_TITLE.search(text)
        or _TITLE_SHOULD.search(text)
        or _TITLE_TO.search(text)
        or _TITLE_ELSEWHERE.search(text)
    )
    if not m:
        return None
    title = m.group("title").strip(" .!:\"'")
    title = _THEN_WORD.sub("", title)  # "change the title to Weed Spotter Pro first"
    if not title or re.fullmatch(r"[\d.,\s]*(sui|mist)?", title, re.I) or _A_PRICE.search(title):
        return None  # "ponle un precio de 2.5 SUI" sets a price, not a title
    return title


# a last word in lower case that says when, not what: "… to Weed Spotter Pro first"
_THEN_WORD = re.compile(r"(?<=\S)\s+(?-i:first|then|now|too|also)$")


# the word for a price, in the languages a title is read in
_A_PRICE = re.compile(r"^\W*(?:(?:un|el|le|a|o|the)\s+)?(?:precio|prix|preis|preço|price)\b", re.I)


_ADD_AS_TAG = re.compile(
    r"\badd\s+(?:a\s+|an\s+|the\s+)?[\"']?(?P<tags>[\w\s,'\"-]+?)[\"']?\s+"
    r"(?:as\s+)?(?:a\s+|an\s+|the\s+)?(?:new\s+)?tags?\b",
    re.I,
)
_REMOVE_TAG = re.compile(
    r"\b(?:remove|rm|drop|delete|take\s+off|get\s+rid\s+of|take)\s+(?:the\s+)?(?:tag\s+)?"
    r"[\"']?(?P<tag>[\w-]+)[\"']?"
    r"(?:\s+tag)?(?:\s+off)?\b",
    re.I,
)
_SWAP_TAGS = re.compile(
    r"\b(?:(?:swap|replace|change|set)\s+(?:the\s+)?tags\s+(?:for|with|to)|"
    r"tags\b(?:[^.?!:]|\.(?=\S)){0,60}?\s(?:should|must|need to|ought to)\s+(?:just\s+|only\s+|exactly\s+)?be"
    r"(?:\s+(?:just|only|exactly))?\s*:?|(?:the\s+)?tags\s+(?:are|=)|"
    r"^\s*tags\s*:)\s+(?P<tags>[\w\s,:-]+)",
    re.I,
)


def _tag_list(raw: str) -> list[str] | None:
    return [t.lower() for t in tag_words(raw)] or None


def replaced_tags(text: str) -> list[str] | None:
    """'swap the tags for llm and quantized' -> ['llm', 'quantized']."""
    m = _SWAP_TAGS.search(text)
    return _tag_list(m.group("tags")) if m else None


def removed_tags(text: str) -> list[str] | None:
    """'remove the beta tag', 'take the tag old off' -> ['beta'] / ['old']."""
    if not re.search(r"\btags?\b", text, re.I):
        return None
    m = _REMOVE_TAG.search(text)
    if not m or m.group("tag").lower() in ("tag", "tags", "the"):
        return None
    return [m.group("tag").lower()]


# an edit after another that named the tags: "remove tag resnet, add food101"
_THEN_ADD = re.compile(
    r"^(?:add|plus|include)\s+(?:the\s+|a\s+)?(?:tags?\s+)?(?P<tags>[\w\s,#-]+?)\s*[.!]?$", re.I
)


def tags_in(text: str) -> list[str] | None:
    m = (
        _ADD_TAG.search(text)
        or _TAG_IT.search(text)
        or _ADD_AS_TAG.search(text)
        or _INTO_TAGS.search(text)
        or _TAG_ELSEWHERE.search(text)
    )
    if m is None and re.search(r"\btags?\b", text, re.I):
        clauses = _NEXT_EDIT.split(text)[1:]
        m = next((c for c in map(_THEN_ADD.match, clauses) if c is not None), None)
    return _tag_list(m.group("tags")) if m else None
