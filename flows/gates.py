"""Approval gates: one ``interrupt`` per node, answered by a typed ``Intent``.

A gate node re-runs from its first line when resumed, so it does nothing
before ``interrupt`` but read state; its decision is returned as a ``Command``.
Anything that is not an answer (a status question, help) is answered in place
and the same gate asks again.
"""

from __future__ import annotations

from typing import Literal, TypedDict, cast

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from flows.conversation import answer_aside
from flows.events import say
from flows.intents import Intent
from flows.services import Services
from flows.state import JourneyState

GateName = Literal["upload", "listing", "purchase", "cleanup", "change"]
Decision = Literal["approve", "decline", "edit", "aside"]


class GateRequest(TypedDict):
    """What the user is asked; the interrupt's value."""

    gate: GateName
    kind: str
    data: dict[str, object]


def ask(gate: GateName, kind: str, **data: object) -> Intent:
    """Stop the graph and wait for the user's answer to a gate."""
    answer = interrupt(GateRequest(gate=gate, kind=kind, data=data))
    if isinstance(answer, str):  # a bare answer from an API client
        return {"kind": "unknown", "text": answer}
    return cast(Intent, answer)


async def decide(answer: Intent, state: JourneyState, runtime: Runtime[Services]) -> Decision:
    """Classify a gate answer; answer asides in place."""
    kind = answer["kind"]
    if kind == "approve":
        return "approve"
    if kind == "decline":
        return "decline"
    if kind in ("set_price", "edit_listing"):
        return "edit"
    await answer_aside(answer, state, runtime)
    return "aside"


def auto_storage_approved(state: JourneyState, runtime: Runtime[Services], cost_frost: int) -> bool:
    """Auto mode: True when the storage cost is within the cap (and say so); above the cap
    say why the upload gate asks after all. Always False outside auto mode."""
    if state["mode"] != "auto":
        return False
    cap = runtime.context.config.auto_cap_frost
    within = cost_frost <= cap
    kind = "auto_approved" if within else "auto_cap_exceeded"
    say(runtime, kind, gate="upload", cost_frost=cost_frost, cap_frost=cap)
    return within
