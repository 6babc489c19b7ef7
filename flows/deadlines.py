"""Deadlines of long steps, derived from their own estimates.

A step that has an estimate (an upload, a verification job, a ledger
transaction) gets the deadline ``max(deadline_min_s, deadline_factor * estimate)``;
past it the user hears "taking longer than expected", with the estimate and the
choices (wait, retry, cancel). A ledger transaction's estimate is the median of
the user's last ``TX_SAMPLES`` recorded durations of that transaction (step
events, ``flows.step_events``), or ``tx_estimate_s`` before any is recorded; past
its deadline it raises ``ChainSlow`` (``flows.publication.chain_tx``). One call
to the enclave, or a query to the chain, never waits longer than
``call_timeout_s``: one that does not answer counts as the service being
unavailable, which the retry rule retries, so a hung enclave or node never holds
a conversation or a worker.

Example::

    seconds = step_deadline_s(ctx.get("verify_eta_s"), services.config)
    st = await within(verifier.status(job_id), cfg.call_timeout_s,
                      lambda: EnclaveUnavailable("The enclave did not answer in time."))
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from langgraph.store.base import BaseStore

from flows.insights import STEPS_NAMESPACE
from flows.services import FlowConfig
from flows.users import user_label
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


TX_SAMPLES = 20  # a transaction's estimate: the median of this many recorded durations


async def tx_estimates(
    store: BaseStore | None, user_id: str, calls: Iterable[str], cfg: FlowConfig
) -> dict[str, float]:
    """Each ledger transaction's estimate in seconds (``calls``: ``upload_model``, …): the
    median of the user's last ``TX_SAMPLES`` successful ones recorded as step events, else
    ``cfg.tx_estimate_s``."""
    found: dict[str, float] = {}
    for call in calls:
        durations: list[tuple[float, float]] = []
        if store is not None:
            items = await store.asearch(
                (*STEPS_NAMESPACE, user_label(user_id)),
                filter={"kind": "call", "name": f"ledger.{call}", "outcome": "ok"},
                limit=1000,
            )
            durations = sorted(
                (float(i.value["started_at"]), float(i.value["duration_s"])) for i in items
            )
        recent = [d for _, d in durations[-TX_SAMPLES:]]
        found[call] = round(statistics.median(recent), 3) if recent else cfg.tx_estimate_s
    return found
