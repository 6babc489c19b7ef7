"""The default interpreter: dialogue context, consent, entities, the example-trained
classifier and the rules, with clarification when unsure. Offline, no network.

Order of reading (first certain answer wins), once words said aloud are written as meant
(``dictation``) and, with no gate waiting, command words typed one slip off (``spelling``):

1. slash commands and a plain yes/no at a gate (``consent``: only a plain yes approves);
2. what the agent just asked: a file after "which file?", a price or a title at the
   listing gate ("a bit cheaper, like 0.8", "call it X and add tag nlp");
3. the classifier's reading when it is confident, else the rules' when they match;
4. otherwise the two or three likeliest readings are offered as a choice.

Over 500 lines: the order of reading above and the filling of each kind's slots are
one decision, kept with the patterns they test.

Example::

    >>> u = Understanding(IntentClassifier.train())
    >>> u.read("refresh my stats", Dialogue()).intent["kind"]
    'dashboard'
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from agent.understanding.bounds import READ_CHARS, head
from agent.understanding.classifier import BackgroundClassifier, IntentClassifier
from agent.understanding.consent import (
    YES_WORDS,
    accepts_price,
    keeps_going,
    read_consent,
    without_shown_price,
)
from agent.understanding.dialogue import Dialogue
from agent.understanding.dictation import as_said
from agent.understanding.entities import (
    bare_amount,
    corrected_price,
    expertise_in,
    flags_as_words,
    mode_in,
    price_in_words,
    relative_price,
    same_price_as_last,
    title_ref,
    wants_cheaper_or_dearer,
    wants_quick,
)
from agent.understanding.files import find_files, path_exists, user_path
from agent.understanding.listing_text import (
    QUOTED,
    removed_tags,
    replaced_tags,
    tag_words,
    tags_in,
    title_in,
)
from agent.understanding.moves import (
    answer_to_question,
    detail_direction,
    tour_move,
    tour_move_in,
    tour_move_said,
)
from agent.understanding.places import ONLY_POSITION, picked_listing, position_ref
from agent.understanding.rules import (
    _BULK,
    _EPOCHS,
    _MODE_WORD,
    _OBJECT_ID,
    _TOPICS,
    RuleInterpreter,
    extract_paths,
    parse_browse_filters,
    with_whole_description,
)
from agent.understanding.shown import said_back
from agent.understanding.spelling import respelled
from flows.intents import Intent, IntentKind, intent

CONFIDENT = 0.3  # the classifier's reading is taken above this score
OVERRULE = 0.6  # ... and over a different rule reading above this one
AMBIGUOUS = 0.1  # two readings closer than this, neither certain by rule: ask which
CLARIFY = 0.15  # between this and CONFIDENT, with no rule reading: offer choices
# Kinds a classifier reading may not produce on its own (consent is read by ``consent``).
_NEVER_GUESSED: frozenset[str] = frozenset({"approve"})
_LABELS: dict[str, str] = {
    "status": "check where your upload or verification stands",
    "dashboard": "show your dashboard (your models, sales and stats)",
    "market_analysis": "analyse the market (prices of similar models)",
    "insights": "show insights (where your uploads fail, slow steps, costs)",
    "upload": "upload a model file",
    "quick_upload": "quick upload (fewer explanations)",
    "bulk_upload": "upload several files at once",
    "browse": "browse models to buy",
    "purchase": "buy a model",
    "download": "download a model you bought",
    "help": "answer a question",
    "greet": "give you a tour",
    "retry": "retry the failed step",
    "wait": "keep waiting for the step in progress",
    "delist": "take your listing off the market",
    "undo": "go back to an earlier question",
    "history": "show what happened so far",
    "set_expertise": "change how much I explain",
    "set_mode": "change the mode (supervised, auto, debug)",
    "support_bundle": "write a support bundle",
    "conversion_guide": "show how to convert a model",
    "list": "list your verified model",
    "set_price": "change the price",
    "edit_listing": "edit the listing's title, description or tags",
    "raw_data": "show the raw on-chain data",
    "decline": "cancel",
    "tour": "go on with the tour",
    "verbosity": "change how much detail I give",
    "optimise": "show how to optimise the file first",
    "try_sample": "try the journey on a sample model",
}


# what is offered when nothing fits and the classifier has no likely reading either
_STARTERS = ("upload", "browse", "help")


def _offers(ranked: list[tuple[str, float]]) -> list[str]:
    """Two or three readings to offer for words nothing fits: the likeliest, then the
    commonest starting points."""
    likely = [k for k, p in ranked if p >= CLARIFY / 3 and k in _LABELS and k != "decline"]
    return [*likely, *(k for k in _STARTERS if k not in likely)][:3]


def describe(kind: str) -> str:
    """What a reading would do, in words (for "did you mean…?")."""
    return _LABELS.get(kind, kind.replace("_", " "))


@dataclass(slots=True)
class Reading:
    """An interpretation with how sure it is and what else it might be."""

    intent: Intent
    confidence: float
    source: str  # consent, context, entities, classifier, rules, clarify
    alternatives: list[tuple[str, float]] = field(default_factory=list)


class Understanding:
    """Text + dialogue -> ``Intent``; the embedded default interpreter."""

    name = "embedded"

    def __init__(
        self,
        classifier: IntentClassifier | BackgroundClassifier,
        rules: RuleInterpreter | None = None,
    ) -> None:
        self.classifier = classifier
        self.rules = rules or RuleInterpreter()

    async def interpret(
        self, text: str, *, at_gate: bool = False, context: Dialogue | None = None
    ) -> Intent:
        return (await self.reading(text, at_gate=at_gate, context=context)).intent

    async def reading(
        self, text: str, *, at_gate: bool = False, context: Dialogue | None = None
    ) -> Reading:
        """``interpret``'s reading with how sure it is and what else it might be."""
        await self.ready()
        # off the event loop: other users' turns and /health go on while this one is read
        return await asyncio.to_thread(self.read, text, context or Dialogue(), at_gate=at_gate)

    async def ready(self) -> None:
        """Wait for the classifier (loading since start-up; rarely still going)."""
        if isinstance(self.classifier, BackgroundClassifier):
            await self.classifier.ready()

    def resolve(self, kind: str, text: str, d: Dialogue) -> Intent:
        """``text`` read as ``kind`` (the reading the user picked), with its slots."""
        text = head(text)
        ruled = self.rules.interpret(text, at_gate=d.gate is not None, gate=d.gate)
        return self._slots(kind, text, d, ruled)

    def read(self, text: str, d: Dialogue, *, at_gate: bool = False) -> Reading:
        """How ``text`` reads in dialogue ``d``; a long message is read by its first
        ``READ_CHARS`` characters, a description it sets kept whole. A message that
        corrects itself ("upload the onnx, no wait, the safetensors one") is read as
        corrected (``_read_corrected``); one said aloud ("yes go ahead period") as said;
        a command word typed one slip off ("uplaod") as meant, when no gate waits."""
        read = head(text)
        meant = flags_as_words(as_said(read))  # "list --price 2.5": "list at 2.5 SUI"
        if d.gate is None and not at_gate:  # an answer to a gate is read as written
            meant = respelled(meant)
        if meant != read:
            reading = self._read_said(meant + text[len(read) :], d, at_gate=at_gate)
            reading.intent = cast(Intent, {**reading.intent, "text": text})
            return reading
        return self._read_said(text, d, at_gate=at_gate)

    def _read_said(self, text: str, d: Dialogue, *, at_gate: bool) -> Reading:
        if (rest := _after_greeting(head(text))) is not None:
            # "hello, what formats can I upload?": the greeting said, the question read
            reading = self.read(rest, d, at_gate=at_gate)
            said = reading.intent
            general = said["kind"] == "help" and said.get("topic") in (None, "overview")
            introduced = said["kind"] == "set_expertise"  # "hi, never used sui, show me…"
            if said["kind"] not in ("unknown", "clarify", "greet", "tour") and not (
                general or introduced
            ):
                reading.intent = cast(Intent, {**reading.intent, "text": text})
                return reading
        elif d.gate is None and _introduces(head(text)):
            # "hi! I'm Ana and I build speech models for fun": who they are, nothing asked
            reading = self._read(text, d, at_gate=at_gate)
            if reading.intent["kind"] in ("browse", "upload", "market_analysis", "list"):
                reading.intent = intent("greet", text, topic="onboarding")
            return reading
        if (parts := self_correction(head(text))) is not None:  # read within the bound
            corrected = self._read_corrected(*parts, d, at_gate=at_gate)
            if corrected is not None:
                return corrected
        if len(text) <= READ_CHARS:
            return self._read(text, d, at_gate=at_gate)
        reading = self._read(head(text), d, at_gate=at_gate)
        if "description" in reading.intent:
            found = with_whole_description(dict(reading.intent), text)
            reading.intent = cast(Intent, {**reading.intent, **found})
        return reading

    def _read_corrected(
        self, said: str, meant: str, d: Dialogue, *, at_gate: bool
    ) -> Reading | None:
        """``said``, corrected by ``meant``: the request said, with what ``meant`` names
        in place of what it replaces ("buy the first one, er, the second"), or ``meant``
        read on its own when it is a request of its own ("show history, I mean undo the
        last answer"). Never an approval: a yes that follows a correction is asked back
        (None: the whole message is read as it is)."""
        if _switched_to(said, meant, d):
            return None  # "wrong file, I meant my model v2": the gate's file, switched
        first = self._read(said, d, at_gate=at_gate)
        kind = first.intent["kind"]
        if kind in ("approve", "decline", "unknown", "clarify", "answer"):
            return None
        named = self._named(kind, meant, said, d)
        if named and len(_WORD.findall(meant)) <= 5:
            return Reading(cast(Intent, {**first.intent, **named}), first.confidence, "context")
        second = self._read(meant, d, at_gate=at_gate)
        if (
            second.intent["kind"] not in ("approve", "unknown", "clarify", "answer", "greet")
            and second.confidence >= CONFIDENT
            and (second.intent["kind"] != "set_price" or "price_mist" in second.intent)
        ):
            return second
        if named:
            return Reading(cast(Intent, {**first.intent, **named}), first.confidence, "context")
        return None

    def _named(self, kind: str, meant: str, said: str, d: Dialogue) -> dict[str, object]:
        """What the correction ``meant`` names for a request of ``kind``: files, a price (a
        bare figure takes the place of the one ``said``), a title, tags, a place in the
        list shown, a mode."""
        out: dict[str, object] = {}
        if kind in _UPLOADS and (files := find_files(meant, d.base_dir)):
            out["paths"] = files
        if kind in ("set_price", "list", "edit_listing", *_UPLOADS):
            price = price_in_words(meant)
            figures = list(_FIGURE_SAID.finditer(said))
            if price is None and figures and (figure := _FIGURE_SAID.fullmatch(meant.strip())):
                # "drop it by 10%... make that 20%": the figure said, replaced
                m = figures[-1]
                again = said[: m.start()] + figure.group(0) + said[m.end() :]
                price = relative_price(again, d.price_mist)
                price = price_in_words(again) if price is None else price
                price = bare_amount(again) if price is None else price
            if price is not None:
                out["price_mist"] = price
        if kind in ("edit_listing", "list") and (title := title_in(meant)):
            out["title"] = title
        if kind == "edit_listing" and (added := tags_in(meant)):
            out["add_tags"] = added
        elif kind == "edit_listing" and (replaced := replaced_tags(meant)):
            out["tags"] = replaced
        elif kind == "edit_listing" and (replaced_tags(said) or tags_in(said)):
            # "tags: nlp, intent, no: nlp, chatbot": the list said again, in place of the first
            slot = "tags" if replaced_tags(said) else "add_tags"
            out[slot] = [t.lower() for t in tag_words(meant)]
        if kind in ("purchase", "download", "browse"):
            if picked := picked_listing(meant, d.shown):
                out["model_ref"] = picked
            elif ref := position_ref(meant):
                out["model_ref"] = ref
        if kind == "set_mode" and (mode := mode_in(meant)):
            out["mode"] = mode
        return out

    def _read(self, text: str, d: Dialogue, *, at_gate: bool = False) -> Reading:
        gate = d.gate
        stripped = text.strip()
        ruled = self.rules.interpret(text, at_gate=at_gate or gate is not None, gate=gate)
        if d.question is not None and not stripped.startswith("/"):
            # a checkpoint question waits: its answer, unless the words ask something else
            return Reading(self._answer(text, ruled), 1.0, "context")
        if d.expecting == "tour" and (move := tour_move(text)) is not None:
            return Reading(intent("tour", text, move=move), 1.0, "context")
        if (
            d.expecting == "tour"
            and ruled["kind"] in _TOUR_REPLIES
            and not extract_paths(text)
            and (said_move := tour_move_said(text)) is not None
        ):
            # "got it, what's after this", "I know this bit already, skip", "avanti"
            return Reading(intent("tour", text, move=said_move), 1.0, "context")
        if (
            d.expecting == "tour"
            and ruled["kind"] in ("undo", "unknown", "help", "wait")
            and _BACK.search(text)
        ):
            # "sorry, I missed that, can you go back to the previous one?" during the tour
            return Reading(intent("tour", text, move="back"), 1.0, "context")
        if not stripped.startswith("/") and _IF_QUESTION.search(stripped):
            # asks what would happen, does nothing
            return Reading(self._slots("help", text, d, ruled), OVERRULE, "rules")
        if not stripped.startswith("/") and keeps_going(stripped):
            # "don't cancel it": a refusal refused is no refusal, and no yes either; with
            # no question waiting, the step keeps going
            kept: IntentKind = "help" if gate is not None else "wait"
            return Reading(self._slots(kept, text, d, intent(kept, text)), 1.0, "rules")
        if stripped.startswith("/") or ruled["kind"] in ("approve", "decline"):
            return Reading(ruled, 1.0, "rules")
        if gate == "listing" and accepts_price(stripped, d.price_mist):
            return Reading(intent("approve", text), 1.0, "consent")  # "2 is fine" at 2 SUI
        if (
            gate == "listing"
            and (rest := without_shown_price(stripped, d.price_mist)) is not None
            and read_consent(rest, gate) == "approve"
        ):
            return Reading(intent("approve", text), 1.0, "consent")  # "fine, 1 SUI, list it"
        if (
            gate is not None
            # "buy Face Finder Pro" again is the request again; "pay the 1.5 SUI", "get it for
            # 1.5 SUI" say back the terms only the gate showed: its action, asked for
            and (
                _A_YES.search(stripped)
                or (gate != "upload" and said_back(stripped, (), d.gate_amounts) != stripped)
            )
            and (said := said_back(stripped, d.gate_names, d.gate_amounts)) != stripped
            and read_consent(said, gate) == "approve"
        ):
            return Reading(intent("approve", text), 1.0, "consent")  # "yes, buy Face Finder Pro"
        if gate is not None and _YES_IF.search(stripped):
            return Reading(intent("help", text), 0.8, "consent")  # "yes if it's under 1 SUI"
        if gate is not None and read_consent(stripped, gate) is None:
            in_context = self._gate_edit(text, d, ruled)
            if in_context is not None:
                return Reading(_for_model(in_context, text, d), 1.0, "context")
        if d.expecting == "title" and not stripped.startswith("/") and not certain(ruled):
            named = title_in(text) or _bare_title(text) or _said_title(text)
            if named:  # "what should I call it?" -> "just 'ResNet 50'"
                return Reading(intent("edit_listing", text, title=named), 1.0, "context")
        if gate is None and d.shown and ONLY_POSITION.fullmatch(text):
            picked = picked_listing(text, d.shown)  # "the second", "number 2" after a list
            if picked is not None:
                return Reading(intent("purchase", text, model_ref=picked), 1.0, "context")
        if d.paused and "next" in (tour_move(text), tour_move_said(text)):
            # "ok keep going", "continua de onde parou" to a stopped step
            return Reading(intent("retry", text), 1.0, "context")
        if d.expecting == "path":
            files = find_files(text, d.base_dir)
            if files and ruled["kind"] in ("unknown", "help", "upload", "greet", "status"):
                kind: IntentKind = "bulk_upload" if len(files) > 1 else "upload"
                return Reading(intent(kind, text, paths=files), 1.0, "context")
        ranked = self.classifier.predict(text)
        if d.expecting != "tour" and _BACK.search(text) and not _TOUR.search(text):
            # no tour runs: "go back one step" is back to an earlier answer
            ranked = [(k, p) for k, p in ranked if k != "tour"] or [("undo", CONFIDENT)]
            if ranked[0][0] == "undo":
                ranked[0] = ("undo", max(ranked[0][1], CONFIDENT))
        top, score = ranked[0]
        if (
            top == "quick_upload"
            and ruled["kind"] not in ("unknown", "help", *_UPLOADS)
            and not _UPLOAD_VERB.search(text)
            and not extract_paths(text)
        ):
            # "what sells best right now, quick": hurried, about something else
            top, score = ruled["kind"], max(score, CONFIDENT)
        if top in _UPLOADS and _HOW_ELSEWHERE.search(text) and not extract_paths(text):
            top, score = "help", max(score, CONFIDENT)  # "mujhe model bechna hai, kaise karun?"
        if (
            gate is None
            and top not in ("help", "market_analysis", "set_price", "browse")
            and _COSTS_ELSEWHERE.search(text)
        ):
            top, score = "help", max(score, CONFIDENT)  # "combien coûte le stockage ?"
        settled = False  # a reading the words settle: no "did you mean…?"
        if ruled["kind"] in _UPLOADS and _PROGRESS.search(text):
            if "status" in (k for k, _ in ranked[:2]):  # "my churn upload: what stage is it at?"
                ruled = intent("status", text)
                top, score = "status", max(score, CONFIDENT)
        elif ruled["kind"] in _UPLOADS and _INFO_QUESTION.search(text) and not extract_paths(text):
            ruled = intent("help", text)  # "is a pickle safe to upload?": a question, no file
        elif (
            "download" in (top, ruled["kind"])
            and _ABOUT_A_STEP.search(text)
            and not _PROGRESS.search(text)
            and not _OBJECT_ID.search(text)
        ):
            # "is the download checked somehow?": a question about it, not one to start
            ruled, top, score, settled = intent("help", text), "help", max(score, CONFIDENT), True
        if (
            top in _UPLOADS
            and _MAY_I.search(text)
            and "help" in (k for k, _ in ranked)
            and not _existing(find_files(text, d.base_dir), d.base_dir)
        ):
            top, score = "help", max(score, CONFIDENT)  # "can I sell a model I didn't train?"
        if (
            gate is None
            and not d.paused
            and (
                top in ("decline", "unknown", "help", "set_expertise", "set_mode")
                or score < CLARIFY
                or any(k == "verbosity" and p >= 0.05 for k, p in ranked[:2])
            )
            and not certain(ruled)
            and not _INFO_QUESTION.search(text)
            and detail_direction(text)
        ):
            top, score = "verbosity", max(score, CONFIDENT)  # "stop being so verbose"
        if gate is None and _BOUGHT.search(text) and "dashboard" in (k for k, _ in ranked[:2]):
            top, score = "dashboard", max(score, CONFIDENT)  # "what did we buy last week"
        if top in _NEVER_GUESSED:
            top, score = ("help", score) if gate is not None else ("unknown", 0.0)
        if (
            gate is not None
            and _GATE_QUESTION.search(text)
            and not certain(ruled)
            and (top in _NOT_AN_ANSWER or top in _ANSWERED_AT_GATE or score < CONFIDENT)
        ):
            # "is my listing live or not" at a question: answered, never a cancel; a question
            # about the step's progress is its status, one about the market its analysis
            top = next(
                (
                    k
                    for k, p in ranked
                    if k in _ANSWERED_AT_GATE
                    and (k == "help" or p >= CONFIDENT)
                    and (k != "status" or _PROGRESS.search(text) or _LIVE.search(text))
                ),
                "help",
            )
            score, settled = max(score, OVERRULE), True
        elif gate is None and _NEED_Q.search(text) and not extract_paths(text):
            top, score, settled = "help", max(score, OVERRULE), True  # "do i need a wallet to buy?"
            ruled = intent("help", text)
        elif gate is None and top == "decline" and _OR_NOT.search(text) and not certain(ruled):
            # "is my listing live or not": a question, with nothing to cancel in it
            top, score = next(((k, p) for k, p in ranked[1:] if k != "approve"), ("help", 0.0))
            score = max(score, CONFIDENT)
        if "purchase" in (top, ruled["kind"]) and _FOR_OTHERS.search(text):
            ruled, top, score, settled = intent("list", text), "list", max(score, OVERRULE), True
        elif (
            gate in (None, "purchase")
            and (_LOOKING.search(text) or _SHOPPING.search(text))
            and not _COMMIT.search(text)
            and not d.shown
            and (
                "purchase" in (top, ruled["kind"])
                or (
                    _SHOPPING.search(text)
                    and ("browse" in (k for k, _ in ranked) or top in ("unknown", "help"))
                    and not _UPLOAD_VERB.search(text)
                )
                or (
                    "browse" in (k for k, _ in ranked[:2])
                    and not certain(ruled)
                    and (_ONE_LISTING.search(text) or gate == "purchase")
                )
            )
        ):
            # "tell me more about the X listing", "looking for a sentiment model to buy"
            top, score, settled = "browse", max(score, OVERRULE), True
            if ruled["kind"] == "purchase":
                ruled = intent("unknown", text)  # the browse filters are read from the words
        if gate is None and d.shown and picked_listing(text, d.shown) and _FETCH.search(text):
            top, score, settled = "download", max(score, OVERRULE), True  # "pull down the last one"
        likely = [k for k, _ in ranked]
        # an entity settles close calls: a file that exists is about uploading, a price about pricing
        if (
            ruled["kind"] in ("unknown", "help", "greet", "set_expertise", *_UPLOADS)
            and (not _IS_QUESTION.search(text) or _REQUEST.search(text))
            and not (_LISTING.search(text) and top == "list" and not _UPLOAD_THEN_LIST.search(text))
            and not (_PROGRESS.search(text) and top == "status")
            and not _STOP_SELLING.search(text)
            and not _MARKET_QUESTION.search(text)
            and (
                (
                    (top in _UPLOADS or score < OVERRULE)
                    and set(likely) & _UPLOADS
                    and _existing(extract_paths(text), d.base_dir)
                )
                # "put the bert one up": words of publishing and files of the user's they name
                or (_UPLOAD_VERB.search(text) and find_files(text, d.base_dir))
                # "the milk one too, milk_yeild_forecast": the likeliest is an upload and
                # the words name a file that exists, even misspelt
                or (top in _UPLOADS and _existing(find_files(text, d.base_dir), d.base_dir))
                # "do the face one and the speech one in one go": several files at once
                or (_TOGETHER.search(text) and len(find_files(text, d.base_dir)) > 1)
                # "bulk: exports/a.pkl forecast/b.joblib": files named by path, in bulk
                or (
                    _BULK.search(text)
                    and len(paths := extract_paths(text)) > 1
                    and _existing(paths, d.base_dir)
                )
                # "speedrun this, my model v2.safetensors, minimal talking"
                or (
                    wants_quick(text)
                    and (top in _UPLOADS or score < OVERRULE)  # not "just do it automatically"
                    and _existing(find_files(text, d.base_dir), d.base_dir)
                )
            )
        ):
            if top not in _UPLOADS or (
                top == "quick_upload" and score < OVERRULE and not wants_quick(text)
            ):
                # the words decide between one file, several and a quick one (``_slots``)
                top = ruled["kind"] if ruled["kind"] in _UPLOADS else "upload"
            score = max(score, CONFIDENT)
            return Reading(self._slots(top, text, d, ruled), score, "entities", ranked)
        if (
            not (top == "browse" and _PRICE_CAP.search(text))  # "llms under 3 SUI"
            and ruled["kind"] in ("unknown", "help", "set_price")
            and "set_price" in likely
            and price_in_words(text) is not None
            and not _IS_QUESTION.search(text)
            and not re.search(r"\b(if|unless|enough)\b", text, re.I)
        ):
            top, score = "set_price", max(score, CONFIDENT)
        if (
            gate is None
            and top in ("set_price", "list")
            and (ruled["kind"] == "list" or _ON_MARKET.search(text) or ranked[0][0] == "list")
            and not _IS_QUESTION.search(text)
            and (price := price_in_words(text)) is not None
        ):
            # "list it, 4 SUI", "stick it on the marketplace for 2 SUI": a listing, priced
            return Reading(intent("list", text, price_mist=price), CONFIDENT, "entities", ranked)
        if d.gate == "listing" and score < OVERRULE and not certain(ruled):
            named = _bare_title(text)
            if named:  # "Keras Image Classifier v1" at the listing question: its new title
                return Reading(intent("edit_listing", text, title=named), 0.7, "context", ranked)
        said = QUOTED.sub(" ", text)  # not a word of a title: "the listing 'OCR Pro'"
        if (
            (
                top in ("help", "unknown", "set_mode", "set_expertise", "history")
                or (top in ("insights", "optimise", "tour") and mode_in(said) == "supervised")
            )
            and (not certain(ruled) or ruled["kind"] in ("set_mode", "set_expertise"))
            and not _INFO_QUESTION.search(text)
        ):
            # a described level or mode settles it: "put yourself on autopilot",
            # "pregúntame primero antes de pagar nada"
            if mode_in(said) and not expertise_in(said):
                top, score, settled = "set_mode", max(score, CONFIDENT), True
            elif expertise_in(said) and not mode_in(said) and gate is None:
                top, score = "set_expertise", max(score, CONFIDENT)
        if top == "set_expertise" and ruled["kind"] == "greet" and ruled.get("self_description"):
            top = "greet"  # "hi, I'm an expert": a greeting that also sets the level
        certain_rule = ruled["kind"] not in ("unknown", "help")
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if (
            not certain_rule
            and not settled
            and score - second < AMBIGUOUS
            and second >= CLARIFY
            and top in _LABELS
            and ranked[1][0] in _LABELS
        ):  # two readings neck and neck: ask
            choices = [k for k, p in ranked if p >= CLARIFY and k in _LABELS][:3]
            return Reading(intent("clarify", text, choices=choices), score, "clarify", ranked)
        if top == "unknown" and gate is None and not certain_rule:
            # off-topic or gibberish: say so, and offer what it can do
            return Reading(
                intent("unknown", text, choices=_offers(ranked)), score, "classifier", ranked
            )
        if score >= CONFIDENT and (not certain_rule or score >= OVERRULE or top == ruled["kind"]):
            return Reading(self._slots(top, text, d, ruled), score, "classifier", ranked)
        if certain_rule:
            return Reading(self._slots(ruled["kind"], text, d, ruled), 0.9, "rules", ranked)
        if ruled["kind"] == "help" and (score < CONFIDENT or top == "help"):
            return Reading(ruled, 0.8, "rules", ranked)
        choices = [k for k, p in ranked if p >= CLARIFY / 2 and k in _LABELS][:3]
        if score >= CLARIFY and len(choices) >= 2:
            found = intent("clarify", text, choices=choices)
            return Reading(found, score, "clarify", ranked)
        if score >= CLARIFY and choices:
            return Reading(self._slots(choices[0], text, d, ruled), score, "classifier", ranked)
        if ruled["kind"] == "unknown" and gate is None:  # nothing fits: offer the likeliest
            return Reading(intent("unknown", text, choices=_offers(ranked)), 0.0, "rules", ranked)
        return Reading(ruled, 0.0, "rules", ranked)

    # -- a checkpoint question ----------------------------------------------------

    def _answer(self, text: str, ruled: Intent) -> Intent:
        """Free words answering the question asked; "skip", "skip all", "same"; or an
        aside ("check status", a question back) that is answered before asking again."""
        said = answer_to_question(text)
        if said == "skip_all":
            return intent("answer", text, skip="all")
        if said == "skip":
            return intent("answer", text, skip="one")
        if said == "keep" or ruled["kind"] == "approve":
            return intent("answer", text, keep=True)
        if ruled["kind"] in _ASIDES:
            return ruled
        if _PROGRESS.search(text) and _IS_QUESTION.search(text):
            return intent(
                "status", text
            )  # "how far along is the upload?": answered, then asked again
        if _IS_QUESTION.search(text) and text.strip().endswith("?"):
            return intent("help", text, topic="checkpoint")
        return intent("answer", text)

    # -- the listing gate -------------------------------------------------------

    def _gate_edit(self, text: str, d: Dialogue, ruled: Intent) -> Intent | None:
        """Price, title and tag edits at a gate, read from the user's words."""
        title, tags = title_in(text), tags_in(text)
        removed, replaced = removed_tags(text), replaced_tags(text)
        edits = bool(title or tags or removed or replaced)
        if ruled["kind"] == "edit_listing" or (
            ruled["kind"] == "set_price" and "price_mist" in ruled and not edits
        ):
            if ruled["kind"] == "edit_listing" and tags and not {"add_tags", "tags"} & ruled.keys():
                return cast(Intent, {**ruled, "add_tags": tags})  # "rm tag a, add b": both
            return ruled  # the rules read the exact words, and the bulk model they name
        if title or tags or removed or replaced:
            # "call it CLIP B32 and make it 3 SUI": the price goes with the edit
            price = _price_said(_without_title(text, title), d) if d.gate == "listing" else None
            return intent(
                "edit_listing",
                text,
                title=title,
                add_tags=tags,
                remove_tags=removed,
                tags=replaced,
                price_mist=price,
            )
        if files := _switched_to(text, text, d):
            return intent("upload", text, paths=files)  # "wrong file, I meant my model v2"
        price = _price_said(text, d)
        if price is None and d.gate == "listing" and ruled["kind"] in ("unknown", "set_price"):
            price = bare_amount(text)
        if price is None and d.gate == "listing":
            amount = bare_amount(text)
            if amount is not None and (
                wants_cheaper_or_dearer(text) or _PRICE_VERB.search(text) or _PROPOSAL.search(text)
            ):
                price = amount
        if (
            price is not None
            and d.gate in ("listing", "upload")
            and (not _IS_QUESTION.search(text) or _PROPOSAL.search(text))
        ):
            return intent("set_price", text, price_mist=price, paths=ruled.get("paths"))
        return None

    # -- slots ------------------------------------------------------------------

    def _slots(self, kind: str, text: str, d: Dialogue, ruled: Intent) -> Intent:
        """The intent ``kind`` with its slots from the words (the rules' when they agree)."""
        if kind == ruled["kind"]:
            base: dict[str, object] = dict(ruled)
        else:
            base = {"kind": kind, "text": text}
        k: IntentKind = kind  # type: ignore[assignment]
        out = intent(k, text, **{s: v for s, v in base.items() if s not in ("kind", "text")})
        if kind in ("upload", "quick_upload", "bulk_upload"):
            files = find_files(text, d.base_dir)
            if files:
                out["paths"] = files
            if (epochs := _EPOCHS.search(text)) and "epochs" not in out:
                out["epochs"] = int(epochs.group(1))
            if kind == "upload" and wants_quick(text):
                out["kind"] = "quick_upload"
            paths = out.get("paths") or []
            several = len(paths) > 1 or any(set(p) & set("*?[") for p in extract_paths(text))
            if kind == "upload" and (several or _BULK.search(text)):
                out["kind"] = "bulk_upload"
            elif kind == "bulk_upload" and len(paths) == 1 and not (several or _BULK.search(text)):
                out["kind"] = "upload"  # one file named: one upload, whatever the phrasing
            if "price_mist" not in out and _LIST_WORDS.search(text):
                price = price_in_words(text)  # "upload these and list them at two SUI"
                if price is not None:
                    out["price_mist"] = price
        elif kind == "set_price":
            price = _price_said(text, d)
            if price is None and (d.gate == "listing" or _SET_PRICE_VERB.search(text)):
                price = bare_amount(text)  # "set price 0.5": the figure is in SUI
            if price is not None:
                out["price_mist"] = price
        elif kind == "set_expertise":
            level = expertise_in(text) or ruled.get("expertise") or ruled.get("self_description")
            if level is None:
                out["kind"] = "help"
                out["topic"] = "expertise"
            else:
                out["expertise"] = level
                out["self_description"] = level  # the level said, not a word in it
        elif kind == "set_mode":
            word = _MODE_WORD.search(text)
            described = mode_in(text)
            if word:
                out["mode"] = word.group(1).lower()  # type: ignore[typeddict-item]
            elif described:
                out["mode"] = described
            else:
                out["kind"] = "help"
                out["topic"] = "modes"
        elif kind == "edit_listing":
            title, tags = title_in(text), tags_in(text)
            if title is None and d.gate == "listing" and not (tags or removed_tags(text)):
                title = _bare_title(text)  # "not that title. Keras Classifier"
            removed, replaced = removed_tags(text), replaced_tags(text)
            if title and "title" not in out:
                out["title"] = title
            if tags and "add_tags" not in out:
                out["add_tags"] = tags
            if removed and "remove_tags" not in out:
                out["remove_tags"] = removed
            if replaced and "tags" not in out:
                out["tags"] = replaced
        out = _for_model(out, text, d)
        if kind in ("purchase", "download"):
            if (picked := picked_listing(text, d.shown)) or (
                (picked := position_ref(text)) and not _OBJECT_ID.search(text)
            ):
                out["model_ref"] = picked  # "buy the first one": from the list shown
                return out
            ref = _model_ref(text)
            if ref and (not out.get("model_ref") or title_ref(text)):
                out["model_ref"] = ref
            said = str(out.get("model_ref") or "")
            if not said or _ANAPHOR.fullmatch(said.strip(" .!?")):
                out.pop("model_ref", None)  # "the model I bought": no name, the one in talk
                if d.listing_id:
                    out["model_ref"] = d.listing_id  # "can I get the files for it now?"
            if kind == "purchase" and (
                _A_NEED.match(str(out.get("model_ref") or "")) or _A_MODEL_ELSEWHERE.search(text)
            ):
                # "I want buy model for detect arabic text": a model for a need, to be found
                return cast(Intent, {"kind": "browse", "text": text, **_browse_filters(text)})
        elif kind == "browse" and _ONE_LISTING.search(text) and (ref := _model_ref(text)):
            out["model_ref"] = _listing_name(ref)  # "tell me more about the X listing"
        elif kind == "browse" and kind != ruled["kind"]:
            out.update(_browse_filters(text))  # type: ignore[typeddict-item]
        elif kind == "tour":
            out["move"] = tour_move_in(text)
        elif kind == "verbosity":
            out["direction"] = detail_direction(text) or "more"
        elif kind == "greet" and _TOUR.search(text):
            out["topic"] = "tour"  # "give me the tour", "back to the tour": the tour itself
        elif kind in ("help", "greet") and "topic" not in out:
            topic = next((t for p, t in _TOPICS if p.search(text)), None)
            out["topic"] = topic or ("onboarding" if kind == "greet" else "overview")
        return out


