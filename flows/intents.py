"""The typed vocabulary the graph understands: one ``Intent`` per user message.

The language layer (``agent.understanding``) turns text into an ``Intent``; the
graph never sees raw text it has to guess at. Intents are plain dicts so that
they round-trip through checkpoints exactly.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

IntentKind = Literal[
    "greet",
    "help",
    "upload",
    "quick_upload",
    "bulk_upload",
    "status",
    "raw_data",
    "market_analysis",
    "dashboard",
    "insights",  # where journeys fail, what is slow, what they cost (from the step events)
    "list",
    "set_price",
    "edit_listing",  # title / description / tags at a listing gate (``paths``: which bulk model)
    "browse",
    "purchase",
    "download",
    "approve",
    "decline",
    "set_expertise",
    "set_mode",
    "retry",
    "wait",  # keep waiting for a step that takes longer than expected
    "delist",  # take the user's listing off the market
    "undo",  # go back to an earlier question of the journey (its checkpoint)
    "history",  # the journey so far, from its checkpoints
    "support_bundle",
    "conversion_guide",
    "tour",  # the step-by-step tour: ``move`` next / back / skip / resume
    "verbosity",  # "more detail" / "shorter": ``direction`` more / less
    "optimise",  # "optimise first": the optimisation plan instead of uploading as is
    "try_sample",  # no model yet: run a journey on a generated sample model file
    "answer",  # not from the classifier: free words answering the question just asked
    "verification_update",  # not from text: the monitor's completion event
    "abandon",  # not from text alone: a refusal while a stopped step waits (Ctrl-C, a lost worker)
    "clarify",  # unsure: the likeliest readings (``choices``) are offered to pick from
    "unknown",
]

INTENT_KINDS: tuple[IntentKind, ...] = IntentKind.__args__  # type: ignore[attr-defined]

# Kinds the system itself sends; no text (rules or a language model) may produce them.
SYSTEM_KINDS: frozenset[IntentKind] = frozenset({"verification_update", "abandon"})
# What a reading of text may be (a language model is never asked to "clarify": it is unsure).
USER_KINDS: tuple[IntentKind, ...] = tuple(
    k for k in INTENT_KINDS if k not in SYSTEM_KINDS and k != "clarify"
)

Expertise = Literal["beginner", "intermediate", "expert"]
Mode = Literal["supervised", "auto", "debug"]
TourMove = Literal["next", "back", "skip", "resume"]
Direction = Literal["more", "less"]


class Intent(TypedDict):
    """What the user wants, with the slots the rules or the model extracted."""

    kind: IntentKind
    text: str
    paths: NotRequired[list[str]]
    price_mist: NotRequired[int]
    model_ref: NotRequired[str]
    epochs: NotRequired[int]
    expertise: NotRequired[Expertise]
    mode: NotRequired[Mode]
    topic: NotRequired[str]
    query: NotRequired[str]
    category: NotRequired[str]
    min_quality: NotRequired[int]  # browse: "quality above 80"
    self_description: NotRequired[Expertise]  # "I'm new here" -> beginner
    title: NotRequired[str]  # edit_listing
    description: NotRequired[str]
    add_tags: NotRequired[list[str]]
    remove_tags: NotRequired[list[str]]
    tags: NotRequired[list[str]]  # the tags replaced by these
    choices: NotRequired[list[str]]  # clarify: the intent kinds offered, likeliest first
    move: NotRequired[TourMove]  # tour
    direction: NotRequired[Direction]  # verbosity
    skip: NotRequired[Literal["one", "all"]]  # answer: skip this question, or all that are left
    keep: NotRequired[bool]  # answer: "same as last time": keep the remembered answer


def intent(kind: IntentKind, text: str = "", **slots: object) -> Intent:
    """Build an intent; slots with ``None`` values are left out."""
    out: dict[str, object] = {"kind": kind, "text": text}
    out.update({k: v for k, v in slots.items() if v is not None})
    return out  # type: ignore[return-value]
