"""Turning an adapter error into a trip to the recovery node, and the one retry rule."""

from __future__ import annotations

from typing import Any, Literal

from flows.state import ErrorRecord, JourneyState, WorkflowStatus
from integrations.errors import SatyaError, error_class

RetryRule = Literal["automatic", "on_request", "final"]


def retry_rule(code: str) -> RetryRule:
    """How a failure with ``code`` is retried, decided by its error class alone.

    ``automatic``: retried with a notice, up to ``max_auto_retries`` (a timeout, a
    node or enclave that did not answer); ``final``: never run again as it is (the
    enclave's verdict on the file); ``on_request``: after the user fixes the cause
    and says 'retry'. Single and bulk publication both ask here.
    """
    cls = error_class(code)
    if cls.retryable:
        return "automatic"
    return "final" if cls.final else "on_request"


def retries_automatically(code: str, attempts: int, limit: int) -> bool:
    """True if failure number ``attempts`` (from 1) with ``code`` is retried by itself."""
    return retry_rule(code) == "automatic" and attempts <= limit


MAX_RETRY_DELAY_S = 60.0


def retry_delay_s(attempt: int, base_s: float) -> float:
    """The wait before automatic retry ``attempt`` (from 1): ``base_s`` doubling, capped."""
    return min(base_s * 2.0 ** (attempt - 1), MAX_RETRY_DELAY_S)


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