_UPLOADS = frozenset({"upload", "quick_upload", "bulk_upload"})
_WORD = re.compile(r"\w+")
# a correction after what was said: "…, no wait, …", "…, sorry, I meant …", "…, er, …",
# "… make that …", "…, no, …"
_CORRECTION = re.compile(
    r"[,;.…—–-]\s*(?:(?:(?:oh\s+)?wait,?\s+no|no,?\s+wait|oh\s+wait|"
    r"sorry,?\s+(?:i\s+)?(?:meant|mean)|i\s+meant|i\s+mean|hmm+,?\s+no|no\s+no|"
    r"actually,?\s+no|scratch that|make that|or rather|er+m?|uh+m?|um+)\s*[,:.]*|"
    r"(?:no|wait)\s*[,:])\s+",
    re.I,
)
_FIGURE_SAID = re.compile(r"\d+(?:[.,]\d+)?\s*(?:%|percent|sui|mist)?", re.I)


_GREETING = re.compile(
    r"^\W*(?:hi|hello|hey|hiya|heya|howdy|yo|sup|gm|greetings|good (?:morning|afternoon|evening)|"
    r"g'?day|morning|evening|hola|bonjour|salut|hallo|moin|ciao|ol[áa]|halo|namaste|merhaba|"
    r"privet|cześć|czesc|oi|e ai|konnichiwa|annyeong(?:haseyo)?|ni ?hao|marhaba|salam|habari|"
    r"kumusta|xin chào|xin chao)"
    r"(?:\s+(?:there|all|everyone|satya|ser|fam|mate|guys|team|bot))?"
    r"\s*[,!.:;-]+\s*(?P<rest>\S.*)$",
    re.I | re.S,
)


