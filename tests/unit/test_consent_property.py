"""Random sequences of messages, gate answers, Ctrl-C, restarts and wrong-user turns over the
Python API. After every step: nothing was stored, registered or listed without a yes given
*at the gate that asked for it*, and no turn ran for anyone but the thread's owner.

SATYA_PROPERTY_RUNS sets the number of sequences (default 200); each is seeded, and a
failure names its seed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agent import Assistant, Settings
from agent.events import ErrorEvent
from agent.journey_files import make_model_file
from agent.journeys import say_and_stop
from agent.wiring import build_services
from integrations.storage.faults import FaultPlan, FaultyBlobStore

RUNS = int(os.environ.get("SATYA_PROPERTY_RUNS", "200"))
STEPS = 7
OWNER, INTRUDER = "owner", "intruder"
APPROVALS = ("yes", "go ahead", "sure", "ok", "yep, do it", "👍")
NOT_APPROVALS = (
    "ok, how much is that?",
    "ok so what happens if I say yes?",
    "sure... wait, no, don't do it",
    "yes if it's under 1 SUI",
    "hmm not sure",
    "yeah no",
    "make it 2 SUI",
    "call it Tiny Model",
    "check status",
    "what is walrus?",
)
OTHER = ("resume", "continue", "cancel", "no", "stop", "", "upload ./m.safetensors", "retry")


@dataclass
class Journal:
    """What the user consented to, gate by gate, as the harness saw it."""

    approved: set[str] = field(default_factory=set)
    log: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # what the sequence reached (coverage)


async def _stopped(assistant: Assistant, thread: str, text: str, at: float) -> None:
    await say_and_stop(assistant, thread, text, OWNER, at)


async def _step(assistant: Assistant, thread: str, rng: random.Random, j: Journal) -> None:
    view = await assistant.state(thread)
    gate = (view.gate or {}).get("gate")
    roll = rng.random()
    if roll < 0.1:  # someone else tries the thread
        text = rng.choice(APPROVALS + OTHER)
        before = view.values
        events = [e async for e in assistant.send(thread, text, user_id=INTRUDER)]
        j.log.append(f"intruder: {text!r}")
        assert [getattr(e, "code", None) for e in events] == ["not_found"], j.log
        assert (await assistant.state(thread)).values == before, j.log
        return
    if roll < 0.45:
        text = rng.choice(APPROVALS)
    elif roll < 0.75:
        text = rng.choice(NOT_APPROVALS)
    else:
        text = rng.choice(OTHER)
    if gate is not None and text in APPROVALS:
        j.approved.add(str(gate))  # a plain yes, at the gate that asked
    stop_chance = 0.6 if gate == "upload" and text in APPROVALS else 0.2
    if rng.random() < stop_chance:  # Ctrl-C part way
        at = rng.uniform(0.1, 0.9)
        j.log.append(f"{text!r} at gate {gate} (Ctrl-C at {at:.0%})")
        await _stopped(assistant, thread, text, at)
        return
    j.log.append(f"{text!r} at gate {gate}")
    async for event in assistant.send(thread, text, user_id=OWNER):
        assert not (isinstance(event, ErrorEvent) and event.code == "internal_error"), j.log


async def _check(assistant: Assistant, thread: str, j: Journal) -> None:
    view = await assistant.state(thread)
    ctx = view.context
    j.seen.add(view.status)
    if view.gate:
        j.seen.add(f"gate:{view.gate.get('gate')}")
    if ctx.get("listing_id"):
        j.seen.add("listed")
    assert view.user_id in ("", OWNER), j.log
    if ctx.get("manifest_blob_id") or ctx.get("model_id"):
        assert "upload" in j.approved, ("stored without a yes at the upload gate", j.log)
    if ctx.get("listing_id"):
        assert "listing" in j.approved, ("listed without a yes at the listing gate", j.log)


@pytest.mark.parametrize("batch", range(4))
async def test_no_payment_or_listing_without_a_yes_at_its_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.chdir(tmp_path)
    make_model_file(tmp_path / "m.safetensors", "safetensors", size_mb=0.6)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, home=tmp_path / "home", chunk_size_mib=0.1, upload_concurrency=1
    )
    runs = range(batch, RUNS, 4)
    reached: set[str] = set()
    stack = contextlib.AsyncExitStack()
    assistant = await stack.enter_async_context(_open(settings))
    try:
        for seed in runs:
            rng = random.Random(seed)
            thread = await assistant.new_thread(OWNER)
            j = Journal(log=[f"seed {seed}"])
            await _step_first(assistant, thread, j)
            for _ in range(STEPS):
                if rng.random() < 0.05:  # a restart: the process goes away and comes back
                    await stack.aclose()
                    stack = contextlib.AsyncExitStack()
                    assistant = await stack.enter_async_context(_open(settings))
                    j.log.append("restart")
                await _step(assistant, thread, rng, j)
                await _check(assistant, thread, j)
            if assistant.monitor is not None:
                await assistant.wait_idle(thread, 30)
            await _check(assistant, thread, j)
            reached |= j.seen
    finally:
        await stack.aclose()
    # the sequences went where the promise matters: both gates, a pause, a listing
    assert {"gate:upload", "gate:listing", "paused", "listed"} <= reached, reached


@contextlib.asynccontextmanager
async def _open(settings: Settings) -> AsyncIterator[Assistant]:
    """The real adapters, storage slowed a little so that Ctrl-C lands inside the upload."""
    async with contextlib.AsyncExitStack() as stack:
        services = await build_services(settings, stack)
        slow = FaultyBlobStore(services.storage, FaultPlan(delay_s=0.03))
        services = dataclasses.replace(services, storage=slow)
        async with Assistant.open(settings, services=services) as assistant:
            yield assistant


async def _step_first(assistant: Assistant, thread: str, j: Journal) -> None:
    async for _ in assistant.send(thread, "upload ./m.safetensors", user_id=OWNER):
        pass
    j.log.append("'upload ./m.safetensors'")
