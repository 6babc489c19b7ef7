"""Turning an adapter error into a trip to the recovery node."""

from __future__ import annotations

from typing import Literal

from langgraph.types import Command

from flows.state import ErrorRecord, JourneyState, WorkflowStatus
from integrations.errors import SatyaError


def to_recovery(
    state: JourneyState, node: str, error: SatyaError, **extra: object
) -> Command[Literal["recovery"]]:
    """Record the failure (counting attempts at the same node) and go to ``recovery``.

    ``extra`` are further state updates to make on the way (phase, context).
    """
    previous = state.get("error")
    attempts = previous["attempts"] + 1 if previous and previous["node"] == node else 1
    record = ErrorRecord(
        code=error.code, message=error.message, hint=error.hint, node=node, attempts=attempts
    )
    return Command(
        goto="recovery", update={"error": record, "status": WorkflowStatus.FAILED, **extra}
    )