def _after_greeting(text: str) -> str | None:
    """What follows a greeting that opens the message ("hi, how do I start?" -> "how do I
    start?"), when it says something more than a few words; None: no greeting first."""
    m = _GREETING.match(text)
    if m is not None and extract_paths(m.group("rest")):
        return m.group("rest")  # "konnichiwa! appurodo shitai, models/kws.tflite": the file
    if m is None or len(_WORD.findall(m.group("rest"))) < 3 or not _ASKS.search(m.group("rest")):
        return None  # "hi! I'm Priya, I run a small lab": a greeting, all of it
    return m.group("rest")


# a question or a request (not an introduction: "I'm Tom and I build speech models")
_INTRODUCING = re.compile(
    r"^\W*(?:i'?m|i am|my name|me llamo|je m'appelle|ich bin|this is)\b", re.I
)


def _introduces(text: str) -> bool:
    """A greeting, then who the user is and nothing asked ("hi! I'm Ana, I train speech
    models"): no file, no question, no request."""
    m = _GREETING.match(text)
    return (
        m is not None
        and bool(_INTRODUCING.match(m.group("rest")))
        and not _ASKS.search(m.group("rest"))
        and not extract_paths(m.group("rest"))
    )


# (at the start, or after a comma or "and": "I'm from Hanoi, I want to sell my model")
_ASKS = re.compile(
    r"\?\s*$|(?:^|[,;.!]|\band\b)\W*(?:can|could|would|will|please|pls|how|what|where|when|why|"
    r"which|is|are|do|does|i want|i wanna|i'?d like|i would like|i need|need|i'?m looking for|"
    r"looking for|let'?s|show|upload|list|sell|buy|download|help|"
    r"quiero|quisiera|necesito|busco|je (?:voudrais|veux|cherche|souhaite|souhaiterais)|j'aimerais|"
    r"ich (?:möchte|will|suche|brauche)|voglio|vorrei|cerco|quero|gostaria|preciso|"
    r"saya (?:mau|ingin|perlu)|chc[eę]|potrzebuj[eę]|naomba|nataka|mujhe|ik (?:wil|zoek)|"
    r"istiyorum)\b",
    re.I,
)


