"""Turning an adapter error into a trip to the recovery node."""

from __future__ import annotations

from typing import Any

from flows.state import ErrorRecord, JourneyState, WorkflowStatus
from integrations.errors import SatyaError


def failure_update(
    state: JourneyState, node: str, error: SatyaError, **extra: object
) -> dict[str, Any]:
    """The state update that records a failure at ``node`` (counting attempts there).

    Nodes return ``Command(goto="recovery", update=failure_update(...))`` so the
    ``Command``'s goto literal is checked against the node's declared destinations.
    ``extra`` are further state updates to make on the way (phase, context).
    """
    previous = state.get("error")
    attempts = previous["attempts"] + 1 if previous and previous["node"] == node else 1
    record = ErrorRecord(
        code=error.code, message=error.message, hint=error.hint, node=node, attempts=attempts
    )
    return {"error": record, "status": WorkflowStatus.FAILED, **extra}
