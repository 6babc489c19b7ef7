"""Deadlines of long steps, derived from their own estimates.

A step that has an estimate (an upload, a verification job) gets the deadline
``max(deadline_min_s, deadline_factor * estimate)``; past it the user hears
"taking longer than expected", with the estimate and the choices (wait, retry,
cancel). One call to an outside service (the enclave, the chain) never waits
longer than ``call_timeout_s``: one that does not answer counts as the service
being unavailable, which the retry rule retries, so a hung enclave or node never
holds a conversation or a worker.

Example::

    seconds = step_deadline_s(ctx.get("verify_eta_s"), services.config)
    st = await within(verifier.status(job_id), cfg.call_timeout_s,
                      lambda: EnclaveUnavailable("The enclave did not answer in time."))
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from flows.services import FlowConfig
from integrations.errors import SatyaError

T = TypeVar("T")


def step_deadline_s(estimate_s: float | None, cfg: FlowConfig) -> float:
    """How long a step with this estimate may take before the user is told."""
    return max(cfg.deadline_min_s, cfg.deadline_factor * (estimate_s or 0.0))


async def within(call: Awaitable[T], seconds: float, error: Callable[[], SatyaError]) -> T:
    """Await ``call`` at most ``seconds``; past that, raise ``error()`` (the call is cancelled)."""
    try:
        return await asyncio.wait_for(call, seconds)
    except TimeoutError:
        raise error() from None