def self_correction(text: str) -> tuple[str, str] | None:
    """What was said and what was meant, when a message corrects itself: ("upload the
    onnx", "the safetensors one") for "upload the onnx, no wait, the safetensors one"."""
    corrections = list(_CORRECTION.finditer(text))
    if not corrections:
        return None
    last = corrections[-1]
    said, meant = text[: last.start()].strip(), text[last.end() :].strip(" .!")
    if not _WORD.search(said) or not _WORD.search(meant):
        return None
    return said, meant


# a yes on a condition at a question: neither a yes nor a change; asked back
_YES_IF = re.compile(
    r"^\s*(?:yes|yeah|yep|yup|ok|okay|sure|fine)\b[^?]*\b(?:if|unless|as long as)\b", re.I
)
# a question at a gate ("is my listing live or not"): answered, never read as a refusal
_GATE_QUESTION = re.compile(
    r"\?|^\s*(?:is|are|was|does|do|did|has|have|will|can|could|how|what|why|when|where|which|"
    r"who)\b|\bor not\b",
    re.I,
)
# looking at listings, not buying yet: "tell me more about the X listing", "looking for…"
_LOOKING = re.compile(
    r"\b(looking for|searching for|search for|tell me (?:more )?about|see the listing|"
    r"show me|details (?:of|on|about)|what'?s available|alternatives|i might buy|"
    r"thinking (?:of|about) buying|before i buy|"
    r"(?:buy|purchase|get|find)\s+(?:me\s+)?(?:a|an|some|any)\s+(?:\w+\s+){0,3}?"
    r"(?:model|one|detector|classifier|recogni[sz]er|transcriber|translator|tagger|generator|"
    r"segmenter|llm)s?)\b",
    re.I,
)
# a model wanted for what it does, or asked to be chosen: shopping, not one listing
_A_MODEL_NOUN = r"(?:model|detector|classifier|recogni[sz]er|transcriber|translator|llm)s?"
_SHOPPING = re.compile(
    rf"\b(?:(?:i\s+)?(?:need|want|require)\s+(?:a|an|some)\s+(?:\w+\s+){{0,3}}?{_A_MODEL_NOUN}\s+"
    r"(?:that|which|to|for)\b|(?:which|what)\s+(?:\w+\s+){0,3}?(?:can|could|should)\s+i\s+"
    r"(?:buy|purchase|get)\b|"
    r"what (?:would|do) you recommend for\b(?!\s+(?:the |a |my )?(?:price|title|tags?|name)\b)|"
    rf"recommend (?:me )?(?:a|an|some)\s+(?:\w+\s+){{0,3}}?{_A_MODEL_NOUN})",
    re.I,
)
# a purchase asked for in so many words
_COMMIT = re.compile(
    r"^\s*(?:ok(?:ay)?,?\s+|yes,?\s+|then\s+)?(?:please\s+)?(?:buy|purchase|i'?ll (?:take|buy)|"
    r"get me|grab|i want to buy)\b(?!\s+(?:me\s+)?(?:a|an|some|any)\s)",
    re.I,
)
_ONE_LISTING = re.compile(r"\blisting\b|\b0x[0-9a-f]{6,}\b", re.I)
# a listing for others to buy, not a purchase: "make it available for people to buy"
_FOR_OTHERS = re.compile(
    r"\b(for (?:people|others|other people|anyone|everyone|buyers|folks) to (?:buy|purchase|use)|"
    r"make it available|available (?:to|for) (?:buy|purchase|sale))\b",
    re.I,
)
# asking what models sell for: a market question, even with a file named
_MARKET_QUESTION = re.compile(
    r"\b(going rate|market rate|what (?:do|are|would) .{0,40}(?:sell|selling|go|going) for|"
    r"how much (?:do|are|would|could) .{0,40}(?:sell|selling|go|going|fetch|worth)|"
    r"prices? (?:of|for) (?:similar|other|comparable))\b",
    re.I,
)
# asking what is needed or whether it is safe: a question, whatever it names
_NEED_Q = re.compile(
    r"^\s*(?:(?:hmm+|ok|so|idk)[,.]?\s+)?(?:do|will|would) (?:i|we|you|buyers) (?:need|have to)\b|"
    r"\b(?:do|does|will|would) (?:they|buyers|people|users|customers|the buyer) (?:need|have to)\b|"
    r"^\W*(?:(?:so|ok|and)\W+)?how (?:do|does|can|would|will) (?:people|buyers|users|customers|"
    r"someone|anyone|others)\b",
    re.I,
)
_LIVE = re.compile(r"\b(live|listed|public|visible|for sale)\b", re.I)
_OR_NOT = re.compile(r"^\s*(?:is|are|was|did|does|has|have)\b.*\bor not\b", re.I)
_FETCH = re.compile(r"\b(download|pull (?:it )?down|fetch|save|get the (?:files|weights))\b", re.I)
# readings a question at a gate never has: a refusal, or an action of its own
_NOT_AN_ANSWER = frozenset(
    {"decline", "list", "upload", "quick_upload", "bulk_upload", "purchase", "delist", "retry"}
)
_ANSWERED_AT_GATE = frozenset(
    {"help", "status", "dashboard", "market_analysis", "raw_data", "history", "insights"}
)
# the tour named ("give me the tour", "the tutorial from before"), and a step back asked for
_TOUR = re.compile(r"\b(?:tour|tutorial|walk-?through|guide)\b", re.I)
_BACK = re.compile(
    r"\b(?:go(?:ing)? back|previous (?:one|step|part|page|bit)|back (?:one|a step))\b", re.I
)
# Requests that interrupt a checkpoint question without answering it.
_ASIDES = frozenset({"status", "raw_data", "market_analysis", "dashboard", "support_bundle"})


