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
    "list",
    "set_price",
    "browse",
    "purchase",
    "download",
    "approve",
    "decline",
    "set_expertise",
    "set_mode",
    "retry",
    "support_bundle",
    "conversion_guide",
    "unknown",
]

INTENT_KINDS: tuple[IntentKind, ...] = IntentKind.__args__  # type: ignore[attr-defined]

Expertise = Literal["beginner", "intermediate", "expert"]
Mode = Literal["supervised", "auto", "debug"]


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
    self_description: NotRequired[Expertise]  # "I'm new here" -> beginner


def intent(kind: IntentKind, text: str = "", **slots: object) -> Intent:
    """Build an intent; slots with ``None`` values are left out."""
    out: dict[str, object] = {"kind": kind, "text": text}
    out.update({k: v for k, v in slots.items() if v is not None})
    return out  # type: ignore[return-value]