# a yes/no question about a step: "is the download checked?", "does the download verify it?"
_ABOUT_A_STEP = re.compile(
    r"^\W*(?:is|are|does|do|will|can|would|was)\s+(?:the|my|a|this|that|every)\s+"
    r"(?:download|file|model)s?\b",
    re.I,
)
_INFO_QUESTION = re.compile(
    r"^\s*(?:what|how|why|which|who|where|when|is|does|do)\b|\bdifference\b", re.I
)
# "how do I …?" in the other languages people write in: a question about doing it
_HOW_ELSEWHERE = re.compile(
    r"\b(?:kaise|kaisey|kese|c[óo]mo|comment|wie|bagaimana|gimana|nas[ıi]l|jak|hoe|jinsi|"
    r"paano|ikaw)\b[^?]*\?\s*$",
    re.I,
)
# "what does it cost?" in the other languages people ask in: a question about prices
_COSTS_ELSEWHERE = re.compile(
    r"\b(?:combien|cu[áa]nto|wie ?viel|quanto|berapa|kitna|ne kadar|ile)\b.*"
    r"\b(?:co[uû]te?n?t?|cuesta|kostet|costa|custa|biaya|harga|lagega|lagta|tutar|kosztuje)\b",
    re.I,
)
# a hedge after a title said: not a word of it
_TITLE_HEDGE = re.compile(
    r"(?:[,\s]+(?:i guess|i think|i suppose|maybe|probably|perhaps|or something|for now))+\s*$",
    re.I,
)
_TITLE_LEAD = re.compile(
    r"^\s*(?:(?:ok|okay|hmm+|so|just|maybe|no|nope|not that(?: title)?)[,.!]?\s+)*"
    r"(?:let'?s (?:go with|use|do)|go with|use|how about|make it|name|title)?\s*[:,]?\s*",
    re.I,
)


def _price_said(text: str, d: Dialogue) -> int | None:
    """A price the words give: the last listing's, a change of the draft's, or a figure."""
    return (
        same_price_as_last(text, d.last_price_mist)
        or relative_price(text, d.price_mist)
        or corrected_price(text)
        or price_in_words(text)
    )


def _without_title(text: str, title: str | None) -> str:
    """``text`` without the title it gives (a title may hold a figure: "Llama 3 8B")."""
    return text.replace(title, " ") if title else text


def _bare_title(text: str) -> str | None:
    """A title said on its own: quoted, or Capitalised words that make up the message."""
    if m := re.fullmatch(r"\s*(?:\w+\s+)?[\"'“‘](.+?)[\"'”’]\s*[.!]?\s*", text):
        return m.group(1).strip() or None
    rest = _TITLE_LEAD.sub("", text, count=1).strip(" .!")
    named = title_ref(rest)
    if named and named == rest and len(named.split()) >= 2:
        return named
    return None


def _said_title(text: str) -> str | None:
    """The words given as a title after "what should I call it?", without the lead-in:
    "hmm, let's go with Llama Q4 Mini" -> "Llama Q4 Mini"; never a question."""
    if _IS_QUESTION.search(text):
        return None
    rest = _TITLE_LEAD.sub("", text, count=1).strip(" .!\"'“”‘’")
    rest = _TITLE_HEDGE.sub("", rest).strip(" .!\"'“”‘’")  # "Churn Predictor I guess"
    return rest if rest and len(rest) <= 120 and len(rest.split()) <= 12 else None


def certain(ruled: Intent) -> bool:
    """A rule reading that names something to do (not a shrug or a question)."""
    return ruled["kind"] not in ("unknown", "help")


def _existing(paths: list[str], base: Path | None) -> bool:
    if base is None:  # no folder to look in (the HTTP API maps paths itself)
        return False
    return any(path_exists(base / user_path(p)) for p in paths)


# "can you get it out there?" asks for something to be done, not for information
_REQUEST = re.compile(
    r"\b(?:can|could|would|will)\s+(?:you|u|ya|we)\b(?!.*\b(?:how|what|why|when|which)\b)", re.I
)
# words of publishing a file: with a file the words name, an upload whatever the phrasing
_UPLOAD_VERB = re.compile(
    r"\b(upload|publish|(?:start|begin|go ahead) (?:uploading|publishing)|unggah|jual(?:kan)?|"
    r"put (?:[\w,'-]+ ){0,12}?up|push|get (?:[\w,'-]+ ){0,8}?out there|monetize|"
    r"monetise|sell|ship|yeet|release|(?:get|have) (?:\S+ ){0,6}?(?:uploaded|published)|"
    r"uplaod|uplad|upoad|uplod|upolad|uplaoad|pubish|publsih|pulish|publis|"
    r"(?:throw|chuck|stick|pop|send) (?:\S+ ){0,6}?up|hochladen|subir|sube|súbelo|"
    r"lade (?:\S+ ){0,6}?hoch|verkaufen|veröffentlichen|vendre|vender|vende|publicar|publier|"
    r"mettre en ligne|téléverser|bechna|bechni|becho|upload karo|daal do|"
    r"onto the (?:store|market(?:place)?)|on the (?:store|market(?:place)?)|"
    r"(?:on|onto|to|up on) walrus|(?:can (?:we|you|u)|let'?s|lets) (?:just )?do the)\b",
    re.I,
)
# several files at once: "in one go", "together", "all three"
_TOGETHER = re.compile(
    r"\b(in one go|in one batch|together|at once|at the same time|all (?:three|four|five|of them)|"
    r"both|batch)\b",
    re.I,
)
# a model already uploaded, to be listed ("it passed verification, list it")
_LISTING = re.compile(r"\b(list|listing|verified|passed verification|for sale)\b", re.I)
# putting a model on the market in other words than "list it"
_ON_MARKET = re.compile(
    r"\b(?:put|stick|pop|place|get)\s+(?:\S+\s+){0,5}?(?:on|in|onto|up on)\s+(?:the\s+)?"
    r"(?:market(?:place)?|store|shop(?:\s+window)?)\b|"
    # "I should like the model offered for sale at four SUI", "put it up for sale"
    r"\b(?:offer(?:ed)?|put\s+(?:\S+\s+){0,3}?up|made available)\s+(?:\S+\s+){0,3}?for\s+sale\b|"
    r"^\W*(?:(?:ok|okay|now|please|so)\W+)?list\s+(?:it|them|this|that|the|my|all)\b",
    re.I,
)
# a question on a condition: "if I delist it, can buyers still download it?"
_IF_QUESTION = re.compile(
    r"^\W*(?:(?:so|and|but|ok|okay|hmm+)\W+)?(?:if|what if|suppose|supposing|say|once|after|when)\s+"
    r"(?:i|we|my|someone|somebody|a buyer|buyers|people|it|it's|its|the model|the listing)\b"
    r"[^?,]*,[^?]*\?",
    re.I,
)
# another file at the upload question: "wrong file, use the tiny one"
_SWITCH_FILE = re.compile(
    r"\b(wrong (?:file|model|one)|i meant|meant to say|use (?:the|my)|instead|not that one|"
    r"the other one|switch to)\b",
    re.I,
)
# asking whether something is allowed, not asking for it: "can I sell a model I didn't train?"
_MAY_I = re.compile(
    r"^\s*(?:can|could|may)\s+i\b.*\?\s*$|\b(?:am i allowed|is it (?:possible|ok(?:ay)?|allowed)) to\b",
    re.I,
)
# a yes said in so many words, besides the gate's own action
_A_YES = re.compile(
    rf"\b(?:{YES_WORDS}|yea|alright|confirm(?:ed)?|approved?|authori[sz]ed?|go|absolutely|"
    r"definitely|of course|"
    r"please do|perfect|great|sounds good|lgtm)\b|[👍✅👌]",
    re.I,
)
# what the user bought, asked after: the dashboard lists purchases, not the step history
_BOUGHT = re.compile(
    r"\b(?:what|which (?:models?|ones?)) (?:did|have|had) (?:i|we) (?:just )?"
    r"(?:buy|bought|purchase|purchased)\b",
    re.I,
)
# what the rules may read in a reply to a tour step that a move said in it overrides
_TOUR_REPLIES = frozenset(
    {"unknown", "help", "approve", "decline", "retry", "history", "wait", "undo", "greet", "tour"}
)
# what a model bought should do, not its name: "buy a model for detecting arabic text"
_A_NEED = re.compile(
    r"(?:(?:for|to|able to|capable of|good at)\s+(?!\d|(?:it|that|this|me|us|them)\b)|"
    r"(?:that|which)\s+(?:can|could|will|would|does|do|is|are|works|handles|\w+(?:s|es))\b)",
    re.I,
)
# "a model" in the other languages people buy in: "quero comprar um modelo de tradução"
_A_MODEL_ELSEWHERE = re.compile(
    r"\b(?:un|una|um|uma|une|ein|eine|einen|bir|een)\s+(?:\w+\s+)?"
    r"(?:modelo|mod[eè]le|modell|modello|modeli|model)\b",
    re.I,
)
# "no longer sell the segformer": a listing taken down, not a file to upload
_STOP_SELLING = re.compile(
    r"\b(?:no longer|stop|don'?t|do not|not)\s+(?:\w+\s+)?(?:sell|selling|list|listing)\b|"
    r"\banymore\b",
    re.I,
)
# "upload the bert one and list it at 2 SUI": an upload first, its listing planned with it
_UPLOAD_THEN_LIST = re.compile(r"\b(?:upload|publish)\w*\b.+\b(?:list|sell)\b", re.I)
# asking how far an upload got ("what stage is it at", "did it finish")
_PROGRESS = re.compile(
    r"\b(what stage|which stage|how far|progress|"
    r"did (?:it|the \w+(?: \w+)?)(?: actually| really| even)? (?:finish|pass|succeed|go through)|"
    r"finished yet|done yet|still running|where(?:'s| is) (?:it|my)|status|kahan tak|kitna hua|"
    r"ho gaya kya|va como|cómo va|où en est|wie weit|taking so long|so slow|still waiting)\b",
    re.I,
)
# words that point back at the model the conversation is about
_ANAPHOR = re.compile(
    r"(?:(?:the\s+)?(?:files?|weights|model|copy)\s+(?:for|of)\s+)?"
    r"(?:it|that|this|that one|this one|(?:the )?one i (?:just )?(?:bought|purchased|got|paid for)|"
    r"what i (?:just )?(?:bought|purchased)|(?:that |which )?i (?:just |already |have )?"
    r"(?:bought|purchased|paid for)|my purchase|the model|the files?|it now|"
    r"it for me|that model|this model|"
    # "the model I bought" in the other languages people download in
    r"(?:el |o |le |il |das )?(?:modelo|mod[eè]le|modello|modell)\s+(?:que\s+(?:compré|comprei)|"
    r"(?:que j'ai\s+)?achet[ée]|comprato)|(?:das\s+)?gekaufte\s+modell|mon achat|mi compra|"
    r"la mia compra|meu modelo comprado|modell|modelo|mod[eè]le|modello)"
    r"(?:\s+(?:now|please|for me|again))*",
    re.I,
)
_SET_PRICE_VERB = re.compile(
    r"\b(?:set (?:the )?price(?: to)?|price (?:it|this|that) (?:at|to)|charge|"
    # "drop the price of my xray listing to 1.2", "the price should be 3", "lower it to 0.9"
    r"price\b[^.?!\d]{0,40}?(?:\bto|\bat|\bbe|=|:)|"
    r"(?:lower|drop|reduce|cut|raise|increase|bump|move|change|put)\s+(?:it|that|this)\s+(?:up\s+|down\s+)?(?:to|at))"
    r"\s*\d",
    re.I,
)
_PRICE_CAP = re.compile(
    r"\b(under|below|less than|cheaper than|at most|max(?:imum)?|up to)\b", re.I
)
_LIST_WORDS = re.compile(r"\b(list|sell|price|at|for|each|charge)\b", re.I)
# (a leading "do" asks only before a person: "do you…", not "do the bert one")
_IS_QUESTION = re.compile(
    r"\?\s*$|^\s*(?:how|what|why|is|does|can|should|would|do(?=\s+(?:i|you|u|we|they|people)\b))\b",
    re.I,
)
# a figure offered as a question is an offer: "how about 1.5?", "what about three sui?"
_PROPOSAL = re.compile(
    r"^\W*(?:(?:ok|okay|so|hmm+|well|then)\W+)?(?:how|what) about\s+[\d.,]+\s*(?:sui|mist)?\s*"
    r"(?:instead|then)?\s*\?*\s*$",
    re.I,
)
_PRICE_VERB = re.compile(
    r"\b(price|charge|ask|make it|set it|for|sell|cheaper|lower|at|like|want|go with)\b", re.I
)
_BROWSE_VERBS = re.compile(
    r"\b(browse|search|find|show|look(?:ing)?\s+for|any|are there|got|me|i'?m|i want|to buy|"
    r"some|good|please|for)\b",
    re.I,
)
_REF_AFTER = re.compile(
    r"\b(?:buy|purchase|get|download|grab|pull|fetch|descargar|comprar|acheter|kaufen)\b\s+"
    r"(?:me\s+)?(?:the\s+|that\s+|this\s+|a\s+|my\s+)?(?:model\s+)?(?:called\s+|named\s+)?"
    r"(?P<ref>.+?)\s*(?:model|files?|weights|one)?\s*"
    r"(?:(?:on|onto|to) my (?:machine|laptop|computer|disk|pc)|locally)?\s*(?:please|now|for me)?[.!?]*$",
    re.I,
)


def _switched_to(said: str, named: str, d: Dialogue) -> list[str]:
    """At the upload gate, the files ``named`` when ``said`` switches the gate's file
    ("wrong file, I meant my model v2"); else none."""
    if d.gate != "upload" or not _SWITCH_FILE.search(said):
        return []
    return find_files(named, d.base_dir)


def _browse_filters(text: str) -> dict[str, object]:
    """The browse filters the words give (category, quality, search words), the words of
    asking to browse left out: "any vision models under 2 SUI?"."""
    filters = parse_browse_filters(_BROWSE_VERBS.sub(" ", text))
    return {s: v for s, v in filters.items() if v is not None}


def _for_model(said: Intent, text: str, d: Dialogue) -> Intent:
    """A change at a listing gate with the files it names by file name or stem ('tags for
    checkpoints/epoch_30.pt …', 'epoch_10 should be titled …'): the model of a bulk
    listing it is for."""
    if said["kind"] not in ("edit_listing", "set_price") or d.gate != "listing" or "paths" in said:
        return said
    named = _models_named(text, said, d)
    return cast(Intent, {**said, "paths": named}) if named else said


def _models_named(text: str, said: Intent, d: Dialogue) -> list[str]:
    """The files ``text`` names by file name or stem, not counting the words of the title
    or tags it sets."""
    rest = text
    for value in (said.get("title"), *(said.get("add_tags") or ()), *(said.get("tags") or ())):
        if value:
            rest = rest.replace(str(value), " ")
    said_words = rest.lower()
    return [
        f
        for f in find_files(rest, d.base_dir)
        if re.search(rf"(?<![\w-]){re.escape(Path(f).stem.lower())}(?![\w-])", said_words)
        and _existing([f], d.base_dir)  # "put 'fast' in the tags": a tag, not a file
    ]


def _listing_name(ref: str) -> str:
    """A listing's name without the words around it: "the Llama Q4 Mini listing" -> "Llama Q4 Mini"."""
    name = re.sub(r"^(?:more\s+)?(?:about\s+)?(?:the\s+)?|\s+listing$", "", ref.strip(), flags=re.I)
    return re.sub(r"^(?:the\s+)?listing\s+(?:for|of)\s+", "", name, flags=re.I) or ref


def _model_ref(text: str) -> str | None:
    if m := _OBJECT_ID.search(text):
        return m.group(0)
    if titled := title_ref(text):  # "I'll pay for Review Sentiment v2, add it to my collection"
        return titled
    if m := _REF_AFTER.search(text):
        ref = m.group("ref").strip(" .!?\"'")
        return ref or None
    return None


def load_understanding(cache_dir: Path | None, *, background: bool = False) -> Understanding:
    """The embedded interpreter, its classifier from the cache when it is current
    (``background``: loaded on a thread while the caller goes on)."""
    if background:
        return Understanding(BackgroundClassifier(cache_dir))
    return Understanding(IntentClassifier.load(cache_dir))
